#!/usr/bin/env bash
# Builds molearn's libFuzzer targets (tests/fuzz: one per file reader, and
# the GUI's request parser) in ./build-fuzz with clang, ASan and UBSan, and
# runs each of them in turn for a bounded time or number of runs. Prints per
# target the executions and the crashes, leaks, timeouts and out-of-memory
# inputs found; exits non-zero if there was any. See docs/reliability.md.
#
# Usage: scripts/fuzz.sh [--seconds N] [--runs N] [--timeout S] [--rss-limit MB]
#                        [--targets pdb,dcd,...] [--no-build] [-- LIBFUZZER_ARGS...]
#   --seconds N     fuzz each target for N seconds (default 5: a smoke run of all in under 2 minutes)
#   --runs N        or for N executions each (with --seconds too: whichever comes first)
#   --timeout S     an input running longer than S seconds is a hang (default 10)
#   --rss-limit MB  memory limit, also for a single allocation (default 2048)
#   --targets LIST  comma-separated subset of: pdb mmcif dcd xtc dataset forcefield dope ramachandran npy
#                   checkpoint scan gui_request
#   --no-build      use the targets already built (else built with $MOLEARN_BUILD_JOBS jobs, default 1)
#
# One process at a time, one core each (the machine may be shared). New inputs
# are kept in build-fuzz/corpus/<target>/, so later runs start further; the
# seeds (tests/fuzz/make_seeds.py) and tests/fuzz/regressions/<target>/ are
# replayed every time. Inputs that fail are saved in build-fuzz/artifacts/<run>/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(pdb mmcif dcd xtc dataset forcefield dope ramachandran npy checkpoint scan gui_request)
seconds=""
runs=""
timeout=10
rss=2048
targets=("${all_targets[@]}")
build=1
extra=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --rss-limit) rss="$2"; shift 2 ;;
    --targets) IFS=, read -r -a targets <<<"$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -z "$seconds$runs" ] && seconds=5
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t'" >&2; exit 2; }
done

build_dir="${MOLEARN_FUZZ_BUILD_DIR:-$root/build-fuzz}"
started=$(date +%s)
if ((build)); then
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/molearn-ccache}"
  exec 9>/tmp/molearn-fuzz-build.lock
  flock 9
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    generator=()
    if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
    cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER=clang++ -DMOLEARN_FUZZ=ON -DMOLEARN_WERROR=ON >/dev/null
  fi
  cmake --build "$build_dir" --parallel "${MOLEARN_BUILD_JOBS:-1}" "${targets[@]/#/--target=fuzz_}" >/dev/null
  flock -u 9
fi
built=$(date +%s)

# Seeds, made from the fixtures and the bad-input corpus (again when these changed).
seeds="$build_dir/seeds"
if [ ! -f "$seeds/.made" ] || [ -n "$(find tests/fuzz/make_seeds.py tests/bad_inputs/make_bad_inputs.py examples/data \
    tests/fixtures/xtc -newer "$seeds/.made" -print -quit)" ]; then
  rm -rf "$seeds"
  /usr/bin/python3 tests/fuzz/make_seeds.py "$seeds" >/dev/null
  touch "$seeds/.made"
fi

scratch_base=/dev/shm
[ -w "$scratch_base" ] || scratch_base="${TMPDIR:-/tmp}"
scratch=$(mktemp -d "$scratch_base/molearn-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
run_id=$(date +%Y%m%d-%H%M%S)
artifacts="$build_dir/artifacts/$run_id"
logs="$build_dir/logs/$run_id"
mkdir -p "$logs"

export MOLEARN_FUZZ_TMP="$scratch"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export OMP_NUM_THREADS=1

limit=()
[ -n "$seconds" ] && limit+=(-max_total_time="$seconds")
[ -n "$runs" ] && limit+=(-runs="$runs")
printf '%-13s %12s %9s %8s  %s\n' target executions exec/s seconds result
failed=0
for t in "${targets[@]}"; do
  corpus="$build_dir/corpus/$t"
  mkdir -p "$corpus" "$artifacts/$t"
  dirs=("$corpus" "$seeds/$t")
  [ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
  dict=()
  [ -f "tests/fuzz/dicts/$t.dict" ] && dict=(-dict="tests/fuzz/dicts/$t.dict")
  log="$logs/$t.log"
  t0=$(date +%s%N)
  code=0
  "$build_dir/tests/fuzz/fuzz_$t" "${limit[@]}" -timeout="$timeout" -rss_limit_mb="$rss" -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t/" "${dict[@]}" "${extra[@]}" "${dirs[@]}" >"$log" 2>&1 || code=$?
  t1=$(date +%s%N)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  found=$(find "$artifacts/$t" -type f | wc -l)
  if ((code == 0 && found == 0)); then
    result="ok, 0 crashes"
    rmdir "$artifacts/$t" 2>/dev/null || true
  else
    failed=1
    kinds=$(find "$artifacts/$t" -type f -printf '%f\n' | sed 's/-.*//' | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}')
    result="FAILED (exit $code): ${kinds:-no artifact} -> $artifacts/$t/ (log: $log)"
  fi
  printf '%-13s %12s %9s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" $(((t1 - t0 + 500000000) / 1000000000)) "$result"
  if ((code != 0 || found != 0)); then
    grep -E -m 12 'ERROR:|SUMMARY:|runtime error:|terminate called|what\(\)|molearn fuzz:|#[0-9]+ 0x.* in molearn' "$log" \
      | sed 's/^/    /' >&2 || true
  fi
done
rmdir "$artifacts" 2>/dev/null || true
ended=$(date +%s)
echo "fuzz.sh: build $((built - started)) s, fuzzing $((ended - built)) s, total $((ended - started)) s; logs in $logs"
exit $failed
