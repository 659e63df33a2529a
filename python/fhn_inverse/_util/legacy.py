"""The module paths of the package before it was laid out by area (``fhn_inverse.simulation``,
``fhn_inverse.ensemble``, …), kept importable so that pickles made by those versions load and
scripts that import those paths run.

A pickle names each object by its module and name (``fhn_inverse.ensemble.Ensemble``). An import
of an old path gets a stand-in module that finds each name in the modules that hold it now, in
order, and warns once (DeprecationWarning) with the new path. Nothing is imported until an old path
is asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings

__all__ = ["MOVED", "install"]

#: old module path -> the modules that hold its names now, searched in order
MOVED = {
    "fhn_inverse.simulation": ("fhn_inverse.models.simulation", "fhn_inverse.models.priors",
                               "fhn_inverse.models.noise", "fhn_inverse.models.spikes"),
    "fhn_inverse.dataset": ("fhn_inverse.data.dataset",),
    "fhn_inverse.features": ("fhn_inverse.data.features",),
    "fhn_inverse.series_io": ("fhn_inverse.data.series_io",),
    "fhn_inverse.store": ("fhn_inverse.data.store",),
    "fhn_inverse.streams": ("fhn_inverse.data.streams",),
    "fhn_inverse.training": ("fhn_inverse.nn.training",),
    "fhn_inverse.ensemble": ("fhn_inverse.nn.ensemble", "fhn_inverse.nn.ensemble_files"),
    "fhn_inverse.calibration": ("fhn_inverse.uncertainty.calibration",),
    "fhn_inverse.diagnostics": ("fhn_inverse.uncertainty.diagnostics", "fhn_inverse.uncertainty.stats",
                                "fhn_inverse.uncertainty.coverage", "fhn_inverse.uncertainty.recovery",
                                "fhn_inverse.uncertainty.sbc", "fhn_inverse.uncertainty.predictive"),
    "fhn_inverse.laplace": ("fhn_inverse.uncertainty.laplace",),
    "fhn_inverse.local_gaussian": ("fhn_inverse.uncertainty.local_gaussian",),
    "fhn_inverse.refine": ("fhn_inverse.fitting.refine",),
    "fhn_inverse.experiments": ("fhn_inverse.study.experiments", "fhn_inverse.study.runs",
                                "fhn_inverse.study.point_estimates", "fhn_inverse.study.accuracy_covariance_speed"),
    "fhn_inverse.report": ("fhn_inverse.study.report",),
    "fhn_inverse.speed": ("fhn_inverse.study.speed",),
    "fhn_inverse.plotting": ("fhn_inverse.study.plotting",),
}


class _Moved(types.ModuleType):
    """A stand-in for an old module path: its names come from the modules that hold them now."""

    def __init__(self, name: str, targets: tuple[str, ...]):
        super().__init__(name, f"Moved: the names of {name} now live in {', '.join(targets)}.")
        self.__targets = targets

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        for target in self.__targets:
            module = importlib.import_module(target)
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"module {self.__name__!r} (now {', '.join(self.__targets)}) has no attribute {attr!r}")

    def __dir__(self):
        return sorted({n for t in self.__targets for n in dir(importlib.import_module(t)) if not n.startswith("__")})


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return _Moved(spec.name, MOVED[spec.name])

    def exec_module(self, module) -> None:
        warnings.warn(f"{module.__name__} moved to {MOVED[module.__name__][0]} (import from fhn_inverse or the new "
                      "path)", DeprecationWarning, stacklevel=2)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader(), is_package=False)


def install() -> None:
    """Make the old module paths importable (once per process)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
