#!/usr/bin/env bash
# Builds molearn's tests with AddressSanitizer and UndefinedBehaviorSanitizer
# (MOLEARN_SANITIZE=ON) in ./build-asan and runs them with ctest; any
# sanitizer report (memory error, leak, undefined behaviour) fails its test.
# See docs/reliability.md.
#
# Usage: scripts/sanitize.sh [--all] [-- CTEST_ARGS...]
#   (default)  the torch-free unit tests: molearn_unit_tests (core, io, data),
#              molearn_physics_tests and molearn_analysis_tests
#   --all      everything: the molearn command, the torch and GUI tests and
#              the Python tests (ctest hands them build-asan/molearn as
#              $MOLEARN_BIN); slow, libtorch is built against too
# Build jobs: $MOLEARN_BUILD_JOBS (default 1), test jobs: $MOLEARN_TEST_JOBS (default 1).
# The tests see MOLEARN_SANITIZED=1 and MOLEARN_TIMEOUT_FACTOR (default 3): the
# time limits of ctest (600 s) and of the Python tests' runs are multiplied by it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all=0
ctest_args=()
while (($#)); do
  case "$1" in
    --all) all=1; shift ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "sanitize.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

build_dir="${MOLEARN_ASAN_BUILD_DIR:-$root/build-asan}"
unit_tests=(molearn_unit_tests molearn_physics_tests molearn_analysis_tests)
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/molearn-ccache}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros}"  # see build.sh
started=$(date +%s)
exec 9>/tmp/molearn-asan-build.lock
flock 9
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  generator=()
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOLEARN_SANITIZE=ON \
    -DMOLEARN_WERROR=ON >/dev/null
fi
targets=()
((all)) || targets=("${unit_tests[@]/#/--target=}")
cmake --build "$build_dir" --parallel "${MOLEARN_BUILD_JOBS:-1}" "${targets[@]}"
flock -u 9
built=$(date +%s)

# Any report is fatal and fails the test; leaks are checked at exit. The
# suppressions name third-party code only (tests/sanitizers/).
supp="$root/tests/sanitizers"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:detect_odr_violation=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
[ -f "$supp/lsan.supp" ] && export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$supp/lsan.supp:print_suppressions=0}"
export OMP_WAIT_POLICY=passive
# What the tests need to know: an ASan binary cannot run under RLIMIT_AS
# (tests/cli/test_bad_inputs_cli.py), and everything runs slower.
export MOLEARN_SANITIZED=1
export MOLEARN_TIMEOUT_FACTOR="${MOLEARN_TIMEOUT_FACTOR:-3}"

cd "$build_dir"
selection=()
if ((!all)); then
  # The tests whose executable is one of the unit-test programs built above.
  regex=$(ctest --show-only=json-v1 | /usr/bin/python3 -c '
import json, os, re, sys
programs = set(sys.argv[1:])
names = [t["name"] for t in json.load(sys.stdin)["tests"]
         if t.get("command") and os.path.basename(t["command"][0]) in programs]
print("^(" + "|".join(re.escape(n) for n in names) + ")$" if names else "")
' "${unit_tests[@]}")
  [ -n "$regex" ] || { echo "sanitize.sh: no tests found for ${unit_tests[*]}" >&2; exit 1; }
  selection=(-R "$regex")
fi
code=0
ctest --output-on-failure --parallel "${MOLEARN_TEST_JOBS:-1}" --timeout $((600 * MOLEARN_TIMEOUT_FACTOR)) "${selection[@]}" "${ctest_args[@]}" || code=$?
ended=$(date +%s)
echo "sanitize.sh: build $((built - started)) s, tests $((ended - built)) s"
exit $code
