"""How a map is trained: one configuration, from the command line to the native trainer.

:class:`TrainingConfig` holds every training setting of :meth:`InverseMap.fit` with its default
and its check; ``fit(X, Y, config=..., **settings)`` takes one (settings override its fields),
the experiments' :class:`~fhn_inverse.study.runs.Training` is one with the study's values
(declared with :func:`override`), the command line and the scikit-learn wrapper read their
defaults and help from it, a model file records it (``to_dict``), and :meth:`to_core` gives the
native ``_core.TrainConfig`` the trainer runs with.

The schema is written once, in the fields of :class:`TrainingConfig`: each field's metadata holds
its :class:`Setting` (default, one line of help, the choices, and the ``_core.TrainConfig``
attribute it sets, with a converter where the native value differs). :data:`SCHEMA` is that
table by name; :data:`NATIVE_DEFAULTS` names the native attributes no setting sets.
"""

from __future__ import annotations

import inspect
import math
import numbers
from dataclasses import Field, dataclass, field, fields
from types import MappingProxyType
from typing import Any, Callable

from .. import _core
from .._util.validation import as_int, as_seed
from .transforms import check_transform_spec

__all__ = ["TrainingConfig", "Setting", "SCHEMA", "NATIVE_DEFAULTS", "override", "value_type", "MAX_EPOCHS",
           "MAX_BATCH"]

MAX_EPOCHS = 1_000_000  # epochs (and early-stopping patience, step-schedule period) fit accepts
MAX_BATCH = 1 << 24  # mini-batch size fit accepts
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("constant", "warmup", "step", "cosine")
SCALINGS = ("minmax", "standard", "none")
LOSSES = tuple(_core.loss_names())  # the core's: "mse", "gaussian_nll" and any registered in C++
INPUT_SCALINGS = ("none", "channel")  # or None: keep the map's
#: the weight decay in effect where ``weight_decay`` is None, per optimizer
DEFAULT_DECAY = MappingProxyType({"adam": 0.0, "adamw": 0.01})
#: ``_core.TrainConfig`` attributes that no setting sets: ``to_core`` leaves their native defaults
NATIVE_DEFAULTS = MappingProxyType({"progress_interval": "seconds between progress callbacks (a native detail)"})


@dataclass(frozen=True)
class Setting:
    """One training setting: what the schema states of it.

    Attributes
    ----------
    default
        The value of :class:`TrainingConfig` (the study's :class:`~fhn_inverse.study.runs.Training`
        overrides some).
    help : str
        One line for ``--help`` and the docs.
    core : str or None
        The ``_core.TrainConfig`` attribute it sets; None: the setting is used in Python (splits,
        scalings) or by the optimizer (``_core.Adam``, made by ``nn.trainer.optimizer``).
    native : callable, optional
        The native value of a setting's value (e.g. None -> 0); default: the value itself.
    choices : tuple of str, optional
        The values a setting of names takes (the command line's choices).
    none : str, optional
        What None means, for a setting that may be None.
    """

    default: Any
    help: str
    core: str | None = None
    native: Callable[[Any], Any] | None = None
    choices: tuple | None = None
    none: str | None = None


def _setting(default, help: str, *, core: str | None = None, native=None, choices=None, none=None) -> Field:
    return field(default=default, metadata={"setting": Setting(default, help, core, native, choices, none)})


def override(name: str, default) -> Field:
    """A field of a subclass of :class:`TrainingConfig` that gives the setting ``name`` another
    default and keeps its schema entry (the only way a subclass redeclares a setting).

    Parameters
    ----------
    name : str
        A field of :class:`TrainingConfig`.
    default
        The subclass's default.

    Returns
    -------
    dataclasses.Field
        Declare it as ``epochs: int = override("epochs", 200)``.
    """
    if name not in SCHEMA:
        raise ValueError(f"{name!r} is not a training setting; the settings are {', '.join(SCHEMA)}")
    return field(default=default, metadata={"setting": SCHEMA[name], "override": name})


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


def _zero_float(value):
    return value or 0.0  # None (no clipping) is 0 natively


def _zero_int(value):
    return value or 0  # None (never stop) is patience 0 natively


@dataclass
class TrainingConfig:
    """Every setting of a training run, checked when made (ValueError naming the value and its
    range).

    Notes
    -----
    Adam ("adam", L2 weight decay) or AdamW ("adamw", decoupled), PyTorch's arithmetic; without a
    ``weight_decay`` the optimizer's own (``DEFAULT_DECAY``). The learning rate follows
    ``schedule``: "constant", "warmup" (linear over ``warmup_steps``), "step" (× ``gamma`` every
    ``step_epochs``) or "cosine" (warm-up, then down to ``min_lr``). ``validation`` holds a
    fraction of the training data out from its END (Keras' rule); ``fit`` also takes an explicit
    ``(X_val, Y_val)``. Early stopping ends training after ``early_stopping`` epochs without a
    validation improvement of ``min_delta`` and keeps the best epoch's parameters
    (``restore_best``). Labels are scaled on the first call ("minmax" to [0, 1] as the study,
    "standard", "none"); ``input_scaling`` "channel" standardises each input channel. A
    Gaussian-NLL head calibrates itself after training (``calibrate(..., method="quantile")``; an
    ensemble calibrates its mixture) on the ``calibration_split`` of the training series held out
    from their END, before the validation split (on fresh simulations: that fraction of an epoch's
    series, drawn from rows training never reaches, at least ``MIN_CALIBRATION`` = 20); nothing is
    held out for other heads, for store streams, or where the fraction would hold out fewer than
    ``MIN_CALIBRATION`` series.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> cfg = fi.TrainingConfig(epochs=2, optimizer="adamw")
    >>> cfg.batch_size, cfg.decay     # the defaults, and AdamW's weight decay
    (32, 0.01)
    >>> x = np.random.default_rng(0).standard_normal((200, 16)).astype(np.float32)
    >>> m = fi.InverseMap.dense((8,)).fit(x, x[:, :2] ** 2, cfg, batch_size=100, progress=False)  # settings override
    >>> m.describe()["training"]["batch_size"], len(m.history["loss"])
    (100, 2)
    >>> fi.TrainingConfig(lr=-1.0)
    Traceback (most recent call last):
    ValueError: lr must be a finite number > 0, got -1.0
    """

    epochs: int = _setting(100, "passes over the training data", core="epochs")
    batch_size: int = _setting(32, "samples per optimizer step", core="batch_size")
    lr: float = _setting(1e-3, "learning rate (the schedule's peak)", core="lr")
    optimizer: str = _setting("adam", "adam (L2 weight decay) or adamw (decoupled weight decay)", choices=OPTIMIZERS)
    weight_decay: float | None = _setting(None, "weight decay", none="the optimizer's: " + ", ".join(
        f"{k} {v:g}" for k, v in DEFAULT_DECAY.items()))
    betas: tuple = _setting((0.9, 0.999), "Adam's (beta1, beta2), each in [0, 1)")
    eps: float = _setting(1e-8, "Adam's epsilon")
    schedule: str = _setting("constant", "learning-rate schedule: constant, warmup, step or cosine", core="schedule",
                             choices=SCHEDULES)
    warmup_steps: int = _setting(0, "optimizer steps of linear warm-up (schedules warmup, cosine)", core="warmup_steps")
    step_epochs: int = _setting(1, "epochs between learning-rate drops (schedule step)", core="step_epochs")
    gamma: float = _setting(0.1, "factor of each learning-rate drop (schedule step)", core="gamma")
    min_lr: float = _setting(0.0, "learning rate the cosine schedule ends at", core="min_lr")
    clip_norm: float | None = _setting(None, "clip the gradient's global L2 norm to this", none="no clipping",
                                       core="clip_norm", native=_zero_float)
    validation: float | None = _setting(None, "fraction in (0, 1) of the training data held out from its end for "
                                              "validation", none="no validation")
    early_stopping: int | None = _setting(None, "early-stopping patience: epochs without a validation improvement",
                                          none="never stop", core="patience", native=_zero_int)
    min_delta: float = _setting(0.0, "validation-loss improvement that resets the patience", core="min_delta")
    restore_best: bool = _setting(True, "end with the parameters of the best validation epoch", core="restore_best")
    scaling: str = _setting("minmax", "label scaling: minmax (to [0, 1]), standard or none", choices=SCALINGS)
    input_scaling: str | None = _setting(None, "channel: standardise each input channel with the training data's "
                                               "statistics, or none", choices=INPUT_SCALINGS, none="keep the map's")
    loss: str = _setting("mse", "mse (point estimates) or gaussian_nll (means and a covariance per series)",
                         core="loss", choices=LOSSES)
    calibration_split: float | None = _setting(
        0.1, "fraction of the series held out from their end for a Gaussian-NLL head to calibrate itself on",
        none="no calibration")
    transform: str | dict | list | None = _setting(
        None, 'coordinate the targets are learned in: "support" (logit/log from the prior), "auto" or per target',
        none="the targets themselves")
    shuffle: bool = _setting(True, "shuffle the mini-batches every epoch", core="shuffle")
    seed: int | None = _setting(None, "seed of shuffling and dropout", none="the map's seed", core="seed")
    n_threads: int = _setting(0, "threads (0: all available)", core="n_threads")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in cls.__dict__.get("__annotations__", {}):
            value = cls.__dict__.get(name)
            if name in SCHEMA and not (isinstance(value, Field) and value.metadata.get("override") == name):
                raise TypeError(f"{cls.__name__} redeclares the training setting {name!r}: declare it as "
                                f"'{name}: ... = override({name!r}, value)'")

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
        if self.input_scaling not in (None, *INPUT_SCALINGS):
            raise ValueError(f"input_scaling must be 'none', 'channel' or None, got {self.input_scaling!r}")
        _choice(self.loss, "loss", LOSSES)
        if self.calibration_split is not None:
            split = self.calibration_split
            if isinstance(split, bool) or not isinstance(split, numbers.Real) or not 0.0 <= split < 1.0:
                raise ValueError(f"calibration_split must be a fraction in [0, 1) or None, got {split!r}")
            self.calibration_split = float(self.calibration_split) or None
        self.transform = check_transform_spec(self.transform)
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
        return DEFAULT_DECAY[self.optimizer]

    def settings(self) -> dict:
        """The fields as a dict (for ``fit(**settings)`` and ``dataclasses.replace``).

        Returns
        -------
        dict
            {name: value} of the fields of :class:`TrainingConfig` (a subclass's own fields left out).

        Examples
        --------
        >>> import dataclasses
        >>> import fhn_inverse as fi
        >>> settings = fi.TrainingConfig(epochs=5).settings()
        >>> settings["epochs"], settings["loss"], len(settings)
        (5, 'mse', 25)
        >>> dataclasses.replace(fi.TrainingConfig(), **{**settings, "lr": 0.01}).lr
        0.01
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
            The configuration, checked by its ``validate()``: every attribute set from
            :data:`SCHEMA` (``Setting.core``), but those of :data:`NATIVE_DEFAULTS`.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> core = fi.TrainingConfig(epochs=5, early_stopping=3).to_core(seed=7)
        >>> core.epochs, core.patience, core.seed     # the configuration has no seed: 7 stands in
        (5, 3, 7)
        >>> fi.TrainingConfig(seed=1).to_core(seed=7).seed, fi.TrainingConfig().to_core(0).patience  # None: 0
        (1, 0)
        """
        values = self.settings()
        if self.seed is None:
            values["seed"] = as_seed(seed)
        c = _core.TrainConfig()
        for name, setting in SCHEMA.items():  # each setting with a native attribute sets it
            if setting.core is not None:
                value = values[name]
                setattr(c, setting.core, value if setting.native is None else setting.native(value))
        c.validate()
        return c

    def to_dict(self) -> dict:
        """JSON-ready: the fields of :class:`TrainingConfig` (a subclass's own fields left out).

        Returns
        -------
        dict
            {name: value} of the fields, ``betas`` as a list.

        Examples
        --------
        >>> import json
        >>> import fhn_inverse as fi
        >>> d = fi.TrainingConfig(betas=(0.8, 0.99)).to_dict()
        >>> d["betas"], d["epochs"], json.loads(json.dumps(d)) == d
        ([0.8, 0.99], 100, True)
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

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> cfg = fi.TrainingConfig(lr=0.01, betas=(0.8, 0.99))
        >>> fi.TrainingConfig.from_dict(cfg.to_dict()) == cfg
        True
        >>> fi.TrainingConfig.from_dict({"epoch": 20})
        Traceback (most recent call last):
        ValueError: unknown training settings ['epoch']; known: ['batch_size', 'betas', ...]
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(names)}")
        return cls(**{k: (tuple(v) if k == "betas" else v) for k, v in d.items()})


#: The training settings by name, in the fields' order: each field's :class:`Setting`.
SCHEMA = MappingProxyType({f.name: f.metadata["setting"] for f in fields(TrainingConfig)})


def value_type(name: str) -> type:
    """The type of the setting ``name``'s values, its annotation without None (for the command line).

    Parameters
    ----------
    name : str
        A field of :class:`TrainingConfig`.

    Returns
    -------
    type
        int, float, str, bool or tuple.
    """
    hint = _FIELD_TYPES[name]
    if isinstance(hint, str):  # annotations are strings here (from __future__ import annotations)
        hint = {"int": int, "float": float, "str": str, "bool": bool, "tuple": tuple}[hint.split(" | ")[0]]
    return hint


_FIELD_TYPES = {f.name: f.type for f in fields(TrainingConfig)}


def _parameters_doc() -> str:
    """The numpydoc Parameters section of :class:`TrainingConfig`, from the schema."""
    lines = ["Parameters", "----------"]
    for f in fields(TrainingConfig):
        setting = SCHEMA[f.name]
        none = f" (None: {setting.none})" if setting.none else ""
        lines += [f"{f.name} : {f.type}, default {setting.default!r}", f"    {setting.help}{none}."]
    return "\n".join(lines)


if TrainingConfig.__doc__:  # not under python -OO
    _summary, _notes = inspect.cleandoc(TrainingConfig.__doc__).split("\nNotes\n", 1)
    TrainingConfig.__doc__ = f"{_summary}\n{_parameters_doc()}\n\nNotes\n{_notes}"
