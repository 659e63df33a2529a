#!/usr/bin/env bash
# Sanitizer run: AddressSanitizer + UndefinedBehaviorSanitizer over the native core.
#   bash scripts/sanitize.sh [pytest arguments]
# Builds the core, the GoogleTest suites and the extension once, in build/sanitize, with
# -DFHN_SANITIZE=address,undefined (FHN_SANITIZE in the environment chooses others); every finding
# is fatal. Runs ctest, then pytest against that extension: a copy of the package with the
# sanitized _core in build/sanitize/python, imported by a venv of its own (build/sanitize/venv)
# that sees .venv's packages but not the fhn_inverse installed there, with libasan preloaded
# (Python itself is not instrumented) and leak detection off for Python. The installed package
# is left alone. Without arguments pytest runs the fast subset below; the exit status is
# non-zero on any finding or failure. docs/reliability.md has the figures of a run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ -x "$root/.venv/bin/python" ] || bash "$root/scripts/setup.sh"
cd "$root"
export PATH="$root/.venv/bin:$PATH"
sanitizers="${FHN_SANITIZE:-address,undefined}"
build=build/sanitize
jobs="$(nproc)"
start=$SECONDS

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFHN_SANITIZE="$sanitizers" \
  -DFHN_BUILD_TESTS=ON -DFHN_BUILD_PYTHON=ON -DPython_EXECUTABLE="$root/.venv/bin/python" \
  -Dpybind11_DIR="$(python -m pybind11 --cmakedir)" >/dev/null
cmake --build "$build" -j "$jobs"

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
echo "sanitize: ctest ($sanitizers)"
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" ctest --test-dir "$build" --output-on-failure -j "$jobs"

# the package with the sanitized extension, and an interpreter that imports it
pkg="$build/python"
rm -rf "$pkg"
mkdir -p "$pkg"
cp -r python/fhn_inverse "$pkg/"
find "$pkg" -name "_core*.so" -delete
cp "$build"/_core*.so "$pkg/fhn_inverse/"
venv="$build/venv"
[ -x "$venv/bin/python" ] || python -m venv --without-pip "$venv"
packages="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
venv_packages="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$packages" > "$venv_packages/fhn_venv_packages.pth"  # a plain path: its .pth files stay unread

# The fast subset: the native entry points with hostile values, interrupts and thread counts, the
# network engine, the loaders, the sensitivities and Laplace covariances. (tests/fuzz caps its workers' address space, which ASan's
# shadow memory cannot live within: fuzz the uninstrumented build with scripts/fuzz.sh.)
if [ "$#" -eq 0 ]; then
  set -- -m "not slow" tests/python/test_interrupt_threads.py tests/python/test_stiff_status.py \
    tests/python/test_noise_features.py tests/python/test_nn_api.py tests/python/test_dataset.py \
    tests/python/test_persistence.py tests/python/test_laplace.py tests/python/test_local_gaussian.py
fi
# libasan first; libstdc++ too, so that ASan finds the C++ runtime's __cxa_throw it intercepts
# (the interpreter does not link it)
export LD_PRELOAD="$(c++ -print-file-name=libasan.so):$(c++ -print-file-name=libstdc++.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export PYTHONPATH="$root/$pkg"
core="$("$venv/bin/python" -c 'import fhn_inverse._core as c; print(c.__file__)')"
case "$core" in
  "$root/$pkg"/*) ;;
  *) echo "sanitize: imported $core instead of the sanitized extension" >&2; exit 1 ;;
esac
echo "sanitize: pytest against $core"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
echo "sanitize: clean ($sanitizers) in $((SECONDS - start)) s"
