"""Training on a stream of blocks (:mod:`fhn_inverse.data.streams`): the map's input made from each
block on the reader's thread, one shuffled pass per block in the native core
(``_core.fit_block``), the epochs, validation, early stopping and the history here."""

from __future__ import annotations

import itertools
import math
import numbers
import sys
import time

import numpy as np

from .. import _core
from .._util.validation import as_float_array, as_int
from .training import TrainingConfig
from .scaling import _InputScaling, _Scaling

__all__: list[str] = []


def fit_stream(model, source, cfg: TrainingConfig, *, features=None, validation=None, prefetch: int = 1,
               progress: bool = True, targets=None, units=None, trained_on=None):
    """Train ``model`` (an InverseMap) on the blocks of ``source``; see :meth:`InverseMap.fit`."""
    from ..data.features import features as make_features
    from ..data.streams import is_stream, prefetch as prefetched

    if not is_stream(source):
        raise TypeError(f"source must be a stream (Simulations, StoreStream), got {type(source).__name__}")
    if model._cov_dim is not None:
        raise ValueError("a map with a local-Gaussian head trains on arrays with cov= targets, not on a stream")
    prefetch = as_int(prefetch, "prefetch", 1)
    sizes = source.block_sizes()
    batch = cfg.batch_size
    steps_per_epoch = sum(math.ceil(b / min(batch, b)) for b in sizes)
    total_steps = steps_per_epoch * cfg.epochs
    n_threads = cfg.n_threads
    seed = model.seed if cfg.seed is None else cfg.seed

    def epochs():
        for epoch in range(cfg.epochs):
            for k, block in enumerate(source.blocks(epoch)):
                yield epoch, k, block

    stream = epochs()
    _, _, (series0, labels0) = first = next(stream)
    inputs = None
    if features is not None:
        _, _, inputs = model._take_series(series0[:1], None, features, source.t, targets, n_threads)
    elif targets is not None:
        raise ValueError("targets= names the labels of series: give features= with it")
    def features_of(series):
        return make_features(series, features, n_threads=n_threads) if features else series

    x0 = features_of(series0) if model._net is None or (
        cfg.input_scaling == "channel" and model._input_scaling is None) else None
    if model._net is None:
        model.build(model._input_shape_of(np.asarray(x0[:1], dtype=np.float32)), labels0.shape[1], loss=cfg.loss)
        model._cov_dim = None
    elif cfg.loss != model._loss:
        raise ValueError(f"loss {cfg.loss!r} differs from the loss the map was built for ({model._loss!r})")
    if labels0.shape[1] != model._n_targets:
        raise ValueError(f"the stream's labels have {labels0.shape[1]} columns; the map takes {model._n_targets}")

    def inputs_of(series) -> np.ndarray:
        x = model._prepare_x(features_of(series), "the stream's series")
        return x if model._input_scaling is None else model._input_scaling.transform(x)

    # scalings from the first block (label scaling, and input scaling when asked for)
    if cfg.input_scaling == "channel" and model._input_scaling is None:
        model._input_scaling = _InputScaling.fit(model._prepare_x(x0))
    if model._scaling is None:
        model._scaling = _Scaling.fit(cfg.scaling, np.asarray(labels0, dtype=np.float32))

    def transform(item):
        epoch, k, (series, labels) = item
        return epoch, k, inputs_of(series), model._scaling.transform(np.asarray(labels, dtype=np.float32))

    x_val = y_val = None
    if validation is not None:
        if isinstance(validation, numbers.Integral) and not isinstance(validation, bool):
            if not hasattr(source, "validation_set"):
                raise ValueError(f"validation={validation} draws series from a simulation stream; this stream "
                                 "takes validation data (X_val, Y_val)")
            validation = source.validation_set(validation)
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise ValueError(f"validation of a stream must be (X_val, Y_val) or a number of series, got {validation!r}")
        x_val = inputs_of(as_float_array(validation[0], "validation X", 2))
        y_val = model._scaling.transform(as_float_array(validation[1], "validation Y", 2).astype(np.float32))
        if y_val.shape != (x_val.shape[0], model._n_targets):
            raise ValueError(f"validation Y must have shape ({x_val.shape[0]}, {model._n_targets}), got "
                             f"{np.shape(validation[1])}")

    opt = _core.Adam(model._net.n_params, beta1=cfg.betas[0], beta2=cfg.betas[1], eps=cfg.eps,
                     weight_decay=cfg.decay, decoupled=cfg.optimizer == "adamw")
    core_cfg = cfg.to_core(seed)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(sizes) * cfg.epochs, unit="series", leave=False, file=sys.stderr)
    history = {"loss": [], "val_loss": [], "lr": [], "seconds": [], "wait_seconds": [], "step_loss": [],
               "best_epoch": -1, "stopped_early": False, "interrupted": False, "samples": 0}
    best, best_val, since_best = None, math.inf, 0
    patience = cfg.early_stopping or 0
    n_blocks = len(sizes)
    t0 = time.perf_counter()
    # blocks read (or simulated) and made into inputs on the reader's thread, `prefetch` ahead
    blocks = prefetched(itertools.chain([first], stream), depth=prefetch, transform=transform)
    try:
        epoch_sum = epoch_seen = 0
        wait = 0.0
        current = 0
        lr = math.nan
        while True:
            t_wait = time.perf_counter()
            item = next(blocks, None)
            wait += time.perf_counter() - t_wait
            if item is None or item[0] != current:
                # the end of epoch `current`
                train_loss = epoch_sum / epoch_seen
                val = model._net.loss(x_val, y_val, cfg.loss, n_threads) if x_val is not None else math.nan
                history["loss"].append(train_loss)
                history["val_loss"].append(val)
                history["lr"].append(lr)
                history["seconds"].append(time.perf_counter() - t0)
                history["wait_seconds"].append(wait)
                monitored = val if x_val is not None else train_loss
                if math.isfinite(monitored) and monitored < best_val - cfg.min_delta:
                    best_val, since_best = monitored, 0
                    history["best_epoch"] = current
                    if x_val is not None and cfg.restore_best:
                        best = model._net.params
                else:
                    since_best += 1
                    if patience and since_best >= patience:
                        history["stopped_early"] = True
                        break
                if bar is not None:
                    bar.set_postfix({"epoch": current + 1, "loss": f"{train_loss:.3g}",
                                     **({} if x_val is None else {"val": f"{val:.3g}"})}, refresh=True)
                if item is None:
                    break
                current, epoch_sum, epoch_seen, wait = item[0], 0.0, 0, 0.0
            epoch, k, x, y = item
            r = _core.fit_block(model._net, opt, x, y, config=core_cfg, block=epoch * n_blocks + k,
                                steps_per_epoch=steps_per_epoch, total_steps=total_steps)
            epoch_sum += r["loss"] * r["samples"]
            epoch_seen += r["samples"]
            lr = r["lr"]
            history["step_loss"].append(r["step_loss"])
            history["samples"] += r["samples"]
            if bar is not None:
                bar.update(r["samples"])
    finally:
        blocks.close()
        if bar is not None:
            bar.close()
        if best is not None:
            model._net.params = best
    history["step_loss"] = (np.concatenate(history["step_loss"]).astype(np.float64) if history["step_loss"]
                            else np.zeros(0))  # float64, as fit's
    model.history = history
    model.calibration = None
    model._training = {
        **cfg.to_dict(), "weight_decay": cfg.decay, "seed": seed, "validation": None if x_val is None else
        int(x_val.shape[0]), "input_scaling": "channel" if model._input_scaling is not None else "none",
        "n_train": int(sum(sizes)), "samples": int(history["samples"]),
        "n_val": 0 if x_val is None else int(x_val.shape[0]),
        "stream": source.describe().get("stream"), "prefetch": prefetch,
    }
    if inputs is not None:
        model.inputs = inputs
    if units is not None:
        model.units = units
    model.trained_on = trained_on
    return model
