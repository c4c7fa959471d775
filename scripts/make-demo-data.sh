#!/usr/bin/env bash
# Regenerates examples/data from Debian's python-mdtraj-doc (2MI7, an NMR
# ensemble of 32 models) with molearn's own converter: heavy atoms only, a
# one-model topology PDB and a DCD of all models.
set -euo pipefail
cd "$(dirname "$0")/.."
src=/usr/share/doc/python-mdtraj-doc/examples/data/2MI7.pdb
[ -f "$src" ] || { echo "missing $src: install python-mdtraj-doc (scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p examples/data
${MOLEARN_BIN:-build/molearn} convert "$src" -o examples/data/2mi7_heavy_topology.pdb --atoms heavy --stride 1000
${MOLEARN_BIN:-build/molearn} convert "$src" -o examples/data/2mi7_heavy.dcd --atoms heavy
