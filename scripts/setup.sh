#!/usr/bin/env bash
# Installs what is missing, idempotently: the Debian build dependencies (Eigen, Boost, FFTW3, OpenBLAS,
# GoogleTest), a virtual environment in .venv, and fhn_inverse with its test extras (PyTorch CPU
# is the reference the parity tests and benchmarks compare against; it is never a runtime dependency).
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run on its own.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

debs=(build-essential libeigen3-dev libboost-dev libfftw3-dev libopenblas-dev libgtest-dev)
missing=()
for pkg in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
# Build requirements live in the venv so rebuilds are incremental (build/<wheel tag>).
.venv/bin/python -m pip install -q --disable-pip-version-check \
  "scikit-build-core>=0.10" "pybind11>=2.12" ninja "cmake>=3.21"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation ".[test,torch]"
