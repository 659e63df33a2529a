"""How a map is trained: one configuration, from the command line to the native trainer.

:class:`TrainingConfig` holds every training setting of :meth:`InverseMap.fit` with its default
and its check; ``fit(X, Y, config=..., **settings)`` takes one (settings override its fields),
the experiments' :class:`~fhn_inverse.study.runs.Training` is one with the study's defaults, the
command line sets its fields, a model file records it (``to_dict``), and :meth:`to_core` gives
the native ``_core.TrainConfig`` the trainer runs with.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

from .. import _core
from .._util.validation import as_int, as_seed

__all__ = ["TrainingConfig", "MAX_EPOCHS", "MAX_BATCH"]

MAX_EPOCHS = 1_000_000  # epochs (and early-stopping patience, step-schedule period) fit accepts
MAX_BATCH = 1 << 24  # mini-batch size fit accepts
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "warmup", "step", "cosine")
SCALINGS = ("minmax", "standard", "none")
LOSSES = ("mse", "gaussian_nll")


def _bounded_int(value, name: str, low: int, high: int) -> int:
    value = as_int(value, name, low)
    if value > high:
        raise ValueError(f"{name} must be in [{low}, {high:,}], got {value:,}")
    return value


def _positive_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _nonnegative_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _choice(value, name: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


@dataclass
class TrainingConfig:
    """Every setting of a training run, checked when made (ValueError naming the value and its
    range).

    Parameters
    ----------
    epochs, batch_size
        Passes over the training data and samples per optimizer step.
    lr, optimizer, weight_decay, betas, eps
        Adam ("adam", L2 weight decay, default 0) or AdamW ("adamw", decoupled, default 0.01),
        PyTorch's arithmetic.
    schedule, warmup_steps, step_epochs, gamma, min_lr
        The learning rate: "constant", "warmup" (linear over ``warmup_steps``), "step" (× γ every
        ``step_epochs``) or "cosine" (warm-up, then down to ``min_lr``).
    clip_norm
        Clip the gradient's global L2 norm (None: no clipping).
    validation
        A fraction in (0, 1) of the training data held out from its END (Keras' rule), or None;
        ``fit`` also takes an explicit ``(X_val, Y_val)``.
    early_stopping, min_delta, restore_best
        Stop after ``early_stopping`` epochs without a validation improvement of ``min_delta``
        (None: never); keep the best epoch's parameters.
    scaling, input_scaling
        Label scaling fitted on the first call ("minmax" to [0, 1] as the study, "standard",
        "none"); "channel" standardises each input channel ("none", or None: keep the map's).
    loss
        "mse" or "gaussian_nll" (means and a covariance per series).
    calibration_split
        A fraction in (0, 1) of the training series, held out from their END (before the
        validation split), on which a Gaussian-NLL head calibrates itself after training
        (``calibrate(..., method="quantile")``; an ensemble calibrates its mixture); default 0.1.
        None: no self-calibration. Nothing is held out for other heads, for streams, or where the
        fraction would hold out fewer than ``MIN_CALIBRATION`` (20) series.
    shuffle, seed, n_threads
        Shuffled batches from ``seed`` (None: the map's seed); threads (0: those available).
    """

    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float | None = None
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    schedule: str = "constant"
    warmup_steps: int = 0
    step_epochs: int = 1
    gamma: float = 0.1
    min_lr: float = 0.0
    clip_norm: float | None = None
    validation: float | None = None
    early_stopping: int | None = None
    min_delta: float = 0.0
    restore_best: bool = True
    scaling: str = "minmax"
    input_scaling: str | None = None
    loss: str = "mse"
    calibration_split: float | None = 0.1
    shuffle: bool = True
    seed: int | None = None
    n_threads: int = 0

    def __post_init__(self):
        self.epochs = _bounded_int(self.epochs, "epochs", 1, MAX_EPOCHS)
        self.batch_size = _bounded_int(self.batch_size, "batch_size", 1, MAX_BATCH)
        self.lr = _positive_real(self.lr, "lr")
        self.eps = _positive_real(self.eps, "eps")
        _choice(self.optimizer, "optimizer", OPTIMIZERS)
        if self.weight_decay is not None:
            self.weight_decay = _nonnegative_real(self.weight_decay, "weight_decay")
        if not (isinstance(self.betas, (tuple, list)) and len(self.betas) == 2
                and all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in self.betas)):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas!r}")
        self.betas = (float(self.betas[0]), float(self.betas[1]))
        _choice(self.schedule, "schedule", SCHEDULES)
        self.warmup_steps = _bounded_int(self.warmup_steps, "warmup_steps", 0, 2**62)
        self.step_epochs = _bounded_int(self.step_epochs, "step_epochs", 1, MAX_EPOCHS)
        self.gamma = _positive_real(self.gamma, "gamma")
        self.min_lr = _nonnegative_real(self.min_lr, "min_lr")
        if self.clip_norm is not None:
            self.clip_norm = _positive_real(self.clip_norm, "clip_norm")
        if self.validation is not None:
            if isinstance(self.validation, bool) or not isinstance(self.validation, numbers.Real) \
                    or not 0.0 < self.validation < 1.0:
                raise ValueError(f"validation fraction must be in (0, 1), got {self.validation!r}")
            self.validation = float(self.validation)
        if self.early_stopping is not None:
            self.early_stopping = _bounded_int(self.early_stopping, "early_stopping", 1, MAX_EPOCHS)
        self.min_delta = _nonnegative_real(self.min_delta, "min_delta")
        _choice(self.scaling, "scaling", SCALINGS)
        if self.input_scaling not in (None, "none", "channel"):
            raise ValueError(f"input_scaling must be 'none', 'channel' or None, got {self.input_scaling!r}")
        _choice(self.loss, "loss", LOSSES)
        if self.calibration_split is not None:
            split = self.calibration_split
            if isinstance(split, bool) or not isinstance(split, numbers.Real) or not 0.0 <= split < 1.0:
                raise ValueError(f"calibration_split must be a fraction in [0, 1) or None, got {split!r}")
            self.calibration_split = float(self.calibration_split) or None
        if self.seed is not None:
            self.seed = as_seed(self.seed)
        self.n_threads = as_int(self.n_threads, "n_threads", 0)
        if self.n_threads > _core.MAX_THREADS:
            raise ValueError(f"n_threads must be in [0, {_core.MAX_THREADS}], got {self.n_threads}")

    @property
    def decay(self) -> float:
        """The weight decay in effect: ``weight_decay``, or the optimizer's default.

        The default is 0.01 for "adamw" and 0 for "adam".
        """
        if self.weight_decay is not None:
            return self.weight_decay
        return 0.01 if self.optimizer == "adamw" else 0.0

    def settings(self) -> dict:
        """The fields as a dict (for ``fit(**settings)`` and ``dataclasses.replace``).

        Returns
        -------
        dict
            {name: value} of the fields of :class:`TrainingConfig` (a subclass's own fields left out).
        """
        return {f.name: getattr(self, f.name) for f in fields(TrainingConfig)}

    def to_core(self, seed: int) -> "_core.TrainConfig":
        """The native trainer's configuration.

        Parameters
        ----------
        seed : int
            Stands in where this configuration has none (``seed`` None); an integer in [0, 2**64).

        Returns
        -------
        _core.TrainConfig
            The configuration, checked by its ``validate()``.
        """
        c = _core.TrainConfig()
        c.epochs, c.batch_size, c.loss = self.epochs, self.batch_size, self.loss
        c.lr, c.schedule, c.warmup_steps = self.lr, self.schedule, self.warmup_steps
        c.step_epochs, c.gamma, c.min_lr = self.step_epochs, self.gamma, self.min_lr
        c.clip_norm = self.clip_norm or 0.0
        c.patience = self.early_stopping or 0
        c.min_delta, c.restore_best, c.shuffle = self.min_delta, self.restore_best, self.shuffle
        c.seed = self.seed if self.seed is not None else as_seed(seed)
        c.n_threads = self.n_threads
        c.validate()
        return c

    def to_dict(self) -> dict:
        """JSON-ready: the fields of :class:`TrainingConfig` (a subclass's own fields left out).

        Returns
        -------
        dict
            {name: value} of the fields, ``betas`` as a list.
        """
        out = self.settings()
        out["betas"] = list(out["betas"])
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "TrainingConfig":
        """Inverse of :meth:`to_dict`.

        Parameters
        ----------
        d : dict
            {name: value} of fields; ``betas`` as a list or tuple.

        Returns
        -------
        TrainingConfig
            A configuration of the class it is called on, checked when made.

        Raises
        ------
        ValueError
            If ``d`` has unknown keys (naming them), or a value is out of its range.
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(names)}")
        return cls(**{k: (tuple(v) if k == "betas" else v) for k, v in d.items()})

