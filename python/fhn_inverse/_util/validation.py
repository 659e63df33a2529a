"""Checks at the Python boundary: dtypes and shapes get a TypeError/ValueError naming the value.

Numeric ranges are checked once more in the native core, which raises ValueError too; integers
the core's types cannot hold (a thread count beyond ``long long``, a stream index beyond
``uint64``) are refused here, where pybind11 would give a TypeError about its signature.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _core

__all__ = ["as_float_array", "as_int", "as_seed", "as_float", "as_threads", "as_start"]

_FINITE_BLOCK = 1 << 20  # values checked per NumPy call: a few milliseconds each


def as_float_array(value, name: str, ndim: int | tuple[int, ...], *, allow_empty: bool = False):
    """Return ``value`` as a C-contiguous float64 array of ``ndim`` dimensions.

    Accepts real numeric arrays (bool, integer, floating). Raises TypeError for other dtypes and
    ValueError for the wrong number of dimensions, empty arrays or non-finite values.
    """
    arr = np.asarray(value)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool
    ):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    dims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in dims:
        want = " or ".join(str(d) for d in dims)
        raise ValueError(f"{name} must have {want} dimensions, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    flat = arr.reshape(-1)
    for lo in range(0, flat.size, _FINITE_BLOCK):  # in blocks: Ctrl-C lands between them
        finite = np.isfinite(flat[lo:lo + _FINITE_BLOCK])
        if not finite.all():
            bad = tuple(int(i) for i in np.unravel_index(lo + int(np.argmin(finite)), arr.shape))
            raise ValueError(f"{name} must be finite, got {arr[bad]} at index {bad}")
    return arr


def as_int(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as int; TypeError for non-integers, ValueError outside [``minimum``,
    ``maximum``] (either bound optional)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    low_ok = minimum is None or value >= minimum
    if maximum is not None and not (low_ok and value <= maximum):
        accepted = f"<= {maximum}" if minimum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be {accepted}, got {value}")
    if not low_ok:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def as_threads(value) -> int:
    """A thread count for the native core: an integer in [0, MAX_THREADS], 0 meaning all cores
    (the core's ``check_threads``, here also for integers its ``long long`` cannot hold)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"n_threads must be an integer, got {value!r}")
    value = int(value)
    if value < 0:  # the message of as_int's lower bound, which callers match
        raise ValueError(f"n_threads must be >= 0, got {value}; the range is [0, {_core.MAX_THREADS}] (0 = all cores)")
    if value > _core.MAX_THREADS:
        raise ValueError(f"n_threads must be in [0, {_core.MAX_THREADS}] (0 = all cores), got {value}")
    return value


def as_start(value, n: int, *, bits: int = 64, why: str = "the stream indices are uint64") -> int:
    """The first of the ``n`` stream indices ``start … start + n − 1``, all below 2**``bits``
    (64 for the native streams; 63 where the indices are kept in an int64 array)."""
    start = as_int(value, "start", 0)
    if start > 2**bits - n:
        raise ValueError(f"start must be in [0, 2**{bits} - {n}] for n = {n} ({why}), got {start}")
    return start


def as_seed(value) -> int:
    """A seed is an integer in [0, 2**64)."""
    seed = as_int(value, "seed", 0)
    if seed >= 2**64:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return seed


def as_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)
