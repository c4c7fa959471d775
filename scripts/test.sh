#!/usr/bin/env bash
# Builds molearn and runs the whole test suite (unit, CLI and oracle tests).
# Tests that need ../shared/data look for it in $MOLEARN_DATA (default
# ../shared/data) and are reported as skipped when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export OMP_WAIT_POLICY=passive
cd build
ctest --output-on-failure --parallel "${MOLEARN_TEST_JOBS:-2}" --timeout 900
