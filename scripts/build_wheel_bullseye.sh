#!/usr/bin/env bash
# Builds the portable wheel in a Debian 11 (bullseye, glibc 2.31) build root. Its libraries and
# the build's symbol versions (cmake/glibc_math_symbols.h) need glibc 2.27 at most, so auditwheel
# tags it manylinux_2_27: it installs on glibc 2.27 and newer (Ubuntu 18.04, Debian 10, RHEL 8 and
# later), where one built on this machine gets the tag of this machine's newer glibc.
#
#   scripts/build_wheel_bullseye.sh OUTDIR [X.Y ...]        (default: 3.11)
#
# - makes the build root once, with debootstrap, in $FHN_BUILD_ROOT (default build/bullseye-root):
#   g++ 10, Eigen, Boost, FFTW and CPython's build dependencies from Debian (~2 minutes);
#   OpenBLAS comes from PyPI (scipy-openblas32), as in every portable build;
# - CPython X.Y in the root: 3.9 is bullseye's own; any other is built once, into
#   /opt/python/cpXY, from the source tarball Debian ships (python3.X's .orig.tar of the bookworm,
#   trixie or sid source index, its SHA-256 checked; ~6 minutes each);
# - copies the source tree (the files git tracks, and untracked ones it does not ignore) to
#   /src/fhn_inverse in the root and runs scripts/build_wheel.sh there for each X.Y, in a private
#   mount namespace (/proc and /dev mounted for the build, gone when it ends);
# - copies the wheels to OUTDIR. scripts/test_wheel.sh tests them (run it here, or in the root to
#   test on glibc 2.31: scripts/build_wheel_bullseye.sh --test WHEEL, with ../shared mounted
#   read-only at /src/shared for the tests that compare with the study's reference data).
#
# Needs root (debootstrap, chroot, mount), debootstrap, and network to a Debian mirror
# ($FHN_DEBIAN_MIRROR, default http://deb.debian.org/debian) and to PyPI (pip's settings from the
# environment, PIP_* and *_proxy, pass into the root, and so does this machine's CA bundle).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "build_wheel_bullseye: $*"; }
usage() {
  echo "usage: $0 OUTDIR [X.Y ...]    or    $0 --test WHEEL" >&2
  exit 2
}
[ $# -ge 1 ] || usage
[ "$(id -u)" -eq 0 ] || { say "needs root (debootstrap, chroot, mount)" >&2; exit 2; }
R="${FHN_BUILD_ROOT:-$root/build/bullseye-root}"
mirror="${FHN_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# in_root CMD: runs bash -c CMD in the root, in a private mount namespace, with pip's settings.
in_root() {
  local env=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
             PIP_CERT=/etc/ssl/certs/host-ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1)
  local v
  for v in $(compgen -e); do
    case "$v" in
      PIP_CERT | PIP_FIND_LINKS | PIP_CONFIG_FILE) ;;
      PIP_* | http_proxy | https_proxy | no_proxy | HTTP_PROXY | HTTPS_PROXY | NO_PROXY) env+=("$v=${!v}") ;;
    esac
  done
  # (../shared, the study's reference data beside the checkout, read-only at /src/shared for the
  # tests that compare with it)
  local shared=""
  [ -d "$root/../shared" ] && shared="$(cd "$root/../shared" && pwd)"
  unshare --mount --propagation private -- bash -c '
    set -e
    mount --bind "$1" "$1"  # (a mount point at its /: unshare -m works inside, as test_wheel.sh needs)
    mount -t proc proc "$1/proc"
    mount --rbind /dev "$1/dev"
    if [ -n "$3" ]; then
      mkdir -p "$1/src/shared"
      mount --bind "$3" "$1/src/shared"
      mount -o remount,bind,ro "$1/src/shared"
    fi
    exec chroot "$1" env -i "${@:4}" bash -c "$2"' _ "$R" "$1" "$shared" "${env[@]}"
}

# 1. The build root: debootstrap with the compiler and libraries, then (apt-get inside, as
# debootstrap cannot configure python3.9-venv among its base packages) bullseye's Python.
debs=(build-essential libeigen3-dev libboost-dev libfftw3-dev ca-certificates xz-utils libssl-dev
      zlib1g-dev libffi-dev libbz2-dev liblzma-dev libsqlite3-dev libreadline-dev libncurses-dev
      uuid-dev libgdbm-dev)
if [ ! -f "$R/.fhn-root-ready" ]; then
  command -v debootstrap >/dev/null \
    || { say "FAILED: needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }
  say "making the build root $R (debootstrap bullseye from $mirror)"
  rm -rf "$R"
  mkdir -p "$(dirname "$R")"
  debootstrap --variant=minbase --include="$(IFS=,; echo "${debs[*]}")" bullseye "$R" "$mirror" \
    >"$R.debootstrap.log" 2>&1 \
    || { tail -n 20 "$R.debootstrap.log" >&2; say "FAILED: debootstrap (log $R.debootstrap.log)" >&2; exit 1; }
  cp /etc/resolv.conf "$R/etc/resolv.conf"
  in_root "apt-get install -y -q python3.9-dev python3.9-venv" >>"$R.debootstrap.log" 2>&1 \
    || { tail -n 20 "$R.debootstrap.log" >&2; say "FAILED: apt-get install in the root (log $R.debootstrap.log)" >&2; exit 1; }
  touch "$R/.fhn-root-ready"
fi
cp /etc/resolv.conf "$R/etc/resolv.conf"
cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/host-ca-certificates.crt"

interpreter() {  # the root's python for X.Y
  if [ "$1" = 3.9 ]; then echo /usr/bin/python3.9; else echo "/opt/python/cp${1/./}/bin/python$1"; fi
}

if [ "$1" = "--test" ]; then
  # scripts/test_wheel.sh on glibc 2.31: the wheel's CPython is the root's /opt/python/cpXY (or
  # bullseye's 3.9).
  [ $# -eq 2 ] && [ -f "$2" ] || usage
  wheel="$(basename "$2")"
  tag="$(cut -d- -f3 <<<"$wheel")"  # cpXY
  py="$(interpreter "${tag:2:1}.${tag:3}")"
  [ -x "$R$py" ] || { say "FAILED: no $py in the root: build the wheel with this script first" >&2; exit 1; }
  mkdir -p "$R/src/test"
  rm -f "$R"/src/test/*.whl
  cp "$2" "$R/src/test/"
  say "testing $wheel on glibc $(in_root 'ldd --version | head -n 1 | grep -o "[0-9.]*$"') with $py"
  in_root "cd /src/fhn_inverse && PYTHON=$py bash scripts/test_wheel.sh /src/test/$wheel"
  exit
fi

outdir="$1"
shift
versions=("$@")
((${#versions[@]})) || versions=(3.11)
for v in "${versions[@]}"; do
  [[ "$v" =~ ^3\.[0-9]+$ ]] || { say "FAILED: '$v' is not a CPython version X.Y (e.g. 3.11)" >&2; exit 2; }
done
mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"

# 2. CPython X.Y in the root, from Debian's source tarball.
fetch_cpython() {  # $1 = X.Y; writes the tarball into $R/src, prints its name
  python3 - "$1" "$mirror" "$R/src" <<'EOF'
import hashlib, lzma, re, sys, urllib.error, urllib.request
version, mirror, dest = sys.argv[1:]
found = {}
for suite in ("bookworm", "trixie", "sid"):
    with urllib.request.urlopen(f"{mirror}/dists/{suite}/main/source/Sources.xz", timeout=120) as r:
        text = lzma.decompress(r.read()).decode("utf-8", "replace")
    for para in text.split("\n\n"):
        if not re.search(rf"^Package: python{re.escape(version)}$", para, re.M):
            continue
        directory = re.search(r"^Directory: (\S+)$", para, re.M).group(1)
        sums = para.split("Checksums-Sha256:", 1)[1].split("\n")
        for line in sums[1:]:
            if not line.startswith(" "):
                break
            sha, _, name = line.split()
            m = re.fullmatch(rf"python{re.escape(version)}_({re.escape(version)}\.(\d+))\.orig\.tar\.(gz|xz)", name)
            if m:
                found[int(m.group(2))] = (f"{mirror}/{directory}/{name}", name, sha)
# the newest release the mirror holds (an index can name one whose file is already gone)
for micro in sorted(found, reverse=True):
    url, name, sha = found[micro]
    try:
        with urllib.request.urlopen(url, timeout=600) as r:
            data = r.read()
    except urllib.error.HTTPError as e:
        print(f"build_wheel_bullseye: {url}: {e}", file=sys.stderr)
        continue
    if hashlib.sha256(data).hexdigest() != sha:
        sys.exit(f"build_wheel_bullseye: FAILED: {url} does not have the SHA-256 of Debian's index")
    with open(f"{dest}/{name}", "wb") as f:
        f.write(data)
    print(name)
    break
else:
    sys.exit(f"build_wheel_bullseye: FAILED: no python{version} source on {mirror} (bookworm, trixie, sid)")
EOF
}
for v in "${versions[@]}"; do
  py="$(interpreter "$v")"
  prefix="/opt/python/cp${v/./}"
  # a CPython counts as built when its install finished (the marker), not when its interpreter
  # exists: a build stopped during `make altinstall` leaves one beside a partial library
  if [ "$v" = 3.9 ] || [ -f "$R$prefix/.fhn-python-ready" ]; then continue; fi
  rm -rf "$R$prefix"
  mkdir -p "$R/src"
  say "fetching CPython $v's source from Debian"
  tarball="$(fetch_cpython "$v")"
  say "building CPython $v ($tarball) into /opt/python/cp${v/./} (log $R/src/cpython-$v.log)"
  in_root "cd /src && rm -rf cpython-$v && mkdir cpython-$v && tar -xf $tarball -C cpython-$v --strip-components=1 \
    && cd cpython-$v && ./configure --prefix=$prefix --with-ensurepip=install \
    && make -j$(nproc) && make altinstall" >"$R/src/cpython-$v.log" 2>&1 \
    || { tail -n 30 "$R/src/cpython-$v.log" >&2; say "FAILED: building CPython $v" >&2; exit 1; }
  [ -x "$R$py" ] || { say "FAILED: CPython $v built, but $py is missing" >&2; exit 1; }
  touch "$R$prefix/.fhn-python-ready"
done

# 3. The source tree into the root (its build/ kept, for incremental rebuilds), then the wheels.
src="$R/src/fhn_inverse"
mkdir -p "$src"
find "$src" -mindepth 1 -maxdepth 1 ! -name build -exec rm -rf {} +
git -C "$root" ls-files -z --cached --others --exclude-standard \
  | tar -C "$root" --null -T - -cf - | tar -C "$src" -xf -
rm -rf "$R/src/out"
mkdir -p "$R/src/out"
for v in "${versions[@]}"; do
  say "building the wheel for CPython $v in the root"
  in_root "cd /src/fhn_inverse && PYTHON=$(interpreter "$v") bash scripts/build_wheel.sh /src/out"
done
for w in "$R"/src/out/*.whl; do
  name="$(basename "$w")"
  rm -f "$outdir/$(cut -d- -f1-3 <<<"$name")"-*.whl  # (this version's for that Python, as build_wheel.sh)
  # (a temporary name, then a rename: a copy stopped halfway leaves no wheel under the real name)
  cp "$w" "$outdir/.$name.part"
  mv -f "$outdir/.$name.part" "$outdir/$name"
  say "wrote $outdir/$name"
done
