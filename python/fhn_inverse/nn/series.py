"""Series in, features made by the map: a map trained with ``features=`` records what it takes
(the feature kind, its observation grid t0 + Δt·k and the targets' names, the ``inputs`` record
of its file) and turns observed series into its network's input itself, refusing series on
another grid unless asked to interpolate them onto its own."""

from __future__ import annotations

import numpy as np

import warnings

from .._util.validation import as_float_array
from .checks import _as_float32, _grid_of

__all__ = ["take_series", "raw_series", "series_input", "row_blocks", "join_blocks"]

# Series points turned into network inputs at a time: larger inputs are predicted in blocks of
# rows, so that the float64 copy and the features stay near 2**22 × 8 bytes whatever N is.
SERIES_BLOCK = 1 << 22


def row_blocks(X, points: int | None = None):
    """Views of the rows of series ``X`` (N, L) or (N, K, L) in blocks of about ``points`` values
    (default ``SERIES_BLOCK``), or None when X fits in one block (or is not such an array)."""
    X = np.asarray(X)
    points = SERIES_BLOCK if points is None else points
    rows = max(1, points // max(1, int(np.prod(X.shape[1:])))) if X.ndim in (2, 3) else 0
    if X.ndim not in (2, 3) or X.shape[0] <= rows:
        return None
    return [X[lo: lo + rows] for lo in range(0, X.shape[0], rows)]


def join_blocks(outs: list, with_cov: bool):
    """The predictions of consecutive blocks as one: means (and covariances) concatenated."""
    if with_cov:
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])
    return np.concatenate(outs)


def take_series(inputs: dict | None, X, validation, features, t, targets, n_threads: int):
    """The network inputs of training series ``X`` (and of a validation tuple's), and the
    ``inputs`` record the map keeps once the fit succeeds; ``inputs`` is the map's current record
    (None for a map not trained on series yet)."""
    from ..data.features import KINDS
    from ..data.features import features as make_features

    if features not in KINDS:
        raise ValueError(f"features must be one of {KINDS} or None, got {features!r}")
    if inputs is not None and inputs["features"] != features:
        raise ValueError(f"this map takes {inputs['features']!r} features; it cannot be trained on "
                         f"{features!r}")
    series = as_float_array(X, "X", (2, 3))  # (N, K, L): K observed quantities
    series = series[:, 0] if series.ndim == 3 and series.shape[1] == 1 else series
    grid = _grid_of(t, series.shape[-1])
    if targets is not None:
        targets = [str(name) for name in targets]
    record = {"features": features, "grid": list(grid), "targets": targets}
    if series.ndim == 3:
        record["channels"] = series.shape[1]
    if isinstance(validation, (tuple, list)):
        valid = as_float_array(validation[0], "validation X", series.ndim)
        if valid.shape[1:-1] != series.shape[1:-1]:
            raise ValueError(f"validation X must hold series of shape (N, {', '.join(map(str, series.shape[1:-1]))}"
                             f"{', ' if series.ndim == 3 else ''}L) as X does, got {valid.shape}")
        validation = (make_features(valid, features, n_threads=n_threads), *validation[1:])
    return make_features(series, features, n_threads=n_threads), validation, record


def raw_series(X, t, targets):
    """The ``inputs`` record of a map trained on arrays without ``features=``: where X holds series
    (N, L) on a known grid (``t``, or the study's for L = 1,000 points), their grid and the
    targets' names, so that series on another grid are refused later; else None (arrays that are
    not series on a known grid)."""
    from ..models.simulation import DEFAULT_GRID

    channels = np.ndim(X) == 3 and np.shape(X)[1] > 1 and t is not None  # (N, K, L): K quantities on the grid t
    if not (np.ndim(X) == 2 or channels) or (t is None and np.shape(X)[1] != len(DEFAULT_GRID)):
        if t is not None or targets is not None:
            raise ValueError("t= and targets= describe series (N, L) or (N, K, L): give X as series, and their times "
                             f"t= where they are not on the study's grid of {len(DEFAULT_GRID)} points")
        return None
    grid = _grid_of(t, np.shape(X)[-1])
    record = {"features": None, "grid": list(grid), "targets": None if targets is None else [str(n) for n in targets]}
    return dict(record, channels=int(np.shape(X)[1])) if channels else record


def _units_hint(times: np.ndarray, grid: np.ndarray) -> str:
    """A note for series whose time span differs from the map's by a large factor (other units)."""
    ratio = (grid[-1] - grid[0]) / max(times[-1] - times[0], np.finfo(float).tiny)
    if 0.2 < ratio < 5:
        return ""
    return (f"; the map's span is {ratio:.3g} times theirs: are their times in other units than the map's "
            "(seconds for milliseconds, or not the model's dimensionless time)?")


def _off_grid(times: np.ndarray, grid: np.ndarray, expected: str) -> str | None:
    """Why series at ``times`` cannot be interpolated onto the map's ``grid`` (None if they can):
    the grid must lie within the times, to half the series' own step (a sample stands for the half
    step around it; within that the end value is held, with a warning)."""
    half = 0.5 * float(np.min(np.diff(times)))
    if grid[0] >= times[0] - half and grid[-1] <= times[-1] + half:
        if grid[0] < times[0] or grid[-1] > times[-1]:
            warnings.warn(f"the map's grid ({grid[0]:g} … {grid[-1]:g}) reaches up to half a step beyond the series' "
                          f"times ({times[0]:g} … {times[-1]:g}): the end values are held there", UserWarning,
                          stacklevel=4)
        return None
    return (f"the map takes series of {expected}; the series' times run {times[0]:g} … {times[-1]:g}, so the "
            f"map's grid reaches beyond them and they cannot be interpolated onto it{_units_hint(times, grid)}")


def series_input(inputs: dict, X, t, resample: bool, n_threads: int) -> np.ndarray:
    """The network input of observed series X (N, L) for a map whose ``inputs`` record this is:
    the series checked against the map's grid (or interpolated onto it), then their features
    (none for a map trained on the series themselves)."""
    from ..data.features import features as make_features

    def inputs_of(series):
        return series if inputs["features"] is None else make_features(series, inputs["features"], n_threads=n_threads)

    t0, dt, length = inputs["grid"]
    length = int(length)
    channels = inputs.get("channels")
    if channels:  # series (N, K, L): checked and interpolated as rows (N·K, L), given back as (N, K, L)
        if np.ndim(X) != 3 or np.shape(X)[1] != channels:
            raise ValueError(f"the map takes series of {channels} observed quantities, (N, {channels}, L); got "
                             f"shape {np.shape(X)}")
        n = np.shape(X)[0]
        rows = series_input(dict(inputs, channels=None), np.reshape(X, (n * channels, -1)), t, resample, n_threads)
        return rows.reshape(n, -1, rows.shape[-1])  # (N, K, L), or (N, K·C, L) features
    if np.ndim(X) == 3 and np.shape(X)[1] == 1:  # (N, 1, L): one channel
        X = np.asarray(X)[:, 0]
    elif np.ndim(X) == 3:
        raise ValueError(f"the map takes series of one observed quantity, (N, L); got shape {np.shape(X)}")
    # the series themselves on the map's grid go to the network as float32 without a float64 copy
    # (prepare_input checks them again, cheaply); features and interpolation take float64
    series = _as_float32(X, "X", (2,)) if inputs["features"] is None and t is None else as_float_array(X, "X", 2)
    expected = f"{length} points at t = {t0:g}, {t0 + dt:g}, …, {t0 + dt * (length - 1):g} (Δt = {dt:g})"
    if t is None:
        if series.shape[1] != length:
            raise ValueError(f"the map takes series of {expected}; these have {series.shape[1]} points: give "
                             "their times (t=, or a time row or column in the file) and ask to interpolate them "
                             "onto the map's grid (resample=True, --resample), or train a map on their grid")
        return inputs_of(series)
    times = as_float_array(t, "t", 1)
    if times.shape[0] != series.shape[1]:
        raise ValueError(f"t has {times.shape[0]} times for series of {series.shape[1]} points")
    if np.any(np.diff(times) <= 0):
        raise ValueError("t must be strictly increasing")
    grid = t0 + dt * np.arange(length)
    same = times.shape[0] == length and np.allclose(times, grid, rtol=0, atol=1e-9 * max(1.0, abs(grid).max()))
    if not same:
        if not resample:
            got = f"{times.shape[0]} points at t = {times[0]:g} … {times[-1]:g}"
            raise ValueError(f"the map takes series of {expected}; these have {got}: ask to interpolate them "
                             "onto the map's grid (resample=True, --resample), or train a map on their grid"
                             + _units_hint(times, grid))
        problem = _off_grid(times, grid, expected)
        if problem is not None:
            raise ValueError(problem)
        series = np.stack([np.interp(grid, times, row) for row in series])
    return inputs_of(series)
