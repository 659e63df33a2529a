#!/usr/bin/env bash
# Builds the documentation site offline into docs/_build/html (Sphinx: warnings are errors,
# nitpicky), then checks that every internal link of the built pages has a target.
# Installs the docs extra's packages (pyproject.toml) into the venv where they are missing; extra
# arguments go to sphinx-build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-$root/.venv/bin/python}"
out=docs/_build/html
if ! "$python" -c "import sphinx, pydata_sphinx_theme, numpydoc, myst_parser" 2>/dev/null; then
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
echo "docs: built $out"
