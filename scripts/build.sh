#!/usr/bin/env bash
# Configures and builds molearn in ./build (Release, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache caches the torch layer's files (built with a precompiled header)
# only with this sloppiness (ccache's manual, "Precompiled headers").
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros}"
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DMOLEARN_WERROR=ON >/dev/null
fi
cmake --build build --parallel "${MOLEARN_BUILD_JOBS:-$(nproc)}"
