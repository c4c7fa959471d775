#!/usr/bin/env bash
# Formats molearn's C++ sources with clang-format (.clang-format at the root).
# With --check, lists the files that are not formatted and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.cpp' '*.hpp')
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in $files; do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then echo "$f"; bad=1; fi
  done
  exit $bad
fi
clang-format -i $files
