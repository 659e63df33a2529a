"""Checks at the Python boundary: dtypes and shapes get a TypeError/ValueError naming the value.

Numeric ranges are checked once more in the native core, which raises ValueError too.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_float_array", "as_int", "as_seed", "as_float"]


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
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name} must be finite, got {arr[bad]} at index {bad}")
    return arr


def as_int(value, name: str, minimum: int | None = None) -> int:
    """Return ``value`` as int; TypeError for non-integers, ValueError below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


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
