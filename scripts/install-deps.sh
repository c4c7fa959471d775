#!/usr/bin/env bash
# Installs every system dependency of molearn from Debian's packages.
# Idempotent: prints nothing and installs nothing when everything is present.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  # libraries molearn links against
  libtorch-dev libgloo-dev libopenmm-dev libopenmm-plugins gemmi-dev
  tao-pegtl-dev libstb-dev zlib1g-dev libeigen3-dev nlohmann-json3-dev
  libcli11-dev libcpp-httplib-dev libgtest-dev libpugixml-dev
  # oneDNN's headers: the library libtorch already runs on, called directly
  libdnnl-dev
  # Without an optimised BLAS Debian's libtorch falls back to the reference
  # BLAS and dense maths is about 3x slower.
  libopenblas0-openmp
  # force-field XML files and the Python oracles used by the tests
  python3-simtk python3-mdtraj python-mdtraj-doc python3-torch python3-numpy
  # POT, the oracle of the Sinkhorn divergence (tests/oracle/test_sinkhorn_pot.py)
  python3-pot
  # MolProbity's Ramachandran evaluator: the source of the shipped contour
  # tables (scripts/make-rama-tables.py) and the oracle of the tests
  python3-cctbx
  # static figures of the report, and the browser its tests look through
  gnuplot-nox chromium
  # the fuzz targets (scripts/fuzz.sh, run by CI): clang's libFuzzer and sanitizers
  clang libclang-rt-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Make sure libblas.so.3 points at OpenBLAS (openmp flavour), not the reference BLAS.
alt=libblas.so.3-$(gcc -dumpmachine)
target=$(update-alternatives --query "$alt" 2>/dev/null | awk '/^Value:/{print $2}')
case "$target" in
  *openblas-openmp*) ;;
  *)
    choice=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-openmp | head -n1 || true)
    if [ -n "$choice" ]; then
      sudo=""; if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
      $sudo update-alternatives --quiet --set "$alt" "$choice"
    else
      echo "install-deps: warning: OpenBLAS (openmp) is not available as $alt" >&2
    fi
    ;;
esac

# The report's and the GUI's front-end libraries (plotly.js) and the browser
# driver of the tests come from npm, pinned by web/package-lock.json.
web="$(cd "$(dirname "$0")/.." && pwd)/web"
if [ -f "$web/package-lock.json" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-deps: npm is needed for web/ (Node.js from the system, not Debian's nodejs package)" >&2
    exit 1
  fi
  if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$web" --no-audit --no-fund --loglevel=error >/dev/null
  fi
fi
