#!/usr/bin/env bash
# The second example: an NMR ensemble of 2MI7 (32 conformers, 67 residues)
# shipped in examples/data (scripts/demo.sh, the main job, works on an MD
# trajectory of villin instead). The ensemble is turned into a training
# dataset, a FoldingNet autoencoder is trained on it with the physics loss,
# the latent space is scanned, a least-cost transition path between two
# conformers is generated, scored and relaxed, and an HTML report is written;
# it ends with the `molearn gui` command that opens the result in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export OMP_WAIT_POLICY=passive
out=demo-output/2mi7
mkdir -p "$out"
rm -rf "$out/run" "$out/scan"  # a fresh run each time (train refuses a folder holding an earlier run)
build/molearn prepare examples/data/2mi7_heavy.dcd --top examples/data/2mi7_heavy_topology.pdb \
  -o "$out/2mi7.mlds" --align --seed 1
build/molearn info "$out/2mi7.mlds"
build/molearn train "$out/2mi7.mlds" -o "$out/run" --epochs 20 --physics torch --physics-start 10 --seed 1
build/molearn scan "$out/run/best.ckpt" --grid 24 -o "$out/scan"
build/molearn path "$out/run/best.ckpt" --from 0 --to 31 --steps 10 --landscape error --scan "$out/scan" \
  -o "$out/path.pdb"
build/molearn score "$out/path.pdb"
build/molearn relax "$out/path.pdb" -o "$out/path-relaxed.pdb"
build/molearn score "$out/path-relaxed.pdb" --metrics geometry,rama,energy
build/molearn export "$out/run/best.ckpt" -o "$out/model.pt"
build/molearn report "$out/run" --scan "$out/scan" -o "$out/report.html"
echo
echo "demo finished: see $out/ (dataset, run/log.jsonl, scan/, path.pdb, path-relaxed.pdb, model.pt)"
echo "report: $out/report.html (open it in a browser; works offline)"
echo "explore the latent space in the browser (then open http://127.0.0.1:8050/; Ctrl-C stops it):"
echo "  build/molearn gui $out/run/best.ckpt --scan $out/scan"
