#!/usr/bin/env bash
# Tests a built wheel (scripts/build_wheel.sh) as a user would get it, with the system's FFTW,
# OpenBLAS and libgomp (and libgfortran/libquadmath, which OpenBLAS pulls in) hidden.
#
#   scripts/test_wheel.sh WHEEL
#
# - makes a fresh virtual environment in a temporary folder (outside the source tree), installs
#   WHEEL and the test dependencies (pytest, scipy, scikit-learn of the `test` extra) into it;
#   the package is never installed from source;
# - in a private mount namespace (unshare -m; needs root), bind-mounts an empty file over every
#   real file of those system libraries, checks they no longer load, prints `ldd` of the installed
#   extension and fails if any of them resolves outside the wheel's fhn_inverse.libs/;
# - runs a short subset of tests/python (simulation, FFTW features, the network engine, training,
#   the instruction-set levels) against the INSTALLED package at the level it picks itself, from a
#   folder where the source tree cannot be imported; a small pytest plugin checks inside the pytest
#   process that fhn_inverse (and _core) come from the venv, that the level loaded is the one
#   $FHN_INVERSE_ISA forces, and that no system copy of the hidden libraries got mapped;
# - then a shorter subset again with each lower level this CPU runs forced ($FHN_INVERSE_ISA).
# $PYTHON sets the interpreter for the venv (default: .venv/bin/python's base, else python3); it
# must match the wheel's cpXY tag. $KEEP_TEST_VENV=1 keeps the temporary folder.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: $0 WHEEL" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wheel="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
python="${PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python=python3; fi
fi
say() { echo "test_wheel: $*"; }
[ "$(id -u)" -eq 0 ] || { say "needs root (unshare -m, mount --bind)" >&2; exit 2; }

# The subset: ~4 minutes on 2 cores. Simulation (Odeint, SIMD), models, FFTW features and
# feature channels, the network engine (dense/CNN, training, save/load), label transforms,
# observation laws, the overflow guards, and the instruction-set levels: each level forced in a
# fresh process, with a user model compiled there against the wheel's own native files
# (fhn_inverse/_native) for that level.
tests=(
  tests/python/test_simulation.py
  tests/python/test_simd_simulator.py
  tests/python/test_models.py
  tests/python/test_noise_features.py
  tests/python/test_model_inputs.py
  tests/python/test_nn_api.py
  tests/python/test_transforms.py
  tests/python/test_observation.py
  tests/python/test_isa_levels.py
  tests/python/test_numeric_guards.py
)
# Each lower level, forced: the engine's vector paths (SIMD simulator, features, network kernels,
# training, swish's limits), ~1 minute each.
lower_tests=(
  tests/python/test_simd_simulator.py
  tests/python/test_noise_features.py
  tests/python/test_nn_api.py
  tests/python/test_transforms.py
  tests/python/test_numeric_guards.py
)
test_paths=()
for t in "${tests[@]}"; do test_paths+=("$root/$t"); done
lower_paths=()
for t in "${lower_tests[@]}"; do lower_paths+=("$root/$t"); done

tmp="$(mktemp -d /tmp/fhn_test_wheel.XXXXXX)"
if [ "${KEEP_TEST_VENV:-0}" = 1 ]; then
  trap 'say "kept $tmp"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
case "$tmp" in "$root"/*) say "temporary folder inside the source tree" >&2; exit 1 ;; esac
venv="$tmp/venv"
start=$(date +%s)

# 1. Fresh venv: the wheel and the test dependencies, nothing from the source tree.
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV
export PYTHONNOUSERSITE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
"$python" -m venv "$venv"
say "installing $(basename "$wheel") and pytest, scipy, scikit-learn into $venv"
"$venv/bin/python" -m pip install -q "$wheel" "pytest>=7" "scipy>=1.10" "scikit-learn>=1.6" \
  > "$tmp/pip.log" 2>&1 || { cat "$tmp/pip.log" >&2; exit 1; }
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')"
libs="$site/fhn_inverse.libs"
mapfile -t exts < <(find "$site/fhn_inverse" -name "_core*.so" | sort)
((${#exts[@]})) || { say "FAILED: no _core extension in $site/fhn_inverse" >&2; exit 1; }
[ -d "$libs" ] || { say "FAILED: no $libs (is the wheel repaired?)" >&2; exit 1; }
installed=$(( $(date +%s) - start ))

# 2. The system files to hide: FFTW, OpenBLAS, libgomp (+ libgfortran, libquadmath), real files.
mapfile -t hidden < <(ldconfig -p | awk -F' => ' '/fftw|openblas|gomp|gfortran|quadmath|libblas|liblapack/ {print $2}' \
  | xargs -r readlink -f | grep -E 'fftw|openblas|gomp|gfortran|quadmath' | sort -u)
((${#hidden[@]})) || { say "FAILED: found no system FFTW/OpenBLAS/libgomp to hide" >&2; exit 1; }
: > "$tmp/empty"

# A pytest plugin (its own folder on PYTHONPATH, nothing else): checks inside the test process.
mkdir -p "$tmp/plugin" "$tmp/run"
cat > "$tmp/plugin/fhn_wheel_check.py" <<'EOF'
import os
import re


def _check(where):
    import fhn_inverse
    from fhn_inverse import _core
    venv = os.environ["FHN_TEST_VENV"]
    for mod in (fhn_inverse, _core):
        path = os.path.realpath(mod.__file__)
        assert path.startswith(venv + os.sep), f"{mod.__name__} from {path}, not from the venv {venv}"
    forced = os.environ.get("FHN_INVERSE_ISA")
    if forced:
        info = fhn_inverse.build_info()
        assert info["level"] == forced and info["level_forced"], f"{forced} forced, {info['level']} loaded"
    pattern = re.compile(r"fftw|openblas|gomp|gfortran|quadmath")
    with open("/proc/self/maps") as maps:
        paths = {line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6}
    system = sorted(p for p in paths if pattern.search(os.path.basename(p)) and p.startswith(("/usr/", "/lib")))
    assert not system, f"system libraries mapped {where}: {system}"


def pytest_collection_finish(session):
    _check("after collection")


def pytest_sessionfinish(session, exitstatus):
    _check("at the end of the session")
EOF

# 3. Inside a private mount namespace: hide, check, ldd, test.
cat > "$tmp/inner.sh" <<'EOF'
set -euo pipefail
read -r -a MAIN_TESTS <<< "$MAIN"
read -r -a LOWER_TESTS <<< "$LOWER"
say() { echo "test_wheel: $*"; }
while read -r f; do mount --bind "$TMPD/empty" "$f"; done < "$TMPD/hidden.txt"
say "hid $(wc -l < "$TMPD/hidden.txt") system files (empty bind mounts):"
sed 's/^/    /' "$TMPD/hidden.txt"
# Negative control: the system copies no longer load.
"$VENV/bin/python" - <<'PY'
import ctypes
for name in ("libfftw3.so.3", "libopenblas.so.0", "libgomp.so.1"):
    try:
        ctypes.CDLL(name)
    except OSError as e:
        print(f"    {name}: does not load ({str(e).split(': ')[-1]})")
    else:
        raise SystemExit(f"test_wheel: FAILED: the system's {name} still loads; hiding did not work")
PY
bad=0
while read -r ext; do
  say "ldd $ext"
  ldd "$ext" | tee "$TMPD/ldd.txt" | sed "s/^[[:space:]]*/    /"
  for want in fftw3 scipy_openblas gomp; do
    grep -q "lib$want" "$TMPD/ldd.txt" || { say "FAILED: lib$want not among the dependencies"; bad=1; }
  done
  if grep -q "not found" "$TMPD/ldd.txt"; then say "FAILED: unresolved libraries"; bad=1; fi
  while read -r name _ path _; do
    real="$(readlink -f "$path")"
    case "$real" in
      "$LIBS"/*) ;;
      *) say "FAILED: $name resolves to $real, not into $LIBS"; bad=1 ;;
    esac
  done < <(grep -E 'fftw|openblas|gomp|gfortran|quadmath' "$TMPD/ldd.txt" | grep '=>')
done < "$TMPD/exts.txt"
[ "$bad" -eq 0 ] || exit 1
say "FFTW, OpenBLAS and libgomp resolve into $LIBS for all $(wc -l < "$TMPD/exts.txt") cores"
cd "$TMPD/run"
"$VENV/bin/python" -c 'import fhn_inverse as fi, sys
print("test_wheel: fhn_inverse", fi.__version__, "from", fi.__file__)
info = fi.build_info()
print("test_wheel: levels installed", info["levels_installed"], "CPU runs", info["levels_cpu"], "loaded", info["level"])
if not fi.__file__.startswith(sys.argv[1]): sys.exit("test_wheel: FAILED: not the installed package")' "$VENV/"
pytest=("$VENV/bin/pytest" -c "$ROOT/pyproject.toml" --rootdir "$ROOT" -p no:cacheprovider -o pythonpath=
        -p fhn_wheel_check -q)
unset FHN_INVERSE_ISA
say "the subset at the level loaded by itself"
"${pytest[@]}" "${MAIN_TESTS[@]}"
top="$("$VENV/bin/python" -c 'import fhn_inverse as fi; print(fi.build_info()["level"])')"
runnable="$("$VENV/bin/python" -c 'import fhn_inverse as fi; i = fi.build_info()
print(" ".join(lv for lv in i["levels_installed"] if lv in i["levels_cpu"]))')"
[ -n "$runnable" ] || { say "FAILED: no installed level runs on this CPU"; exit 1; }
for level in $runnable; do
  [ "$level" = "$top" ] && continue
  say "the shorter subset with FHN_INVERSE_ISA=$level"
  FHN_INVERSE_ISA="$level" "${pytest[@]}" "${LOWER_TESTS[@]}"
done
EOF
printf '%s\n' "${hidden[@]}" > "$tmp/hidden.txt"
printf '%s\n' "${exts[@]}" > "$tmp/exts.txt"

say "running ${#tests[@]} test files against the installed wheel, system libraries hidden"
test_start=$(date +%s)
rc=0
export TMPD="$tmp" VENV="$(readlink -f "$venv")" LIBS="$(readlink -f "$libs")" ROOT="$root" \
  FHN_TEST_VENV="$(readlink -f "$venv")" PYTHONPATH="$tmp/plugin"
# (bash passes no arrays through the environment: the test lists travel as words)
MAIN="${test_paths[*]}" LOWER="${lower_paths[*]}" \
  unshare -m --propagation private bash "$tmp/inner.sh" || rc=$?
say "venv + install: ${installed} s, checks + tests: $(( $(date +%s) - test_start )) s"
if [ "$rc" -ne 0 ]; then
  say "FAILED (exit $rc)" >&2
  exit "$rc"
fi
say "passed: $(basename "$wheel")"
