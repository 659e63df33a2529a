"""What this installation is: how its native core was built, and what it can do on this machine."""

from __future__ import annotations

from . import _core, _loader
from .models import compile as _compile

__all__ = ["build_info"]


def build_info() -> dict:
    """How the native core was built, and what this machine and installation can do.

    Returns
    -------
    dict
        From the core: ``version``; ``level`` ("baseline", "avx2" or "avx512"), the instruction
        sets the kernels were compiled for (``instruction_sets``); ``float_lanes`` (the network
        kernels' floats per vector: 16 with AVX-512, else 8); ``simd_doubles`` and
        ``simulator_lanes`` (the SIMD simulator's vector width and lanes per step); ``compiler``,
        ``blas``, ``fftw``, ``openmp``. From the installation: ``native`` (True when built for
        the building machine's CPU, ``-march=native``; such a build runs only on CPUs with its
        instruction sets); ``dispatch`` ("runtime" for a portable build holding a core per level,
        of which the best this CPU runs was loaded, "single" for one core); ``levels_installed``
        (the levels held; empty for a single core); ``levels_cpu`` (the levels this CPU runs, from
        /proc/cpuinfo); ``level_forced`` (True when ``$FHN_INVERSE_ISA`` chose the level);
        ``cpu_has_level`` (whether this CPU runs the loaded level; None where /proc/cpuinfo is
        unreadable); ``user_models`` ("compiled" where a compiler and the
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
    info["dispatch"] = _loader.LOADED.get("dispatch", "single")
    info["levels_installed"] = _loader.installed_levels()
    info["levels_cpu"] = _loader.cpu_levels()
    info["level_forced"] = bool(_loader.LOADED.get("forced", False))
    flags = _loader.cpu_flags()
    if info["dispatch"] == "runtime":  # the loader chose it by the psABI level's whole flag set
        info["cpu_has_level"] = info["level"] in info["levels_cpu"] if flags else None
    else:  # a native core: the instruction sets its level is named by
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
