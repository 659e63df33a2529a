"""Which build of the native core this process loads.

A native build (a source install, ``-march=native``) has one core, ``fhn_inverse/_core``. A
portable build (the wheel) has one per instruction-set level, each a whole copy of the core and its
bindings compiled for that level, in ``fhn_inverse/_isa/<level>/``; the best level this CPU runs is
loaded under the one name ``fhn_inverse._core``, so nothing else in the package (nor a pickle)
sees which. ``$FHN_INVERSE_ISA`` forces a level: for tests, and for users who must reproduce
results bit for bit across machines (results are seed-exact at each level; across levels they
differ by floating-point rounding, docs/speed.md).

Levels, lowest first: ``baseline`` (x86-64: SSE2), ``avx2`` (x86-64-v3: AVX2, FMA, BMI2, F16C,
MOVBE) and ``avx512`` (x86-64-v4: AVX-512 F, BW, CD, DQ, VL). The CPU's are read from
``/proc/cpuinfo``, where Linux lists a vector extension only when the kernel saves its registers.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

__all__ = ["ENV", "LEVELS", "cpu_levels", "installed_levels", "load"]

#: The environment variable that forces a level ("auto" or unset: the best one this CPU runs).
ENV = "FHN_INVERSE_ISA"
#: The levels, lowest first.
LEVELS = ("baseline", "avx2", "avx512")
#: The /proc/cpuinfo flags each level needs: x86-64-v3 and -v4 of the psABI, each with the levels
#: below ("pni" is SSE3, "abm" LZCNT).
_V2 = frozenset({"pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "lahf_lm"})
_NEEDS = {
    "baseline": frozenset(),
    "avx2": _V2 | {"avx", "avx2", "fma", "bmi1", "bmi2", "f16c", "movbe", "abm", "xsave"},
}
_NEEDS["avx512"] = _NEEDS["avx2"] | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}

_PACKAGE = Path(__file__).resolve().parent
#: Set by load(): the level loaded, and whether it was forced.
LOADED: dict = {}


def cpu_flags() -> set[str]:
    """This CPU's flags from /proc/cpuinfo (empty where unreadable)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_levels(flags: set[str] | None = None) -> list[str]:
    """The levels this CPU runs, lowest first (only "baseline" where /proc/cpuinfo is unreadable)."""
    flags = cpu_flags() if flags is None else flags
    return [level for level in LEVELS if _NEEDS[level] <= flags]


def _extension(level: str) -> Path | None:
    """The level's extension for this interpreter (its ABI's suffix), or None."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = _PACKAGE / "_isa" / level / f"_core{suffix}"
        if path.is_file():
            return path
    return None


def installed_levels() -> list[str]:
    """The levels this installation holds a core for, lowest first (empty for a single-core build)."""
    return [level for level in LEVELS if _extension(level) is not None]


def _forced() -> str | None:
    value = os.environ.get(ENV, "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in LEVELS:
        raise ImportError(f"{ENV}={os.environ[ENV]!r} is not an instruction-set level; accepted: auto, "
                          f"{', '.join(LEVELS)}")
    return value


def load():
    """Import the native core (the level chosen as the module says) as ``fhn_inverse._core``."""
    forced = _forced()
    installed = installed_levels()
    if not installed:
        core = importlib.import_module("fhn_inverse._core")
        level = core.build_info()["level"]
        if forced is not None:
            raise ImportError(f"{ENV}={forced} forces an instruction-set level, but this installation has one "
                              f"native core, built for this machine ({level}, {core.__file__}); levels are "
                              "built by the portable build (FHN_NATIVE=OFF, scripts/build_wheel.sh). Unset "
                              f"{ENV}, or set it to auto, to use this one")
        LOADED.update(level=level, forced=False, dispatch="single")
        return core
    runs = cpu_levels()
    if forced is not None:
        if forced not in installed:
            raise ImportError(f"{ENV}={forced}: this installation has no core for that level; it has "
                              f"{', '.join(installed)}")
        if forced not in runs:
            flags = cpu_flags()
            if not flags:
                raise ImportError(f"{ENV}={forced}: /proc/cpuinfo is unreadable, so only baseline is known to run "
                                  "on this CPU")
            missing = sorted(_NEEDS[forced] - flags)
            raise ImportError(f"{ENV}={forced}: this CPU cannot run that level (it lacks {', '.join(missing)}); "
                              f"it runs {', '.join(runs)}")
        level = forced
    else:
        usable = [lv for lv in installed if lv in runs]
        if not usable:
            raise ImportError(f"this installation has cores for {', '.join(installed)}, and this CPU runs none of "
                              "them")
        level = usable[-1]
    path = _extension(level)
    spec = importlib.util.spec_from_file_location("fhn_inverse._core", path)
    core = importlib.util.module_from_spec(spec)
    sys.modules["fhn_inverse._core"] = core
    try:
        spec.loader.exec_module(core)
    except BaseException:
        del sys.modules["fhn_inverse._core"]
        raise
    LOADED.update(level=level, forced=forced is not None, dispatch="runtime")
    return core
