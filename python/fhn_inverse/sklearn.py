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

__all__ = ["InverseMapRegressor"]


class InverseMapRegressor(RegressorMixin, BaseEstimator):
    """The study's CNN (``arch="cnn"``) or a dense map (``arch="dense"``, ``units``) as a
    scikit-learn regressor from series X (N, L) to parameters y (N, D) or (N,).

    ``features`` ("time", "fourier", "time+fourier") are made from the series by the map
    itself (:meth:`InverseMap.fit`), on the grid t_k = ``dt``·k; the other arguments are
    ``InverseMap.fit``'s."""

    def __init__(self, arch: str = "cnn", units: Sequence[int] = (32, 32, 32, 32), features: str = "time",
                 loss: str = "mse", epochs: int = 200, batch_size: int = 32, lr: float = 2e-3,
                 optimizer: str = "adam", weight_decay: float | None = None, schedule: str = "constant",
                 validation: float | None = None, early_stopping: int | None = None, scaling: str | None = None,
                 dt: float = 0.2, seed: int = 0, n_threads: int = 0):
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
        """Train on series X (N, L) and parameters y (N, D) or (N,); returns self."""
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
        scaling = self.scaling or ("standard" if nll else "minmax")
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
        """Estimates (N, D), or (N,) for a map fitted on y of shape (N,)."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = self.model_.predict(X)
        return out[:, 0] if self.n_outputs_ == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y (N, D): one map estimates all parameters jointly
        return tags
