"""Training on a stream of blocks (:mod:`fhn_inverse.data.streams`): the map's input made from each
block on the reader's thread, one shuffled pass per block in the native core
(``_core.fit_block``), the epochs, validation, early stopping and the history here."""

from __future__ import annotations

import itertools
import math
import numbers
import time

import numpy as np

from .. import _core
from .._util.validation import as_float_array, as_int
from .scaling import _InputScaling, _Scaling
from .series import take_series
from .trainer import optimizer, progress_bar, training_record
from .training import TrainingConfig

__all__: list[str] = []


def fit_stream(model, source, cfg: TrainingConfig, *, head=None, features=None, validation=None, prefetch: int = 1,
               progress: bool = True, targets=None):
    """Train ``model`` (an InverseMap) on the blocks of ``source``; see :meth:`InverseMap.fit_stream`.

    Builds the map's network (and its ``head``, a registered name, or the one ``cfg.loss``
    implies) on the first block where it has none, fills its parts (weights, scalings, training
    record) and returns (the ``inputs`` record to keep, or None; the history)."""
    from ..data.features import features as make_features
    from ..data.streams import is_stream, prefetch as prefetched
    from .heads import head_for

    if not is_stream(source):
        raise TypeError(f"source must be a stream (Simulations, StoreStream), got {type(source).__name__}")
    parts, inputs, prepare_input = model.parts, model.inputs, model.prepare_input
    head_cls = type(parts.head) if parts.built else head_for(cfg.loss, False, head)
    if head_cls.takes_cov_targets:
        raise ValueError("a map with a local-Gaussian head trains on arrays with cov= targets, not on a stream")
    prefetch = as_int(prefetch, "prefetch", 1)
    sizes = source.block_sizes()
    batch = cfg.batch_size
    steps_per_epoch = sum(math.ceil(b / min(batch, b)) for b in sizes)
    total_steps = steps_per_epoch * cfg.epochs
    n_threads = cfg.n_threads
    seed = parts.architecture.seed if cfg.seed is None else cfg.seed

    def epochs():
        for epoch in range(cfg.epochs):
            for k, block in enumerate(source.blocks(epoch)):
                yield epoch, k, block

    stream = epochs()
    _, _, (series0, labels0) = first = next(stream)
    record = None
    if features is not None:
        _, _, record = take_series(inputs, series0[:1], None, features, source.t, targets, n_threads)
    elif targets is not None:
        raise ValueError("targets= names the labels of series: give features= with it")
    def features_of(series):
        return make_features(series, features, n_threads=n_threads) if features else series

    x0 = features_of(series0) if parts.network is None or (
        cfg.input_scaling == "channel" and parts.input_scaling is None) else None
    if parts.network is None:
        n = labels0.shape[1]
        parts.build(head_cls, parts.architecture.input_shape_of(np.asarray(x0[:1], dtype=np.float32)), n, n)
    elif cfg.loss != parts.head.loss:
        raise ValueError(f"loss {cfg.loss!r} differs from the loss the map was built for ({parts.head.loss!r})")
    if labels0.shape[1] != parts.head.n_targets:
        raise ValueError(f"the stream's labels have {labels0.shape[1]} columns; the map takes {parts.head.n_targets}")

    def inputs_of(series) -> np.ndarray:
        x = prepare_input(features_of(series), "the stream's series")
        return x if parts.input_scaling is None else parts.input_scaling.transform(x)

    # scalings from the first block (label scaling, and input scaling when asked for)
    if cfg.input_scaling == "channel" and parts.input_scaling is None:
        parts.input_scaling = _InputScaling.fit(prepare_input(x0))
    if parts.scaling is None:
        parts.scaling = _Scaling.fit(cfg.scaling, np.asarray(labels0, dtype=np.float32))

    def transform(item):
        epoch, k, (series, labels) = item
        return epoch, k, inputs_of(series), parts.scaling.transform(np.asarray(labels, dtype=np.float32))

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
        y_val = parts.scaling.transform(as_float_array(validation[1], "validation Y", 2).astype(np.float32))
        if y_val.shape != (x_val.shape[0], parts.head.n_targets):
            raise ValueError(f"validation Y must have shape ({x_val.shape[0]}, {parts.head.n_targets}), got "
                             f"{np.shape(validation[1])}")

    opt = optimizer(cfg, parts.network.n_params)
    core_cfg = cfg.to_core(seed)
    bar = None
    if progress:
        bar = progress_bar(sum(sizes) * cfg.epochs, "series")
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
                val = parts.network.loss(x_val, y_val, cfg.loss, n_threads) if x_val is not None else math.nan
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
                        best = parts.network.params
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
            r = _core.fit_block(parts.network, opt, x, y, config=core_cfg, block=epoch * n_blocks + k,
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
            parts.network.params = best
    history["step_loss"] = (np.concatenate(history["step_loss"]).astype(np.float64) if history["step_loss"]
                            else np.zeros(0))  # float64, as fit's
    parts.training = training_record(
        cfg, seed, parts.input_scaling, validation=None if x_val is None else int(x_val.shape[0]),
        n_train=int(sum(sizes)), samples=int(history["samples"]), n_val=0 if x_val is None else int(x_val.shape[0]),
        stream=source.describe().get("stream"), prefetch=prefetch)
    return record, history
