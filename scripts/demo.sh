#!/usr/bin/env bash
# The main job on the built-in demo data: an NMR ensemble of 2MI7 (32
# conformers, 67 residues) shipped in examples/data, turned into a training
# dataset and described.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
mkdir -p demo-output
build/molearn prepare examples/data/2mi7_heavy.dcd --top examples/data/2mi7_heavy_topology.pdb \
  -o demo-output/2mi7.mlds --align --seed 1
build/molearn info demo-output/2mi7.mlds
