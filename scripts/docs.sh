#!/usr/bin/env bash
# Builds the documentation site offline into docs/_build/html (Sphinx: warnings are errors,
# nitpicky; the tutorials' notebooks executed at quick size, cached in docs/_build), then checks that
# every internal link of the built pages has a target and renders three pages in headless Chromium.
# Installs the docs extra's packages (pyproject.toml) into the venv where they are missing; extra
# arguments go to sphinx-build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-$root/.venv/bin/python}"
out=docs/_build/html
if ! "$python" -c "import sphinx, pydata_sphinx_theme, numpydoc, myst_parser, myst_nb, ipykernel, importlib; importlib.import_module('sphinx-mathjax-offline')" 2>/dev/null; then
  mapfile -t requirements < <("$python" - <<'PY'
try:
    import tomllib
except ModuleNotFoundError:
    import tomli as tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["docs"]))
PY
  )
  "$python" -m pip install -q --disable-pip-version-check "${requirements[@]}"
fi
"$python" -m sphinx -b html -W --keep-going -n -j auto -d docs/_build/doctrees docs "$out" "$@"
"$python" scripts/check_links.py "$out"
# three pages rendered in headless Chromium (Debian's package, installed where missing): their content
# checked, their screenshots left in docs/_build/screenshots
if ! command -v chromium >/dev/null 2>&1; then
  echo "docs: installing Debian's chromium (headless page checks)"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq chromium >/dev/null
fi
"$python" scripts/check_pages.py "$out"
echo "docs: built $out"
