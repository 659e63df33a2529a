#!/usr/bin/env bash
# Style checks, as CI runs them: ruff on the Python (pyproject.toml's [tool.ruff]) and clang-format on
# the C++ (.clang-format). Installs either tool when it is missing. Exit status 1 names the files.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-$root/.venv/bin/python}"
"$python" -m ruff --version >/dev/null 2>&1 || "$python" -m pip install -q --disable-pip-version-check "ruff>=0.5"
"$python" -m ruff check python tests benchmarks
if ! command -v clang-format >/dev/null; then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq clang-format >/dev/null
fi
mapfile -t sources < <(git ls-files 'cpp/*.cpp' 'cpp/*.hpp' 'tests/cpp/*.cpp' 'tests/cpp/*.hpp' 'benchmarks/*.cpp')
clang-format --style=file --dry-run --Werror "${sources[@]}"
echo "lint: ruff and clang-format clean"
