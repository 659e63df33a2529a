"""Diagnostics of posterior estimates, as plain functions over arrays: any estimator is checked the
same way, from a Gaussian per series (mean (N, D), cov (N, D, D)) or from samples (N, S, D).

Coverage at a grid of levels (per parameter and joint), simulation-based calibration (SBC) with
its ECDF-difference band, posterior z-score against contraction, recovery (R², Median-APE) and the
posterior predictive check each return numbers (a dataclass with ``to_dict``) and have a figure
function returning a matplotlib Figure. ``diagnose`` runs them all for a map or ensemble with a
covariance and writes ``report.json`` and PNG figures. ``fit_cov_scale`` fits the scalar covariance
scale (temperature) that is the remedy for an over- or under-confident head. No SciPy: χ² quantiles
come from the regularized incomplete gamma function, binomial tails from log-factorials.

The diagnostics live in the sibling modules ``stats``, ``coverage``, ``sbc``, ``recovery``,
``predictive`` and ``figures``; this module runs them (``diagnose``) and gathers their public names.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from .._util.validation import as_float_array, as_int, as_seed, as_threads
from .calibration import UncalibratedWarning
from .coverage import Coverage, coverage, fit_cov_scale
from .figures import coverage_figure, ppc_figure, recovery_figure, sbc_figure, z_contraction_figure
from .predictive import PosteriorPredictive, posterior_predictive
from .recovery import Recovery, ZContraction, recovery, z_contraction
from .sbc import SBC, sbc
from .stats import (
    LEVELS, REPORT_LEVELS, _json, _levels, _names, _normal_quantile, _row_blocks, _theta, chi2_cdf,
    chi2_quantile, sample_gaussian,
)

__all__ = [
    "LEVELS", "REPORT_LEVELS", "Coverage", "SBC", "ZContraction", "Recovery", "PosteriorPredictive",
    "chi2_cdf", "chi2_quantile", "sample_gaussian", "coverage", "sbc", "z_contraction", "recovery",
    "posterior_predictive", "fit_cov_scale", "diagnose", "coverage_figure", "sbc_figure",
    "z_contraction_figure", "recovery_figure", "ppc_figure",
]


def _is_ensemble(model) -> bool:
    """An ensemble of maps (it has ``members``) rather than one map."""
    return hasattr(model, "members")


def _model_draws(model, X, mean, cov, n_samples, seed, n_threads):
    if model.head == "gaussian_nll":  # raw or calibrated, the report says which: no warning here
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UncalibratedWarning)
            return model.sample(X, n_samples, seed=seed, n_threads=n_threads)
    return sample_gaussian(mean, cov, n_samples, seed=seed)  # a local-Gaussian head's estimated covariance


def _ode_of(model):
    """The ODE model a map (or an ensemble's first member) was trained on, from its record; None
    (FitzHugh–Nagumo) when it records none."""
    from ..models.simulation import model_from_dict

    first = model.members[0] if _is_ensemble(model) else model
    record = (getattr(first, "trained_on", None) or {}).get("model")
    return model_from_dict(record) if record else None


def diagnose(model, X_test, theta_test, *, out=None, levels=LEVELS, n_samples: int = 1000, seed: int = 0,
             series=None, noise=None, t=None, names: Sequence[str] | None = None, ppc_series: int = 4,
             n_threads: int = 0, ode=None) -> dict:
    """Run every diagnostic for a map or ensemble with a covariance and return the numbers.

    With ``out`` it also writes ``report.json`` and the figures coverage.png, sbc.png,
    z_contraction.png, recovery.png (and ppc.png), each atomically.

    Coverage, z-scores and recovery use ``model.predict(X, return_cov=True)`` — for an ensemble of
    more than one Gaussian-NLL member coverage and intervals come from the mixture's samples instead
    of its moment-matched Gaussian, and for a model with a quantile ``calibration``
    (``calibrate(..., method="quantile")``) from its calibrated intervals and regions; SBC uses
    ``n_samples`` draws per series (``model.sample``, ``seed``). The prior variance of the
    contraction is the variance of ``theta_test``.

    Parameters
    ----------
    model : InverseMap or Ensemble
        A map or ensemble with a covariance (``model.has_cov``).
    X_test : array_like
        The test inputs, as for ``model.predict``.
    theta_test : array_like, shape (N, D)
        The true parameters.
    out : str or os.PathLike, optional
        A folder, created if needed, for ``report.json`` and the figures.
    levels : sequence of float, default LEVELS
        The nominal levels of the coverage, each in (0, 1).
    n_samples : int, default 1000
        Draws per series for SBC, at least 2.
    seed : int, default 0
        The seed of the draws, an integer in [0, 2**64).
    series : array_like, shape (N, L), optional
        The observed series behind ``X_test``: turns on the posterior predictive check for the
        first ``ppc_series`` of them (100 draws each).
    noise : array_like, shape (N, 2), or an observation law, optional
        The (standard deviation, ρ) of the series' AR(1) noise ((N, K, 2) for a model observing K
        quantities), or an observation law, as in
        :func:`~fhn_inverse.uncertainty.predictive.posterior_predictive`.
    t : array_like, shape (L,), optional
        The grid of ``series``, as in :func:`~fhn_inverse.uncertainty.predictive.posterior_predictive`.
    names : sequence of str, optional
        The D parameters' names; default θ0, θ1, ….
    ppc_series : int, default 4
        Series of the posterior predictive check, at least 1.
    n_threads : int, default 0
        Threads to use (0: all cores).
    ode : optional
        The ODE model the posterior predictive check simulates; default: the one the map was
        trained on (its ``trained_on`` record), else FitzHugh–Nagumo.

    Returns
    -------
    dict
        The numbers, JSON-ready: ``n``, ``n_samples``, ``seed``, ``head``, ``names``, ``members``,
        ``cov_scale``, ``calibration``, ``coverage``, ``coverage_at_report_levels``, ``sbc``,
        ``z_contraction``, ``recovery``, ``calibrated`` (every coverage within 3 binomial standard
        errors and no parameter outside the SBC band), with ``series`` also ``ppc``, and with
        ``out`` also ``figures`` (the figures' file names).

    Raises
    ------
    ValueError
        If the model has no covariance, ``theta_test`` does not have the model's shape (N, D), or
        ``series`` does not have one row per test series.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.uniform(0.2, 0.8, size=(300, 2))
    >>> x = fi.simulate(theta, t=np.linspace(0.0, 20.0, 8))  # series of 8 points
    >>> m = fi.InverseMap.dense((8,), output_activation=None).fit(x, theta, loss="gaussian_nll", epochs=2,
    ...                                                           progress=False)
    >>> report = fi.diagnose(m, x[:100], theta[:100], n_samples=50, names=["a", "b"])
    >>> list(report)
    ['n', 'n_samples', 'seed', 'head', 'names', 'members', 'cov_scale', 'calibration', 'coverage',
     'coverage_at_report_levels', 'sbc', 'z_contraction', 'recovery', 'calibrated']
    >>> report["n"], report["head"], list(report["coverage_at_report_levels"])
    (100, 'gaussian_nll', ['50%', '80%', '90%', '95%'])
    """
    from .._util.io import atomic_savefig, atomic_write_text

    if not getattr(model, "has_cov", False):
        raise ValueError("diagnose needs a map or ensemble with a covariance (a Gaussian-NLL or local-Gaussian "
                         "head); this one predicts point estimates only")
    n_samples, n_threads = as_int(n_samples, "n_samples", 2), as_threads(n_threads)
    seed = as_seed(seed)
    ppc_series = as_int(ppc_series, "ppc_series", 1)
    levels = _levels(levels)
    transform = getattr(model, "transform", None)  # a map's learned coordinate: its law, and θ, in it
    mean, cov = model.predict(X_test, return_cov=True, n_threads=n_threads, **({} if transform is None else
                                                                               {"latent": True}))
    theta = _theta(theta_test)
    if theta.shape != mean.shape:
        raise ValueError(f"theta_test must have the model's shape (N, D) = {mean.shape}, got {np.shape(theta_test)}")
    back = (lambda v: v) if transform is None else transform.inverse  # from the law's coordinate to θ
    theta_z = theta if transform is None else transform.forward(theta, "theta_test")
    names = _names(names, theta.shape[1])
    draws = _model_draws(model, X_test, mean, cov, n_samples, seed, n_threads)
    calibration = getattr(model, "calibration", None)
    mixture = _is_ensemble(model) and len(model) > 1 and model.head == "gaussian_nll"
    if calibration is not None:
        cov_result = coverage(theta_z, mean, cov, levels=levels, calibration=calibration)
        lower, upper = map(back, calibration.interval(mean, cov, 0.95))
    elif mixture:  # the draws are in θ
        cov_result = coverage(theta, samples=draws, levels=levels)
        lower, upper = np.concatenate([np.quantile(draws[rows], [0.025, 0.975], axis=1)  # Ctrl-C lands between
                                       for rows in _row_blocks(len(draws), draws[0].size)], axis=1)
    else:
        cov_result = coverage(theta_z, mean, cov, levels=levels)
        half = _normal_quantile(0.975) * np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        lower, upper = back(mean - half), back(mean + half)
    sbc_result = sbc(theta, draws, seed=seed)  # draws are in θ: ranks are the same in any increasing coordinate
    zc = z_contraction(theta_z, mean, cov)
    mean = back(mean)  # the estimate: the law's median in θ
    rec = recovery(theta, mean, lower, upper)
    at = [int(np.argmin(np.abs(levels - a))) for a in REPORT_LEVELS if np.isclose(levels, a).any()]
    scales = ([m.cov_scale for m in model.members] if _is_ensemble(model) else [model.cov_scale])
    report = {
        "n": int(len(theta)), "n_samples": n_samples, "seed": seed, "head": model.head, "names": names,
        "members": len(model) if _is_ensemble(model) else 1,
        "cov_scale": scales if _is_ensemble(model) else scales[0],
        "calibration": None if calibration is None else repr(calibration),
        "coverage": cov_result.to_dict(names),
        "coverage_at_report_levels": {
            f"{100 * levels[k]:g}%": {**{nm: float(cov_result.per_parameter[k, j]) for j, nm in enumerate(names)},
                                      "joint": float(cov_result.joint[k])} for k in at},
        "sbc": sbc_result.to_dict(names),
        "z_contraction": zc.to_dict(names),
        "recovery": rec.to_dict(names),
        "calibrated": bool(cov_result.calibrated(3.0) and not sbc_result.outside.any()),
    }
    ppc = None
    if series is not None:
        series = as_float_array(series, "series", (2, 3))  # (N, K, L) for K observed quantities
        if len(series) != len(theta):
            raise ValueError(f"series must have one row per test series ({len(theta)}), got {len(series)}")
        k = min(ppc_series, len(series))
        noise_k = noise if noise is None or hasattr(noise, "observe") else as_float_array(noise, "noise", (2, 3))[:k]
        ppc = posterior_predictive(draws[:k, :100], series[:k], noise=noise_k, t=t, seed=seed, n_threads=n_threads,
                                   model=_ode_of(model) if ode is None else ode)
        report["ppc"] = ppc.to_dict()
    report = _json(report)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        figures = {"coverage.png": coverage_figure(cov_result, names),
                   "sbc.png": sbc_figure(sbc_result, names),
                   "z_contraction.png": z_contraction_figure(zc, names),
                   "recovery.png": recovery_figure(theta, mean, lower, upper, names)}
        if ppc is not None:
            figures["ppc.png"] = ppc_figure(ppc)
        for name, fig in figures.items():
            atomic_savefig(fig, out / name, dpi=110)
        report["figures"] = sorted(figures)
        atomic_write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    return report
