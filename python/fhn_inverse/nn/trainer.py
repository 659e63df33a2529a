"""Training a map's network on arrays in the native core: the validation split, the optimizer
built from the training settings, the progress bar, and the training record a model file keeps.
The steps themselves (shuffling, mini-batches, schedules, early stopping, Ctrl-C) are the core's
(cpp/src/train/trainer.cpp); streams of blocks are trained by ``streaming.py``."""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np

from .. import _core
from .._util.signals import interrupts_held
from .checks import _as_float32
from .scaling import _InputScaling, _Scaling
from .training import TrainingConfig

__all__ = ["settings_of", "hold_out_calibration", "fit_arrays", "split_validation", "optimizer", "train_arrays",
           "training_record"]


def split_validation(x: np.ndarray, y: np.ndarray, validation):
    """(x, y, x_val, y_val): the last ``validation`` fraction of the rows held out, or the given
    validation data (X_val, Y_val) checked against the training data, or no validation (None)."""
    x_val = y_val = None
    if validation is None:
        return x, y, x_val, y_val
    if isinstance(validation, numbers.Real) and not isinstance(validation, bool):
        n_val = int(round(x.shape[0] * validation))
        if n_val < 1 or n_val >= x.shape[0]:
            raise ValueError(f"validation fraction {validation} leaves {n_val} of {x.shape[0]} samples")
        return x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
    if isinstance(validation, (tuple, list)) and len(validation) == 2:
        x_val = _as_float32(validation[0], "validation X", (2, 3))
        y_val = _as_float32(validation[1], "validation Y", (1, 2))
        if y_val.ndim == 1:
            y_val = y_val.reshape(-1, 1)
        if y_val.shape[0] != x_val.shape[0] or y_val.shape[1] != y.shape[1]:
            raise ValueError(f"validation X and Y must have N samples and {y.shape[1]} targets, "
                             f"got {x_val.shape} and {y_val.shape}")
        return x, y, x_val, y_val
    raise ValueError(f"validation must be (X_val, Y_val), a fraction in (0, 1) or None, got {validation!r}")


def optimizer(cfg: TrainingConfig, n_params: int):
    """The native Adam (AdamW with ``optimizer="adamw"``) of the training settings."""
    return _core.Adam(n_params, beta1=cfg.betas[0], beta2=cfg.betas[1], eps=cfg.eps,
                      weight_decay=cfg.decay, decoupled=cfg.optimizer == "adamw")


def progress_bar(total: int, unit: str):
    """A tqdm bar on standard error that disappears when closed."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, leave=False, file=sys.stderr)


def train_arrays(net, x, ys, x_val, ys_val, cfg: TrainingConfig, seed: int, progress: bool) -> dict:
    """Train ``net`` on inputs ``x`` and scaled targets ``ys`` (and validation data) with the
    settings ``cfg`` and ``seed``; the per-epoch history (lists, ``step_loss`` an array)."""
    opt = optimizer(cfg, net.n_params)
    bar = progress_bar(cfg.epochs, "epoch") if progress else None

    def report(info):
        if bar is None:
            return True
        post = {"loss": f"{info['loss']:.3g}"}
        if not math.isnan(info["val_loss"]):
            post["val"] = f"{info['val_loss']:.3g}"
        if not info["epoch_end"]:
            post["batch"] = f"{info['batch']}/{info['batches']}"
        with interrupts_held():
            if info["epoch_end"]:
                bar.update(1)
            bar.set_postfix(post, refresh=True)
        return True

    try:
        h = _core.fit(net, opt, x, ys, x_val, ys_val, config=cfg.to_core(seed), progress=report)
    finally:
        if bar is not None:
            with interrupts_held():
                bar.close()
    return {k: (v.tolist() if isinstance(v, np.ndarray) and k != "step_loss" else v) for k, v in h.items()}


def training_record(cfg: TrainingConfig, seed: int, input_scaling, **sizes) -> dict:
    """What a model file records of a training: the settings, the seed used, the input scaling,
    and ``sizes`` (n_train, n_val, and for streams what they were)."""
    return {**cfg.to_dict(), "weight_decay": cfg.decay, "seed": seed, "validation": cfg.validation,
            "input_scaling": "channel" if input_scaling is not None else "none", **sizes}


def hold_out_calibration(X, Y, fraction: float | None):
    """(X, Y, None) as given, or the series without their last ``fraction`` and the held-out
    (X_cal, Y_cal), where that holds out at least ``MIN_CALIBRATION`` series and keeps some."""
    from ..uncertainty.calibration import MIN_CALIBRATION

    if not fraction or np.ndim(X) == 0 or np.ndim(Y) == 0:
        return X, Y, None
    n = np.shape(X)[0]
    n_cal = int(round(n * fraction))
    if n_cal < MIN_CALIBRATION or n_cal >= n:
        return X, Y, None
    X, Y = np.asarray(X), np.asarray(Y)
    return X[:-n_cal], Y[:-n_cal], (X[-n_cal:], Y[-n_cal:])


def learned_transform(parts, cfg: TrainingConfig, head_cls, d: int, targets, trained_on):
    """The map's transform: kept once the map is trained (as its scaling), else the one
    ``cfg.transform`` asks for, with the support of the prior (and noise) in ``trained_on``."""
    if parts.scaling is not None:
        return parts.transform
    if cfg.transform not in (None, "auto") and head_cls.takes_cov_targets:
        raise ValueError(f"a transform is for point and Gaussian-NLL heads, not {head_cls.name!r}")
    from ..models.noise import noise_from_dict
    from ..models.priors import prior_from_dict
    from .support import support_of
    from .transforms import LabelTransform

    record = trained_on or {}
    prior = prior_from_dict(record["prior"]) if record.get("prior") else None
    support = support_of(prior, noise_from_dict(record.get("noise")), d)
    spec = cfg.transform
    if spec == "auto":  # Gaussian-NLL heads on data with a recorded prior: its support; else the targets
        spec = "support" if head_cls.calibratable and support is not None else None
    return LabelTransform.from_spec(spec, d, targets, support)


def fit_arrays(model, X, Y, cov, validation, cfg: TrainingConfig, head_cls, progress: bool, targets=None,
               trained_on=None) -> dict:
    """Train ``model`` (an InverseMap) on inputs X and labels Y (and covariance targets ``cov``)
    with the settings ``cfg``: the head chosen (or the map's), the validation split, the network
    built on first use, the scalings fitted, then the core's training; its history.

    See :meth:`InverseMap.fit` for the arguments; ``head_cls`` is the map's head class, or the
    one the training asks for (:func:`~fhn_inverse.nn.heads.head_for`)."""
    x = _as_float32(X, "X", (2, 3))
    y = _as_float32(Y, "Y", (1, 2))
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    parts = model.parts
    if parts.built and (cov is not None) != head_cls.takes_cov_targets:
        raise ValueError("this map has a local-Gaussian head: pass cov= targets" if cov is None else
                         "cov= targets need a map built for them (this one was trained without)")
    dim = y.shape[1]
    y = head_cls.training_targets(y, cov, "cov")
    if cov is not None and isinstance(validation, (tuple, list)):
        if len(validation) != 3:
            raise ValueError("with cov= targets, validation must be (X_val, Y_val, cov_val) or a fraction")
        y_v = _as_float32(validation[1], "validation Y", (1, 2))
        validation = (validation[0], head_cls.training_targets(y_v.reshape(len(y_v), -1), validation[2],
                                                               "cov_val"))
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"X and Y must have the same number of samples, got {x.shape[0]} and {y.shape[0]}")
    if cfg.input_scaling is not None and model.history and (cfg.input_scaling == "channel") != (
            parts.input_scaling is not None):
        raise ValueError(f"input_scaling cannot change once the map is trained (it is "
                         f"{'channel' if parts.input_scaling is not None else 'none'}), got {cfg.input_scaling!r}")
    seed = model.seed if cfg.seed is None else cfg.seed
    data_given = isinstance(validation, (tuple, list))
    x, y, x_val, y_val = split_validation(x, y, validation)
    if data_given and cov is None:
        y_val = head_cls.training_targets(y_val, None)
    if not parts.built:
        parts.build(head_cls, parts.architecture.input_shape_of(x), y.shape[1], dim)
    elif cfg.loss != parts.head.loss:
        raise ValueError(f"loss {cfg.loss!r} differs from the loss the map was built for ({parts.head.loss!r})")
    if y.shape[1] != parts.head.n_targets:
        raise ValueError(f"Y must have {parts.head.n_targets} targets, got {y.shape[1]}")
    x = model.prepare_input(x)
    if x_val is not None:
        x_val = model.prepare_input(x_val, "validation X")
    if cfg.input_scaling == "channel" and parts.input_scaling is None:
        parts.input_scaling = _InputScaling.fit(x)
    if parts.input_scaling is not None:
        x = parts.input_scaling.transform(x)
        x_val = None if x_val is None else parts.input_scaling.transform(x_val)
    parts.transform = learned_transform(parts, cfg, head_cls, y.shape[1], targets, trained_on)
    if parts.transform is not None:  # the targets in the coordinate they are learned in
        y = parts.transform.forward(y, "Y")
        y_val = None if y_val is None else parts.transform.forward(y_val, "validation Y")
    if parts.scaling is None:
        parts.scaling = _Scaling.fit(cfg.scaling, y)
    ys = parts.scaling.transform(y)
    ys_val = None if y_val is None else parts.scaling.transform(y_val)
    parts.training = training_record(cfg, seed, parts.input_scaling, n_train=int(x.shape[0]),
                                     n_val=0 if x_val is None else int(x_val.shape[0]))
    return train_arrays(parts.network, x, ys, x_val, ys_val, cfg, seed, progress)


def settings_of(config, settings: dict, head: str | None):
    """The training settings of ``config`` with ``settings`` over them (a named head brings its
    loss), and the validation: data given in ``settings``, or the settings' fraction."""
    from .heads import head_named

    if config is not None and not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}")
    validation = settings.pop("validation") if isinstance(settings.get("validation"), (tuple, list)) else None
    if head is not None and "loss" not in settings:
        settings["loss"] = head_named(head).loss
    cfg = TrainingConfig(**{**(config.settings() if config is not None else {}), **settings})
    return cfg, cfg.validation if validation is None else validation
