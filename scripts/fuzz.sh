#!/usr/bin/env bash
# Fuzz one loader for a while: bash scripts/fuzz.sh TARGET [SECONDS] (default 600 s).
# TARGET is model, ensemble, dataset, series, store, config or all (each in turn, SECONDS each). The engine is
# atheris (coverage-guided) when it installs, else the seeded random mutator; FUZZ_ENGINE=random
# or atheris chooses, FUZZ_SEED sets the seed. Findings (input and traceback) go to
# build/fuzz/findings/TARGET/; the exit status is non-zero on any finding. docs/reliability.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${1:?usage: scripts/fuzz.sh model|ensemble|dataset|series|store|config|all [SECONDS]}"
seconds="${2:-600}"
if ! .venv/bin/python -c "import fhn_inverse" 2>/dev/null; then
  bash scripts/setup.sh
fi
engine="${FUZZ_ENGINE:-}"
if [ -z "$engine" ]; then
  if .venv/bin/python -c "import atheris" 2>/dev/null \
     || .venv/bin/python -m pip install -q --disable-pip-version-check "atheris>=2.3" 2>/dev/null; then
    engine=atheris
  else
    engine=random
  fi
fi
targets=("$target")
[ "$target" = all ] && targets=(model ensemble dataset series store config)
status=0
for t in "${targets[@]}"; do
  out="build/fuzz/findings"
  rm -rf "$out/$t"
  echo "fuzz: $t for $seconds s ($engine engine), findings in $out/$t"
  .venv/bin/python tests/fuzz/fuzz_run.py "$t" --seconds "$seconds" --engine "$engine" \
    --seed "${FUZZ_SEED:-0}" --findings "$out" || status=1
done
exit "$status"
