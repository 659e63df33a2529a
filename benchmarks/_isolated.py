"""Run one measurement in a fresh interpreter and return its result with that process's peak
resident memory, so every benchmark row reports its own peak RSS (not the suite's running max)."""

from __future__ import annotations

import resource
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context


def _call(fn, args, kwargs):
    result = fn(*args, **kwargs)
    return result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def isolated(fn, *args, **kwargs):
    """(fn(*args, **kwargs), peak RSS in MiB of the process that ran it); fn must be a
    module-level function of an importable module."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_call, fn, args, kwargs).result()
