#!/usr/bin/env bash
# The main job on the built-in demo data: a molecular-dynamics trajectory of
# the villin headpiece (400 frames, 35 residues; examples/data, made by
# `molearn simulate` with examples/data/make_villin_md.sh) is turned into a
# training dataset (every second frame: 200 frames, 5 ps apart); two FoldingNet autoencoders are trained on it, both with
# the geometry-aware local distance loss (--local-weight 10), one on top of
# the reconstruction error alone and one with the physics loss (the force-field
# energy of structures decoded between training frames); the latent space is
# scanned, a least-cost transition path between the trajectory's first and
# last frames is generated, scored and relaxed, and an HTML report is written.
# It prints the validation RMSD and the interpolation energies of both models
# and ends with the `molearn gui` command that opens the result in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export OMP_WAIT_POLICY=passive
out=demo-output
mkdir -p "$out"
rm -rf "$out/run" "$out/run-no-physics" "$out/scan"  # a fresh run each time (train refuses an earlier run)
start=$(date +%s)
build/molearn prepare examples/data/villin_md.dcd --top examples/data/villin_md.pdb --atoms N,CA,CB,C,O \
  --stride 2 -o "$out/villin.mlds" --align --seed 1
build/molearn info "$out/villin.mlds"
common=(--epochs 24 --batch-size 16 --seed 1 --local-weight 10)  # geometry-aware: see README
build/molearn train "$out/villin.mlds" -o "$out/run-no-physics" "${common[@]}"
build/molearn train "$out/villin.mlds" -o "$out/run" "${common[@]}" --physics torch --physics-start 8
build/molearn scan "$out/run/best.ckpt" --grid 24 -o "$out/scan"
build/molearn path "$out/run/best.ckpt" --from 0 --to 199 --steps 12 --landscape error --scan "$out/scan" \
  -o "$out/path.pdb"
build/molearn score "$out/path.pdb"
build/molearn relax "$out/path.pdb" -o "$out/path-relaxed.pdb"
build/molearn score "$out/path-relaxed.pdb" --metrics geometry,rama,energy
build/molearn export "$out/run/best.ckpt" -o "$out/model.pt"
build/molearn report "$out/run-no-physics" -o "$out/report-no-physics.html"
build/molearn report "$out/run" --scan "$out/scan" -o "$out/report.html"
echo
echo "demo finished in $(( $(date +%s) - start )) s after the build: see $out/"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
for name, label in (("report-no-physics", "without the physics loss"), ("report", "with the physics loss   ")):
    r = json.load(open(f"{out}/{name}.json"))
    energy = r["groups"]["midpoints"]["metrics"]["energy"]
    print(f"  {label}: best validation RMSD {r['best_valid_rmsd']:.2f} A; energy of structures decoded between "
          f"neighbouring frames: mean {energy['mean']:.0f} kJ/mol (min {energy['min']:.0f}, max {energy['max']:.0f})")
PY
echo "report: $out/report.html (open it in a browser; works offline)"
echo "explore the latent space in the browser (then open http://127.0.0.1:8050/; Ctrl-C stops it):"
echo "  build/molearn gui $out/run/best.ckpt --scan $out/scan"
