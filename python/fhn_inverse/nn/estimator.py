"""The estimator: :class:`InverseMap`, a network from time series to parameters trained in the
native core (float32). Its layers are checked in ``layers.py``, its label and input scaling live
in ``scaling.py``, its files in ``files.py``, its PyTorch export in ``torch_export.py``."""

from __future__ import annotations

import math
import numbers
import os
import sys
from typing import Any, Sequence

import numpy as np

from .. import _core
from .._util.validation import as_float_array, as_int, as_seed
from .training import TrainingConfig, _bounded_int
from . import files, torch_export
from .checks import (DEFAULT_UNITS, _as_cov_scale, _as_float32, _check_trained_on, _check_units, _grid_of,
                     _log_euclidean, _normal_quantile, _sklearn_regressor_tags, _with_log_coordinates)
from .layers import _check_activation, _normalise_layer, _positive_int
from .scaling import _InputScaling, _Scaling

__all__ = ["InverseMap"]

def _units_with_defaults(units, targets, features):
    """The units a map records: the package's defaults for the targets' names (and "t" with
    features) under those given; None when neither units nor targets are given."""
    if units is None and targets is None:
        return None
    names = None if targets is None else [str(v) for v in targets]
    default = {k: v for k, v in DEFAULT_UNITS.items() if k in (names or ()) or (k == "t" and features)}
    return _check_units({**default, **(units or {})}, names)


class InverseMap:
    """A network from time series (N, L) or (N, C, L) to parameters (N, D).

    Parameters
    ----------
    layers : sequence
        The hidden stack, a list of kind names or dicts (see ``LAYER_KINDS``); the output layer —
        dense with D units and ``output_activation`` (None: linear) — is appended when the map is
        built (at ``fit``, or explicitly with ``build``).
    output_activation : str or None, default "sigmoid"
        The output layer's activation; None: linear.
    seed : int, default 0
        The map's seed, an integer in [0, 2**64): the native network's when it is built, and
        training's where the training settings give none.

    Attributes
    ----------
    layers : list of dict
        The hidden stack, each layer a dict with its ``kind``.
    history : dict
        The per-epoch record of the last training; empty before.
    cov_scale : float
        Multiplies the Gaussian-NLL head's covariance (temperature scaling, set by
        :meth:`calibrate`); 1 by default.
    calibration : QuantileCalibration or None
        Calibrated quantiles of the standardised errors (``calibrate(method="quantile")``), or None.
    inputs : dict or None
        What the map takes and gives, when trained with ``features=`` (stored in the model file):
        {"features": kind, "grid": [t0, dt, length], "targets": names or None}; None: X is the
        network's input as given.
    units : dict or None
        {name: unit} of the targets (and "t" of the grid); stored in the model file.
    trained_on : dict or None
        What the map was trained on (a Dataset's config: model, simulator, prior, noise); stored in
        the model file.

    Raises
    ------
    ValueError
        If ``layers`` is not a list of layers, or a layer or ``output_activation`` is invalid.
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
        """The study's dense map: len(units) dense layers with ``activation`` (and dropout).

        Parameters
        ----------
        units : sequence of int, default (32, 32, 32, 32)
            Units of each dense layer, each at least 1; at least one layer.
        activation : str, default "swish"
            The dense layers' activation.
        dropout : float, default 0.0
            Rate of a dropout layer after each activation, in [0, 1); 0: none.
        output_activation : str or None, default "sigmoid"
            The output layer's activation; None: linear.
        seed : int, default 0
            The map's seed.

        Returns
        -------
        InverseMap
            The map, not yet built.

        Raises
        ------
        ValueError
            If ``units`` names no layer or a width below 1, or ``activation`` or ``dropout`` is invalid.
        """
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
        """The study's CNN: Conv1D layers (pooling between them, not after the last), Flatten, dense layers.

        33,874 parameters for a 1000-long input and 2 outputs with the defaults.

        Parameters
        ----------
        filters : sequence of int, default (8, 16, 32)
            Filters of each Conv1D layer; at least one layer.
        kernel : int, default 3
            The convolutions' kernel size.
        stride : int, default 2
            The convolutions' stride.
        pool : int, default 2
            The pooling size between convolutions; 0 or 1: no pooling.
        dense : sequence of int, default (32, 32)
            Units of each dense layer after Flatten.
        activation : str, default "swish"
            The activation after every convolution and dense layer.
        padding : {"valid", "same"}, default "valid"
            The convolutions' padding.
        pooling : {"avg", "max"}, default "avg"
            Average or max pooling.
        output_activation : str or None, default "sigmoid"
            The output layer's activation; None: linear.
        seed : int, default 0
            The map's seed.

        Returns
        -------
        InverseMap
            The map, not yet built.

        Raises
        ------
        ValueError
            If ``filters`` is empty, ``pooling`` is not "avg" or "max", or a layer is invalid.
        """
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
        """Whether the network exists (made by ``fit`` or ``build``)."""
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
        """Create the network for per-sample input shape (L,) / (C, L) and n_targets outputs.

        Parameters
        ----------
        input_shape : sequence of int
            The per-sample input shape, (F,) or (C, L); entries at least 1.
        n_targets : int
            The number of targets D, at least 1.
        loss : {"mse", "gaussian_nll"}, default "mse"
            The loss the map is built for; "gaussian_nll" adds outputs for the Cholesky entries and
            needs ``output_activation=None`` (means and Cholesky entries are unbounded).

        Returns
        -------
        InverseMap
            self.

        Raises
        ------
        ValueError
            If ``loss`` is unknown, ``input_shape`` has neither 1 nor 2 entries, or ``loss`` is
            "gaussian_nll" with an output activation.
        """
        if loss not in ("mse", "gaussian_nll"):
            raise ValueError(f"loss must be 'mse' or 'gaussian_nll', got {loss!r}")
        n_targets = _positive_int(n_targets, "n_targets")
        input_shape = tuple(_positive_int(v, "input_shape") for v in input_shape)
        if len(input_shape) not in (1, 2):
            raise ValueError(f"input_shape must be (F,) or (C, L), got {input_shape}")
        n_out = n_targets if loss == "mse" else n_targets + n_targets * (n_targets + 1) // 2
        if loss == "gaussian_nll" and self.output_activation:
            raise ValueError("loss 'gaussian_nll' needs output_activation=None (means and Cholesky entries are "
                             "unbounded)")
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
        """``history`` under scikit-learn's name for fitted state.

        Raises
        ------
        AttributeError
            Before fit (so ``sklearn.utils.validation.check_is_fitted`` sees an untrained map as
            unfitted).
        """
        if not self.history:
            raise AttributeError("history_: the map is not trained yet")
        return self.history

    @property
    def n_params(self) -> int:
        """The number of the network's parameters.

        Raises
        ------
        RuntimeError
            If the map is not built.
        """
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
        from ..data.features import KINDS
        from ..data.features import features as make_features

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
            validation = (make_features(as_float_array(validation[0], "validation X", 2), features,
                                        n_threads=n_threads), *validation[1:])
        return make_features(series, features, n_threads=n_threads), validation, inputs

    def _series_input(self, X, t, resample: bool, n_threads: int) -> np.ndarray:
        """The network input of observed series X (N, L) for a map trained with features=:
        the series checked against the map's grid (or interpolated onto it), then its features."""
        import warnings

        from ..data.features import features as make_features

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
    def fit(self, X, Y=None, config: TrainingConfig | None = None, *, progress: bool = True, cov=None,
            features: str | None = None, t=None, targets: Sequence[str] | None = None, units: dict | None = None,
            trained_on=None, **settings) -> InverseMap:
        """Train on X (N, L) or (N, C, L) and labels Y (N, D) or (N,), or on a stream X
        (:class:`~fhn_inverse.data.streams.Simulations`, :class:`~fhn_inverse.data.streams.StoreStream`)
        with no Y: see :meth:`fit_stream`.

        Ctrl-C stops after the current step with a consistent model and raises KeyboardInterrupt. The
        model file records the settings. Training drops ``calibration`` (it was fitted to the previous
        weights).

        Parameters
        ----------
        X : array_like, shape (N, L) or (N, C, L)
            The inputs; with ``features``, the observed series (N, L).
        Y : array_like, shape (N, D) or (N,)
            The labels.
        config : TrainingConfig, optional
            Training settings, a :class:`~fhn_inverse.nn.training.TrainingConfig`; those given in
            ``**settings`` override its fields.
        progress : bool, default True
            Show a progress bar.
        cov : array_like, shape (N, D, D), optional
            Covariance targets, symmetric positive definite, to train a local-Gaussian head (the
            study's last network): the map then regresses (Y, vech(logm cov)) with the loss (MSE) and
            predicts means and covariances, ``predict(X, return_cov=True)``; build such a map with
            ``output_activation=None`` and train it with ``scaling="standard"`` (standardised targets,
            as the log-covariance coordinates are unbounded). A validation tuple is then
            (X_val, Y_val, cov_val).
        features : {"time", "fourier", "time+fourier"}, optional
            None: X is the network's input as given. Otherwise X (and a validation tuple's X) are the
            observed series (N, L) on the grid ``t``, the map computes the features itself in ``fit``
            and ``predict``, and its file records the features, the grid and ``targets``, so a map
            predicts from its file alone and refuses series on another grid (``predict``'s ``t`` and
            ``resample``).
        t : array_like, shape (L,), optional
            The series' grid, with ``features`` only; default: the study's, for L = 1000.
        targets : sequence of str, optional
            The parameters' names, with ``features`` only.
        units : dict, optional
            {name: unit} of the targets (and "t", the grid's time unit); default: the package's for the
            names it knows (:data:`DEFAULT_UNITS`). Stored in the model file (``describe()``).
        trained_on : Dataset or dict, optional
            The :class:`~fhn_inverse.Dataset` the map learns from (its ``config``: model, simulator,
            prior, noise) or such a dict. Stored in the model file (``describe()``, ``prior``,
            ``noise``).
        **settings
            Fields of the training configuration as keyword arguments (``epochs=``, ``lr=``,
            ``optimizer=``, ``schedule=``, ``validation=``, ``early_stopping=``, ``scaling=``,
            ``loss=``, ``seed=``, ``n_threads=``, …); those given override the config's.
            ``validation`` may also be the data ``(X_val, Y_val)``.

        Returns
        -------
        InverseMap
            self; the per-epoch record is in ``self.history``.

        Raises
        ------
        TypeError
            If ``config`` is not a ``TrainingConfig``.
        ValueError
            If a setting is out of its range, the data do not fit each other or the map (its input
            shape, targets, loss, head or features), or ``t`` or ``targets`` is given without
            ``features``.
        KeyboardInterrupt
            On Ctrl-C, after the current step, with a consistent model.
        """
        from ..data.streams import is_stream

        if is_stream(X):
            if Y is not None or cov is not None or t is not None:
                raise ValueError("a stream brings its own labels and grid: fit(stream, config, ...) takes no Y, "
                                 "cov= or t=")
            return self.fit_stream(X, config, progress=progress, features=features, targets=targets, units=units,
                                   trained_on=trained_on, **settings)
        if Y is None:
            raise ValueError("fit(X, Y): Y (the labels) is missing; only a stream (Simulations, StoreStream) "
                             "comes without labels")
        if config is not None and not isinstance(config, TrainingConfig):
            raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}")
        validation = settings.pop("validation") if isinstance(settings.get("validation"), (tuple, list)) else None
        cfg = TrainingConfig(**{**(config.settings() if config is not None else {}), **settings})
        validation = cfg.validation if validation is None else validation  # the data, or a fraction
        n_threads = cfg.n_threads
        inputs = None
        units = _units_with_defaults(units, targets, features)
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

    def fit_stream(self, source, config: TrainingConfig | None = None, *, features: str | None = None,
                   validation=None, prefetch: int = 1, progress: bool = True, targets: Sequence[str] | None = None,
                   units: dict | None = None, trained_on=None, **settings) -> InverseMap:
        """Train on a stream of blocks: fresh simulations for every epoch, or a store larger than memory.

        Each block (series, labels) of ``source`` is made into the map's input on a thread of its own,
        ``prefetch`` blocks ahead of training, and trained on in one shuffled pass (native core); an
        epoch is one pass over the stream's blocks. Label scaling (and ``input_scaling="channel"``)
        is fitted on the first block. With one block per epoch and no validation, the steps are
        exactly those of :meth:`fit` on that block's arrays.

        Parameters
        ----------
        source : Simulations or StoreStream
            The stream (:mod:`fhn_inverse.data.streams`).
        config : TrainingConfig, optional
            Training settings; ``**settings`` override its fields (``validation`` excepted, below).
        features : {"time", "fourier", "time+fourier"}, optional
            As :meth:`fit`: None feeds the series as they are (the study's CNN); otherwise the map
            computes these features and records them with the stream's grid.
        validation : (X_val, Y_val) or int, optional
            Validation series and labels (as the stream hands them out), or, for
            :class:`~fhn_inverse.data.streams.Simulations`, a number of series to draw from rows no
            epoch reaches; monitored for early stopping and ``restore_best``.
        prefetch : int, default 1
            Blocks read ahead of training, at least 1.
        progress : bool, default True
            Show a progress bar (series trained on).
        targets, units, trained_on
            As :meth:`fit`; ``trained_on`` defaults to the stream's ``describe()``.

        Returns
        -------
        InverseMap
            self; ``history`` has per epoch ``loss``, ``val_loss``, ``lr``, ``seconds`` and
            ``wait_seconds`` (time training waited on the stream), and ``samples`` in all.
        """
        from ..data.streams import is_stream
        from .streaming import fit_stream

        if config is not None and not isinstance(config, TrainingConfig):
            raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}")
        if "validation" in settings and validation is None:
            validation = settings.pop("validation")
        settings.pop("validation", None)
        cfg = TrainingConfig(**{**(config.settings() if config is not None else {}), **settings,
                                "validation": None})
        units = _units_with_defaults(units, targets, features)
        if not is_stream(source):
            raise TypeError(f"source must be a stream (Simulations, StoreStream), got {type(source).__name__}")
        trained_on = _check_trained_on(trained_on if trained_on is not None else source.describe())
        return fit_stream(self, source, cfg, features=features, validation=validation, prefetch=prefetch,
                          progress=progress, targets=targets, units=units, trained_on=trained_on)

    @property
    def prior(self):
        """The prior of the data the map was trained on.

        A ``GaussianPrior`` or ``UniformPrior``, from ``trained_on``; None where the map does not record
        it.
        """
        from ..models.simulation import prior_from_dict

        spec = (self.trained_on or {}).get("prior")
        return None if spec is None else prior_from_dict(spec)

    @property
    def noise(self):
        """The measurement noise of the data the map was trained on.

        An ``AR1Noise``, from ``trained_on``; None for clean data or where the map does not record it.
        """
        from ..models.simulation import noise_from_dict

        return noise_from_dict((self.trained_on or {}).get("noise"))

    def describe(self) -> dict:
        """What the map is and was trained on, as a JSON-ready dict.

        Returns
        -------
        dict
            Architecture (``head``, ``parameters``, ``input_shape``, ``layers``,
            ``output_activation``), inputs (``inputs``: the features and the observation grid), targets
            with their units (``targets``, ``units``), label scaling (``scaling``), training settings
            and epochs (``training``, ``epochs_trained``), ``calibration``, the data's model, prior and
            noise (``trained_on``), and the package version that wrote its file (``version``).

        Raises
        ------
        RuntimeError
            If the map is not built.
        """
        from .._version import __version__

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
        """What the map predicts.

        "point" (parameters), "gaussian_nll" (means and the Cholesky factor of its own error covariance,
        trained by Gaussian negative log-likelihood) or "local_gaussian" (means and log-Euclidean
        covariance coordinates regressed on targets).
        """
        if self._cov_dim is not None:
            return "local_gaussian"
        return "gaussian_nll" if self._loss == "gaussian_nll" else "point"

    @property
    def has_cov(self) -> bool:
        """True where ``predict(X, return_cov=True)`` gives a covariance per series."""
        return self.head != "point"

    def predict(self, X, *, return_cov: bool = False, n_threads: int = 0, t=None, resample: bool = False):
        """Parameters for X, in the units of the training labels.

        A map trained with ``features=`` takes the observed series and makes its features itself.

        Parameters
        ----------
        X : array_like, shape (N, L) or (N, C, L)
            The inputs. A single series (L,) gives (D,) (and (D, D)), as ``simulate`` does for a single
            θ.
        return_cov : bool, default False
            For maps with a covariance (``has_cov``: a Gaussian-NLL head or a local-Gaussian head), also
            return the covariance in the labels' units (SPD by construction); for the Gaussian-NLL head
            it is the map's own error covariance times ``cov_scale`` (1 unless set by
            :meth:`calibrate`), for the local-Gaussian head its estimate of the targets' covariance.
        n_threads : int, default 0
            Threads to use (0: all cores).
        t : array_like, optional
            The series' times, for a map trained with ``features=``. Series on another grid than the
            map's (another Δt, start or length) are an error that says what the map expects, unless
            ``t`` is given with ``resample=True``.
        resample : bool, default False
            With ``t``: interpolate the series linearly onto the map's grid (a warning where that grid
            reaches beyond ``t``).

        Returns
        -------
        mean : ndarray, shape (N, D)
            The parameters; (D,) for a single series.
        cov : ndarray, shape (N, D, D)
            Only with ``return_cov=True``: the covariances; (D, D) for a single series.

        Raises
        ------
        ValueError
            Naming the rows, where the result is not finite: the network computes in float32, and
            inputs far outside the training data's range (1e38, say), or a map whose weights are
            absurdly large, overflow it. Also if ``return_cov=True`` for a map without a covariance,
            ``t`` or ``resample`` is given to a map not trained on series, or the series do not fit the
            map's grid.
        RuntimeError
            If the map is not built.
        """
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
        """``n`` draws per series from the predicted Gaussian N(mean, cov).

        After ``calibrate(..., method="quantile")`` the draws come from its calibrated law (the Gaussian
        copula with calibrated marginals, :class:`fhn_inverse.uncertainty.calibration.QuantileCalibration`).

        Parameters
        ----------
        X : array_like
            Inputs, as for :meth:`predict`.
        n : int
            Draws per series, 1 to 2**24.
        seed : int, default 0
            The seed, an integer in [0, 2**64).
        n_threads : int, default 0
            Threads to use (0: all cores).
        t : array_like, optional
            As for :meth:`predict`.
        resample : bool, default False
            As for :meth:`predict`.

        Returns
        -------
        ndarray, shape (N, n, D)
            The draws, a function of ``seed`` alone (NumPy's PCG64 stream).

        Raises
        ------
        ValueError
            If ``n`` is out of its range or the map predicts no covariance.
        """
        n = _bounded_int(n, "n", 1, 1 << 24)
        mean, cov = self.predict(X, return_cov=True, n_threads=n_threads, t=t, resample=resample)
        if self.calibration is not None:
            return self.calibration.sample(mean, cov, n, seed=seed)
        z = np.random.default_rng(as_seed(seed)).standard_normal((mean.shape[0], n, mean.shape[1]))
        return mean[:, None, :] + z @ np.transpose(np.linalg.cholesky(cov), (0, 2, 1))

    def interval(self, X, level: float = 0.95, *, n_threads: int = 0, t=None,
                 resample: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Per-parameter central intervals of the predicted Gaussian at ``level``.

        The intervals are mean ∓ z·√diag(cov), z the normal quantile; after
        ``calibrate(..., method="quantile")`` the calibrated interval, mean + √diag(cov)·[T(−z), T(z)].

        Parameters
        ----------
        X : array_like
            Inputs, as for :meth:`predict`.
        level : float, default 0.95
            The level, in (0, 1).
        n_threads : int, default 0
            Threads to use (0: all cores).
        t : array_like, optional
            As for :meth:`predict`.
        resample : bool, default False
            As for :meth:`predict`.

        Returns
        -------
        lower : ndarray, shape (N, D)
            The intervals' lower ends.
        upper : ndarray, shape (N, D)
            The intervals' upper ends.

        Raises
        ------
        ValueError
            If ``level`` is not in (0, 1) or the map predicts no covariance.
        """
        z = _normal_quantile(level)
        mean, cov = self.predict(X, return_cov=True, n_threads=n_threads, t=t, resample=resample)
        if self.calibration is not None:
            return self.calibration.interval(mean, cov, level)
        half = z * np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        return mean - half, mean + half

    def calibrate(self, X_cal, Y_cal, *, method: str = "nll", n_threads: int = 0):
        """Calibrate the Gaussian head on a held-out calibration split.

        The split (X_cal, Y_cal) holds series the map was not trained on, nor early-stopped on; ``save``
        stores the result. Gaussian-NLL heads only: a local-Gaussian head's covariance estimates a
        target, not a posterior. Training the map again keeps ``cov_scale`` and drops ``calibration``.

        Parameters
        ----------
        X_cal : array_like
            The calibration split's inputs, as for :meth:`predict`.
        Y_cal : array_like, shape (N, D) or (N,)
            Its true parameters.
        method : {"nll", "coverage", "quantile"}, default "nll"
            "nll" or "coverage": fit the scalar ``cov_scale`` (temperature scaling) and return it; the
            covariance of ``predict(X, return_cov=True)``, and hence ``sample`` and ``interval``, is
            multiplied by it. "nll" is the maximum-likelihood scale (mean squared Mahalanobis distance
            / D), "coverage" matches the joint coverage at 50, 80, 90 and 95 % best; see
            ``fhn_inverse.uncertainty.diagnostics.fit_cov_scale``. A fitted quantile calibration is dropped (it was
            relative to the old scale).

            "quantile": fit a :class:`fhn_inverse.uncertainty.calibration.QuantileCalibration` of the predicted
            Gaussians (per-parameter quantile recalibration and a conformal radius for the joint
            region), set it as ``calibration`` and return it. ``predict`` is unchanged (the head's mean
            and covariance); ``interval`` and ``sample`` use the calibrated law, and
            ``fhn_inverse.uncertainty.diagnostics`` checks it. Needs at least 20 series; a few thousand fix the
            quantiles to a fraction of a point of coverage.
        n_threads : int, default 0
            Threads to use (0: all cores).

        Returns
        -------
        float or QuantileCalibration
            The new ``cov_scale`` ("nll", "coverage"), or the calibration ("quantile").

        Raises
        ------
        ValueError
            If the map does not have a Gaussian-NLL head, ``method`` is unknown, or the "quantile"
            split has fewer than 20 series.
        """
        if self.head != "gaussian_nll":
            raise ValueError(f"calibrate needs a map with a Gaussian-NLL head, this one has {self.head!r} "
                             "(a local-Gaussian head's covariance estimates a target, not a posterior)")
        from ..uncertainty.calibration import QuantileCalibration, calibration_split
        from ..uncertainty.diagnostics import fit_cov_scale

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
        """Layer table: kind, output shape, parameters; and the total.

        Returns
        -------
        str
            The table.

        Raises
        ------
        RuntimeError
            If the map is not built.
        """
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

    # -- scikit-learn's estimator protocol (clone, cross_val_score, GridSearchCV)
    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments.

        This is scikit-learn's protocol: ``sklearn.base.clone`` builds an untrained copy from them.
        Training settings are ``fit``'s arguments.

        Parameters
        ----------
        deep : bool, default True
            Part of the protocol; the result does not depend on it.

        Returns
        -------
        dict
            ``layers`` (as given), ``output_activation`` and ``seed``.
        """
        return {"layers": self._layers_given, "output_activation": self.output_activation, "seed": self.seed}

    def set_params(self, **params) -> InverseMap:
        """Set constructor arguments (scikit-learn's protocol).

        The map is rebuilt untrained.

        Parameters
        ----------
        **params
            New values of ``layers``, ``output_activation`` or ``seed``.

        Returns
        -------
        InverseMap
            self.

        Raises
        ------
        ValueError
            If a name is not one of these.
        """
        unknown = set(params) - {"layers", "output_activation", "seed"}
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; InverseMap takes layers, output_activation, seed")
        self.__init__(**{**self.get_params(), **params})
        return self

    def score(self, X, y) -> float:
        """R² of the predictions for X against y, the mean over the parameters.

        This is scikit-learn's regressor convention.

        Parameters
        ----------
        X : array_like
            Inputs, as for :meth:`predict`.
        y : array_like, shape (N, D) or (N,)
            The true parameters.

        Returns
        -------
        float
            The mean R².
        """
        from ..metrics import r2_score

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

    # -- model files (nn/files.py)
    def save(self, path: str | os.PathLike) -> None:
        """Write the map to one safetensors file.

        The file holds the parameters (float32 little-endian, PyTorch layouts) and, in
        ``__metadata__``, the architecture, scaling, training configuration, inputs, units, what it was
        trained on and SHA-256 checksums of the tensor bytes and of the header. The write is atomic: a
        reader, or a process killed mid-write, sees the previous file or the new one.

        Parameters
        ----------
        path : str or os.PathLike
            The file.

        Raises
        ------
        RuntimeError
            If the map is not built.
        """
        files.save(self, path)

    def _file_bytes(self) -> bytes:
        """The bytes of the map's file (see :meth:`save`)."""
        return files.file_bytes(self)

    @classmethod
    def load(cls, path: str | os.PathLike) -> InverseMap:
        """Read a map written by ``save``.

        Nothing is allocated beyond what the file's own size justifies. Checksums are verified when the
        file has them (files written before they were added load without).

        Parameters
        ----------
        path : str or os.PathLike
            The file.

        Returns
        -------
        InverseMap
            The map.

        Raises
        ------
        ValueError
            If the file is truncated, corrupted or hostile; the message names the file.
        OSError
            If the file cannot be read.
        """
        return files.load(cls, path)

    # -- PyTorch (nn/torch_export.py)
    def to_torch(self, *, unscale: bool = True):
        """An equivalent ``torch.nn.Module`` (needs the optional ``torch`` extra).

        It takes (N, C, L) for convolutional maps and (N, F) for dense maps (as ``predict`` after its
        reshape).

        Parameters
        ----------
        unscale : bool, default True
            Return labels in training units like ``predict`` (float32); False: the network's raw
            (scaled) outputs.

        Returns
        -------
        torch.nn.Module
            The module, in evaluation mode, with the map's weights, its input standardisation (where it
            has one) and, with ``unscale``, its label unscaling.

        Raises
        ------
        RuntimeError
            If the map is not built.
        ImportError
            If ``torch`` is not installed.
        """
        return torch_export.to_torch(self, unscale=unscale)
