"""The study's experiments, each a function that writes a run folder and returns its results.

A run folder holds ``results.json`` (configuration, every number, timings), the plots (PNG) and
the trained model files. Every experiment has a full size — the study's settings — and a
``quick`` size that finishes in under a minute for tests and previews.

Regimes (spec/paper.md): ``clean/clean`` trains and tests on noise-free series,
``clean/noisy`` trains on noise-free and tests on noisy series, ``noisy/noisy`` trains and tests
on noisy series. One simulated data set carries both the clean series ``u`` and the noisy ``d``
for the same parameters, so the regimes differ only in the series used.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import metrics
from . import plotting
from .._util.io import atomic_savefig, atomic_write_text
from ..data.dataset import TEST_SIZE, TEST_START, TRAIN_SIZES, Dataset, study_data
from ..nn.ensemble import Ensemble
from .._util.validation import as_int
from ..data.features import features
from ..uncertainty.laplace import REFERENCE_NOISE, laplace_covariance
from ..uncertainty.local_gaussian import cov_error, mean_error
from ..nn import InverseMap
from ..nn.training import TrainingConfig
from ..fitting.refine import best_fitting, fit_series
from ..models.simulation import AR1Noise, simulate

__all__ = ["REGIMES", "THETA_NAMES", "JOINT_NAMES", "Training", "Setup", "Run", "test_set_description", "machine",
           "TEST_SETS", "NOISE_LAWS", "train_size", "noise", "resimulation", "joint", "accuracy", "covariance",
           "speed", "EXPERIMENTS", "reproduce", "merge_seeds"]

REGIMES = ("clean/clean", "clean/noisy", "noisy/noisy")
THETA_NAMES = ("theta0", "theta1")
JOINT_NAMES = ("theta0", "theta1", "sigma", "rho")


@dataclass
class Training(TrainingConfig):
    """How every map of an experiment is trained: a TrainingConfig with the study's settings.

    A :class:`~fhn_inverse.nn.training.TrainingConfig` (its fields and checks) with the study's
    settings — Adam, lr 2e-3, batch 32, 200 epochs, min–max label scaling with a sigmoid output, MSE,
    10 % of the training set held out for early stopping with patience 40, restoring the best epoch,
    training seed 0 — and one field more, ``members``.

    Parameters
    ----------
    members : int, default 1
        At least 1. With ``members`` > 1 every map is a seed ensemble of that many maps (seeds seed,
        seed + 1, …) whose mean prediction is scored.
    """

    epochs: int = 200
    lr: float = 2e-3
    validation: float | None = 0.1
    early_stopping: int | None = 40
    seed: int = 0
    input_scaling: str = "none"
    members: int = 1

    def __post_init__(self):
        super().__post_init__()
        self.members = as_int(self.members, "members", 1)


@dataclass
class Setup:
    """Sizes and data of an experiment.

    Parameters
    ----------
    train_sizes : tuple of int, default TRAIN_SIZES
        The training-set sizes N; the data's training pool has the largest.
    test_size : int, default TEST_SIZE
        The number of test series.
    seed : int, default 0
        The data seed.
    training : Training, default ``Training()``
        How every map of the experiment is trained.
    fit : dict, default {}
        Keyword arguments of ``fit_series`` where an experiment fits the ODE to the test series
        (resimulation, covariance); empty: its defaults.
    test_set : {"fixed", "stream"}, default "fixed"
        "fixed": ``fi.test_set``, the same 2,000 series for every experiment, disjoint from every
        pool; "stream": the test series follow the training pool in the data stream (so the test set
        depends on the pool's size).
    noise_law : {"study", "uniform"}, default "study"
        How the noise's (σ, ρ) are drawn per series: "study" (``AR1Noise.study()``, the law of the
        authors' own arrays), or "uniform" over the study's ranges.
    """

    train_sizes: tuple = TRAIN_SIZES
    test_size: int = TEST_SIZE
    seed: int = 0
    training: Training = field(default_factory=Training)
    #: keyword arguments of ``fit_series`` where an experiment fits the ODE to the test series
    #: (resimulation, covariance); empty: its defaults
    fit: dict = field(default_factory=dict)
    #: "fixed": ``fi.test_set``, the same 2,000 series for every experiment, disjoint from every
    #: pool; "stream": the test series follow the training pool in the data stream (so the test
    #: set depends on the pool's size)
    test_set: str = "fixed"
    #: how the noise's (σ, ρ) are drawn per series: "study" (``AR1Noise.study()``, the law of the
    #: authors' own arrays), or "uniform" over the study's ranges
    noise_law: str = "study"

    @classmethod
    def quick(cls, seed: int = 0) -> "Setup":
        """The quick size, for tests and previews.

        Parameters
        ----------
        seed : int, default 0
            The data seed and the training seed.

        Returns
        -------
        Setup
            Training sizes 250 and 500, 300 test series, 12 epochs of batches of 32 without validation
            or early stopping, and ``fit_series`` with 10 iterations, 1 round and a grid of 16.
        """
        return cls(train_sizes=(250, 500), test_size=300, seed=seed,
                   training=Training(epochs=12, batch_size=32, validation=None, early_stopping=None, seed=seed),
                   fit={"iterations": 10, "rounds": 1, "grid": 16})


class Run:
    """A run folder: results written atomically, figures and model files beside them.

    Parameters
    ----------
    root : str or os.PathLike
        The folder, created (with its subfolder ``models``) if needed.
    name : str
        The experiment's name, recorded in ``results.json``.
    """

    def __init__(self, root, name: str):
        self.path = Path(root)
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "models").mkdir(exist_ok=True)
        self.name = name
        self.started = time.perf_counter()
        self.load_start = _load_average()

    def figure(self, fig, name: str) -> Path:
        """Save a figure as ``<name>.png`` in the run folder, atomically.

        Parameters
        ----------
        fig : matplotlib.figure.Figure
            The figure.
        name : str
            The file's name without its suffix.

        Returns
        -------
        Path
            The file.
        """
        path = self.path / f"{name}.png"
        atomic_savefig(fig, path, dpi=110)
        return path

    def model(self, model: InverseMap | Ensemble, name: str) -> Path:
        """Save a map or ensemble under ``models`` in the run folder.

        Parameters
        ----------
        model : InverseMap or Ensemble
            A map, saved as ``models/<name>.safetensors``, or an ensemble, saved as the folder
            ``models/<name>``.
        name : str
            The file's or folder's name.

        Returns
        -------
        Path
            The file or folder.
        """
        if isinstance(model, Ensemble):  # a folder of member files
            return model.save(self.path / "models" / name)
        path = self.path / "models" / f"{name}.safetensors"
        model.save(path)
        return path

    def write(self, setup: Setup | dict, results: dict) -> dict:
        """Write ``results.json`` atomically and return what it holds.

        Parameters
        ----------
        setup : Setup or dict
            The configuration, recorded under ``setup``.
        results : dict
            Every number, recorded under ``results``.

        Returns
        -------
        dict
            ``experiment``, ``setup``, ``results``, ``elapsed_s`` (seconds since the :class:`Run` was
            made), ``machine`` (:func:`machine`), ``load_average`` (at the start and the end), and for a
            :class:`Setup` also ``test_set`` (:func:`test_set_description`).
        """
        config = asdict(setup) if is_dataclass(setup) else setup
        payload = {"experiment": self.name, "setup": _jsonable(config), "results": _jsonable(results),
                   "elapsed_s": round(time.perf_counter() - self.started, 2), "machine": machine(),
                   "load_average": {"start": self.load_start, "end": _load_average()}}
        if isinstance(setup, Setup):
            payload["test_set"] = test_set_description(setup)
        atomic_write_text(self.path / "results.json", json.dumps(payload, indent=2) + "\n")
        return payload


def test_set_description(setup: Setup) -> dict:
    """Which series an experiment of ``setup`` tests on: data seed, first stream index, size.

    Parameters
    ----------
    setup : Setup
        The experiment's setup.

    Returns
    -------
    dict
        ``kind`` (``setup.test_set``), ``seed`` (the data seed), ``start`` (the first stream index),
        ``size`` and ``noise_law``.
    """
    start = TEST_START if setup.test_set == "fixed" else max(setup.train_sizes)
    return {"kind": setup.test_set, "seed": setup.seed, "start": start, "size": setup.test_size,
            "noise_law": setup.noise_law}


def _load_average() -> float | None:
    """The 1-minute load average (None where the platform has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine() -> dict:
    """What a run's numbers depend on: platform, CPU model and cores, Python, the package's version.

    Returns
    -------
    dict
        ``platform``, ``cpu``, ``cores``, ``python`` and ``fhn_inverse``.
    """
    from .._version import __version__

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "fhn_inverse": __version__}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


TEST_SETS = ("stream", "fixed")
NOISE_LAWS = ("uniform", "study")


def _noise(setup: Setup) -> AR1Noise:
    if setup.noise_law not in NOISE_LAWS:
        raise ValueError(f"noise_law must be one of {NOISE_LAWS}, got {setup.noise_law!r}")
    return AR1Noise.study() if setup.noise_law == "study" else AR1Noise()


def _data(setup: Setup, progress: bool) -> tuple[Dataset, Dataset]:
    if setup.test_set not in TEST_SETS:
        raise ValueError(f"test_set must be one of {TEST_SETS}, got {setup.test_set!r}")
    return study_data(setup.seed, noise=_noise(setup), train_size=max(setup.train_sizes), test_size=setup.test_size,
                      fixed_test=setup.test_set == "fixed",
                      n_threads=setup.training.n_threads, progress=progress)


def _series(data: Dataset, clean: bool) -> np.ndarray:
    return data.u if clean else data.d


def _fit(model: InverseMap, x, y, training: Training, progress: bool, trained_on=None) -> InverseMap | Ensemble:
    if as_int(training.members, "members", 1) > 1:
        model = Ensemble.like(model, training.members)
    return model.fit(x, y, training, trained_on=trained_on, progress=progress)


def _train_regime(pool: Dataset, n: int, regime: str, training: Training, progress: bool,
                  make=InverseMap.cnn) -> InverseMap:
    train_clean = regime.split("/")[0] == "clean"
    return _fit(make(seed=training.seed), _series(pool[:n], train_clean), pool.theta[:n], training, progress,
                trained_on={**pool.config, "series": "clean" if train_clean else "noisy", "size": n})


def _regime_scores(model: InverseMap, test: Dataset, regime: str) -> tuple[dict, np.ndarray]:
    pred = model.predict(_series(test, regime.split("/")[1] == "clean"))
    return metrics.report(test.theta, pred, THETA_NAMES), pred


def train_size(out, setup: Setup | None = None, *, progress: bool = True) -> dict:
    """Sensitivity to the training-set size: Median-APE and R² of the study's CNN for each N and regime.

    This is the study's table. Maps trained on clean series serve both clean-trained regimes, so each
    (N, training series) is trained once. For seed ensembles also the tables of the best-fitting of
    the members' and the mean's estimates (``refine.best_fitting``) and of the least-squares fit to
    each series started from them (``refine.fit_series``).

    Parameters
    ----------
    out : str or os.PathLike
        The run folder, created if needed.
    setup : Setup, optional
        Sizes and data; default ``Setup()``.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    dict
        What :meth:`Run.write` wrote to ``results.json``; its ``results`` hold ``table``, and for
        seed ensembles ``best_fitting`` and ``fitted``.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`TEST_SETS` or ``setup.noise_law`` not one of
        :data:`NOISE_LAWS`.
    """
    setup = setup or Setup()
    run = Run(out, "train_size")
    pool, test = _data(setup, progress)
    table, histories, best_table, fitted_table = {}, {}, {}, {}
    jobs = list(itertools.product(setup.train_sizes, ("clean", "noisy")))
    for n, train_kind in tqdm(jobs, desc="train_size", disable=not progress):
        regime = "clean/clean" if train_kind == "clean" else "noisy/noisy"
        model = _train_regime(pool, n, regime, setup.training, progress)
        run.model(model, f"cnn_train-{train_kind}_N{n}")
        histories[f"{train_kind}, N={n}"] = model.history
        for r in REGIMES:
            if r.split("/")[0] == train_kind:
                scores, pred = _regime_scores(model, test, r)
                table.setdefault(r, {})[n] = scores
                if isinstance(model, Ensemble):  # the best-fitting of the members' and the mean's estimates
                    d = _series(test, r.split("/")[1] == "clean")
                    cand = np.concatenate([model.predict_members(d), pred[None]])
                    best = best_fitting(cand, d, t=test.t, n_threads=setup.training.n_threads)
                    best_table.setdefault(r, {})[n] = metrics.report(test.theta, best.theta, THETA_NAMES)
                    fit = fit_series(best.theta[None], d, t=test.t, n_threads=setup.training.n_threads)
                    fitted_table.setdefault(r, {})[n] = metrics.report(test.theta, fit.theta, THETA_NAMES)
                if n == max(setup.train_sizes):
                    run.figure(plotting.predicted_vs_true(test.theta, pred, ("θ0", "θ1"),
                                                          f"{plotting.regime_label(r)}, N = {n}"),
                               f"predicted_vs_true_{r.replace('/', '-')}")
    sizes = list(setup.train_sizes)
    run.figure(plotting.sensitivity(sizes, {r: [table[r][n]["median_ape_all"] for n in sizes] for r in REGIMES},
                                    "Median-APE", "Sensitivity to training size", logy=True), "median_ape_vs_n")
    run.figure(plotting.sensitivity(sizes, {r: [table[r][n]["r2_mean"] for n in sizes] for r in REGIMES},
                                    "R² (mean over θ0, θ1)", "Sensitivity to training size"), "r2_vs_n")
    run.figure(plotting.loss_curves(histories, "Training loss"), "loss_curves")
    run.figure(plotting.prior_samples(pool.theta, test.theta), "prior_samples")
    extra = {"best_fitting": best_table, "fitted": fitted_table} if best_table else {}
    return run.write(setup, {"table": table, **extra})


def noise(out, setup: Setup | None = None, *, n: int | None = None, progress: bool = True) -> dict:
    """Noise sensitivity at one training size: the three regimes side by side.

    Parameters
    ----------
    out : str or os.PathLike
        The run folder, created if needed.
    setup : Setup, optional
        Sizes and data; default ``Setup()``.
    n : int, optional
        The training size; default 1000, or the largest quick size (the largest of
        ``setup.train_sizes`` where they do not include 1000).
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    dict
        What :meth:`Run.write` wrote to ``results.json``; its ``results`` hold ``n`` and ``table``.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`TEST_SETS` or ``setup.noise_law`` not one of
        :data:`NOISE_LAWS`.
    """
    setup = setup or Setup()
    n = n or (1000 if 1000 in setup.train_sizes else max(setup.train_sizes))
    setup = replace(setup, train_sizes=(n,))
    run = Run(out, "noise")
    pool, test = _data(setup, progress)
    table = {}
    for train_kind in tqdm(("clean", "noisy"), desc="noise", disable=not progress):
        regime = f"{train_kind}/{train_kind}"
        model = _train_regime(pool, n, regime, setup.training, progress)
        run.model(model, f"cnn_train-{train_kind}_N{n}")
        for r in REGIMES:
            if r.startswith(train_kind):
                table[r], pred = _regime_scores(model, test, r)
                run.figure(plotting.predicted_vs_true(test.theta, pred, ("θ0", "θ1"),
                                                      f"{plotting.regime_label(r)}, N = {n}"),
                           f"predicted_vs_true_{r.replace('/', '-')}")
    run.figure(plotting.series(test.t, test.u[:3], test.d[:3], "Test series: clean u and noisy d"), "test_series")
    return run.write(setup, {"n": n, "table": table})


def _resimulation_row(d, u_hat, ok) -> tuple[dict, metrics.ResimulationErrors]:
    """Errors of the re-simulated series u_hat against the test series d over the rows where the
    simulation succeeded (ok): per-series mean and median, and pooled over the whole set; and
    the per-series errors themselves."""
    err = metrics.resimulation_errors(d[ok], u_hat[ok])
    pooled = metrics.pooled_resimulation_errors(d[ok], u_hat[ok])
    row = {"mse_mean": float(err.mse.mean()), "squared_bias_mean": float(err.squared_bias.mean()),
           "c_mse_mean": float(err.c_mse.mean()), "mse_median": float(np.median(err.mse)),
           "squared_bias_median": float(np.median(err.squared_bias)),
           "c_mse_median": float(np.median(err.c_mse)),
           "squared_bias_pooled": pooled.squared_bias, "c_mse_pooled": pooled.c_mse,
           "failed_simulations": int((~ok).sum())}
    return row, err


def resimulation(out, setup: Setup | None = None, *, n: int | None = None,
                 percentiles=(10, 50, 90), progress: bool = True) -> dict:
    """Re-simulate the ODE at the predicted parameters and compare with the test series.

    Per regime: per-sample MSE, squared bias and C-MSE (mean and median over the test set, and the
    split pooled over the whole set), the same for the true parameters' series (the floor the
    measurement noise sets), and the series at chosen percentiles of the per-sample MSE. For seed
    ensembles the same errors also for the best-fitting of the members' and the mean's estimates per
    series (``refine.best_fitting``), under "best_fitting" with how often each candidate was chosen;
    and for every map the least-squares fit of the ODE to each series started from its estimates
    (``refine.fit_series``), under "fitted" with how many series took a global restart and the R² of
    its parameters.

    Parameters
    ----------
    out : str or os.PathLike
        The run folder, created if needed.
    setup : Setup, optional
        Sizes and data; default ``Setup()``.
    n : int, optional
        The training size; default the largest of ``setup.train_sizes``.
    percentiles : sequence of float, default (10, 50, 90)
        The percentiles of the per-sample MSE whose series are plotted.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    dict
        What :meth:`Run.write` wrote to ``results.json``; its ``results`` hold ``n``,
        ``percentiles`` and ``table``.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`TEST_SETS` or ``setup.noise_law`` not one of
        :data:`NOISE_LAWS`.
    """
    setup = setup or Setup()
    n = n or max(setup.train_sizes)
    setup = replace(setup, train_sizes=(n,))
    run = Run(out, "resimulation")
    pool, test = _data(setup, progress)
    table = {}
    for train_kind in tqdm(("clean", "noisy"), desc="resimulation", disable=not progress):
        model = _train_regime(pool, n, f"{train_kind}/{train_kind}", setup.training, progress)
        run.model(model, f"cnn_train-{train_kind}_N{n}")
        for r in REGIMES:
            if not r.startswith(train_kind):
                continue
            test_clean = r.split("/")[1] == "clean"
            d = _series(test, test_clean)
            pred = model.predict(d)
            u_hat, status = simulate(pred, t=test.t, n_threads=setup.training.n_threads, return_status=True)
            ok = status == 0
            table[r], err = _resimulation_row(d, u_hat, ok)
            # the floor: the true parameters' series against the test series (zero for noise-free
            # test series; in the noisy regimes the measurement noise's own bias and variance)
            table[r]["true_parameters"] = _resimulation_row(d, test.u, np.ones(len(d), bool))[0]
            cand = pred[None]
            if isinstance(model, Ensemble):  # the best-fitting of the members' and the mean's estimates
                cand = np.concatenate([model.predict_members(d), pred[None]])
                best = best_fitting(cand, d, t=test.t, n_threads=setup.training.n_threads)
                u_best, st = simulate(best.theta, t=test.t, n_threads=setup.training.n_threads,
                                      return_status=True)
                table[r]["best_fitting"] = _resimulation_row(d, u_best, st == 0)[0]
                table[r]["best_fitting"]["chosen"] = np.bincount(best.index, minlength=len(cand)).tolist()
                cand = best.theta[None]  # fit_series would pick the same among the candidates
            # the least-squares fit of the ODE to each series, started from the estimates
            fit = fit_series(cand, d, t=test.t, n_threads=setup.training.n_threads, **setup.fit)
            u_fit, st = simulate(fit.theta, t=test.t, n_threads=setup.training.n_threads, return_status=True)
            table[r]["fitted"] = _resimulation_row(d, u_fit, st == 0)[0]
            table[r]["fitted"]["restarted"] = int(fit.restarted.sum())
            table[r]["fitted"]["r2"] = dict(zip(THETA_NAMES, map(float, metrics.r2_score(test.theta, fit.theta))))
            idx_ok = np.flatnonzero(ok)
            order = idx_ok[np.argsort(err.mse)]
            picks = [order[min(len(order) - 1, int(round(q / 100 * (len(order) - 1))))] for q in percentiles]
            labels = [f"{q}th percentile of MSE: {float(np.mean((d[i] - u_hat[i]) ** 2)):.3g}" for q, i in
                      zip(percentiles, picks)]
            run.figure(plotting.resimulated_series(test.t, d[picks], u_hat[picks], labels,
                                                   f"Re-simulation, {plotting.regime_label(r)}"),
                       f"resimulated_{r.replace('/', '-')}")
    return run.write(setup, {"n": n, "percentiles": list(percentiles), "table": table})


def joint(out, setup: Setup | None = None, *, kinds=("time", "fourier", "time+fourier"),
          progress: bool = True) -> dict:
    """Joint inference of (θ0, θ1, σ, ρ) from noisy series with time-series, Fourier and time+Fourier features.

    R² per target for each training size (the study: N = 1000, 8000).

    Parameters
    ----------
    out : str or os.PathLike
        The run folder, created if needed.
    setup : Setup, optional
        Sizes and data; default ``Setup(train_sizes=(1000, 8000))``.
    kinds : sequence of str, default ("time", "fourier", "time+fourier")
        The kinds of features.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    dict
        What :meth:`Run.write` wrote to ``results.json``; its ``results`` hold ``table``: per
        training size and kind, R² and Median-APE per target.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`TEST_SETS` or ``setup.noise_law`` not one of
        :data:`NOISE_LAWS`.
    """
    setup = setup or Setup(train_sizes=(1000, 8000))
    run = Run(out, "joint")
    pool, test = _data(setup, progress)
    y_pool = np.column_stack([pool.theta, pool.noise])
    y_test = np.column_stack([test.theta, test.noise])
    x_pool = {k: features(pool.d, k) for k in kinds}
    x_test = {k: features(test.d, k) for k in kinds}
    table = {}
    for n, kind in tqdm(list(itertools.product(setup.train_sizes, kinds)), desc="joint", disable=not progress):
        model = _fit(InverseMap.cnn(seed=setup.training.seed), x_pool[kind][:n], y_pool[:n], setup.training, progress)
        run.model(model, f"cnn_{kind.replace('+', '-')}_N{n}")
        pred = model.predict(x_test[kind])
        table.setdefault(str(n), {})[kind] = {
            "r2": dict(zip(JOINT_NAMES, map(float, metrics.r2_score(y_test, pred)))),
            "median_ape": dict(zip(JOINT_NAMES, map(float, metrics.median_ape(y_test, pred, per_parameter=True)))),
        }
        if n == max(setup.train_sizes) and kind == kinds[-1]:
            run.figure(plotting.predicted_vs_true(y_test, pred, ("θ0", "θ1", "σ", "ρ"), f"{kind}, N = {n}"),
                       "predicted_vs_true")
    return run.write(setup, {"table": table})


def accuracy(out, setup: Setup | None = None, *, n: int | None = None, trials: int = 8,
             progress: bool = True) -> dict:
    """Dense against convolutional maps with a random hyperparameter search, regime noisy/noisy.

    The search tries ``trials`` maps per family, selected on a validation split of the training
    data. Every trial is recorded; the best of each family is scored on the test set.

    Parameters
    ----------
    out : str or os.PathLike
        The run folder, created if needed.
    setup : Setup, optional
        Sizes and data; default ``Setup()``.
    n : int, optional
        The training size; default 1000, or the largest of ``setup.train_sizes`` where they do not
        include 1000.
    trials : int, default 8
        Maps tried per family, the family's default map among them.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    dict
        What :meth:`Run.write` wrote to ``results.json``; its ``results`` hold ``n``, ``trials``
        (every trial) and ``best`` (the best map of each family, scored on the test set).

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`TEST_SETS` or ``setup.noise_law`` not one of
        :data:`NOISE_LAWS`.
    """
    setup = setup or Setup()
    n = n or (1000 if 1000 in setup.train_sizes else max(setup.train_sizes))
    setup = replace(setup, train_sizes=(n,))
    run = Run(out, "accuracy")
    pool, test = _data(setup, progress)
    rng = np.random.default_rng(setup.seed)
    space = {
        "dense": lambda: {"units": [int(rng.choice([16, 32, 64, 128]))] * int(rng.integers(2, 6))},
        "cnn": lambda: {"filters": [int(f) * int(rng.choice([1, 2])) for f in (4, 8, 16)][: int(rng.integers(2, 4))],
                        "dense": [int(rng.choice([16, 32, 64]))] * int(rng.integers(1, 3))},
    }
    families = {"dense": InverseMap.dense, "cnn": InverseMap.cnn}
    defaults = {"dense": {"units": [32, 32, 32, 32]}, "cnn": {"filters": [8, 16, 32], "dense": [32, 32]}}
    x_pool, y_pool = pool.d[:n], pool.theta[:n]
    n_val = max(1, n // 5)
    search_training = replace(setup.training, validation=None, early_stopping=None)
    trials_table, best = [], {}
    for family in families:
        candidates, seen = [defaults[family]], {json.dumps(defaults[family])}
        for _ in range(100 * trials):  # distinct draws; the space holds more than any sensible budget
            if len(candidates) >= trials:
                break
            params = space[family]()
            if json.dumps(params) not in seen:
                seen.add(json.dumps(params))
                candidates.append(params)
        for params in tqdm(candidates, desc=f"search {family}", disable=not progress):
            model = families[family](seed=setup.training.seed, **params)
            model.fit(x_pool[:-n_val], y_pool[:-n_val], epochs=search_training.epochs,
                      batch_size=search_training.batch_size, lr=search_training.lr,
                      seed=search_training.seed, n_threads=search_training.n_threads, progress=progress)
            val = metrics.report(y_pool[-n_val:], model.predict(x_pool[-n_val:]), THETA_NAMES)
            trials_table.append({"family": family, "params": params, "n_params": model.n_params,
                                 "val_r2_mean": val["r2_mean"], "val_median_ape": val["median_ape_all"]})
            if family not in best or val["r2_mean"] > best[family][0]["val_r2_mean"]:
                best[family] = (trials_table[-1], params)
    results = {"n": n, "trials": trials_table, "best": {}}
    for family, (_trial, params) in best.items():
        model = _fit(families[family](seed=setup.training.seed, **params), x_pool, y_pool, setup.training, progress)
        run.model(model, f"best_{family}")
        pred = model.predict(test.d)
        results["best"][family] = {"params": params, "n_params": model.n_params,
                                   "test": metrics.report(test.theta, pred, THETA_NAMES)}
        run.figure(plotting.predicted_vs_true(test.theta, pred, ("θ0", "θ1"),
                                              f"best {family}, train noisy, test noisy, N = {n}"),
                   f"predicted_vs_true_{family}")
    return run.write(setup, results)


def _local_gaussian_row(theta, C, mean, cov) -> dict:
    return {"e_theta": mean_error(theta, mean), "e_C": cov_error(C, cov)}


def covariance(out, setup: Setup | None = None, *, n: int | None = None, noise=REFERENCE_NOISE,
               examples: int = 6, fit: bool = True, progress: bool = True) -> dict:
    """The study's local Gaussians: a CNN's θ̂ and Ĉ against the true parameters and their Laplace covariance.

    The CNN with 5 outputs (θ̂ and the log-Euclidean coordinates of Ĉ, standardised targets, MSE) is
    trained on N series with targets N(θ̄, C), θ̄ the true parameters and C their Laplace covariance
    (``laplace_covariance`` at θ̄ with one noise level ``noise`` for every sample and the default
    prior; spec/paper.md, "Local Gaussians"); per regime the medians of ‖θ̄ − θ̂‖₂/‖θ̄‖₂ (e_theta) and
    ‖C − Ĉ‖_F/‖C‖_F (e_C). With ``members`` > 1 every map is a seed ensemble: θ̂ the members' mean,
    Ĉ the log-Euclidean mean of theirs (the Gaussian-NLL heads: their mixture).

    Beside the network alone ("network"), for the same test series: C evaluated by the core at the
    network's θ̂ ("plug_in": the network's mean and ``laplace_covariance`` at it); the Gaussian-NLL
    head trained on the same series (its covariance is the map's own error, a different object,
    scored against the same targets); with ``fit``, the least-squares fit of the ODE to each series
    started from the network's θ̂ (``fit_series``) and C at the fitted θ; and what the numbers mean:
    e_C of the constant prediction exp(mean of the training targets' log coordinates) and of C at
    the prior mean.

    Parameters
    ----------
    out : str or os.PathLike
        The run folder, created if needed.
    setup : Setup, optional
        Sizes and data; default ``Setup()``.
    n : int, optional
        The training size N; default the largest of ``setup.train_sizes`` (8,000 in the study's
        setup).
    noise : (float, float), default REFERENCE_NOISE
        The one noise level (σ, ρ) of the Laplace covariances, for every sample.
    examples : int, default 6
        Test series whose Gaussians are plotted.
    fit : bool, default True
        Also score the least-squares fit of the ODE from the network's θ̂ ("fitted").
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    dict
        What :meth:`Run.write` wrote to ``results.json``; its ``results`` hold ``n``, ``noise``,
        ``table``, ``baselines`` and ``target_spread``.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`TEST_SETS` or ``setup.noise_law`` not one of
        :data:`NOISE_LAWS`.
    """
    setup = setup or Setup()
    members = as_int(setup.training.members, "members", 1)
    n = n or max(setup.train_sizes)
    setup = replace(setup, train_sizes=(n,))
    tr = setup.training
    run = Run(out, "covariance")
    pool, test = _data(setup, progress)
    train = pool[:n]
    kw = dict(noise=noise, n_threads=tr.n_threads)
    C_train, C_test = laplace_covariance(train.theta, **kw), laplace_covariance(test.theta, **kw)
    from ..uncertainty.local_gaussian import from_log_coordinates, log_coordinates

    constant = from_log_coordinates(log_coordinates(C_train).mean(axis=0))
    at_prior_mean = laplace_covariance(np.asarray([0.4, 0.4]), **kw)
    baselines = {"constant_log_mean": cov_error(C_test, np.broadcast_to(constant, C_test.shape).copy()),
                 "prior_mean": cov_error(C_test, np.broadcast_to(at_prior_mean, C_test.shape).copy())}
    fit_kw = dict(config=tr, progress=progress, scaling="standard")
    table, histories = {}, {}
    for train_kind in tqdm(("clean", "noisy"), desc="covariance", disable=not progress):
        x = _series(train, train_kind == "clean")
        def make():
            cnn = InverseMap.cnn(seed=tr.seed, output_activation=None)
            return Ensemble.like(cnn, members) if members > 1 else cnn

        local = make().fit(x, train.theta, cov=C_train, **fit_kw)
        nll = make().fit(x, train.theta, loss="gaussian_nll", **fit_kw)
        run.model(local, f"cnn_local-gaussian_train-{train_kind}_N{n}")
        run.model(nll, f"cnn_gaussian-nll_train-{train_kind}_N{n}")
        histories[f"local Gaussian, trained on {train_kind} series"] = local.history
        for r in REGIMES:
            if not r.startswith(train_kind):
                continue
            d = _series(test, r.split("/")[1] == "clean")
            mean, cov = local.predict(d, return_cov=True)
            row = {"network": _local_gaussian_row(test.theta, C_test, mean, cov)}
            C_plug, status = laplace_covariance(mean, return_status=True, **kw)
            ok = status == 0
            row["plug_in"] = {**_local_gaussian_row(test.theta[ok], C_test[ok], mean[ok], C_plug[ok]),
                              "failed": int((~ok).sum())}
            row["gaussian_nll"] = _local_gaussian_row(test.theta, C_test, *nll.predict(d, return_cov=True))
            if fit:
                fitted = fit_series(mean[None], d, t=test.t, n_threads=tr.n_threads, **setup.fit)
                C_fit, status = laplace_covariance(fitted.theta, return_status=True, **kw)
                ok = status == 0
                row["fitted"] = {**_local_gaussian_row(test.theta[ok], C_test[ok], fitted.theta[ok], C_fit[ok]),
                                 "failed": int((~ok).sum()), "restarted": int(fitted.restarted.sum())}
            table[r] = row
            run.figure(plotting.covariance_ellipses(test.theta[:examples], C_test[:examples], mean[:examples],
                                                    cov[:examples],
                                                    f"Local Gaussians, {plotting.regime_label(r)}, N = {n}"),
                       f"ellipses_{r.replace('/', '-')}")
    run.figure(plotting.loss_curves(histories, "Training loss (standardised targets)"), "loss_curves")
    return run.write(setup, {"n": n, "noise": list(noise), "table": table, "baselines": baselines,
                             "target_spread": {"largest_eigenvalue_quantiles": np.quantile(
                                 np.linalg.eigvalsh(C_test)[:, -1], [0.05, 0.5, 0.95]).tolist()}})


def speed(out, setup: Setup | None = None, *, quick: bool = False, progress: bool = True) -> dict:
    """The study's speed table (8-layer dense maps, 1,000,000 training samples) on this machine.

    See :mod:`fhn_inverse.study.speed`.

    Parameters
    ----------
    out : str or os.PathLike
        The run folder, created if needed.
    setup : Setup, optional
        Its training's ``n_threads`` and its ``seed`` are used; default ``Setup()``.
    quick : bool, default False
        Time a short window of every width.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    dict
        What :func:`fhn_inverse.study.speed.speed` returns.
    """
    from . import speed as _speed

    setup = setup or Setup()
    sizes = {"window": 1024, "pool": 1024, "full_max_width": 0} if quick else {}
    return _speed.speed(out, n_threads=setup.training.n_threads, seed=setup.seed, progress=progress, **sizes)


EXPERIMENTS = {"accuracy": accuracy, "noise": noise, "train_size": train_size, "resimulation": resimulation,
               "joint": joint, "covariance": covariance, "speed": speed}


def reproduce(name: str, out, *, quick: bool = False, seed: int = 0, progress: bool = True, seeds: int = 1,
              test_set: str = "fixed", noise_law: str = "study", **overrides) -> dict:
    """Run experiment ``name`` (one of :data:`EXPERIMENTS`) into the folder ``out``.

    Parameters
    ----------
    name : str
        The experiment, one of :data:`EXPERIMENTS`.
    out : str or os.PathLike
        The folder, created if needed.
    quick : bool, default False
        The quick size (:meth:`Setup.quick`) instead of the study's.
    seed : int, default 0
        The data seed and the first training seed.
    progress : bool, default True
        Show progress bars.
    seeds : int, default 1
        At least 1. ``seeds`` > 1 trains every map with the training seeds seed, seed + 1, … (the
        data stay those of ``seed``), each run in ``out/seed-<k>``, and writes ``out/results.json``
        whose numbers are one per seed wherever they differ (``report`` shows the median and the
        range, and counts a cell as beaten only where the study's value lies outside the range).
    test_set : {"fixed", "stream"}, default "fixed"
        See :class:`Setup`.
    noise_law : {"study", "uniform"}, default "study"
        See :class:`Setup`.
    **overrides
        Fields of the setup's :class:`Training` to change.

    Returns
    -------
    dict
        What :meth:`Run.write` wrote to ``results.json``; with several seeds, their merged results
        (:func:`merge_seeds`) with the training seeds under ``seeds``.

    Raises
    ------
    ValueError
        If ``name`` is not an experiment, ``test_set`` is not one of :data:`TEST_SETS`, or
        ``noise_law`` is not one of :data:`NOISE_LAWS`.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS)}, got {name!r}")
    seeds = as_int(seeds, "seeds", 1)
    if quick:
        setup = Setup.quick(seed)
    elif name == "joint":
        setup = Setup(train_sizes=(1000, 8000), seed=seed, training=Training(seed=seed))
    else:
        setup = Setup(seed=seed, training=Training(seed=seed))
    if test_set not in TEST_SETS:
        raise ValueError(f"test_set must be one of {TEST_SETS}, got {test_set!r}")
    if noise_law not in NOISE_LAWS:
        raise ValueError(f"noise_law must be one of {NOISE_LAWS}, got {noise_law!r}")
    setup = replace(setup, test_set=test_set, noise_law=noise_law)
    if overrides:
        setup = replace(setup, training=replace(setup.training, **overrides))
    if name == "speed":
        return speed(out, setup, quick=quick, progress=progress)
    if seeds == 1:
        return EXPERIMENTS[name](out, setup, progress=progress)
    run = Run(out, name)
    results = [EXPERIMENTS[name](Path(out) / f"seed-{k}", replace(setup, training=replace(
        setup.training, seed=setup.training.seed + k)), progress=progress)["results"] for k in range(seeds)]
    merged = merge_seeds(results)
    merged["seeds"] = [setup.training.seed + k for k in range(seeds)]
    return run.write(setup, merged)


def merge_seeds(results: list):
    """One structure from the results of several seeds.

    A number that differs between them becomes the list of their values (one per seed); what is
    equal in all stays as it is. Dicts with the same keys are merged key by key.

    Parameters
    ----------
    results : list
        The results, one per seed.

    Returns
    -------
    object
        The merged structure.
    """
    first = results[0]
    if all(isinstance(r, dict) for r in results) and all(r.keys() == first.keys() for r in results):
        return {k: merge_seeds([r[k] for r in results]) for k in first}
    if all(r == first for r in results):
        return first
    return list(results)  # numbers (or anything else) that differ: one per seed
