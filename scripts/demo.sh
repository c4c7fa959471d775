#!/usr/bin/env bash
# The main job on the built-in demo data: an NMR ensemble of 2MI7 (32
# conformers, 67 residues) shipped in examples/data is turned into a training
# dataset, a FoldingNet autoencoder is trained on it with the physics loss,
# and a transition path between two conformers is generated and relaxed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export OMP_WAIT_POLICY=passive
out=demo-output
mkdir -p "$out"
build/molearn prepare examples/data/2mi7_heavy.dcd --top examples/data/2mi7_heavy_topology.pdb \
  -o "$out/2mi7.mlds" --align --seed 1
build/molearn info "$out/2mi7.mlds"
build/molearn train "$out/2mi7.mlds" -o "$out/run" --epochs 20 --physics torch --physics-start 10 --seed 1
build/molearn generate "$out/run/best.ckpt" --interpolate 0,31 --steps 10 -o "$out/path.pdb"
build/molearn relax "$out/path.pdb" -o "$out/path-relaxed.pdb" --steps 200 --termini chains
build/molearn export "$out/run/best.ckpt" -o "$out/model.pt"
echo "demo finished: see $out/ (dataset, run/log.jsonl, path.pdb, path-relaxed.pdb, model.pt)"
