"""Work fanned out over a Dask cluster: data sets into a Zarr store, ensembles, searches, experiments.

:func:`generate` splits ``n`` samples into chunks, simulates each chunk on a worker
(:meth:`Dataset.generate` with ``start`` at the chunk's first stream index, one thread per
task) and writes it into its own chunks of the store. Sample i is drawn from the random streams
``(seed, start + i)`` alone, so the store holds the same bytes as the single-process
``Dataset.generate(n, seed, ...)`` for any number of workers and any chunk size; a task lost with
its worker is run again by Dask and writes the same rows.

:func:`fit_ensemble` trains each member of an :class:`~fhn_inverse.Ensemble` as its own task,
:func:`map_fits` trains one map per candidate setting of a hyperparameter search and scores it on
validation data, and :func:`reproduce` runs several of the study's experiments side by side. Each
task trains as the single process does, with the same seeds and settings, and training gives the
same bytes for any number of threads, so the results are those of the single process; the
training data travel to every worker once.

Every function runs on ``client``, or, without one, on a ``LocalCluster`` of ``workers`` processes
with one thread each, started for the call and closed at its end. Needs the optional ``scale``
extra (``pip install fhn-inverse[scale]``).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
from dataclasses import fields
from pathlib import Path

import numpy as np

from ._util.validation import as_int, as_seed, as_start
from .data.dataset import Dataset
from .nn.ensemble import Ensemble
from .nn import InverseMap
from .data.streams import is_stream
from .data.store import building, create_zarr, mark_complete, open_zarr, write_rows
from .nn.training import SCHEMA, TrainingConfig

__all__ = ["generate", "fit_ensemble", "map_fits", "reproduce"]

# keyword arguments of InverseMap.fit that are not fields of TrainingConfig
_FIT_ARGUMENTS = ("cov", "features", "t", "targets", "units", "trained_on", "prefetch")
_FIELDS = tuple(SCHEMA)  # the training settings: the fields of TrainingConfig


@contextlib.contextmanager
def _client(client, workers: int):
    """``client``, or a client of a new ``LocalCluster`` of ``workers`` processes with one thread
    each, closed (client, then cluster) when the block ends."""
    if client is not None:
        yield client
        return
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as own:
        yield own


def _chunk_task(path: str, lo: int, size: int, seed: int, start: int, kwargs: dict) -> dict[int, bytes]:
    data = Dataset.generate(size, seed, start=start + lo, n_threads=1, progress=False, **kwargs)
    return write_rows(path, lo, data)


def generate(n: int, seed: int, path, *, chunk: int = 1000, start: int = 0, client=None, workers: int = 2,
             prior=None, noise=None, model=None, t=None, rtol: float = 1e-9, atol: float = 1e-9,
             dtype: str = "float64", method: str = "rkf78"):
    """Simulate ``n`` samples of the stream ``seed`` on a Dask cluster into the Zarr store ``path``.

    Parameters
    ----------
    n, seed : int
        Samples and the seed of their random streams.
    path : str or os.PathLike
        The store, in a folder every worker can write: written beside the old store (if any) and
        swapped in when complete (:func:`~fhn_inverse.data.store.building`).
    chunk : int
        Samples per task and per store chunk (default 1000).
    start : int
        First stream index (as ``Dataset.generate``).
    client : dask.distributed.Client, optional
        The cluster to run on; None starts a ``LocalCluster`` of ``workers`` processes with one
        thread each for this call.
    prior, noise, model, t, rtol, atol, method
        As :meth:`Dataset.generate`.
    dtype : {"float64", "float32"}
        How the series are stored (:func:`~fhn_inverse.data.store.create_zarr`).

    Returns
    -------
    ZarrDataset
        The store, opened lazily.
    """
    n, seed = as_int(n, "n", 1), as_seed(seed)
    start = as_start(start, n, bits=63, why="a data set keeps its indices as int64")
    chunk, workers = as_int(chunk, "chunk", 1), as_int(workers, "workers", 1)
    kwargs = {"prior": prior, "noise": noise, "model": model, "t": t, "rtol": rtol, "atol": atol, "method": method}
    head = Dataset.generate(1, seed, start=start, n_threads=1, progress=False, **kwargs)  # the grid, the config
    config = dict(head.config, start=start)
    path = Path(path).resolve()
    with building(path) as build:  # beside the old store, swapped in when complete; one writer at a time
        create_zarr(build, n, head.u.shape[-1], head.theta.shape[1], t=head.t, seed=seed, config=config, chunk=chunk,
                    dtype=dtype, n_noise=head.noise.shape[1], channels=head.u.shape[1] if head.u.ndim == 3 else 1)
        with _client(client, workers) as c:
            futures = [c.submit(_chunk_task, str(build), lo, min(chunk, n - lo), seed, start, kwargs, pure=False,
                                key=f"fhn_inverse-chunk-{seed}-{start + lo}")
                       for lo in range(0, n, chunk)]
            digests = {}
            for part in c.gather(futures):
                digests.update(part)
        mark_complete(build, digests)
    return open_zarr(path)


def _training_config(config, settings: dict, what: str) -> TrainingConfig:
    """The TrainingConfig that ``fit(X, Y, config, **settings)`` trains with, checked in the caller:
    TypeError for a config that is not a TrainingConfig, ValueError naming ``what`` for an unknown
    setting or a value out of its range."""
    if config is not None and not isinstance(config, TrainingConfig):
        raise TypeError(f"config must be a TrainingConfig, got {type(config).__name__}")
    unknown = sorted(set(settings) - set(_FIELDS) - set(_FIT_ARGUMENTS))
    if unknown:
        raise ValueError(f"{what}: unknown setting(s) {unknown}; the settings are the fields of TrainingConfig "
                         f"({', '.join(_FIELDS)}) and fit's {', '.join(_FIT_ARGUMENTS)}")
    plain = {k: v for k, v in settings.items()
             if k in _FIELDS and not (k == "validation" and isinstance(v, (tuple, list)))}
    try:
        return TrainingConfig(**{**(config.settings() if config is not None else {}), **plain})
    except (TypeError, ValueError) as e:
        raise type(e)(f"{what}: {e}") from None


def _fit_member(member: InverseMap, seed: int, X, Y, config, settings: dict) -> InverseMap:
    return member.fit(X, Y, config, seed=seed, progress=False, **settings)


def fit_ensemble(ensemble: Ensemble, X, Y, config: TrainingConfig | None = None, *, client=None, workers: int = 2,
                 **settings) -> Ensemble:
    """Train the members of ``ensemble`` on a Dask cluster, each member its own task.

    The members come back with the bytes that ``ensemble.fit(X, Y, config, **settings)`` gives
    them in one process: member i trains with the same seed (``seed + i``, the config's seed + i,
    or else its own seed) and the same settings. X and Y are sent to every worker once.

    Parameters
    ----------
    ensemble : Ensemble
        The ensemble, e.g. ``Ensemble.like(InverseMap.cnn(seed=0), 5)``; its members are trained
        in place, as :meth:`Ensemble.fit` trains them.
    X, Y : array_like
        Training inputs and labels, as for ``InverseMap.fit``; or a stream X
        (:class:`~fhn_inverse.data.streams.Simulations`, or a :class:`~fhn_inverse.data.streams.StoreStream`
        on a store every worker can read) with Y None: every member trains on the same series,
        a simulation stream simulating them on the member's worker (one thread unless the stream
        says otherwise).
    config : TrainingConfig, optional
        Training settings, as for :meth:`Ensemble.fit`.
    client : dask.distributed.Client, optional
        The cluster to run on; None starts a ``LocalCluster`` of ``workers`` processes with one
        thread each for this call.
    workers : int, default 2
        Worker processes of that local cluster, at least 1.
    **settings
        As for :meth:`Ensemble.fit`: ``seed=`` (member i trains with ``seed + i``), fields of the
        training configuration and ``InverseMap.fit``'s keyword arguments. ``n_threads`` 0 (all
        cores, the default) becomes 1 on the workers, one thread per task; the model files
        record the threads a member trained with. Progress bars are not shown (``progress`` is
        ignored).

    Returns
    -------
    Ensemble
        ``ensemble``, trained; its calibration is discarded, as by :meth:`Ensemble.fit`.

    Raises
    ------
    TypeError
        If ``ensemble`` is not an Ensemble or ``config`` not a TrainingConfig.
    ValueError
        If ``workers`` is below 1, a setting is unknown or out of its range; errors of the
        training itself come from the task, as ``InverseMap.fit`` raises them.
    """
    if not isinstance(ensemble, Ensemble):
        raise TypeError(f"ensemble must be an Ensemble, got {type(ensemble).__name__}")
    workers = as_int(workers, "workers", 1)
    if is_stream(X):
        if Y is not None:
            raise ValueError("a stream brings its own labels: fit_ensemble(ensemble, stream, None, ...)")
        if getattr(X, "n_threads", None) == 0:  # one thread per task, as the training's
            X = copy.copy(X)
            X.n_threads = 1
    settings.pop("progress", None)
    seed = settings.pop("seed", None)
    cfg = _training_config(config, settings, "fit_ensemble")
    X, Y, held = ensemble.hold_out_calibration(X, Y, config, settings)  # as Ensemble.fit does
    if seed is None and cfg.seed is not None:
        seed = cfg.seed
    base = None if seed is None else as_seed(seed)
    seeds = [m.seed if base is None else base + i for i, m in enumerate(ensemble.members)]
    settings["n_threads"] = cfg.n_threads or 1
    with _client(client, workers) as c:
        x, y, extra = c.scatter([X, Y, settings], broadcast=True, hash=False)
        futures = [c.submit(_fit_member, m, s, x, y, config, extra, pure=False)
                   for m, s in zip(ensemble.members, seeds)]
        trained = c.gather(futures)
    for member, fitted in zip(ensemble.members, trained):
        member.__dict__.update(fitted.__dict__)  # in place, as Ensemble.fit trains them
    ensemble.calibration = None  # fitted to the previous members
    if held is not None:
        ensemble.calibrate(*held, n_threads=cfg.n_threads)
    return ensemble


def _fit_candidate(model, X, Y, X_val, Y_val, config, settings: dict) -> dict:
    from . import metrics

    model.fit(X, Y, config, progress=False, **settings)
    pred = model.predict(X_val, n_threads=settings["n_threads"])
    y_val = np.asarray(Y_val, dtype=np.float64).reshape(pred.shape)
    val = metrics.report(y_val, pred)
    return {"n_params": model.n_params, "epochs": len(model.history["loss"]),
            "val_mse": float(np.mean((pred - y_val) ** 2)), "val_r2_mean": val["r2_mean"],
            "val_median_ape": val["median_ape_all"], "val": val}


def _make_parameters(make):
    """The keyword names ``make`` takes, or None where it takes any (``**kwargs``, no signature)."""
    try:
        params = inspect.signature(make).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                  inspect.Parameter.KEYWORD_ONLY)}


def map_fits(make, X, Y, candidates, config: TrainingConfig | None = None, *, validation, client=None,
             workers: int = 2, **settings) -> list[dict]:
    """Train one map per candidate of a hyperparameter search on a Dask cluster and score each on
    validation data.

    A candidate is a dict: its keys that name fields of :class:`~fhn_inverse.TrainingConfig` are
    training settings, every other key is an argument of ``make`` (``units`` is the dense layers'
    widths of ``InverseMap.dense``, not ``fit``'s units). Candidate i trains
    ``make(**architecture)`` with ``fit(X, Y, config, **settings, **training settings)``, as one
    process would, and predicts the validation inputs; the scores are those of that process,
    whatever the cluster. X, Y and the validation data are sent to every worker once. The
    validation data only score the maps: training sees them nowhere (a ``validation`` training
    setting holds out the end of X for early stopping, as ``fit`` does).

    With ``make`` a map family, the search of :func:`fhn_inverse.study.experiments.accuracy` is
    ``map_fits(family, X[:-n_val], Y[:-n_val], candidates, search_training, validation=(X[-n_val:],
    Y[-n_val:]))``: ``val_r2_mean`` and ``val_median_ape`` are the numbers of its trials.

    Parameters
    ----------
    make : callable
        Makes an untrained map from a candidate's architecture keys, e.g. ``InverseMap.cnn`` or
        ``functools.partial(InverseMap.dense, seed=3)``; called in the caller, so a bad candidate
        fails before anything is trained. Returns an InverseMap (or an Ensemble).
    X, Y : array_like
        Training inputs and labels, as for ``InverseMap.fit``.
    candidates : sequence of dict
        The candidates, at least one, e.g. ``[{"lr": 1e-3, "batch_size": 64}, {"units": [64, 64]}]``.
    config : TrainingConfig, optional
        The training settings every candidate starts from.
    validation : (X_val, Y_val) or float
        The data the maps are scored on, or a fraction in (0, 1) of X and Y held out from their
        end (``round(N * fraction)`` samples, Keras' rule) for it.
    client : dask.distributed.Client, optional
        The cluster to run on; None starts a ``LocalCluster`` of ``workers`` processes with one
        thread each for this call.
    workers : int, default 2
        Worker processes of that local cluster, at least 1.
    **settings
        Training settings shared by every candidate (a candidate's own win), and
        ``InverseMap.fit``'s keyword arguments (``features=``, ``t=``, ``trained_on=``, …). ``n_threads`` 0
        (all cores, the default) becomes 1 on the workers, one thread per task.

    Returns
    -------
    list of dict
        One per candidate, in their order: ``params`` (the candidate), ``n_params``, ``epochs``
        (trained), ``val_mse`` (the mean squared error of the predictions, in Y's units),
        ``val_r2_mean`` and ``val_median_ape`` (the mean R² and the Median-APE over every
        component) and ``val`` (:func:`fhn_inverse.metrics.report` of the predictions).

    Raises
    ------
    TypeError
        If a candidate is not a dict, ``config`` is not a TrainingConfig, or ``make`` does not
        return a map.
    ValueError
        Naming the candidate, for a key that is neither a training setting nor an argument of
        ``make``, or a value out of its range; if ``candidates`` is empty, ``workers`` is below
        1, or ``validation`` is neither a pair of arrays nor a fraction in (0, 1).
    """
    workers = as_int(workers, "workers", 1)
    if isinstance(candidates, dict) or not isinstance(candidates, (list, tuple)):
        raise TypeError(f"candidates must be a list of dicts, got {type(candidates).__name__}")
    if not candidates:
        raise ValueError("candidates must hold at least one dict, got none")
    settings.pop("progress", None)
    accepted = _make_parameters(make)
    name = getattr(make, "__qualname__", None) or repr(make)
    models, shared = [], []
    for i, candidate in enumerate(candidates):
        if not isinstance(candidate, dict):
            raise TypeError(f"candidate {i} must be a dict of settings, got {type(candidate).__name__}")
        training = {k: v for k, v in candidate.items() if k in _FIELDS}
        architecture = {k: v for k, v in candidate.items() if k not in training}
        unknown = sorted(set(architecture) - accepted) if accepted is not None else []
        if unknown:
            raise ValueError(f"candidate {i} {candidate!r}: unknown setting(s) {unknown}: neither training "
                             f"settings (fields of TrainingConfig) nor arguments of {name} "
                             f"({', '.join(sorted(accepted))})")
        try:
            model = make(**architecture)
        except (TypeError, ValueError) as e:
            raise type(e)(f"candidate {i} {candidate!r}: {e}") from None
        if not isinstance(model, (InverseMap, Ensemble)):
            raise TypeError(f"make must return an InverseMap or an Ensemble, got {type(model).__name__}")
        merged = {**settings, **training}
        cfg = _training_config(config, merged, f"candidate {i} {candidate!r}")
        merged["n_threads"] = cfg.n_threads or 1
        models.append(model)
        shared.append(merged)
    if isinstance(validation, (tuple, list)) and len(validation) == 2:
        X_val, Y_val = validation
    elif isinstance(validation, (int, float)) and not isinstance(validation, bool) and 0 < validation < 1:
        X, Y = np.asarray(X), np.asarray(Y)
        n_val = int(round(len(X) * validation))
        if not 1 <= n_val < len(X):
            raise ValueError(f"validation fraction {validation} leaves {n_val} of {len(X)} samples")
        X, X_val, Y, Y_val = X[:-n_val], X[-n_val:], Y[:-n_val], Y[-n_val:]
    else:
        raise ValueError(f"validation must be (X_val, Y_val) or a fraction in (0, 1), got {validation!r}")
    with _client(client, workers) as c:
        data = c.scatter([X, Y, X_val, Y_val], broadcast=True, hash=False)
        futures = [c.submit(_fit_candidate, model, *data, config, merged, pure=False)
                   for model, merged in zip(models, shared)]
        scores = c.gather(futures)
    return [{"params": dict(candidate), **score} for candidate, score in zip(candidates, scores)]


def _experiment_task(name: str, out: str, kwargs: dict) -> dict:
    from .study import experiments

    return experiments.reproduce(name, out, **kwargs)


def reproduce(names, out, *, client=None, workers: int = 2, **kwargs) -> list[dict]:
    """Run several of the study's experiments on a Dask cluster, each experiment its own task.

    Experiment ``name`` writes ``out/<name>`` as ``experiments.reproduce(name, out / name,
    **kwargs)`` writes it in one process, with the same numbers.

    Parameters
    ----------
    names : str or sequence of str
        Experiments of :data:`fhn_inverse.study.experiments.EXPERIMENTS`, or "all" for every one of them.
    out : str or os.PathLike
        The parent folder of the runs; a folder every worker can write.
    client : dask.distributed.Client, optional
        The cluster to run on; None starts a ``LocalCluster`` of ``workers`` processes with one
        thread each for this call.
    workers : int, default 2
        Worker processes of that local cluster, at least 1.
    **kwargs
        As for :func:`fhn_inverse.study.experiments.reproduce` (``quick``, ``seed``, ``seeds``,
        ``test_set``, ``noise_law`` and fields of the training); ``progress`` defaults to False
        here, and ``n_threads`` 0 (all cores, the default) becomes 1, one thread per task, which
        ``results.json`` records. The ``speed`` experiment times training on its worker, beside
        whatever else runs there.

    Returns
    -------
    list of dict
        What each experiment's ``results.json`` holds, in the order of ``names``.

    Raises
    ------
    ValueError
        If a name is not an experiment or comes twice, ``workers`` is below 1, or a setting is
        out of its range.
    TypeError
        If a keyword is neither an argument of ``experiments.reproduce`` nor a field of the
        training.
    """
    from .study import experiments

    workers = as_int(workers, "workers", 1)
    if isinstance(names, str):
        names = list(experiments.EXPERIMENTS) if names == "all" else [names]
    names = list(names)
    if not names:
        raise ValueError("names must name at least one experiment, got none")
    for name in names:
        if name not in experiments.EXPERIMENTS:
            raise ValueError(f"experiment must be one of {sorted(experiments.EXPERIMENTS)} or 'all', got {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"each experiment may come once (each writes out/<name>), got {names}")
    kwargs = {"progress": False, **kwargs}
    named = set(inspect.signature(experiments.reproduce).parameters) - {"name", "out", "overrides"}
    overrides = {k: v for k, v in kwargs.items() if k not in named}
    unknown = sorted(set(overrides) - {f.name for f in fields(experiments.Training)})
    if unknown:
        raise TypeError(f"unknown argument(s) {unknown}: reproduce takes {', '.join(sorted(named))} and the "
                        "fields of the training (experiments.Training)")
    threads = experiments.Training(**overrides).n_threads  # checks every field given
    for key, choices in (("test_set", experiments.TEST_SETS), ("noise_law", experiments.NOISE_LAWS)):
        if key in kwargs and kwargs[key] not in choices:
            raise ValueError(f"{key} must be one of {choices}, got {kwargs[key]!r}")
    if "seeds" in kwargs:
        as_int(kwargs["seeds"], "seeds", 1)
    kwargs["n_threads"] = threads or 1
    out = Path(out).resolve()
    with _client(client, workers) as c:
        futures = [c.submit(_experiment_task, name, str(out / name), kwargs, pure=False) for name in names]
        return c.gather(futures)
