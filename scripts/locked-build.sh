#!/usr/bin/env bash
# Builds targets in ./build while holding a lock, so that several developers
# (or agents) sharing one work tree never run two builds in one folder at once.
# Usage: scripts/locked-build.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/molearn-ccache}"
# ccache caches the torch layer's files (built with a precompiled header)
# only with this sloppiness (ccache's manual, "Precompiled headers").
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros}"
exec 9>/tmp/molearn-build.lock
flock 9
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMOLEARN_WERROR=ON >/dev/null
fi
args=()
for t in "$@"; do args+=(--target "$t"); done
cmake --build build --parallel 2 "${args[@]}"
