"""The experiments on map families, uncertainty and speed: ``accuracy`` (dense against
convolutional maps, a random hyperparameter search), ``covariance`` (the study's local Gaussians)
and ``speed`` (the study's speed table, run by :mod:`fhn_inverse.study.speed`).
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
from tqdm.auto import tqdm

from .. import metrics
from . import plotting
from .._util.validation import as_int
from ..fitting.refine import fit_series
from ..nn import InverseMap
from ..nn.ensemble import Ensemble
from ..uncertainty.laplace import REFERENCE_NOISE, laplace_covariance
from ..uncertainty.local_gaussian import cov_error, mean_error
from .runs import REGIMES, THETA_NAMES, Run, Setup, _data, _fit, _series

__all__ = ["accuracy", "covariance", "speed"]



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
        What :meth:`~fhn_inverse.study.runs.Run.write` wrote to ``results.json``; its ``results``
        hold ``n``, ``trials`` (every trial) and ``best`` (the best map of each family, scored on the
        test set).

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`~fhn_inverse.study.runs.TEST_SETS` or
        ``setup.noise_law`` not one of :data:`~fhn_inverse.study.runs.NOISE_LAWS`.
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
        What :meth:`~fhn_inverse.study.runs.Run.write` wrote to ``results.json``; its ``results``
        hold ``n``, ``noise``, ``table``, ``baselines`` and ``target_spread``.

    Raises
    ------
    ValueError
        If ``setup.test_set`` is not one of :data:`~fhn_inverse.study.runs.TEST_SETS` or
        ``setup.noise_law`` not one of :data:`~fhn_inverse.study.runs.NOISE_LAWS`.
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
