#!/usr/bin/env bash
# The main job on its built-in default configuration; installs what is missing first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
cd "$root"
exec .venv/bin/fhn-inverse demo "$@"
