"""scikit-learn habits: an estimator that clones, pipelines, grid-searches and cross-validates.

``InverseMapRegressor`` takes every hyperparameter in ``__init__`` (so ``get_params`` /
``set_params`` and ``sklearn.base.clone`` work), learns in ``fit(X, y)``, keeps what it learned in
attributes with a trailing underscore (``model_``, ``history_``, ``n_features_in_``) and scores by
R² (the mean over the parameters, scikit-learn's ``r2_score``). The map it trains is an
:class:`fhn_inverse.InverseMap`; ``model_`` is it, for everything beyond scikit-learn's API
(covariances, intervals, saving). Needs scikit-learn (``pip install scikit-learn``); the rest of
the package does not.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

try:
    from sklearn.base import BaseEstimator, RegressorMixin
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as err:  # pragma: no cover - the message is the point
    raise ImportError("fhn_inverse.sklearn needs scikit-learn: pip install scikit-learn") from err

from .nn import InverseMap
from .nn.training import TrainingConfig
from .study.runs import Training

__all__ = ["InverseMapRegressor"]


class InverseMapRegressor(RegressorMixin, BaseEstimator):
    """The study's CNN or a dense map as a scikit-learn regressor from series to parameters.

    It maps series X (N, L) to parameters y (N, D) or (N,). The ``features`` are made from the series
    by the map itself (:meth:`InverseMap.fit`), on the grid t_k = ``dt``·k; the other arguments are
    ``InverseMap.fit``'s, their defaults :class:`~fhn_inverse.TrainingConfig`'s, but the study's
    (:class:`~fhn_inverse.study.runs.Training`) ``epochs``, ``lr`` and ``seed``.

    Parameters
    ----------
    arch : {"cnn", "dense"}, default "cnn"
        The study's CNN (``arch="cnn"``) or a dense map (``arch="dense"``, ``units``).
    units : sequence of int, default (32, 32, 32, 32)
        The dense map's layers.
    features : {"time", "fourier", "time+fourier"}, default "time"
        The features made from the series.
    loss : str, default "mse"
        As for ``InverseMap.fit``; with "gaussian_nll" the map's output is linear.
    epochs : int, default 200
        As for ``InverseMap.fit``.
    batch_size : int, default 32
        As for ``InverseMap.fit``.
    lr : float, default 2e-3
        As for ``InverseMap.fit``.
    optimizer : str, default "adam"
        As for ``InverseMap.fit``.
    weight_decay : float, optional
        As for ``InverseMap.fit``.
    schedule : str, default "constant"
        As for ``InverseMap.fit``.
    validation : float, optional
        As for ``InverseMap.fit``.
    early_stopping : int, optional
        As for ``InverseMap.fit``.
    scaling : str, optional
        As for ``InverseMap.fit``; default "minmax", or "standard" with ``loss="gaussian_nll"``.
    dt : float, default 0.2
        The grid's step.
    seed : int, default 0
        The map's seed and the training seed.
    n_threads : int, default 0
        As for ``InverseMap.fit``.

    Attributes
    ----------
    model_ : InverseMap
        The trained map.
    history_ : dict
        The map's ``history``.
    n_features_in_ : int
        L, the length of the series it was fitted on.
    n_outputs_ : int
        D, or 1 for y of shape (N,).
    """

    # explicit keywords (scikit-learn's get_params reads them), their defaults read from the schema
    def __init__(self, arch: str = "cnn", units: Sequence[int] = (32, 32, 32, 32), features: str = "time",
                 loss: str = TrainingConfig.loss, epochs: int = Training.epochs,
                 batch_size: int = TrainingConfig.batch_size, lr: float = Training.lr,
                 optimizer: str = TrainingConfig.optimizer, weight_decay: float | None = TrainingConfig.weight_decay,
                 schedule: str = TrainingConfig.schedule, validation: float | None = TrainingConfig.validation,
                 early_stopping: int | None = TrainingConfig.early_stopping, scaling: str | None = None,
                 dt: float = 0.2, seed: int = Training.seed, n_threads: int = TrainingConfig.n_threads):
        self.arch = arch
        self.units = units
        self.features = features
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.validation = validation
        self.early_stopping = early_stopping
        self.scaling = scaling
        self.dt = dt
        self.seed = seed
        self.n_threads = n_threads

    def fit(self, X, y):
        """Train on series X and parameters y.

        The data pass scikit-learn's checks first: no sparse, complex, NaN or infinite input, at least 2
        series of at least 2 points, y given and of matching length.

        Parameters
        ----------
        X : array_like, shape (N, L)
            The series.
        y : array_like, shape (N, D) or (N,)
            The parameters.

        Returns
        -------
        InverseMapRegressor
            self.

        Raises
        ------
        ValueError
            If ``arch`` is not "cnn" or "dense", or the CNN needs longer inputs than the features of
            these series.
        """
        if self.arch not in ("cnn", "dense"):
            raise ValueError(f"arch must be 'cnn' or 'dense', got {self.arch!r}")
        # scikit-learn's checks: no sparse, complex, NaN or infinite input, series of >= 2 points,
        # y given and of matching length; n_features_in_ recorded for predict
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64,
                             ensure_min_samples=2, ensure_min_features=2)
        nll = self.loss == "gaussian_nll"
        head = {"output_activation": None} if nll else {}
        model = (InverseMap.cnn(seed=self.seed, **head) if self.arch == "cnn"
                 else InverseMap.dense(units=list(self.units), seed=self.seed, **head))
        scaling = self.scaling or ("standard" if nll else TrainingConfig.scaling)
        try:
            model.fit(X, y, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, optimizer=self.optimizer,
                      weight_decay=self.weight_decay, schedule=self.schedule, validation=self.validation,
                      early_stopping=self.early_stopping, scaling=scaling, loss=self.loss, seed=self.seed,
                      n_threads=self.n_threads, progress=False, features=self.features,
                      t=np.arange(X.shape[1]) * self.dt)
        except ValueError as err:
            if self.arch == "cnn" and "input length" in str(err):
                raise ValueError(f"arch='cnn' (the study's CNN: three stride-2 convolutions, two poolings) needs "
                                 f"longer inputs than these {self.features!r} features of series of {X.shape[1]} "
                                 f"points ({err}); use arch='dense' for short inputs") from None
            raise
        self.model_ = model
        self.history_ = model.history
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        return self

    def predict(self, X):
        """Estimates for series X.

        Parameters
        ----------
        X : array_like, shape (N, L)
            The series, of the length the map was fitted on.

        Returns
        -------
        ndarray, shape (N, D) or (N,)
            The estimates; (N,) for a map fitted on y of shape (N,).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the regressor is not fitted.
        """
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = self.model_.predict(X)
        return out[:, 0] if self.n_outputs_ == 1 else out

    def interval(self, X, level: float = 0.95):
        """Per-parameter central intervals (lower, upper) at ``level`` for series X, of a regressor
        fitted with ``loss="gaussian_nll"`` (calibrated: see :meth:`InverseMap.interval`); (N,) each
        for y of shape (N,). NotFittedError if not fitted."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        lo, hi = self.model_.interval(X, level)
        return (lo[:, 0], hi[:, 0]) if self.n_outputs_ == 1 else (lo, hi)

    def calibrate(self, X_cal, y_cal, *, method: str = "quantile"):
        """Calibrate the fitted map on held-out series (X_cal, y_cal) (:meth:`InverseMap.calibrate`);
        returns self. NotFittedError if not fitted."""
        check_is_fitted(self, "model_")
        X_cal = validate_data(self, X_cal, reset=False, dtype=np.float64)
        y_cal = np.asarray(y_cal, dtype=np.float64)
        self.model_.calibrate(X_cal, y_cal[:, None] if y_cal.ndim == 1 else y_cal, method=method)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y (N, D): one map estimates all parameters jointly
        return tags
