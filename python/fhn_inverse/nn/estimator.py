"""The estimator: :class:`InverseMap`, a network from time series to parameters trained in the
native core (float32). It composes its parts (``parts.py``): the architecture (``architecture.py``),
the native network, the head (``heads.py``: what the outputs mean), the label and input scalings
(``scaling.py``) and the training record; training runs in ``trainer.py`` (arrays) and
``streaming.py`` (streams), files in ``files.py``, the PyTorch export in ``torch_export.py``."""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from .._util.validation import as_seed, as_threads
from . import files, torch_export
from .architecture import Architecture, cnn_layers, dense_layers, prepare_input, summary
from ..models.noise import noise_from_dict
from ..models.priors import prior_from_dict
from .checks import (_as_cov_scale, _check_finite_outputs, _check_targets_width, _check_trained_on,
                     _units_with_defaults, not_fitted)
from .heads import head_for
from .parts import MapParts
from .map_uncertainty import UncertaintyMethods
from .sklearn_protocol import RegressorProtocol
from .series import join_blocks, row_blocks, raw_series, series_input, take_series
from .trainer import fit_arrays, hold_out_calibration, settings_of
from .training import TrainingConfig

__all__ = ["InverseMap"]


class InverseMap(UncertaintyMethods, RegressorProtocol):
    """A network from time series (N, L) or (N, C, L) to parameters (N, D), made of parts
    (:attr:`parts`): architecture, native network, head, scalings, training record.

    The model file keeps ``history``, ``cov_scale``, ``calibration``, ``inputs``, ``units`` and ``trained_on``.

    Parameters
    ----------
    layers : sequence
        The hidden stack, kind names or dicts (``LAYER_KINDS``); the output layer (dense, D units,
        ``output_activation``) is appended when the map is built (``fit`` or ``build``).
    output_activation : str or None, default "sigmoid"
        The output layer's activation; None: linear.
    seed : int, default 0
        An integer in [0, 2**64): the network's initialisation, and training's seed where the
        training settings give none.

    Attributes
    ----------
    history : dict
        The per-epoch record of the last training; empty before.
    cov_scale : float
        Multiplies the Gaussian-NLL head's covariance (set by :meth:`calibrate`); 1 by default.
    calibration : QuantileCalibration or None
        Set by ``calibrate(method="quantile")``.
    inputs : dict or None
        With ``fit(..., features=)``: {"features": kind, "grid": [t0, dt, length], "targets":
        names or None}; None: X is the network's input as given.
    units : dict or None
        {name: unit} of the targets (and "t" of the grid).
    trained_on : dict or None
        What the map was trained on (a Dataset's config: model, simulator, prior, noise).
    version : str or None
        The package version that wrote the file a map was loaded from.

    Raises
    ------
    ValueError
        If ``layers`` is not a list of valid layers or ``output_activation`` is unknown.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fi.InverseMap([{"kind": "dense", "units": 8}, "swish"]).build((16,), 2)     # input (16,), 2 targets
    InverseMap(2 hidden layers, 154 parameters)
    """

    def __init__(self, layers: Sequence, *, output_activation: str | None = "sigmoid", seed: int = 0):
        self.parts = MapParts(Architecture(layers, output_activation, seed))
        self.history: dict[str, Any] = {}
        self.cov_scale, self.calibration = 1.0, None
        self.inputs, self.units, self.trained_on, self.version = None, None, None, None  # the class's Attributes

    @classmethod
    def from_parts(cls, parts: MapParts, *, history: dict | None = None, cov_scale: float = 1.0, calibration=None,
                   inputs: dict | None = None, units: dict | None = None, trained_on: dict | None = None,
                   version: str | None = None) -> InverseMap:
        """A map of the given parts and records (what a model file holds); checked as ``load`` does.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.InverseMap.from_parts(fi.InverseMap.dense((8,)).build((16,), 2).parts, units={"a": "1"}).units
        {'a': '1'}
        """
        m = cls.__new__(cls)
        m.parts, m.history = parts, dict(history or {})
        m.cov_scale, m.calibration = _as_cov_scale(cov_scale), calibration
        if parts.head is not None:
            parts.head.check_calibration(m.cov_scale, calibration)
        m.inputs, m.units, m.trained_on, m.version = inputs, units, trained_on, version
        return m

    # -- the architecture's settings (the constructor's arguments)
    @property
    def layers(self) -> list[dict]:
        """The hidden stack, each layer a dict with its ``kind``."""
        return self.parts.architecture.layers

    @property
    def output_activation(self) -> str | None:
        """The output layer's activation; None: linear."""
        return self.parts.architecture.output_activation

    @property
    def seed(self) -> int:
        """The map's seed (the network's initialisation; training's where its settings give none)."""
        return self.parts.architecture.seed

    @seed.setter
    def seed(self, value) -> None:
        self.parts.architecture.seed = as_seed(value)

    @classmethod
    def dense(cls, units: Sequence[int] = (32, 32, 32, 32), *, activation: str = "swish",
              dropout: float = 0.0, output_activation: str | None = "sigmoid", seed: int = 0) -> InverseMap:
        """The study's dense map: ``len(units)`` dense layers, each followed by ``activation``
        (and by dropout of rate ``dropout`` in [0, 1) where it is > 0).

        Parameters
        ----------
        units : sequence of int, default (32, 32, 32, 32)
            Width of each dense layer, at least 1; at least one layer.
        activation : str, default "swish"
        dropout : float, default 0.0
        output_activation, seed
            As for the constructor.

        Returns
        -------
        InverseMap
            The map, not yet built; ValueError for an invalid layer.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.InverseMap.dense((8,), dropout=0.1).layers
        [{'kind': 'dense', 'units': 8}, {'kind': 'swish'}, {'kind': 'dropout', 'rate': 0.1}]
        """
        return cls(dense_layers(units, activation, dropout), output_activation=output_activation, seed=seed)

    @classmethod
    def cnn(cls, filters: Sequence[int] = (8, 16, 32), *, kernel: int = 3, stride: int = 2, pool: int = 2,
            dense: Sequence[int] = (32, 32), activation: str = "swish", padding: str = "valid",
            pooling: str = "avg", output_activation: str | None = "sigmoid", seed: int = 0) -> InverseMap:
        """The study's CNN: Conv1D layers (``activation`` after each, ``pooling`` of size ``pool``
        between them, not after the last; ``pool`` 0 or 1: none), Flatten, dense layers of widths
        ``dense``. 33,874 parameters for a 1000-long input and 2 outputs with the defaults.

        Parameters
        ----------
        filters : sequence of int, default (8, 16, 32)
            Filters of each convolution; at least one.
        kernel, stride : int, default 3, 2
            The convolutions' kernel size and stride.
        pool : int, default 2
        dense : sequence of int, default (32, 32)
        activation : str, default "swish"
        padding : {"valid", "same"}, default "valid"
        pooling : {"avg", "max"}, default "avg"
        output_activation, seed
            As for the constructor.

        Returns
        -------
        InverseMap
            The map, not yet built; ValueError if ``filters`` is empty or a layer is invalid.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.InverseMap.cnn().build((1, 1000), 2).n_params     # input (C, L): one channel of 1000 points
        33874
        """
        return cls(cnn_layers(filters, kernel, stride, pool, dense, activation, padding, pooling),
                   output_activation=output_activation, seed=seed)

    @property
    def built(self) -> bool:
        """Whether the network exists (made by ``fit`` or ``build``)."""
        return self.parts.built

    def build(self, input_shape: Sequence[int], n_targets: int, *, loss: str = "mse",
              head: str | None = None) -> InverseMap:
        """Create the network for per-sample input shape (F,) or (C, L) and ``n_targets`` targets.

        ``fit`` builds the map itself; this is for a map used before training. ``loss`` (or ``head``, a name of
        :data:`~fhn_inverse.nn.heads.HEADS`) chooses the head: "gaussian_nll" adds outputs for the Cholesky entries and
        needs ``output_activation=None``. Returns self; ValueError for an unknown loss or head, an input shape of
        neither 1 nor 2 entries, or a bounded output activation on an unbounded head.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.InverseMap.dense((8,), output_activation=None).build((16,), 2, loss="gaussian_nll").has_cov
        True
        """
        head_cls = head_for(loss, False, head)
        self.parts.build(head_cls, input_shape, n_targets, n_targets)
        return self

    @property
    def network(self):
        """The native network (``fhn_inverse._core.Network``); None before building."""
        return self.parts.network

    @property
    def history_(self) -> dict:
        """``history`` under scikit-learn's name (AttributeError before fit, as ``check_is_fitted`` wants)."""
        if not self.history:
            raise AttributeError("history_: the map is not trained yet")
        return self.history

    @property
    def n_params(self) -> int:
        """The number of the network's parameters; RuntimeError if the map is not built."""
        return self.require_network().n_params

    def require_network(self):
        """The native network; NotFittedError (a RuntimeError, and scikit-learn's where installed) if not built yet.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.InverseMap.dense((8,)).require_network()
        Traceback (most recent call last):
        fhn_inverse.nn.checks.NotFittedError: the map is not built yet: call fit() or build() first
        """
        if self.parts.network is None:
            raise not_fitted("the map is not built yet: call fit() or build() first")
        return self.parts.network

    def prepare_input(self, X, name: str = "X") -> np.ndarray:
        """X as the network's input (float32, its shape checked; see ``architecture.prepare_input``).

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.InverseMap.dense((8,)).build((16,), 2).prepare_input([[0.0] * 16]).dtype
        dtype('float32')
        """
        return prepare_input(self.require_network(), X, name)

    # -- training
    def fit(self, X, Y=None, config: TrainingConfig | None = None, *, progress: bool = True, cov=None,
            features: str | None = None, t=None, targets: Sequence[str] | None = None, units: dict | None = None,
            trained_on=None, head: str | None = None, **settings) -> InverseMap:
        """Train on X (N, L) or (N, C, L) and labels Y (N, D) or (N,), or on a stream X
        (:class:`~fhn_inverse.data.streams.Simulations`, :class:`~fhn_inverse.data.streams.StoreStream`)
        with no Y (:meth:`fit_stream`).

        Ctrl-C stops after the current step with a consistent model and raises KeyboardInterrupt.
        The model file records the settings. Training drops ``calibration`` (fitted to the previous
        weights); a Gaussian-NLL head trained on arrays then calibrates itself (quantile method) on
        the last ``calibration_split`` of the series (10 % by default), held out of training.

        Parameters
        ----------
        X : array_like, shape (N, L) or (N, C, L)
            The inputs; with ``features``, the observed series (N, L).
        Y : array_like, shape (N, D) or (N,)
            The labels.
        config : TrainingConfig, optional
            Training settings (:class:`~fhn_inverse.nn.training.TrainingConfig`); ``**settings`` override its fields.
        progress : bool, default True
            Show a progress bar.
        cov : array_like, shape (N, D, D), optional
            SPD covariance targets: train a local-Gaussian head (the study's last network), which regresses
            (Y, vech(logm cov)) by MSE and predicts means and covariances. Build it with ``output_activation=None``,
            train it with ``scaling="standard"``; a validation tuple is then (X_val, Y_val, cov_val).
        features : {"time", "fourier", "time+fourier"}, optional
            None: X is the network's input. Otherwise X (and a validation tuple's X) are observed
            series on the grid ``t``; the map makes the features itself in ``fit`` and ``predict``,
            and its file records them with the grid and ``targets``, so it predicts from its file
            alone and refuses series on another grid (``predict``'s ``t``, ``resample``).
        t : array_like, shape (L,), optional
            The series' grid, with ``features`` only; default: the study's, for L = 1000.
        targets : sequence of str, optional
            The parameters' names, with ``features`` only.
        units : dict, optional
            {name: unit} of the targets (and "t"); default: the package's for names it knows (:data:`DEFAULT_UNITS`).
        trained_on : Dataset or dict, optional
            The :class:`~fhn_inverse.Dataset` learnt from (its ``config``: model, simulator, prior,
            noise) or such a dict (``describe()``, ``prior``, ``noise``).
        head : str, optional
            A registered head (:data:`~fhn_inverse.nn.heads.HEADS`), trained with its loss; default:
            "point" for ``loss="mse"``, "gaussian_nll" for that loss, "local_gaussian" with ``cov``.
        **settings
            Training settings by name (``epochs=``, ``lr=``, ``optimizer=``, ``schedule=``,
            ``validation=``, ``early_stopping=``, ``scaling=``, ``loss=``, ``seed=``, ``n_threads=``,
            …); ``validation`` may also be the data ``(X_val, Y_val)``.

        Returns
        -------
        InverseMap
            self; the per-epoch record is in ``history``.

        Raises
        ------
        TypeError
            If ``config`` is not a ``TrainingConfig``.
        ValueError
            If a setting is out of range, the data do not fit each other or the map (input shape,
            targets, loss, head, features), or ``t``/``targets`` come without ``features``.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> data = fi.Dataset.generate(200, seed=0, progress=False)
        >>> m = fi.InverseMap.dense((8,)).fit(data.d, data.theta, features="fourier", epochs=2, progress=False)
        >>> len(m.history["loss"]), m.predict(data.d[:3]).shape     # the map makes its features itself
        (2, (3, 2))
        """
        from ..data.streams import is_stream

        if is_stream(X):
            if Y is not None or cov is not None or t is not None:
                raise ValueError("a stream brings its own labels and grid: fit(stream, config, ...) takes no Y, "
                                 "cov= or t=")
            return self.fit_stream(X, config, progress=progress, features=features, targets=targets, units=units,
                                   trained_on=trained_on, head=head, **settings)
        if Y is None:
            raise ValueError("fit(X, Y): Y (the labels) is missing; only a stream (Simulations, StoreStream) "
                             "comes without labels")
        cfg, validation = settings_of(config, settings, head)
        head_cls = type(self.parts.head) if self.built else head_for(cfg.loss, cov is not None, head)
        X, Y, held = hold_out_calibration(X, Y, cfg.calibration_split if head_cls.calibratable else None)
        n_threads, inputs, trained_on = cfg.n_threads, None, _check_trained_on(trained_on)
        units = _units_with_defaults(units, targets, features, trained_on)
        _check_targets_width(targets, Y)
        if features is not None:
            X, validation, inputs = take_series(self.inputs, X, validation, features, t, targets, n_threads)
        else:  # series themselves: their grid is recorded where it is known
            inputs = raw_series(X, t, targets)
        self.history = fit_arrays(self, X, Y, cov, validation, cfg, head_cls, progress, targets, trained_on)
        return self._keep(inputs, units, trained_on, held, n_threads)

    def _keep(self, inputs, units, trained_on, held, n_threads: int) -> InverseMap:
        """After training: keep the records given; drop the old calibration, calibrate on ``held``."""
        self.calibration = None
        self.inputs = self.inputs if inputs is None else inputs
        self.units = self.units if units is None else units
        self.trained_on = self.trained_on if trained_on is None else trained_on
        if held is not None:  # the head calibrates itself on the series held out
            self.calibrate(*held, method="quantile", n_threads=n_threads)
            self.parts.training["n_calibration"] = len(held[1])
        return self

    def fit_stream(self, source, config: TrainingConfig | None = None, *, features: str | None = None,
                   validation=None, prefetch: int = 1, progress: bool = True, targets: Sequence[str] | None = None,
                   units: dict | None = None, trained_on=None, head: str | None = None, **settings) -> InverseMap:
        """Train on a stream of blocks: fresh simulations for every epoch, or a store larger than memory.

        Each block (series, labels) of ``source`` becomes the map's input on a thread of its own,
        ``prefetch`` blocks ahead of training, and is trained on in one shuffled pass (native core);
        an epoch is one pass over the blocks. The scalings are fitted on the first block. With one
        block per epoch and no validation, the steps are exactly those of :meth:`fit` on its arrays.
        A Gaussian-NLL head on :class:`~fhn_inverse.data.streams.Simulations` calibrates itself on
        ``calibration_split`` × ``per_epoch`` (≥ 20) fresh series no epoch reaches; on a store, call ``calibrate``.

        Parameters
        ----------
        source : Simulations or StoreStream
            The stream (:mod:`fhn_inverse.data.streams`).
        config, features, targets, units, head, **settings
            As for :meth:`fit`; ``trained_on`` defaults to the stream's ``describe()``.
        validation : (X_val, Y_val) or int, optional
            Validation series and labels, or, for :class:`~fhn_inverse.data.streams.Simulations`, a
            number of series drawn from rows no epoch reaches; for early stopping and ``restore_best``.
        prefetch : int, default 1
            Blocks read ahead of training, at least 1.
        progress : bool, default True

        Returns
        -------
        InverseMap
            self; ``history`` has per epoch ``loss``, ``val_loss``, ``lr``, ``seconds`` and
            ``wait_seconds`` (time spent waiting on the stream), and ``samples`` in all.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.InverseMap.dense((8,)).fit_stream(fi.Simulations(40), features="fourier", epochs=2, progress=False)
        InverseMap(2 hidden layers, 8,026 parameters)
        """
        from ..data.streams import is_stream
        from .streaming import fit_stream

        if "validation" in settings and validation is None:
            validation = settings.pop("validation")
        cfg, _ = settings_of(config, {**settings, "validation": None}, head)
        if not is_stream(source):
            raise TypeError(f"source must be a stream (Simulations, StoreStream), got {type(source).__name__}")
        trained_on = _check_trained_on(trained_on if trained_on is not None else source.describe())
        inputs, self.history, held = fit_stream(self, source, cfg, head=head, features=features, targets=targets,
                                                validation=validation, prefetch=prefetch, progress=progress,
                                                trained_on=trained_on)
        return self._keep(inputs, _units_with_defaults(units, targets, features, trained_on), trained_on, held,
                          cfg.n_threads)

    @property
    def prior(self):
        """The prior of the data the map was trained on (from ``trained_on``; None if unrecorded)."""
        return prior_from_dict(self.trained_on["prior"]) if (self.trained_on or {}).get("prior") else None

    @property
    def noise(self):
        """The measurement noise of the data the map was trained on (an ``AR1Noise``, from
        ``trained_on``); None for clean data or where the map does not record it."""
        return noise_from_dict((self.trained_on or {}).get("noise"))

    def describe(self) -> dict:
        """What the map is and was trained on, as a JSON-ready dict: architecture (``head``, ``parameters``,
        ``input_shape``, ``layers``, ``output_activation``), ``inputs`` (features and grid), ``targets`` and ``units``,
        ``scaling``, ``training`` and ``epochs_trained``, ``calibration``, ``trained_on`` (model, prior, noise) and the
        ``version`` that wrote its file. RuntimeError if the map is not built.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> sorted(fi.InverseMap.dense((8,)).build((16,), 2).describe())
        ['calibration', 'epochs_trained', 'head', 'input_shape', 'inputs', 'layers', ..., 'version']
        """
        return files.describe(self)

    # -- inference
    @property
    def head(self) -> str:
        """What the map predicts.

        "point" (parameters), "gaussian_nll" (means and the Cholesky factor of its own error covariance,
        trained by Gaussian negative log-likelihood) or "local_gaussian" (means and log-Euclidean
        covariance coordinates regressed on targets).
        """
        return "point" if self.parts.head is None else self.parts.head.name

    @property
    def transform(self):
        """The coordinate the targets are learned in (a ``LabelTransform``), or None: the targets."""
        return self.parts.transform

    @property
    def has_cov(self) -> bool:
        """True where ``predict(X, return_cov=True)`` gives a covariance per series."""
        return self.parts.head is not None and self.parts.head.has_cov

    def predict(self, X, *, return_cov: bool = False, n_threads: int = 0, t=None, resample: bool = False,
                latent: bool = False):
        """Parameters for X, in the units of the training labels.

        A map trained with ``features=`` takes the observed series and makes its features itself. A
        map trained with a ``transform`` (:mod:`~fhn_inverse.nn.transforms`) gives g⁻¹ of its mean in
        the learned coordinate z and the delta-method covariance; ``latent=True``: the law in z.

        Parameters
        ----------
        X : array_like, shape (N, L) or (N, C, L)
            The inputs; a single series (L,) gives (D,) (and (D, D)).
        return_cov : bool, default False
            For maps with a covariance (``has_cov``), also return it in the labels' units (SPD): for
            the Gaussian-NLL head the map's own error covariance times ``cov_scale``, for the
            local-Gaussian head its estimate of the targets' covariance.
        n_threads : int, default 0
            Threads to use (0: all cores).
        t : array_like, optional
            The series' times (maps trained with ``features=``); another grid than the map's is an error.
        resample : bool, default False
            With ``t``: interpolate the series linearly onto the map's grid instead.

        Returns
        -------
        mean : ndarray, shape (N, D)
        cov : ndarray, shape (N, D, D)
            Only with ``return_cov=True``.

        Raises
        ------
        ValueError
            Naming the rows where the result is not finite (float32 overflow: inputs far outside the
            training data's range, or absurd weights); also for ``return_cov`` without a covariance,
            ``t``/``resample`` for a map not trained on series, or series off the map's grid.
        RuntimeError
            If the map is not built.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> m = fi.InverseMap.dense((8,), output_activation=None).build((16,), 2, loss="gaussian_nll")
        >>> [a.shape for a in m.predict([[0.0] * 16] * 3, return_cov=True)]     # means, covariances
        [(3, 2), (3, 2, 2)]
        """
        net = self.require_network()
        if np.ndim(X) == 1:
            out = self.predict(np.asarray(X)[None], return_cov=return_cov, n_threads=n_threads, t=t, resample=resample,
                               latent=latent)
            return (out[0][0], out[1][0]) if return_cov else out[0]
        if self.inputs is not None:
            if (blocks := row_blocks(X)) is not None:  # in blocks: the features' copies stay bounded
                return join_blocks([self.predict(b, return_cov=return_cov, n_threads=n_threads, t=t,
                                                 resample=resample, latent=latent) for b in blocks], return_cov)
            X = series_input(self.inputs, X, t, resample, n_threads)
        elif t is not None or resample:
            raise ValueError("t= and resample= are for maps trained on series (fit(..., features=...))")
        if return_cov and not self.has_cov:
            raise ValueError("this map predicts point estimates only; train it with loss='gaussian_nll' "
                             "or with cov= targets to get covariances")
        parts = self.parts
        x = self.prepare_input(X)
        scaled = parts.input_scaling.transform(x) if parts.input_scaling is not None else x
        raw = net.predict(scaled, as_threads(n_threads))
        out, cov = parts.outputs(raw, return_cov, self.cov_scale, latent)
        _check_finite_outputs(out, cov, x)
        return (out, cov) if return_cov else out

    def summary(self) -> str:
        """Layer table (kind, output shape, parameters) and the total; RuntimeError if not built.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> print(fi.InverseMap.dense((8,)).build((16,), 2).summary())
        layer    output shape  params
        ...total parameters: 154
        """
        return summary(self.require_network())

    def __repr__(self) -> str:
        size = f"{self.n_params:,} parameters" if self.built else "not built"
        return f"InverseMap({len(self.layers)} hidden layers, {size})"

    # -- pickling (joblib, multiprocessing): a built map travels as its file's bytes
    def __getstate__(self) -> dict:
        return files.state(self)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(files.from_state(type(self), state).__dict__)

    # -- model files (nn/files.py)
    def save(self, path: str | os.PathLike) -> None:
        """Write the map to one safetensors file, atomically (a reader, or a process killed
        mid-write, sees the previous file or the new one).

        The file holds the parameters (float32 little-endian, PyTorch layouts) and, in ``__metadata__``, the
        architecture, scaling, training configuration, inputs, units, what it was trained on and SHA-256 checksums of
        the tensor bytes and of the header. RuntimeError if the map is not built.

        Examples
        --------
        >>> import tempfile
        >>> import fhn_inverse as fi
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     fi.InverseMap.dense((8,)).build((16,), 2).save(f"{folder}/map.safetensors")
        """
        files.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> InverseMap:
        """Read a map written by ``save``, verifying its checksums (files written before they
        existed load without); nothing is allocated beyond what the file's size justifies.

        ValueError, naming the file, if it is truncated, corrupted or hostile; OSError if it cannot be read.

        Examples
        --------
        >>> import tempfile
        >>> import fhn_inverse as fi
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     fi.InverseMap.dense((8,)).build((16,), 2).save(f"{folder}/map.safetensors")
        ...     fi.InverseMap.load(f"{folder}/map.safetensors")
        InverseMap(2 hidden layers, 154 parameters)
        """
        return files.load(cls, path)

    # -- PyTorch (nn/torch_export.py)
    def to_torch(self, *, unscale: bool = True, return_cov: bool = False):
        """An equivalent ``torch.nn.Module`` in evaluation mode (needs the optional ``torch``
        extra), with the map's weights and input standardisation; it takes (N, C, L) for convolutional
        maps and (N, F) for dense maps. With ``unscale`` (default) it returns labels in training units
        like ``predict`` (float32), without the raw scaled outputs; ``return_cov``: (mean, cov) of a
        Gaussian-NLL head (:func:`~fhn_inverse.nn.torch_export.to_torch`). RuntimeError if not built.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.InverseMap.dense((8,)).build((16,), 2).to_torch()[0][0]     # doctest: +SKIP
        Linear(in_features=16, out_features=8, bias=True)
        """
        return torch_export.to_torch(self, unscale=unscale, return_cov=return_cov)
