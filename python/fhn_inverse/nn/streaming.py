"""Training on a stream of blocks (:mod:`fhn_inverse.data.streams`): the map's network and scalings
made from the first block, each block made into the map's input on the reader's thread, and the
native core's training loop (``_core.fit_stream``: the loop of ``fit``, over many blocks) asking
for the blocks in order; epochs, validation, early stopping and the history are the core's."""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from .. import _core
from .._util.signals import interrupts_held
from .._util.validation import as_float_array, as_int
from .scaling import _InputScaling, _Scaling
from .series import raw_series, take_series
from .trainer import learned_transform, optimizer, progress_bar, training_record
from .training import TrainingConfig

__all__: list[str] = []


def _checked_labels(labels, epoch: int, k: int, width: int | None) -> np.ndarray:
    """A block's labels as float32 (N, D), D = ``width`` where the map has one: ValueError naming
    the block and the first bad row otherwise (before anything is trained on it)."""
    labels = np.asarray(labels, dtype=np.float32)
    if labels.ndim != 2 or (width is not None and labels.shape[1] != width):
        raise ValueError(f"block {k} of epoch {epoch} of the stream has labels of shape {labels.shape}; the map "
                         f"takes {width if width is not None else 'D'} columns, labels (N, D)")
    bad = np.flatnonzero(~np.isfinite(labels).all(axis=1))
    if bad.size:
        raise ValueError(f"block {k} of epoch {epoch} of the stream has labels that are not finite (row {bad[0]}"
                         f"{f' and {bad.size - 1} more' if bad.size > 1 else ''}): nothing was trained on them")
    return labels


def fit_stream(model, source, cfg: TrainingConfig, *, head=None, features=None, validation=None, prefetch: int = 1,
               progress: bool = True, targets=None, trained_on=None):
    """Train ``model`` (an InverseMap) on the blocks of ``source``; see :meth:`InverseMap.fit_stream`.

    Builds the map's network (and its ``head``, a registered name, or the one ``cfg.loss``
    implies) on the first block where it has none, fills its parts (weights, scalings, training
    record) and returns (the ``inputs`` record to keep, or None; the history; the series and labels
    the head calibrates itself on, or None). A calibratable head trained on a stream that draws
    fresh series (``calibration_set``) with ``cfg.calibration_split`` gets that fraction of an
    epoch's series (at least ``MIN_CALIBRATION``) from rows no training or validation reaches."""
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
    sizes = [int(b) for b in source.block_sizes()]
    n_threads = cfg.n_threads
    seed = parts.architecture.seed if cfg.seed is None else cfg.seed

    def epochs():
        for epoch in range(cfg.epochs):
            for k, block in enumerate(source.blocks(epoch)):
                yield epoch, k, block

    stream = epochs()
    _, _, (series0, labels0) = first = next(stream)
    labels0 = _checked_labels(labels0, 0, 0, None if parts.head is None else parts.head.n_targets)
    record = None
    if features is not None:
        _, _, record = take_series(inputs, series0[:1], None, features, source.t, targets, n_threads)
    else:  # the series themselves, on the stream's grid
        record = raw_series(series0[:1], source.t, targets)

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

    # the transform and the scalings from the first block (label scaling, and input scaling when asked for)
    if cfg.input_scaling == "channel" and parts.input_scaling is None:
        parts.input_scaling = _InputScaling.fit(prepare_input(x0))
    parts.transform = learned_transform(parts, cfg, head_cls, labels0.shape[1], targets, trained_on)

    def learned(labels, what: str):
        return labels if parts.transform is None else parts.transform.forward(labels, what).astype(np.float32)

    if parts.scaling is None:
        parts.scaling = _Scaling.fit(cfg.scaling, learned(labels0, "block 0 of epoch 0"))

    def transform(item):
        epoch, k, (series, labels) = item
        labels = _checked_labels(labels, epoch, k, parts.head.n_targets)
        return epoch, k, inputs_of(series), parts.scaling.transform(learned(labels, f"block {k} of epoch {epoch}"))

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
        y_val = parts.scaling.transform(learned(as_float_array(validation[1], "validation Y", 2).astype(np.float32),
                                                "validation Y"))
        if y_val.shape != (x_val.shape[0], parts.head.n_targets):
            raise ValueError(f"validation Y must have shape ({x_val.shape[0]}, {parts.head.n_targets}), got "
                             f"{np.shape(validation[1])}")

    # blocks read (or simulated) and made into inputs on the reader's thread, `prefetch` ahead;
    # the core asks for them in order and runs the epochs (the loop of fit, over many blocks)
    blocks = prefetched(itertools.chain([first], stream), depth=prefetch, transform=transform)

    def next_block(epoch: int, k: int):
        item = next(blocks, None)
        if item is None:
            return None
        if item[:2] != (epoch, k):
            raise RuntimeError(f"the stream handed out block {item[1]} of epoch {item[0]} where block {k} of "
                               f"epoch {epoch} was due")
        return item[2], item[3]

    bar = progress_bar(sum(sizes) * cfg.epochs, "series") if progress else None
    done = [0]  # series of the epochs finished, for the bar

    def report(info):
        if bar is not None:
            with interrupts_held():  # (a Ctrl-C raised inside tqdm's locks would leave one held)
                bar.update(done[0] + info["samples"] - bar.n)
                if info["epoch_end"]:
                    done[0] += info["samples"]
                    bar.set_postfix({"epoch": info["epoch"] + 1, "loss": f"{info['loss']:.3g}",
                                     **({} if x_val is None else {"val": f"{info['val_loss']:.3g}"})}, refresh=True)
        return True

    try:
        h = _core.fit_stream(parts.network, optimizer(cfg, parts.network.n_params), next_block, sizes, x_val, y_val,
                             config=cfg.to_core(seed), progress=report if bar is not None else None)
    finally:
        blocks.close()
        if bar is not None:
            with interrupts_held():
                bar.close()
    history = {k: (v.tolist() if isinstance(v, np.ndarray) and k != "step_loss" else v) for k, v in h.items()}
    parts.training = training_record(
        cfg, seed, parts.input_scaling, validation=None if x_val is None else int(x_val.shape[0]),
        n_train=int(sum(sizes)), samples=int(history["samples"]), n_val=0 if x_val is None else int(x_val.shape[0]),
        stream=source.describe().get("stream"), prefetch=prefetch)
    held = None
    if parts.head.calibratable and cfg.calibration_split and hasattr(source, "calibration_set"):
        from ..uncertainty.calibration import MIN_CALIBRATION

        held = source.calibration_set(max(MIN_CALIBRATION, int(round(cfg.calibration_split * source.per_epoch))))
    return record, history, held
