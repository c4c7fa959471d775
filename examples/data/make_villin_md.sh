#!/usr/bin/env bash
# Makes the demo's MD dataset: the villin headpiece (35 residues, HP-35 N68H)
# that ships with OpenMM (python3-simtk's openmm/app/data/test.pdb, in
# water), simulated by `molearn simulate` without its water, in vacuum, at
# 500 K for 1 ns (4 fs steps with hydrogen masses of 1.5 Da), one frame every
# 2.5 ps: 400 frames that leave the native basin and partly unfold
# (measurements in examples/data/README.md).
# One thread, so that the result does not depend on the machine's core count;
# about 15 minutes on one core. Usage: examples/data/make_villin_md.sh [molearn]
set -euo pipefail
cd "$(dirname "$0")"
molearn="${1:-../../build/molearn}"
villin="$(/usr/bin/python3 -c 'import openmm.app, os; print(os.path.join(os.path.dirname(openmm.app.__file__), "data", "test.pdb"))')"
"$molearn" simulate "$villin" --strip-water -o villin_md.dcd --temperature 500 --timestep 4 --hydrogen-mass 1.5 \
  --steps 250000 --report-every 625 --seed 1 --platform CPU --threads 1
rm -f villin_md.chk  # the checkpoint that would let --resume extend the run
