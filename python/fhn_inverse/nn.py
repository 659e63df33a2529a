"""Inverse maps: dense and convolutional networks trained in the native core (float32).

``InverseMap`` is the estimator: build one with :meth:`InverseMap.dense`, :meth:`InverseMap.cnn`
or a general layer list, then ``.fit(X, Y)`` / ``.predict(X)``. Inputs are NumPy arrays of shape
(N, L) or (N, C, L); labels (N, D) or (N,). Labels are scaled on the training set (min–max to
[0, 1] as the study, or standardised) and the scaling is inverted by ``predict``. A trained map
is one file in the safetensors layout (``save`` / ``load``), which also opens with the
``safetensors`` package and maps onto PyTorch (``to_torch``, optional extra).

The network's output layer (a dense layer with one unit per target, plus ``output_activation``)
is appended automatically; the layer lists here describe the hidden stack.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import sys
from typing import Any, Sequence

import numpy as np

from . import _core
from ._io import atomic_open
from ._validation import as_float_array, as_int, as_seed
from .training import MAX_BATCH, MAX_EPOCHS, TrainingConfig  # noqa: F401 (MAX_*: nn's public limits)

__all__ = ["InverseMap", "LAYER_KINDS", "ACTIVATIONS"]

ACTIVATIONS = ("relu", "swish", "silu", "gelu", "tanh", "sigmoid")
LAYER_KINDS = ("dense", "conv1d", "avgpool1d", "maxpool1d", "flatten", "dropout") + ACTIVATIONS
_FIELDS = {
    "dense": {"units"},
    "conv1d": {"filters", "kernel", "stride", "padding"},
    "avgpool1d": {"pool", "stride"},
    "maxpool1d": {"pool", "stride"},
    "dropout": {"rate"},
}
_FORMAT = "fhn_inverse.InverseMap"
_FORMAT_VERSION = "1"
_MAX_HEADER = 16 * 1024 * 1024  # bytes of JSON header a model file may declare
_MAX_WORKSPACE = 1 << 28  # activation floats the loader will allocate for a file's architecture
_CHECKSUM_KEY = "checksum_sha256"  # SHA-256 (hex) of the tensor bytes, all tensors in file order
_HEADER_CHECKSUM_KEY = "header_sha256"  # SHA-256 (hex) of the header without this entry, see _header_digest


def _header_digest(header: dict) -> str:
    """SHA-256 (hex) of the header's canonical JSON (sorted keys, no spaces) without its own
    ``header_sha256`` entry: parsing and re-serialising reproduce it, a changed value does not."""
    meta = {k: v for k, v in header["__metadata__"].items() if k != _HEADER_CHECKSUM_KEY}
    canonical = json.dumps(dict(header, __metadata__=meta), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------ validation
def _check_activation(name, what: str) -> str:
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"{what} must be one of {', '.join(ACTIVATIONS)}; got {name!r}")
    return "swish" if name == "silu" else name


def _positive_int(value, name: str) -> int:
    return as_int(value, name, 1)


def _log_euclidean():
    from . import local_gaussian

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
    from .simulation import DEFAULT_GRID

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
    from .features import KINDS

    if not isinstance(inputs, dict) or set(inputs) != {"features", "grid", "targets"}:
        raise ValueError(f"inputs must be {{'features', 'grid', 'targets'}}, got {str(inputs)[:80]!r}")
    if inputs["features"] not in KINDS:
        raise ValueError(f"inputs: features must be one of {KINDS}, got {inputs['features']!r}")
    grid = inputs["grid"]
    if (not isinstance(grid, list) or len(grid) != 3 or not all(isinstance(v, (int, float)) for v in grid)
            or not (math.isfinite(grid[0]) and math.isfinite(grid[1]) and grid[1] > 0)
            or not (isinstance(grid[2], int) and 2 <= grid[2] <= 1 << 24)):
        raise ValueError(f"inputs: grid must be [t0, dt > 0, length >= 2], got {grid!r}")
    targets = inputs["targets"]
    if targets is not None and not (isinstance(targets, list) and all(isinstance(v, str) for v in targets)):
        raise ValueError(f"inputs: targets must be a list of names or null, got {targets!r}")
    return inputs


#: units of the parameters the package's experiments and CLI estimate: the FitzHugh–Nagumo
#: model as the study writes it is nondimensional; σ is in the unit of the observed series
DEFAULT_UNITS = {"theta0": "dimensionless", "theta1": "dimensionless", "sigma": "unit of the series",
                 "rho": "dimensionless (per observation step)", "t": "dimensionless (model time)"}
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


def _bounded_int(value, name: str, low: int, high: int) -> int:
    value = as_int(value, name, low)
    if value > high:
        raise ValueError(f"{name} must be in [{low}, {high:,}], got {value:,}")
    return value


def _normalise_layer(layer) -> dict:
    """A layer is a kind string ("flatten", "swish", ...) or a dict with "kind" and its fields."""
    if isinstance(layer, str):
        layer = {"kind": layer}
    if not isinstance(layer, dict) or "kind" not in layer:
        raise ValueError(f"a layer must be a kind name or a dict with a 'kind', got {layer!r}")
    kind = layer["kind"]
    if kind not in LAYER_KINDS:
        raise ValueError(f"layer kind must be one of {', '.join(LAYER_KINDS)}; got {kind!r}")
    allowed = _FIELDS.get(kind, set())
    extra = set(layer) - allowed - {"kind"}
    if extra:
        raise ValueError(f"layer {kind!r} does not take {sorted(extra)}; accepted: {sorted(allowed)}")
    out: dict[str, Any] = {"kind": "swish" if kind == "silu" else kind}
    if kind == "dense":
        out["units"] = _positive_int(layer.get("units"), "units")
    elif kind == "conv1d":
        out["filters"] = _positive_int(layer.get("filters"), "filters")
        out["kernel"] = _positive_int(layer.get("kernel"), "kernel")
        out["stride"] = _positive_int(layer.get("stride", 1), "stride")
        padding = layer.get("padding", "valid")
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        out["padding"] = padding
    elif kind in ("avgpool1d", "maxpool1d"):
        out["pool"] = _positive_int(layer.get("pool"), "pool")
        out["stride"] = _positive_int(layer.get("stride", out["pool"]), "stride")
    elif kind == "dropout":
        rate = layer.get("rate")
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
        out["rate"] = float(rate)
    return out


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


# --------------------------------------------------------------------------------------- scaling
class _Scaling:
    """y_scaled = (y − offset) / scale per column; kind minmax (to [0, 1]), standard or none."""

    def __init__(self, kind: str, offset: np.ndarray, scale: np.ndarray):
        self.kind, self.offset, self.scale = kind, offset, scale

    @classmethod
    def fit(cls, kind: str, y: np.ndarray) -> _Scaling:
        y64 = y.astype(np.float64)
        if kind == "minmax":
            lo, hi = y64.min(axis=0), y64.max(axis=0)
            scale = hi - lo
            offset = lo
        elif kind == "standard":
            offset, scale = y64.mean(axis=0), y64.std(axis=0)
        else:
            offset, scale = np.zeros(y.shape[1]), np.ones(y.shape[1])
        scale = np.where(scale > 0, scale, 1.0)
        return cls(kind, offset, scale)

    def transform(self, y: np.ndarray) -> np.ndarray:
        return ((y.astype(np.float64) - self.offset) / self.scale).astype(np.float32)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return y.astype(np.float64) * self.scale + self.offset

    def to_json(self) -> dict:
        return {"kind": self.kind, "offset": [float(v) for v in self.offset], "scale": [float(v) for v in self.scale]}

    @classmethod
    def from_json(cls, d) -> _Scaling:
        if not isinstance(d, dict) or d.get("kind") not in ("minmax", "standard", "none"):
            raise ValueError(f"model file: invalid scaling {d!r}")
        offset = np.asarray(d.get("offset"), dtype=np.float64)
        scale = np.asarray(d.get("scale"), dtype=np.float64)
        if offset.ndim != 1 or offset.shape != scale.shape or not (np.isfinite(offset).all() and np.isfinite(scale).all()):
            raise ValueError("model file: scaling offset/scale must be equal-length finite lists")
        return cls(d["kind"], offset, scale)


class _InputScaling:
    """x_scaled = (x − offset[c]) / scale[c] per input channel c (kind "channel": the training
    inputs' mean and standard deviation of each channel). Dense maps have one channel."""

    def __init__(self, offset: np.ndarray, scale: np.ndarray):
        self.offset, self.scale = offset, scale

    @classmethod
    def fit(cls, x: np.ndarray) -> _InputScaling:
        axes = (0, 2) if x.ndim == 3 else (0, 1)
        x64 = x.astype(np.float64)
        offset, scale = x64.mean(axis=axes), x64.std(axis=axes)
        return cls(np.atleast_1d(offset), np.atleast_1d(np.where(scale > 0, scale, 1.0)))

    def transform(self, x: np.ndarray) -> np.ndarray:
        shape = (1, -1, 1) if x.ndim == 3 else (1, -1)
        return ((x.astype(np.float64) - self.offset.reshape(shape)) / self.scale.reshape(shape)).astype(np.float32)

    def to_json(self) -> dict:
        return {"kind": "channel", "offset": [float(v) for v in self.offset], "scale": [float(v) for v in self.scale]}

    @classmethod
    def from_json(cls, d, channels: int) -> _InputScaling:
        if not isinstance(d, dict) or d.get("kind") != "channel":
            raise ValueError(f"model file: invalid input scaling {d!r}")
        offset = np.asarray(d.get("offset"), dtype=np.float64)
        scale = np.asarray(d.get("scale"), dtype=np.float64)
        if (offset.shape != (channels,) or scale.shape != (channels,) or not np.isfinite(offset).all()
                or not np.isfinite(scale).all() or not (scale > 0).all()):
            raise ValueError(f"model file: input scaling needs {channels} finite offsets and positive scales")
        return cls(offset, scale)


# ----------------------------------------------------------------------------------- the estimator
class InverseMap:
    """A network from time series (N, L) or (N, C, L) to parameters (N, D).

    layers: the hidden stack, a list of kind names or dicts (see ``LAYER_KINDS``); the output
    layer — dense with D units and ``output_activation`` (None: linear) — is appended when the
    map is built (at ``fit``, or explicitly with ``build``).
    """

    def __init__(self, layers: Sequence, *, output_activation: str | None = "sigmoid", seed: int = 0):
        if isinstance(layers, (str, dict)) or not isinstance(layers, Sequence):
            raise ValueError(f"layers must be a list of layers, got {layers!r}")
        self.layers = [_normalise_layer(layer) for layer in layers]
        self._layers_given = layers  # as given: scikit-learn's clone checks get_params returns it
        self.output_activation = None if output_activation is None else _check_activation(
            output_activation, "output_activation")
        self.seed = as_seed(seed)
        self.history: dict[str, Any] = {}
        self._net = None
        self._scaling: _Scaling | None = None
        self._input_scaling: _InputScaling | None = None
        self._loss = "mse"
        self._n_targets: int | None = None
        self._cov_dim: int | None = None  # D of a local-Gaussian head (outputs θ and vech(log C))
        self._training: dict[str, Any] = {}
        # multiplies the Gaussian-NLL head's covariance (temperature scaling, set by calibrate)
        self.cov_scale = 1.0
        # calibrated quantiles of the standardised errors (calibrate(method="quantile")), or None
        self.calibration = None
        # what the map takes and gives, when trained with features= (stored in the model file):
        # {"features": kind, "grid": [t0, dt, length], "targets": names or None}; None: X is the
        # network's input as given
        self.inputs: dict | None = None
        # {name: unit} of the targets (and "t" of the grid), and what the map was trained on
        # (a Dataset's config: model, simulator, prior, noise); both stored in the model file
        self.units: dict | None = None
        self.trained_on: dict | None = None
        self._file_version: str | None = None  # the package version that wrote a loaded file

    # -- factories
    @classmethod
    def dense(cls, units: Sequence[int] = (32, 32, 32, 32), *, activation: str = "swish",
              dropout: float = 0.0, output_activation: str | None = "sigmoid", seed: int = 0) -> InverseMap:
        """The study's dense map: len(units) dense layers with ``activation`` (and dropout)."""
        act = _check_activation(activation, "activation")
        units = [_positive_int(u, "units") for u in units]
        if not units:
            raise ValueError("units must name at least one layer, got []")
        layers: list = []
        for u in units:
            layers += [{"kind": "dense", "units": u}, act]
            if dropout:
                layers.append({"kind": "dropout", "rate": dropout})
        return cls(layers, output_activation=output_activation, seed=seed)

    @classmethod
    def cnn(cls, filters: Sequence[int] = (8, 16, 32), *, kernel: int = 3, stride: int = 2, pool: int = 2,
            dense: Sequence[int] = (32, 32), activation: str = "swish", padding: str = "valid",
            pooling: str = "avg", output_activation: str | None = "sigmoid", seed: int = 0) -> InverseMap:
        """The study's CNN: Conv1D layers (pooling between them, not after the last), Flatten,
        dense layers; 33,874 parameters for a 1000-long input and 2 outputs with the defaults."""
        act = _check_activation(activation, "activation")
        if pooling not in ("avg", "max"):
            raise ValueError(f"pooling must be 'avg' or 'max', got {pooling!r}")
        filters = list(filters)
        if not filters:
            raise ValueError("filters must name at least one convolution, got []")
        layers: list = []
        for i, f in enumerate(filters):
            layers += [{"kind": "conv1d", "filters": f, "kernel": kernel, "stride": stride, "padding": padding}, act]
            if i + 1 < len(filters) and pool and pool > 1:
                layers.append({"kind": f"{pooling}pool1d", "pool": pool})
        layers.append("flatten")
        for u in dense:
            layers += [{"kind": "dense", "units": u}, act]
        return cls(layers, output_activation=output_activation, seed=seed)

    # -- building
    @property
    def built(self) -> bool:
        return self._net is not None

    def _input_shape_of(self, x: np.ndarray) -> tuple[int, ...]:
        first = self.layers[0]["kind"] if self.layers else "dense"
        if x.ndim == 3:
            return (x.shape[1], x.shape[2])
        return (1, x.shape[1]) if first in ("conv1d", "avgpool1d", "maxpool1d") else (x.shape[1],)

    def _full_layers(self, input_shape, n_outputs: int) -> list[dict]:
        layers = list(self.layers)
        if len(input_shape) == 2 and (not layers or layers[0]["kind"] == "dense"):
            layers.insert(0, {"kind": "flatten"})
        layers.append({"kind": "dense", "units": n_outputs})
        if self.output_activation:
            layers.append({"kind": self.output_activation})
        return layers

    def build(self, input_shape: Sequence[int], n_targets: int, *, loss: str = "mse") -> InverseMap:
        """Create the network for per-sample input shape (L,) / (C, L) and n_targets outputs."""
        if loss not in ("mse", "gaussian_nll"):
            raise ValueError(f"loss must be 'mse' or 'gaussian_nll', got {loss!r}")
        n_targets = _positive_int(n_targets, "n_targets")
        input_shape = tuple(_positive_int(v, "input_shape") for v in input_shape)
        if len(input_shape) not in (1, 2):
            raise ValueError(f"input_shape must be (F,) or (C, L), got {input_shape}")
        n_out = n_targets if loss == "mse" else n_targets + n_targets * (n_targets + 1) // 2
        if loss == "gaussian_nll" and self.output_activation:
            raise ValueError("loss 'gaussian_nll' needs output_activation=None (means and Cholesky entries are unbounded)")
        self._net = _core.Network(input_shape, self._full_layers(input_shape, n_out), self.seed)
        self._loss = loss
        self._n_targets = n_targets
        return self

    @property
    def network(self):
        """The native network (``fhn_inverse._core.Network``); None before building."""
        return self._net

    @property
    def history_(self) -> dict:
        """``history`` under scikit-learn's name for fitted state; AttributeError before fit
        (so ``sklearn.utils.validation.check_is_fitted`` sees an untrained map as unfitted)."""
        if not self.history:
            raise AttributeError("history_: the map is not trained yet")
        return self.history

    @property
    def n_params(self) -> int:
        self._require_built()
        return self._net.n_params

    def _require_built(self):
        if self._net is None:
            raise RuntimeError("the map is not built yet: call fit() or build() first")

    def _prepare_x(self, X, name: str = "X") -> np.ndarray:
        x = _as_float32(X, name, (2, 3))
        want = self._net.input_shape
        if len(want) == 2 and x.ndim == 2:
            x = x.reshape(x.shape[0], 1, x.shape[1])
        if len(want) == 2 and x.shape[1:] != want:
            raise ValueError(f"{name} must have shape (N, {want[0]}, {want[1]})"
                             f"{' or (N, ' + str(want[1]) + ')' if want[0] == 1 else ''}, got {np.shape(X)}")
        if len(want) == 1 and (x.ndim != 2 or x.shape[1:] != want):
            raise ValueError(f"{name} must have shape (N, {want[0]}), got {np.shape(X)}")
        return x

    # -- series in, features made by the map
    def _take_series(self, X, validation, features, t, targets, n_threads):
        """The network inputs of series X (and of a validation tuple's), with what ``inputs``
        will record once the fit succeeds."""
        from .features import KINDS
        from .features import features as make_features

        if features not in KINDS:
            raise ValueError(f"features must be one of {KINDS} or None, got {features!r}")
        if self.inputs is not None and self.inputs["features"] != features:
            raise ValueError(f"this map takes {self.inputs['features']!r} features; it cannot be trained on "
                             f"{features!r}")
        series = as_float_array(X, "X", 2)
        grid = _grid_of(t, series.shape[1])
        if targets is not None:
            targets = [str(name) for name in targets]
        inputs = {"features": features, "grid": list(grid), "targets": targets}
        if isinstance(validation, (tuple, list)):
            validation = (make_features(as_float_array(validation[0], "validation X", 2), features, n_threads=n_threads),
                          *validation[1:])
        return make_features(series, features, n_threads=n_threads), validation, inputs

    def _series_input(self, X, t, resample: bool, n_threads: int) -> np.ndarray:
        """The network input of observed series X (N, L) for a map trained with features=:
        the series checked against the map's grid (or interpolated onto it), then its features."""
        import warnings

        from .features import features as make_features

        t0, dt, length = self.inputs["grid"]
        length = int(length)
        series = as_float_array(X, "X", 2)
        expected = f"{length} points at t = {t0:g}, {t0 + dt:g}, …, {t0 + dt * (length - 1):g} (Δt = {dt:g})"
        if t is None:
            if series.shape[1] != length:
                raise ValueError(f"the map takes series of {expected}; these have {series.shape[1]} points: give "
                                 "their times t= (with resample=True to interpolate them onto the map's grid), or "
                                 "train a map on their grid")
            return make_features(series, self.inputs["features"], n_threads=n_threads)
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
                raise ValueError(f"the map takes series of {expected}; these have {got}: pass resample=True to "
                                 "interpolate them onto the map's grid, or train a map on their grid")
            if grid[0] < times[0] or grid[-1] > times[-1]:
                warnings.warn(f"the map's grid ({grid[0]:g} … {grid[-1]:g}) reaches beyond the series' times "
                              f"({times[0]:g} … {times[-1]:g}): the ends are extrapolated as constants",
                              UserWarning, stacklevel=3)
            series = np.stack([np.interp(grid, times, row) for row in series])
        return make_features(series, self.inputs["features"], n_threads=n_threads)

    # -- training
    def fit(self, X, Y, config: TrainingConfig | None = None, *, progress: bool = True, cov=None,
            features: str | None = None, t=None, targets: Sequence[str] | None = None, units: dict | None = None,
            trained_on=None, **settings) -> InverseMap:
        """Train on X (N, L) or (N, C, L) and labels Y (N, D) or (N,).

        cov: covariance targets (N, D, D), symmetric positive definite, to train a local-Gaussian
        head (the study's last network): the map then regresses (Y, vech(logm cov)) with the loss
        (MSE) and predicts means and covariances, ``predict(X, return_cov=True)``; build such a map
        with ``output_activation=None`` and train it with ``scaling="standard"`` (standardised
        targets, as the log-covariance coordinates are unbounded). A validation tuple is then
        (X_val, Y_val, cov_val).

        Training settings: ``config`` (a :class:`~fhn_inverse.training.TrainingConfig`) and/or
        its fields as keyword arguments (``epochs=``, ``lr=``, ``optimizer=``, ``schedule=``,
        ``validation=``, ``early_stopping=``, ``scaling=``, ``loss=``, ``seed=``, ``n_threads=``,
        …; those given override the config's). ``validation`` may also be the data
        ``(X_val, Y_val)``. The model file records the settings.
        Ctrl-C stops after the current step with a consistent model and raises KeyboardInterrupt.
        Returns self; the per-epoch record is in ``self.history``.

        features: None (X is the network's input as given), or "time", "fourier" or
        "time+fourier" — then X (and a validation tuple's X) are the observed series (N, L) on the
        grid ``t`` (default: the study's, for L = 1000), the map computes the features itself in
        ``fit`` and ``predict``, and its file records the features, the grid and ``targets`` (the
        parameters' names), so a map predicts from its file alone and refuses series on another
        grid (``predict``'s ``t`` and ``resample``).

        units: {name: unit} of the targets (and "t", the grid's time unit); default: the
        package's for the names it knows (:data:`DEFAULT_UNITS`). trained_on: the
        :class:`~fhn_inverse.Dataset` the map learns from (its ``config``: model, simulator,
        prior, noise) or such a dict. Both are stored in the model file (``describe()``,
        ``prior``, ``noise``).
        """
        if config is not None and not isinstance(config, TrainingConfig):
            raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}")
        validation = settings.pop("validation") if isinstance(settings.get("validation"), (tuple, list)) else None
        cfg = TrainingConfig(**{**(config.settings() if config is not None else {}), **settings})
        validation = cfg.validation if validation is None else validation  # the data, or a fraction
        n_threads = cfg.n_threads
        inputs = None
        if units is not None or targets is not None:
            names = None if targets is None else [str(v) for v in targets]
            default = {k: v for k, v in DEFAULT_UNITS.items() if k in (names or ()) or (k == "t" and features)}
            units = _check_units({**default, **(units or {})}, names)
        trained_on = _check_trained_on(trained_on)
        if features is not None:
            X, validation, inputs = self._take_series(X, validation, features, t, targets, n_threads)
        elif t is not None or targets is not None:
            raise ValueError("t= and targets= describe series: give features= with them")
        x = _as_float32(X, "X", (2, 3))
        y = _as_float32(Y, "Y", (1, 2))
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        cov_dim = self._cov_dim if self._net is not None else (None if cov is None else y.shape[1])
        if (cov is None) != (cov_dim is None):
            raise ValueError("this map has a local-Gaussian head: pass cov= targets" if cov is None else
                             "cov= targets need a map built for them (this one was trained without)")
        if cov is not None:
            y = _with_log_coordinates(y, cov, "cov")
            if isinstance(validation, (tuple, list)):
                if len(validation) != 3:
                    raise ValueError("with cov= targets, validation must be (X_val, Y_val, cov_val) or a fraction")
                y_v = _as_float32(validation[1], "validation Y", (1, 2))
                validation = (validation[0], _with_log_coordinates(y_v.reshape(len(y_v), -1), validation[2], "cov_val"))
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"X and Y must have the same number of samples, got {x.shape[0]} and {y.shape[0]}")
        if cfg.input_scaling is not None and self.history and (cfg.input_scaling == "channel") != (
                self._input_scaling is not None):
            raise ValueError(f"input_scaling cannot change once the map is trained (it is "
                             f"{'channel' if self._input_scaling is not None else 'none'}), got {cfg.input_scaling!r}")
        seed = self.seed if cfg.seed is None else cfg.seed
        loss = cfg.loss

        # validation data
        x_val = y_val = None
        if validation is not None:
            if isinstance(validation, numbers.Real) and not isinstance(validation, bool):
                n_val = int(round(x.shape[0] * validation))
                if n_val < 1 or n_val >= x.shape[0]:
                    raise ValueError(f"validation fraction {validation} leaves {n_val} of {x.shape[0]} samples")
                x, x_val = x[:-n_val], x[-n_val:]
                y, y_val = y[:-n_val], y[-n_val:]
            elif isinstance(validation, (tuple, list)) and len(validation) == 2:
                x_val = _as_float32(validation[0], "validation X", (2, 3))
                y_val = _as_float32(validation[1], "validation Y", (1, 2))
                if y_val.ndim == 1:
                    y_val = y_val.reshape(-1, 1)
                if y_val.shape[0] != x_val.shape[0] or y_val.shape[1] != y.shape[1]:
                    raise ValueError(f"validation X and Y must have N samples and {y.shape[1]} targets, "
                                     f"got {x_val.shape} and {y_val.shape}")
            else:
                raise ValueError(f"validation must be (X_val, Y_val), a fraction in (0, 1) or None, got {validation!r}")

        if self._net is None:
            if cov_dim is not None and loss != "mse":
                raise ValueError(f"a local-Gaussian head is trained with loss 'mse', got {loss!r}")
            self.build(self._input_shape_of(x), y.shape[1], loss=loss)
            self._cov_dim = cov_dim
        elif loss != self._loss:
            raise ValueError(f"loss {loss!r} differs from the loss the map was built for ({self._loss!r})")
        if y.shape[1] != self._n_targets:
            raise ValueError(f"Y must have {self._n_targets} targets, got {y.shape[1]}")
        x = self._prepare_x(x)
        if x_val is not None:
            x_val = self._prepare_x(x_val, "validation X")
        if cfg.input_scaling == "channel" and self._input_scaling is None:
            self._input_scaling = _InputScaling.fit(x)
        if self._input_scaling is not None:
            x = self._input_scaling.transform(x)
            x_val = None if x_val is None else self._input_scaling.transform(x_val)
        if self._scaling is None:
            self._scaling = _Scaling.fit(cfg.scaling, y)
        ys = self._scaling.transform(y)
        ys_val = None if y_val is None else self._scaling.transform(y_val)

        opt = _core.Adam(self._net.n_params, beta1=cfg.betas[0], beta2=cfg.betas[1], eps=cfg.eps,
                         weight_decay=cfg.decay, decoupled=cfg.optimizer == "adamw")
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=cfg.epochs, unit="epoch", leave=False, file=sys.stderr)

        def report(info):
            if bar is None:
                return True
            post = {"loss": f"{info['loss']:.3g}"}
            if not math.isnan(info["val_loss"]):
                post["val"] = f"{info['val_loss']:.3g}"
            if info["epoch_end"]:
                bar.update(1)
            else:
                post["batch"] = f"{info['batch']}/{info['batches']}"
            bar.set_postfix(post, refresh=True)
            return True

        self._training = {
            **cfg.to_dict(), "weight_decay": cfg.decay, "seed": seed, "validation": cfg.validation,
            "input_scaling": "channel" if self._input_scaling is not None else "none",
            "n_train": int(x.shape[0]), "n_val": 0 if x_val is None else int(x_val.shape[0]),
        }
        try:
            h = _core.fit(self._net, opt, x, ys, x_val, ys_val, config=cfg.to_core(seed), progress=report)
        finally:
            if bar is not None:
                bar.close()
        self.history = {k: (v.tolist() if isinstance(v, np.ndarray) and k != "step_loss" else v) for k, v in h.items()}
        self.calibration = None  # fitted to the previous weights
        if inputs is not None:
            self.inputs = inputs
        if units is not None:
            self.units = units
        if trained_on is not None:
            self.trained_on = trained_on
        return self

    @property
    def prior(self):
        """The prior of the data the map was trained on (a ``GaussianPrior`` or ``UniformPrior``),
        from ``trained_on``; None where the map does not record it."""
        from .simulation import prior_from_dict

        spec = (self.trained_on or {}).get("prior")
        return None if spec is None else prior_from_dict(spec)

    @property
    def noise(self):
        """The measurement noise of the data the map was trained on (an ``AR1Noise``), from
        ``trained_on``; None for clean data or where the map does not record it."""
        from .simulation import noise_from_dict

        return noise_from_dict((self.trained_on or {}).get("noise"))

    def describe(self) -> dict:
        """What the map is and was trained on, as a JSON-ready dict: architecture, inputs (the
        features and the observation grid), targets with their units, label scaling, training
        settings and epochs, calibration, the data's model, prior and noise, and the package
        version that wrote its file."""
        from . import __version__

        self._require_built()
        calibration = ("quantile" if self.calibration is not None else
                       f"cov_scale {float(self.cov_scale):g}" if _as_cov_scale(self.cov_scale) != 1.0 else None)
        names = (self.inputs or {}).get("targets") or [f"theta{j}" for j in range(self._n_targets)]
        return {
            "head": self.head, "parameters": int(self._net.n_params), "input_shape": list(self._net.input_shape),
            "layers": self.layers, "output_activation": self.output_activation,
            "inputs": self.inputs, "targets": names,
            "units": self.units, "scaling": None if self._scaling is None else self._scaling.to_json(),
            "training": self._training, "epochs_trained": len(self.history.get("loss", [])),
            "calibration": calibration, "trained_on": self.trained_on,
            "version": self._file_version or __version__,
        }

    # -- inference
    @property
    def head(self) -> str:
        """What the map predicts: "point" (parameters), "gaussian_nll" (means and the Cholesky
        factor of its own error covariance, trained by Gaussian negative log-likelihood) or
        "local_gaussian" (means and log-Euclidean covariance coordinates regressed on targets)."""
        return "local_gaussian" if self._cov_dim is not None else ("gaussian_nll" if self._loss == "gaussian_nll" else "point")

    @property
    def has_cov(self) -> bool:
        """True where ``predict(X, return_cov=True)`` gives a covariance per series."""
        return self.head != "point"

    def predict(self, X, *, return_cov: bool = False, n_threads: int = 0, t=None, resample: bool = False):
        """Parameters (N, D) for X (N, L) or (N, C, L), in the units of the training labels.

        For maps with a covariance (``has_cov``: a Gaussian-NLL head or a local-Gaussian head),
        ``return_cov=True`` returns ``(mean (N, D), cov (N, D, D))``, the covariance in the
        labels' units (SPD by construction); for the Gaussian-NLL head it is the map's own error
        covariance times ``cov_scale`` (1 unless set by :meth:`calibrate`), for the local-Gaussian
        head its estimate of the targets' covariance.

        ValueError, naming the rows, where the result is not finite: the network computes in
        float32, and inputs far outside the training data's range (1e38, say), or a map whose
        weights are absurdly large, overflow it.

        A single series (L,) gives (D,) (and (D, D)), as ``simulate`` does for a single θ.

        A map trained with ``features=`` takes the observed series and makes its features
        itself; series on another grid than the map's (another Δt, start or length) are an error
        that says what the map expects, unless ``t`` (their times) is given with
        ``resample=True``: then they are interpolated linearly onto the map's grid (a warning
        where that grid reaches beyond ``t``)."""
        self._require_built()
        if np.ndim(X) == 1:
            out = self.predict(np.asarray(X)[None], return_cov=return_cov, n_threads=n_threads, t=t, resample=resample)
            return (out[0][0], out[1][0]) if return_cov else out[0]
        if self.inputs is not None:
            X = self._series_input(X, t, resample, n_threads)
        elif t is not None or resample:
            raise ValueError("t= and resample= are for maps trained on series (fit(..., features=...))")
        if return_cov and not self.has_cov:
            raise ValueError("this map predicts point estimates only; train it with loss='gaussian_nll' "
                             "or with cov= targets to get covariances")
        x = self._prepare_x(X)
        scaled = self._input_scaling.transform(x) if self._input_scaling is not None else x
        raw = self._net.predict(scaled, as_int(n_threads, "n_threads", 0))
        out = raw[:, : self._n_targets]
        out = self._scaling.inverse(out) if self._scaling is not None else out.astype(np.float64)
        cov = None
        if self._cov_dim is not None:
            out, ell = out[:, : self._cov_dim], out[:, self._cov_dim:]
            ok = np.isfinite(ell).all(axis=1)
            with np.errstate(over="ignore", invalid="ignore"):
                cov = _log_euclidean().from_log_coordinates(np.where(ok[:, None], ell, 0.0), self._cov_dim)
            cov[~ok] = np.nan
        elif return_cov:
            cov = self._nll_covariance(raw[:, self._n_targets:].astype(np.float64)) * _as_cov_scale(self.cov_scale)
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
        return (out, cov) if return_cov else out

    def _nll_covariance(self, chol: np.ndarray) -> np.ndarray:
        """Σ = S L Lᵀ S from the Gaussian-NLL head's Cholesky entries (row by row, log diagonal;
        nn/losses.hpp), S = the label scaling's diagonal."""
        d = self._n_targets
        L = np.zeros((len(chol), d, d))
        rows, cols = np.tril_indices(d)
        with np.errstate(over="ignore"):
            L[:, rows, cols] = chol
            idx = np.arange(d)
            L[:, idx, idx] = np.exp(L[:, idx, idx])
            cov = L @ np.transpose(L, (0, 2, 1))
        if self._scaling is not None:
            cov = cov * np.outer(self._scaling.scale, self._scaling.scale)
        return cov

    def sample(self, X, n: int, *, seed: int = 0, n_threads: int = 0, t=None, resample: bool = False) -> np.ndarray:
        """``n`` draws per series from the predicted Gaussian N(mean, cov): array (N, n, D);
        after ``calibrate(..., method="quantile")`` from its calibrated law (the Gaussian copula
        with calibrated marginals, :class:`fhn_inverse.calibration.QuantileCalibration`).
        The draws are a function of ``seed`` alone (NumPy's PCG64 stream)."""
        n = _bounded_int(n, "n", 1, 1 << 24)
        mean, cov = self.predict(X, return_cov=True, n_threads=n_threads, t=t, resample=resample)
        if self.calibration is not None:
            return self.calibration.sample(mean, cov, n, seed=seed)
        z = np.random.default_rng(as_seed(seed)).standard_normal((mean.shape[0], n, mean.shape[1]))
        return mean[:, None, :] + z @ np.transpose(np.linalg.cholesky(cov), (0, 2, 1))

    def interval(self, X, level: float = 0.95, *, n_threads: int = 0, t=None,
                 resample: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Per-parameter central intervals of the predicted Gaussian at ``level`` in (0, 1):
        ``(lower (N, D), upper (N, D))`` = mean ∓ z·√diag(cov), z the normal quantile; after
        ``calibrate(..., method="quantile")`` the calibrated interval, mean + √diag(cov)·[T(−z), T(z)]."""
        z = _normal_quantile(level)
        mean, cov = self.predict(X, return_cov=True, n_threads=n_threads, t=t, resample=resample)
        if self.calibration is not None:
            return self.calibration.interval(mean, cov, level)
        half = z * np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        return mean - half, mean + half

    def calibrate(self, X_cal, Y_cal, *, method: str = "nll", n_threads: int = 0):
        """Calibrate the Gaussian head on a held-out calibration split (X_cal, Y_cal) — series the
        map was not trained on, nor early-stopped on; ``save`` stores the result.

        ``method="nll"`` or ``"coverage"``: fit the scalar ``cov_scale`` (temperature scaling)
        and return it; the covariance of ``predict(X, return_cov=True)``, and hence ``sample``
        and ``interval``, is multiplied by it. "nll" is the maximum-likelihood scale (mean squared
        Mahalanobis distance / D), "coverage" matches the joint coverage at 50, 80, 90 and 95 %
        best; see ``fhn_inverse.diagnostics.fit_cov_scale``. A fitted quantile calibration is
        dropped (it was relative to the old scale).

        ``method="quantile"``: fit a :class:`fhn_inverse.calibration.QuantileCalibration` of the
        predicted Gaussians (per-parameter quantile recalibration and a conformal radius for the
        joint region), set it as ``calibration`` and return it. ``predict`` is unchanged (the
        head's mean and covariance); ``interval`` and ``sample`` use the calibrated law, and
        ``fhn_inverse.diagnostics`` checks it. Needs at least 20 series; a few thousand fix the
        quantiles to a fraction of a point of coverage.

        Gaussian-NLL heads only: a local-Gaussian head's covariance estimates a target, not a
        posterior. Training the map again keeps ``cov_scale`` and drops ``calibration``."""
        if self.head != "gaussian_nll":
            raise ValueError(f"calibrate needs a map with a Gaussian-NLL head, this one has {self.head!r} "
                             "(a local-Gaussian head's covariance estimates a target, not a posterior)")
        from .calibration import QuantileCalibration, calibration_split
        from .diagnostics import fit_cov_scale

        if method not in ("nll", "coverage", "quantile"):
            raise ValueError(f"method must be 'nll', 'coverage' or 'quantile', got {method!r}")
        y, mean, cov = calibration_split(self, X_cal, Y_cal, n_threads)
        if method == "quantile":
            self.calibration = QuantileCalibration.fit(y, mean, cov)
            return self.calibration
        self.cov_scale = _as_cov_scale(self.cov_scale * fit_cov_scale(mean, cov, y, method=method))
        self.calibration = None
        return self.cov_scale

    def summary(self) -> str:
        """Layer table: kind, output shape, parameters; and the total."""
        self._require_built()
        rows = [("Input", str(tuple(self._net.input_shape)), "")]
        rows += [(name, str(tuple(shape)), f"{p:,}") for name, shape, p in self._net.summary()]
        w0 = max(len(r[0]) for r in rows + [("layer", "", "")]) + 2
        w1 = max(len(r[1]) for r in rows + [("", "output shape", "")]) + 2
        lines = [f"{'layer':<{w0}}{'output shape':<{w1}}params"]
        lines += [f"{a:<{w0}}{b:<{w1}}{c}" for a, b, c in rows]
        lines.append(f"total parameters: {self._net.n_params:,}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        state = f"{self._net.n_params:,} parameters" if self._net is not None else "not built"
        return f"InverseMap({len(self.layers)} hidden layers, {state})"

    # -- model files
    def _metadata(self) -> dict[str, str]:
        arch = {
            "input_shape": list(self._net.input_shape), "layers": self.layers,
            "output_activation": self.output_activation, "n_targets": self._n_targets, "loss": self._loss,
            "head": self.head, **({"cov_dim": self._cov_dim} if self._cov_dim is not None else {}),
            "seed": self.seed,
        }
        meta = {
            "format": _FORMAT, "format_version": _FORMAT_VERSION,
            "architecture": json.dumps(arch, sort_keys=True),
            "training": json.dumps(self._training, sort_keys=True),
            "history": json.dumps({k: self.history[k] for k in ("loss", "val_loss", "best_epoch") if k in self.history}),
        }
        if self._scaling is not None:
            meta["scaling"] = json.dumps(self._scaling.to_json(), sort_keys=True)
        if self._input_scaling is not None:
            meta["input_scaling"] = json.dumps(self._input_scaling.to_json(), sort_keys=True)
        calibration = {}
        if _as_cov_scale(self.cov_scale) != 1.0:  # written only when set: uncalibrated files are unchanged
            calibration["cov_scale"] = float(self.cov_scale)
        if self.calibration is not None:
            calibration["quantile"] = self.calibration.to_dict()
        if calibration:
            meta["calibration"] = json.dumps(calibration)
        from . import __version__

        if self.inputs is not None:
            meta["inputs"] = json.dumps(self.inputs)
        if self.units is not None:
            meta["units"] = json.dumps(self.units, sort_keys=True)
        if self.trained_on is not None:
            meta["trained_on"] = json.dumps(self.trained_on, sort_keys=True)
        meta["fhn_inverse_version"] = __version__
        return meta

    def save(self, path: str | os.PathLike) -> None:
        """Write the map to one safetensors file (parameters float32 little-endian, PyTorch layouts;
        architecture, scaling, training configuration and SHA-256 checksums of the tensor bytes
        and of the header in ``__metadata__``). The write is atomic: a reader, or a process killed
        mid-write, sees the previous file or the new one."""
        with atomic_open(path, "wb") as f:  # the previous file stays whole until the rename
            f.write(self._file_bytes())

    def _file_bytes(self) -> bytes:
        """The bytes of the map's file (see :meth:`save`)."""
        self._require_built()
        params = self._net.params.astype("<f4")
        header: dict[str, Any] = {"__metadata__": self._metadata()}
        blobs = []
        pos = 0
        for name, offset, shape in self._net.param_tensors():
            size = int(np.prod(shape))
            blobs.append(params[offset: offset + size].tobytes())
            header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [pos, pos + 4 * size]}
            pos += 4 * size
        data = b"".join(blobs)
        header["__metadata__"][_CHECKSUM_KEY] = hashlib.sha256(data).hexdigest()
        header["__metadata__"][_HEADER_CHECKSUM_KEY] = _header_digest(header)
        raw = json.dumps(header, separators=(",", ":"), sort_keys=False).encode("utf-8")
        raw += b" " * (-len(raw) % 8)  # the safetensors convention: header padded to 8 bytes
        return len(raw).to_bytes(8, "little") + raw + data

    # -- scikit-learn's estimator protocol (clone, cross_val_score, GridSearchCV)
    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments (scikit-learn's protocol: ``sklearn.base.clone`` builds an
        untrained copy from them). Training settings are ``fit``'s arguments."""
        return {"layers": self._layers_given, "output_activation": self.output_activation, "seed": self.seed}

    def set_params(self, **params) -> InverseMap:
        """Set constructor arguments (scikit-learn's protocol). The map is rebuilt untrained."""
        unknown = set(params) - {"layers", "output_activation", "seed"}
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; InverseMap takes layers, output_activation, seed")
        self.__init__(**{**self.get_params(), **params})
        return self

    def score(self, X, y) -> float:
        """R² of the predictions for X against y, the mean over the parameters (scikit-learn's
        regressor convention)."""
        from .metrics import r2_score

        return float(np.mean(r2_score(y, self.predict(X))))

    def __sklearn_tags__(self):
        return _sklearn_regressor_tags()

    # -- pickling (joblib, multiprocessing): a built map travels as its file's bytes
    def __getstate__(self) -> dict:
        if self._net is None:
            return {"unbuilt": (self.layers, self.output_activation, self.seed)}
        state = {"file": self._file_bytes()}
        if self.history:
            state["history"] = self.history
        return state

    def __setstate__(self, state: dict) -> None:
        if "unbuilt" in state:
            layers, output_activation, seed = state["unbuilt"]
            self.__init__(layers, output_activation=output_activation, seed=seed)
            return
        import tempfile

        with tempfile.TemporaryDirectory(prefix="fhn_inverse_") as folder:
            path = os.path.join(folder, "map.safetensors")
            with open(path, "wb") as f:
                f.write(state["file"])
            loaded = InverseMap.load(path)
        self.__dict__.update(loaded.__dict__)
        if "history" in state:
            self.history = state["history"]

    @classmethod
    def load(cls, path: str | os.PathLike) -> InverseMap:
        """Read a map written by ``save``. A truncated, corrupted or hostile file raises ValueError
        naming the file (OSError if it cannot be read); nothing is allocated beyond what the
        file's own size justifies. Checksums are verified when the file has them (files written
        before they were added load without)."""
        try:
            return cls._load(path)
        except OSError:
            raise
        except ValueError as e:
            if str(path) in str(e):
                raise
            raise ValueError(f"{path}: {e}") from None
        except Exception as e:  # noqa: BLE001 - hostile content: RecursionError (nested JSON), pybind11's
            # cast errors (sizes of 2**64), TypeError, OverflowError, MemoryError, …
            raise ValueError(f"{path}: not a valid model file ({type(e).__name__}: {e})") from None

    @classmethod
    def _load(cls, path: str | os.PathLike) -> InverseMap:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if size < 8:
                raise ValueError(f"{path}: not a model file (truncated: {size} bytes)")
            head = f.read(8)
            if head[:4] == b"PK\x03\x04":  # a zip archive: a data set (.npz) given where a model belongs
                raise ValueError(f"{path}: a zip archive (a data set from 'simulate', .npz?), not a model file "
                                 "(.safetensors from 'train' or InverseMap.save)")
            n = int.from_bytes(head, "little")
            if n < 2 or n > _MAX_HEADER or n > size - 8:
                raise ValueError(f"{path}: header length {n} is outside [2, min({_MAX_HEADER}, {size - 8})] "
                                 "(truncated or corrupted file)")
            raw = f.read(n)
            try:
                header = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise ValueError(f"{path}: header is not valid JSON ({e})") from None
            if not isinstance(header, dict) or not isinstance(header.get("__metadata__"), dict):
                raise ValueError(f"{path}: header has no __metadata__ object")
            meta = header["__metadata__"]
            if _HEADER_CHECKSUM_KEY in meta and meta[_HEADER_CHECKSUM_KEY] != _header_digest(header):
                raise ValueError(f"{path}: header checksum mismatch (corrupted file)")
            header.pop("__metadata__")
            if meta.get("format") != _FORMAT:
                raise ValueError(f"{path}: __metadata__ format is {meta.get('format')!r}, expected {_FORMAT!r}")
            try:
                arch = json.loads(meta["architecture"])
                training = json.loads(meta.get("training", "{}"))
                history = json.loads(meta.get("history", "{}"))
                scaling = _Scaling.from_json(json.loads(meta["scaling"])) if "scaling" in meta else None
                input_scaling = json.loads(meta["input_scaling"]) if "input_scaling" in meta else None
                calibration = json.loads(meta["calibration"]) if "calibration" in meta else {}
                inputs = _check_inputs(json.loads(meta["inputs"])) if "inputs" in meta else None
                units = json.loads(meta["units"]) if "units" in meta else None
                trained_on = _check_trained_on(json.loads(meta["trained_on"])) if "trained_on" in meta else None
                version = meta.get("fhn_inverse_version")
                if version is not None and not isinstance(version, str):
                    raise ValueError(f"fhn_inverse_version must be a string, got {version!r}")
            except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
                raise ValueError(f"{path}: invalid __metadata__ ({e!r})") from None
            if not isinstance(arch, dict):
                raise ValueError(f"{path}: architecture must be a JSON object")
            try:
                m = cls(arch["layers"], output_activation=arch.get("output_activation"), seed=arch.get("seed", 0))
                input_shape = tuple(_positive_int(v, "input_shape") for v in arch["input_shape"])
                if len(input_shape) not in (1, 2):
                    raise ValueError(f"input_shape must have 1 or 2 entries, got {input_shape}")
                n_targets = _positive_int(arch["n_targets"], "n_targets")
                loss = arch.get("loss", "mse")
                if loss not in ("mse", "gaussian_nll"):
                    raise ValueError(f"loss {loss!r}")
                n_out = n_targets if loss == "mse" else n_targets + n_targets * (n_targets + 1) // 2
                head = arch.get("head", "gaussian_nll" if loss == "gaussian_nll" else "point")
                expected_head = "gaussian_nll" if loss == "gaussian_nll" else ("local_gaussian" if "cov_dim" in arch else "point")
                if head != expected_head:
                    raise ValueError(f"head {head!r} does not match loss {loss!r} and cov_dim")
                cov_dim = None
                if head == "local_gaussian":
                    cov_dim = _positive_int(arch["cov_dim"], "cov_dim")
                    if cov_dim + cov_dim * (cov_dim + 1) // 2 != n_targets:
                        raise ValueError(f"cov_dim {cov_dim} needs {cov_dim + cov_dim * (cov_dim + 1) // 2} "
                                         f"targets, the file has {n_targets}")
                if not isinstance(calibration, dict) or set(calibration) - {"cov_scale", "quantile"}:
                    raise ValueError(f"calibration must be {{'cov_scale': c, 'quantile': {{...}}}}, got "
                                     f"{str(calibration)[:80]!r}")
                m.cov_scale = _as_cov_scale(calibration.get("cov_scale", 1.0))  # files without: 1
                if (m.cov_scale != 1.0 or "quantile" in calibration) and head != "gaussian_nll":
                    raise ValueError(f"a calibration for a map with a {head!r} head")
                if "quantile" in calibration:
                    from .calibration import QuantileCalibration

                    m.calibration = QuantileCalibration.from_dict(calibration["quantile"])
                    if m.calibration.dim != n_targets:
                        raise ValueError(f"the calibration is for {m.calibration.dim} parameters, the map has "
                                         f"{n_targets}")
                if inputs is not None and inputs["targets"] is not None and len(inputs["targets"]) != n_targets:
                    raise ValueError(f"inputs name {len(inputs['targets'])} targets, the map has {n_targets}")
                m.inputs = inputs
                m.units = _check_units(units, None if inputs is None else inputs["targets"])
                m.trained_on, m._file_version = trained_on, version
                full = m._full_layers(input_shape, n_out)
                n_params, per_sample = _core.network_size(input_shape, full)
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"{path}: invalid architecture ({e})") from None
            data_size = size - 8 - n
            if 4 * n_params != data_size:
                raise ValueError(f"{path}: architecture needs {4 * n_params} bytes of parameters, "
                                 f"the file holds {data_size} (truncated or corrupted)")
            if per_sample * 16 > _MAX_WORKSPACE:
                raise ValueError(f"{path}: architecture needs {per_sample} activation floats per sample, "
                                 f"more than this loader accepts")
            if scaling is not None and scaling.offset.shape[0] != n_targets:
                raise ValueError(f"{path}: scaling has {scaling.offset.shape[0]} entries for {n_targets} targets")
            max_batch = int(max(1, min(256, _MAX_WORKSPACE // max(per_sample, 1))))
            net = _core.Network(input_shape, full, m.seed, max_batch)
            expected = {name: (offset, tuple(shape)) for name, offset, shape in net.param_tensors()}
            if set(header) != set(expected):
                raise ValueError(f"{path}: tensors {sorted(header)} do not match the architecture's {sorted(expected)}")
            blob = f.read(data_size)
            if len(blob) != data_size:
                raise ValueError(f"{path}: truncated parameter data")
            if _CHECKSUM_KEY in meta and meta[_CHECKSUM_KEY] != hashlib.sha256(blob).hexdigest():
                raise ValueError(f"{path}: tensor data checksum mismatch (corrupted file)")
        params = np.empty(n_params, dtype=np.float32)
        spans = []
        for name, info in header.items():
            offset, shape = expected[name]
            if not isinstance(info, dict) or info.get("dtype") != "F32":
                raise ValueError(f"{path}: tensor {name} must have dtype F32, got {info!r}")
            if list(shape) != info.get("shape"):
                raise ValueError(f"{path}: tensor {name} has shape {info.get('shape')}, expected {list(shape)}")
            offs = info.get("data_offsets")
            count = int(np.prod(shape))
            if (not isinstance(offs, list) or len(offs) != 2 or not all(isinstance(o, int) for o in offs)
                    or not 0 <= offs[0] <= offs[1] <= data_size or offs[1] - offs[0] != 4 * count):
                raise ValueError(f"{path}: tensor {name} has invalid data_offsets {offs!r}")
            spans.append(tuple(offs))
            params[offset: offset + count] = np.frombuffer(blob, dtype="<f4", count=count, offset=offs[0])
        spans.sort()
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
            raise ValueError(f"{path}: tensors overlap")
        if not np.isfinite(params).all():
            raise ValueError(f"{path}: parameters contain NaN or inf")
        net.params = params
        m._net, m._scaling, m._loss, m._n_targets, m._cov_dim = net, scaling, loss, n_targets, cov_dim
        if input_scaling is not None:
            channels = input_shape[0] if len(input_shape) == 2 else 1
            m._input_scaling = _InputScaling.from_json(input_scaling, channels)
        m._training = training if isinstance(training, dict) else {}
        m.history = history if isinstance(history, dict) else {}
        return m

    # -- PyTorch
    def to_torch(self, *, unscale: bool = True):
        """An equivalent ``torch.nn.Module`` (needs the optional ``torch`` extra). It takes
        (N, C, L) for convolutional maps and (N, F) for dense maps (as ``predict`` after its
        reshape) and, with ``unscale``, returns labels in training units like ``predict``
        (float32); without, the network's raw (scaled) outputs."""
        self._require_built()
        import torch
        from torch import nn

        params = torch.from_numpy(self._net.params.copy())
        tensors = {name: params[o: o + int(np.prod(s))].reshape(tuple(s)).clone()
                   for name, o, s in self._net.param_tensors()}
        acts = {"relu": nn.ReLU, "swish": nn.SiLU, "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
        modules = []
        shape = tuple(self._net.input_shape)
        full = self._full_layers(shape, self._net.output_shape[0])
        for i, layer in enumerate(full):
            kind = layer["kind"]
            if kind == "dense":
                mod = nn.Linear(tensors[f"layers.{i}.weight"].shape[1], layer["units"])
            elif kind == "conv1d":
                w = tensors[f"layers.{i}.weight"]
                k, s, length = layer["kernel"], layer["stride"], shape[1]
                pad = (0, 0)
                if layer["padding"] == "same":
                    out = -(-length // s)
                    total = max((out - 1) * s + k - length, 0)
                    pad = (total // 2, total - total // 2)
                conv = nn.Conv1d(w.shape[1], w.shape[0], k, stride=s)
                mod = conv if pad == (0, 0) else nn.Sequential(nn.ConstantPad1d(pad, 0.0), conv)
            elif kind == "avgpool1d":
                mod = nn.AvgPool1d(layer["pool"], layer["stride"])
            elif kind == "maxpool1d":
                mod = nn.MaxPool1d(layer["pool"], layer["stride"])
            elif kind == "flatten":
                mod = nn.Flatten()
            elif kind == "dropout":
                mod = nn.Dropout(layer["rate"])
            else:
                mod = acts[kind]()
            target = mod[1] if isinstance(mod, nn.Sequential) else mod
            if kind in ("dense", "conv1d"):
                with torch.no_grad():
                    target.weight.copy_(tensors[f"layers.{i}.weight"])
                    target.bias.copy_(tensors[f"layers.{i}.bias"])
            modules.append(mod)
            shape = self._net.summary()[i][1]
        model = nn.Sequential(*modules)
        if self._input_scaling is not None:
            view = (1, -1, 1) if len(self._net.input_shape) == 2 else (1, -1)
            in_offset = torch.tensor(self._input_scaling.offset, dtype=torch.float32).reshape(view)
            in_scale = torch.tensor(self._input_scaling.scale, dtype=torch.float32).reshape(view)

            class _Standardise(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.register_buffer("offset", in_offset)
                    self.register_buffer("scale", in_scale)

                def forward(self, x):
                    return (x - self.offset) / self.scale

            model = nn.Sequential(_Standardise(), model)
        if unscale and self._scaling is not None:
            offset = torch.tensor(self._scaling.offset, dtype=torch.float32)
            scale = torch.tensor(self._scaling.scale, dtype=torch.float32)
            n_t = self._n_targets

            class _Unscale(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.register_buffer("offset", offset)
                    self.register_buffer("scale", scale)

                def forward(self, y):
                    return y[:, :n_t] * self.scale + self.offset

            model = nn.Sequential(model, _Unscale())
        return model.eval()
