"""Compiling a user model's C++ (:mod:`~fhn_inverse.models.codegen`) on first use, cached by hash.

The module is built with the compiler, flags and headers the package's own core was built with
(``fhn_inverse/_native/build.json``, written at install) and linked to the core's static library,
so it runs the very integrators, sensitivities and Laplace code of the built-in models. It is kept
in a cache directory under the hash of its source and of that build record: the first use of a
model compiles it (seconds to a minute), every later use in any process loads it (milliseconds).

What compiling needs: a C++17 compiler (the one of ``build.json`` or ``$CXX``), Python's headers,
and the Eigen and Boost headers (Debian: ``apt-get install g++ python3-dev libeigen3-dev
libboost-dev``). Where one is missing, :class:`NativeBuildError` names it.

The cache directory is ``$FHN_INVERSE_CACHE`` if set, else ``$XDG_CACHE_HOME/fhn_inverse`` (default
``~/.cache/fhn_inverse``); compiled models live in its ``models/`` folder, each as
``_ode_<hash>.cpp`` (the source, for reading), ``_ode_<hash><suffix>`` (the module) and
``_ode_<hash>.sha256`` (its digest). A module is written to a temporary name and renamed into
place, compilations of one model in several processes take turns (a file lock), and a module is
loaded only when it matches its digest (a damaged file is compiled again rather than crashing the
loader), so a cache never serves a half-written or damaged module.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

__all__ = ["NativeBuildError", "cache_dir", "build_record", "check_toolchain", "module_for"]

_NATIVE = Path(__file__).resolve().parent.parent / "_native"
_LOADED: dict = {}
#: The seconds the last compilation took, by module name (benchmarks read it).
COMPILE_SECONDS: dict = {}


class NativeBuildError(RuntimeError):
    """A user model could not be compiled: a tool or header is missing, or the compiler failed."""


def cache_dir() -> Path:
    """The folder compiled user models are kept in (see the module's documentation)."""
    root = os.environ.get("FHN_INVERSE_CACHE")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fhn_inverse"
    return Path(root) / "models"


def build_record() -> dict:
    """How the package's core was built (``_native/build.json``): compiler, flags, header folders.

    Of a portable build (a core per instruction-set level), the record of the level this process
    loaded: its flags join the common ones, and ``library`` names that level's static core."""
    path = _NATIVE / "build.json"
    if not path.is_file():
        raise NativeBuildError(f"this installation of fhn_inverse has no {path}: compiling user models needs the "
                               "package installed with its native files (pip install of the sdist or the wheel)")
    record = json.loads(path.read_text())
    levels = record.pop("levels", None)
    if levels:
        from .. import _core  # noqa: F401  (loads the core, which sets the level)
        from .._loader import LOADED

        level = LOADED["level"]
        if level not in levels:
            raise NativeBuildError(f"{path} has no flags for the loaded level {level} (it has {', '.join(levels)})")
        record.update(flags=f"{record['flags']} {levels[level]}", level=level, library=f"lib/{level}/libfhn_core.a")
    return record


def _library(record: dict) -> Path:
    return _NATIVE / record.get("library", "lib/libfhn_core.a")


def _compiler(record: dict) -> str:
    for candidate in (os.environ.get("CXX"), record.get("cxx"), "c++", "g++", "clang++"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    raise NativeBuildError("compiling a user model needs a C++17 compiler, and none was found ($CXX, "
                           f"{record.get('cxx')}, c++, g++, clang++); install one (Debian: apt-get install g++)")


def _include_dirs(record: dict) -> list[str]:
    """The header folders, each checked for what it must hold; NativeBuildError naming the missing one."""
    python = sysconfig.get_paths()["include"]
    wanted = [(str(_NATIVE / "include"), "fhn_inverse/simulate/simulator_impl.hpp", "the package's native headers"),
              (python, "Python.h", "Python's headers (Debian: apt-get install python3-dev)"),
              (record.get("eigen_include", ""), "Eigen/Core",
               "the Eigen headers (Debian: apt-get install libeigen3-dev)"),
              (record.get("boost_include", ""), "boost/numeric/odeint.hpp",
               "the Boost headers (Debian: apt-get install libboost-dev)")]
    out = []
    for folder, probe, what in wanted:
        places = (folder, "/usr/include", "/usr/local/include")
        found = next((d for d in places if d and Path(d, probe).is_file()), None)
        if found is None:
            raise NativeBuildError(f"compiling a user model needs {what}: {probe} was not found in "
                                   f"{folder or 'any folder'}")
        if found not in ("/usr/include", "/usr/local/include") and found not in out:
            out.append(found)
    return out


def _command(record: dict, source: Path, target: Path) -> list[str]:
    cmd = [_compiler(record), *shlex.split(record.get("flags", "-O3 -std=c++17")), "-fPIC", "-shared",
           "-fvisibility=hidden", *(f"-D{d}" for d in record.get("defines", []))]
    for d in _include_dirs(record):
        cmd += ["-isystem" if d != str(_NATIVE / "include") else "-I", d]
    library = _library(record)
    if not library.is_file():
        raise NativeBuildError(f"compiling a user model needs the core's static library, {library}, which this "
                               "installation lacks")
    # the OpenMP runtime the core runs on (a wheel bundles its own): one runtime, one thread pool
    gomp = _loaded_library("libgomp")
    runtime = [gomp, f"-Wl,-rpath,{Path(gomp).parent}"] if gomp else []
    return [*cmd, str(source), str(library), *runtime, "-o", str(target)]


def _loaded_library(stem: str) -> str | None:
    """The path of the shared library ``stem`` (e.g. "libgomp") this process has loaded, or None."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.split(maxsplit=5)[-1].strip() if line.count(" ") >= 5 else ""
                if Path(path).name.startswith(stem) and ".so" in Path(path).name and Path(path).is_file():
                    return path
    except OSError:
        pass
    return None


def check_toolchain(record: dict) -> None:
    """NativeBuildError naming the first tool or header compiling a user model lacks here."""
    _include_dirs(record)
    _compiler(record)
    if not _library(record).is_file():
        raise NativeBuildError(f"compiling a user model needs the core's static library, {_library(record)}, "
                               "which this installation lacks")


def module_key(source: str) -> str:
    """The hash that names a model's module: of its source and of the build record."""
    record = build_record()
    digest = hashlib.sha256()
    digest.update(source.encode())
    digest.update(json.dumps(record, sort_keys=True).encode())
    digest.update(sys.version.encode())
    return digest.hexdigest()[:20]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def module_for(source_of, name: str):
    """The loaded module ``name``, compiled from ``source_of(name)`` where the cache lacks it (or
    holds a damaged copy, which is compiled again)."""
    if name in _LOADED:
        return _LOADED[name]
    folder = cache_dir()
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    target = folder / f"{name}{suffix}"
    for attempt in (0, 1):
        if not target.is_file():
            record = build_record()
            check_toolchain(record)  # every missing tool is named before a file is created
            with _locked(folder, name):
                if not target.is_file():
                    _compile(record, source_of(name), folder, name, target)
        seen = _identity(target)
        try:
            # a damaged module (a disk error, a copy cut short) can crash the loader: it is loaded
            # only when it is the file its compilation wrote (the digest beside it)
            if not _intact(target, folder / f"{name}.sha256"):
                raise ImportError(f"{target.name} is not the module its compilation wrote")
            module = _load(name, target)
            break
        except ImportError as err:
            if attempt:
                raise NativeBuildError(f"the compiled model {target} does not load even after compiling it "
                                       f"again: {err}") from None
            with _locked(folder, name):
                if _identity(target) == seen:  # not replaced by another process meanwhile
                    target.unlink(missing_ok=True)
    _LOADED[name] = module
    return module


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _intact(target: Path, digest_file: Path) -> bool:
    try:
        return digest_file.read_text().strip() == _digest(target)
    except OSError:
        return False


def _identity(path: Path):
    try:
        st = path.stat()
        return st.st_ino, st.st_mtime_ns, st.st_size
    except OSError:
        return None


class _locked:
    """The model's lock file in the cache folder, held exclusively (compilations take turns)."""

    def __init__(self, folder: Path, name: str):
        self.folder, self.name = folder, name

    def __enter__(self):
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.file = open(self.folder / f"{self.name}.lock", "w")
        except OSError as err:
            raise NativeBuildError(f"the cache folder {self.folder} cannot be written ({err.strerror or err}); set "
                                   "FHN_INVERSE_CACHE to a writable folder") from None
        fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.file.close()  # closing releases the lock
        return False


def _compile(record: dict, source: str, folder: Path, name: str, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=folder, prefix=f".{name}-") as tmp:
        src = Path(tmp) / f"{name}.cpp"
        src.write_text(source)
        out = Path(tmp) / target.name
        start = time.perf_counter()
        try:
            done = subprocess.run(_command(record, src, out), capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            raise NativeBuildError(f"compiling {name} took over 900 s and was stopped") from None
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-25:])
            raise NativeBuildError(f"the compiler failed on the generated model {name} "
                                   f"(exit {done.returncode}):\n{tail}")
        COMPILE_SECONDS[name] = time.perf_counter() - start
        os.replace(src, folder / src.name)  # the source beside the module, for reading
        digest = Path(tmp) / f"{name}.sha256"
        digest.write_text(_digest(out) + "\n")
        os.replace(digest, folder / digest.name)  # the digest first: a module is loaded only when it matches
        os.replace(out, target)
