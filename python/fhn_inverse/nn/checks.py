"""Checks of what an inverse map takes: arrays, observation grids, covariance targets, the
records its file keeps (inputs, units, training data), and scikit-learn's tags."""

from __future__ import annotations

import json
import math
import numbers

import numpy as np

from .._util.validation import as_float_array
from ..models.noise import AR1Noise
from ..models.ode import spec_from_dict
from ..models.simulation import MODELS

__all__ = ["DEFAULT_UNITS"]

def _log_euclidean():
    from ..uncertainty import local_gaussian

    return local_gaussian


def _with_log_coordinates(y: np.ndarray, cov, name: str) -> np.ndarray:
    """Labels (N, D) and covariance targets (N, D, D) as the regression targets (θ, vech(logm C))."""
    c = np.asarray(cov)
    if c.ndim != 3 or c.shape != (y.shape[0], y.shape[1], y.shape[1]):
        raise ValueError(f"{name} must have shape (N, D, D) = {(y.shape[0], y.shape[1], y.shape[1])}, got {c.shape}")
    ell = _log_euclidean().log_coordinates(c)
    return np.concatenate([y, ell.astype(np.float32)], axis=1)


def _normal_quantile(level) -> float:
    from statistics import NormalDist

    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return NormalDist().inv_cdf(0.5 + level / 2)


def _grid_of(t, length: int) -> tuple[float, float, int]:
    """(t0, Δt, length) of an evenly spaced observation grid ``t`` for series of ``length`` points
    (None: the study's grid, which has 1,000)."""
    from ..models.simulation import DEFAULT_GRID

    if t is None:
        if length != len(DEFAULT_GRID):
            raise ValueError(f"series of {length} points need their times t= (the study's grid has "
                             f"{len(DEFAULT_GRID)})")
        t = DEFAULT_GRID
    times = as_float_array(t, "t", 1)
    if times.shape[0] != length or length < 2:
        raise ValueError(f"t must have one time per point of the series ({length}), got {times.shape[0]}")
    steps = np.diff(times)
    dt = float(steps.mean())
    if not (dt > 0 and np.allclose(steps, dt, rtol=1e-6, atol=0)):
        raise ValueError("t must be evenly spaced and increasing (a map's grid is t0 + Δt·k)")
    return float(times[0]), dt, int(length)


def _check_inputs(inputs) -> dict:
    """A model file's ``inputs`` record, validated."""
    from ..data.features import KINDS

    keys = {"features", "grid", "targets"}
    if not isinstance(inputs, dict) or not keys <= set(inputs) <= keys | {"channels"}:
        raise ValueError(f"inputs must be {{'features', 'grid', 'targets'[, 'channels']}}, got {str(inputs)[:80]!r}")
    channels = inputs.get("channels")
    if "channels" in inputs and not (isinstance(channels, int) and 2 <= channels <= 16):
        raise ValueError(f"inputs: channels must be an integer in [2, 16], got {channels!r}")
    if inputs["features"] is not None and inputs["features"] not in KINDS:  # None: the series themselves
        raise ValueError(f"inputs: features must be one of {KINDS} or null, got {inputs['features']!r}")
    grid = inputs["grid"]
    if (not isinstance(grid, list) or len(grid) != 3 or not all(isinstance(v, (int, float)) for v in grid)
            or not (math.isfinite(grid[0]) and math.isfinite(grid[1]) and grid[1] > 0)
            or not (isinstance(grid[2], int) and 2 <= grid[2] <= 1 << 24)):
        raise ValueError(f"inputs: grid must be [t0, dt > 0, length >= 2], got {grid!r}")
    targets = inputs["targets"]
    if targets is not None and not (isinstance(targets, list) and all(isinstance(v, str) for v in targets)):
        raise ValueError(f"inputs: targets must be a list of names or null, got {targets!r}")
    return inputs


#: units of the quantities the package's experiments and CLI estimate: every model's own (``units``
#: of the models in ``models.simulation.MODELS``: parameters, constants and initial state), the
#: AR(1) noise's (σ is in the unit of the observed series) and the grid's
DEFAULT_UNITS = {**{name: unit for model in MODELS for name, unit in model.units.items()},
                 **AR1Noise.param_units, "t": "dimensionless (model time)"}
_MAX_RECORD = 1 << 16  # bytes of JSON a model file's units or trained_on record may take


def _check_units(units, targets) -> dict | None:
    """A units record {name: unit}: names among ``targets`` (the map's parameter names) or "t"."""
    if units is None:
        return None
    if not isinstance(units, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in units.items()):
        raise ValueError(f"units must be a dict of parameter name -> unit (strings), got {str(units)[:80]!r}")
    allowed = set(targets or ()) | {"t"}
    unknown = sorted(set(units) - allowed)
    if unknown:
        raise ValueError(f"units name {unknown}, which are not the map's targets {targets or []} or 't'")
    if len(json.dumps(units)) > _MAX_RECORD:
        raise ValueError(f"units take more than {_MAX_RECORD} bytes of JSON")
    return dict(units)


def _check_trained_on(record) -> dict | None:
    """What a map was trained on: a :class:`~fhn_inverse.Dataset` (its ``config``: model,
    simulator, prior, noise) or such a dict, JSON-serialisable."""
    if record is None:
        return None
    config = getattr(record, "config", record)
    if config is not record and isinstance(config, dict):  # a Dataset: its config and size
        config = {**config, "size": len(record)}
    if not isinstance(config, dict):
        raise TypeError(f"trained_on must be a Dataset or a dict, got {type(record).__name__}")
    try:
        text = json.dumps(config, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"trained_on must be JSON-serialisable ({e})") from None
    if len(text) > _MAX_RECORD:
        raise ValueError(f"trained_on takes {len(text)} bytes of JSON, more than {_MAX_RECORD}")
    return json.loads(text)


def _sklearn_regressor_tags():
    """scikit-learn's tags of a regressor (its cross-validation and search read them); imported
    only when scikit-learn asks, so the package does not need it."""
    from sklearn.utils import RegressorTags, Tags, TargetTags

    return Tags(estimator_type="regressor", target_tags=TargetTags(required=True), regressor_tags=RegressorTags())


def _as_cov_scale(value) -> float:
    """A covariance scale (``InverseMap.cov_scale``): a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < value < math.inf):
        raise ValueError(f"cov_scale must be a finite number > 0, got {value!r}")
    return float(value)


def _as_float32(value, name: str, ndims: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool
    ):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim not in ndims:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dimensions, got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    finite = np.isfinite(out)
    if not finite.all():
        bad = tuple(int(i) for i in np.argwhere(~finite)[0])
        orig = arr[bad]
        raise ValueError(f"{name} must be finite (in float32), got {orig} at index {bad}")
    return out


def _model_units(trained_on) -> dict:
    """The units the model of a ``trained_on`` record declares (its quantities and "t"), or {}."""
    record = (trained_on or {}).get("model") if isinstance(trained_on, dict) else None
    if not isinstance(record, dict):
        return {}
    if record.get("name") == "ODEModel":  # a user model: its spec's units, parsed but not compiled
        return spec_from_dict(record.get("spec")).quantity_units()
    model = {m.__name__: m for m in MODELS}.get(record.get("name"))
    return dict(model.units) if model is not None else {}


def _units_with_defaults(units, targets, features, trained_on=None):
    """The units a map records: those of the model it was trained on (``trained_on``'s), else the
    package's defaults, for the targets' names (and "t" with features), under those given; None
    when neither units nor targets are given."""
    if units is None and targets is None:
        return None
    names = None if targets is None else [str(v) for v in targets]
    known = {**DEFAULT_UNITS, **_model_units(trained_on)}
    default = {k: v for k, v in known.items() if k in (names or ()) or (k == "t" and features)}
    return _check_units({**default, **(units or {})}, names)


def _check_finite_outputs(out: np.ndarray, cov, x: np.ndarray) -> None:
    """ValueError naming the rows of a map's output (means, and covariances where given) that are
    not finite: float32 overflow of inputs ``x`` far outside the training data, or absurd weights."""
    finite = np.isfinite(out).all(axis=1)
    if cov is not None:
        finite &= np.isfinite(cov).all(axis=(1, 2))
    bad = np.flatnonzero(~finite)
    if bad.size:
        rows = ", ".join(map(str, bad[:5])) + (f" and {bad.size - 5} more" if bad.size > 5 else "")
        raise ValueError(
            f"the map's output is not finite for {bad.size} of {len(out)} rows of X (rows {rows}): their "
            f"inputs (largest |value| {float(np.abs(x[bad]).max()):.3g}) are outside what the map can "
            "evaluate in float32, or its weights overflow")


def _check_targets_width(targets, Y) -> None:
    """ValueError unless ``targets`` (when given) names one parameter per column of the labels Y."""
    width = np.shape(Y)[1] if np.ndim(Y) == 2 else 1
    if targets is not None and len(targets) != width:
        raise ValueError(f"targets name {len(targets)} parameters ({', '.join(map(str, targets))}); Y has "
                         f"{width} column(s)")


#: draws (series × draws per series) ``sample`` returns at most: 2**26 draws of D float64 values
#: are 1 GiB for D = 2
MAX_DRAWS = 1 << 26


def _check_draws(n_series: int, n: int, d: int) -> None:
    """ValueError before allocating where ``n`` draws for each of ``n_series`` series exceed MAX_DRAWS."""
    if n_series * n > MAX_DRAWS:
        raise ValueError(f"{n:,} draws for each of {n_series:,} series are {n_series * n:,} draws "
                         f"({n_series * n * d * 8 / 2**30:.1f} GiB); at most {MAX_DRAWS:,} in one call: sample "
                         "fewer series at a time")


_NOT_FITTED: list = []  # the class, made once


def _not_fitted_class() -> type:
    if not _NOT_FITTED:
        try:
            from sklearn.exceptions import NotFittedError as base
        except ImportError:  # no scikit-learn: a ValueError and AttributeError, as its class is
            bases = (RuntimeError, ValueError, AttributeError)
        else:
            bases = (RuntimeError, base)
        _NOT_FITTED.append(type("NotFittedError", bases, {"__module__": __name__}))
    return _NOT_FITTED[0]


def not_fitted(message: str) -> Exception:
    """The error of a map used before it is trained: a ``RuntimeError`` (what the package has always
    raised) that is also scikit-learn's ``NotFittedError`` where scikit-learn is installed, so that
    ``clone(m).predict`` fails as every scikit-learn estimator does."""
    return _not_fitted_class()(message)


def __getattr__(name: str):  # the class by name, for pickle
    if name == "NotFittedError":
        return _not_fitted_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
