"""The experiments that score a map's point estimates: ``train_size`` (the study's table),
``noise`` (the three regimes at one N), ``resimulation`` (the ODE re-simulated at the estimates)
and ``joint`` (θ0, θ1, σ and ρ from time-series and Fourier features).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
from tqdm.auto import tqdm

from .. import metrics
from . import plotting
from ..data.dataset import Dataset
from ..data.features import features
from ..fitting.refine import best_fitting, fit_series
from ..models.simulation import simulate
from ..nn import InverseMap
from ..nn.ensemble import Ensemble
from .runs import JOINT_NAMES, REGIMES, THETA_NAMES, Run, Setup, Training, _data, _fit, _series

__all__ = ["train_size", "noise", "resimulation", "joint"]



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
        What :meth:`~fhn_inverse.study.runs.Run.write` wrote to ``results.json``; its ``results``
        hold ``table``, and for seed ensembles ``best_fitting`` and ``fitted``.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`~fhn_inverse.study.runs.TEST_SETS` or
        ``setup.noise_law`` not one of :data:`~fhn_inverse.study.runs.NOISE_LAWS`.
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
        What :meth:`~fhn_inverse.study.runs.Run.write` wrote to ``results.json``; its ``results``
        hold ``n`` and ``table``.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`~fhn_inverse.study.runs.TEST_SETS` or
        ``setup.noise_law`` not one of :data:`~fhn_inverse.study.runs.NOISE_LAWS`.
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
        What :meth:`~fhn_inverse.study.runs.Run.write` wrote to ``results.json``; its ``results``
        hold ``n``, ``percentiles`` and ``table``.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`~fhn_inverse.study.runs.TEST_SETS` or
        ``setup.noise_law`` not one of :data:`~fhn_inverse.study.runs.NOISE_LAWS`.
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
        What :meth:`~fhn_inverse.study.runs.Run.write` wrote to ``results.json``; its ``results``
        hold ``table``: per training size and kind, R² and Median-APE per target.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`~fhn_inverse.study.runs.TEST_SETS` or
        ``setup.noise_law`` not one of :data:`~fhn_inverse.study.runs.NOISE_LAWS`.
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
