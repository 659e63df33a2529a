#!/usr/bin/env bash
# The whole test suite: GoogleTest (through CTest) and pytest; installs what is missing first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
export PATH="$root/.venv/bin:$PATH"
cmake -S . -B build/cpp -G Ninja -DFHN_BUILD_PYTHON=OFF -DFHN_BUILD_TESTS=ON -DFHN_BUILD_BENCHMARKS=ON \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/cpp -j "$(nproc)"
ctest --test-dir build/cpp --output-on-failure -j "$(nproc)"
python -m pytest "$@"
