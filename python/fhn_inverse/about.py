"""What this installation is: how its native core was built, and what it can do on this machine."""

from __future__ import annotations

from . import _core
from .models import compile as _compile

__all__ = ["build_info"]


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def build_info() -> dict:
    """How the native core was built, and what this machine and installation can do.

    Returns
    -------
    dict
        From the core: ``version``; ``level`` ("baseline", "avx2" or "avx512"), the instruction
        sets the kernels were compiled for (``instruction_sets``); ``simd_doubles`` and
        ``simulator_lanes`` (the SIMD simulator's vector width and lanes per step); ``compiler``,
        ``blas``, ``fftw``, ``openmp``. From the installation: ``native`` (True when built for
        the building machine's CPU, ``-march=native``; such a build runs only on CPUs with its
        instruction sets); ``cpu_has_level`` (whether this machine's CPU has them, from
        /proc/cpuinfo; None where unreadable); ``user_models`` ("compiled" where a compiler and the
        headers for :class:`~fhn_inverse.ODEModel` are found, else "numpy", with ``user_models_missing``
        naming what is missing).

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> info = fi.build_info()
    >>> info["level"] in ("baseline", "avx2", "avx512"), info["simulator_lanes"] >= 2
    (True, True)
    """
    info = dict(_core.build_info())
    try:
        record = _compile.build_record()
        info["native"] = "-march=native" in record.get("flags", "")
    except _compile.NativeBuildError:
        record, info["native"] = None, None
    flags = _cpu_flags()
    need = {"baseline": set(), "avx2": {"avx2", "fma"}, "avx512": {"avx512f"}}[info["level"]]
    info["cpu_has_level"] = need <= flags if flags else None
    try:
        if record is None:
            raise _compile.NativeBuildError("no _native/build.json in this installation")
        _compile.check_toolchain(record)
        info["user_models"], info["user_models_missing"] = "compiled", None
    except _compile.NativeBuildError as err:
        info["user_models"], info["user_models_missing"] = "numpy", str(err)
    return info
