"""Diagnostics of posterior estimates, as plain functions over arrays: any estimator is checked the
same way, from a Gaussian per series (mean (N, D), cov (N, D, D)) or from samples (N, S, D).

Coverage at a grid of levels (per parameter and joint), simulation-based calibration (SBC) with
its ECDF-difference band, posterior z-score against contraction, recovery (R², Median-APE) and the
posterior predictive check each return numbers (a dataclass with ``to_dict``) and have a figure
function returning a matplotlib Figure. ``diagnose`` runs them all for a map or ensemble with a
covariance and writes ``report.json`` and PNG figures. ``fit_cov_scale`` fits the scalar covariance
scale (temperature) that is the remedy for an over- or under-confident head. No SciPy: χ² quantiles
come from the regularized incomplete gamma function, binomial tails from log-factorials.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Sequence

import numpy as np

from .._util.validation import as_float_array, as_int, as_seed

__all__ = [
    "LEVELS", "REPORT_LEVELS", "Coverage", "SBC", "ZContraction", "Recovery", "PosteriorPredictive",
    "chi2_cdf", "chi2_quantile", "sample_gaussian", "coverage", "sbc", "z_contraction", "recovery",
    "posterior_predictive", "fit_cov_scale", "diagnose", "coverage_figure", "sbc_figure",
    "z_contraction_figure", "recovery_figure", "ppc_figure",
]

#: The levels the report and the acceptance criteria quote.
REPORT_LEVELS = (0.5, 0.8, 0.9, 0.95)
#: The default grid of nominal levels: 0.05, 0.10, …, 0.95 and 0.99.
LEVELS = tuple(round(0.05 * k, 2) for k in range(1, 20)) + (0.99,)


# ------------------------------------------------------------------------------ distributions
def _gamma_p(a: float, x: float) -> float:
    """Regularized lower incomplete gamma function P(a, x): the series for x < a + 1, else 1 − Q
    from the continued fraction (modified Lentz); Numerical Recipes §6.2, to double precision."""
    if x <= 0.0:
        return 0.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        return min(1.0, total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1.0 - a
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def _check_df(df) -> float:
    if isinstance(df, bool) or not isinstance(df, numbers.Real) or not (df > 0 and math.isfinite(df)):
        raise ValueError(f"df must be a finite number > 0, got {df!r}")
    return float(df)


def _check_level(level, name: str = "level") -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"{name} must be in (0, 1), got {level!r}")
    return float(level)


def chi2_cdf(x: float, df: float) -> float:
    """The χ² distribution function with ``df`` degrees of freedom: P(df/2, x/2).

    Parameters
    ----------
    x : float
        The point.
    df : float
        Degrees of freedom, a finite number > 0.

    Returns
    -------
    float
        P(df/2, x/2), the regularized lower incomplete gamma function.

    Raises
    ------
    ValueError
        If ``df`` is not a finite number > 0.
    """
    return _gamma_p(_check_df(df) / 2.0, float(x) / 2.0)


def chi2_quantile(level: float, df: float) -> float:
    """The ``level`` quantile of χ²_df.

    Bisection on :func:`chi2_cdf` to the last bit (for df = 2 this is −2 log(1 − level)).

    Parameters
    ----------
    level : float
        The level, in (0, 1).
    df : float
        Degrees of freedom, a finite number > 0.

    Returns
    -------
    float
        The quantile.

    Raises
    ------
    ValueError
        If ``level`` is not in (0, 1) or ``df`` is not a finite number > 0.
    """
    level, df = _check_level(level), _check_df(df)
    lo, hi = 0.0, max(df, 1.0)
    while chi2_cdf(hi, df) < level:
        lo, hi = hi, 2.0 * hi
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if chi2_cdf(mid, df) < level:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _normal_quantile(p: float) -> float:
    return NormalDist().inv_cdf(p)


# ---------------------------------------------------------------------------------- validation
def _theta(theta) -> np.ndarray:
    theta = as_float_array(theta, "theta", (1, 2))
    return theta.reshape(-1, 1) if theta.ndim == 1 else theta


def _gaussian(theta, mean, cov):
    """Validated θ (N, D), mean (N, D), cov (N, D, D) and its Cholesky factor."""
    theta = _theta(theta)
    mean = as_float_array(mean, "mean", (1, 2))
    mean = mean.reshape(-1, 1) if mean.ndim == 1 else mean
    cov = as_float_array(cov, "cov", (1, 3))
    cov = cov.reshape(-1, 1, 1) if cov.ndim == 1 else cov
    n, d = theta.shape
    if mean.shape != (n, d) or cov.shape != (n, d, d):
        raise ValueError(f"theta (N, D), mean (N, D) and cov (N, D, D) must agree, got {theta.shape}, "
                         f"{mean.shape} and {cov.shape}")
    return theta, mean, cov, _cholesky(cov, "cov")


def _cholesky(cov: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        bad = [i for i in range(len(cov)) if np.any(np.linalg.eigvalsh(0.5 * (cov[i] + cov[i].T)) <= 0)]
        raise ValueError(f"{name} must be symmetric positive definite; it is not in rows "
                         f"{bad[:5]}{' …' if len(bad) > 5 else ''}") from None


def _samples(theta, samples):
    theta = _theta(theta)
    samples = as_float_array(samples, "samples", (2, 3))
    samples = samples[:, :, None] if samples.ndim == 2 else samples
    if samples.shape[0] != theta.shape[0] or samples.shape[2] != theta.shape[1]:
        raise ValueError(f"samples must have shape (N, S, D) = ({theta.shape[0]}, S, {theta.shape[1]}), "
                         f"got {samples.shape}")
    return theta, samples


def _levels(levels) -> np.ndarray:
    levels = np.atleast_1d(np.asarray(levels, dtype=np.float64))
    if levels.ndim != 1 or levels.size == 0:
        raise ValueError(f"levels must be a non-empty list of numbers in (0, 1), got {levels!r}")
    for level in levels:
        _check_level(float(level), "every level")
    return levels


def _mahalanobis2(chol: np.ndarray, r: np.ndarray) -> np.ndarray:
    """rᵀ (L Lᵀ)⁻¹ r for r (N, …, D) with one Cholesky factor L (N, D, D) per row."""
    shape = r.shape
    r2 = r.reshape(shape[0], -1, shape[-1])
    z = np.linalg.solve(chol, np.transpose(r2, (0, 2, 1)))  # (N, D, M)
    return np.sum(z**2, axis=1).reshape(shape[:-1])


def _names(names, d: int) -> list[str]:
    if names is None:
        return [f"θ{j}" for j in range(d)]
    names = [str(n) for n in names]
    if len(names) != d:
        raise ValueError(f"names must give {d} names, got {len(names)}")
    return names


def _json(value):
    """NumPy values as JSON numbers and lists (NaN as null)."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    return value


def sample_gaussian(mean, cov, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` draws per row from N(mean, cov).

    Parameters
    ----------
    mean : array_like, shape (N, D)
        The means.
    cov : array_like, shape (N, D, D)
        The covariances, symmetric positive definite.
    n : int
        Draws per row, at least 1.
    seed : int, default 0
        The seed, an integer in [0, 2**64).

    Returns
    -------
    ndarray, shape (N, n, D)
        The draws, a function of ``seed`` alone.

    Raises
    ------
    ValueError
        If the shapes of ``mean`` and ``cov`` do not agree or a covariance is not symmetric
        positive definite.
    """
    _, mean, cov, chol = _gaussian(mean, mean, cov)
    n = as_int(n, "n", 1)
    z = np.random.default_rng(as_seed(seed)).standard_normal((mean.shape[0], n, mean.shape[1]))
    return mean[:, None, :] + z @ np.transpose(chol, (0, 2, 1))


# ------------------------------------------------------------------------------------ coverage
@dataclass(frozen=True)
class Coverage:
    """Empirical coverage at nominal ``levels``.

    Attributes
    ----------
    levels : ndarray, shape (K,)
        The nominal levels.
    per_parameter : ndarray, shape (K, D)
        The fraction of θ_j inside the central interval of the marginal at each level.
    joint : ndarray, shape (K,)
        The fraction of θ inside the level region (Mahalanobis ellipsoid, or its sample-rank
        analogue).
    se : ndarray, shape (K,)
        The binomial standard error sqrt(level (1 − level) / N) that a calibrated estimator's
        coverage has.
    n : int
        N, the number of series.
    method : str
        "gaussian" or "samples" ("calibrated" with a quantile calibration, see :func:`coverage`).
    """

    levels: np.ndarray
    per_parameter: np.ndarray
    joint: np.ndarray
    se: np.ndarray
    n: int
    method: str

    def error_in_se(self) -> np.ndarray:
        """(empirical − nominal) / se: the parameters, then the joint region.

        Returns
        -------
        ndarray, shape (K, D + 1)
            Column j < D for parameter j, the last column for the joint region.
        """
        emp = np.column_stack([self.per_parameter, self.joint])
        return (emp - self.levels[:, None]) / self.se[:, None]

    def calibrated(self, k: float = 3.0) -> bool:
        """Whether every coverage is within ``k`` binomial standard errors of its level.

        Parameters
        ----------
        k : float, default 3.0
            The tolerance, in binomial standard errors.

        Returns
        -------
        bool
            True when every coverage (per parameter and joint, every level) is within ``k`` binomial
            standard errors of its level.
        """
        return bool(np.all(np.abs(self.error_in_se()) <= k))

    def to_dict(self, names=None) -> dict:
        """The numbers as a JSON-ready dict (NaN as null).

        Parameters
        ----------
        names : sequence of str, optional
            The D parameters' names; default θ0, θ1, ….

        Returns
        -------
        dict
            ``method``, ``n``, ``levels``, ``per_parameter`` (by name), ``joint``, ``se``, the largest
            absolute error in percentage points (``max_abs_error_pp``) and in standard errors
            (``max_abs_error_se``), and ``within_3_se`` (:meth:`calibrated` with k = 3).

        Raises
        ------
        ValueError
            If ``names`` does not give D names.
        """
        names = _names(names, self.per_parameter.shape[1])
        return _json({
            "method": self.method, "n": self.n, "levels": self.levels,
            "per_parameter": {name: self.per_parameter[:, j] for j, name in enumerate(names)},
            "joint": self.joint, "se": self.se,
            "max_abs_error_pp": 100 * float(np.max(np.abs(np.column_stack([self.per_parameter, self.joint])
                                                          - self.levels[:, None]))),
            "max_abs_error_se": float(np.max(np.abs(self.error_in_se()))),
            "within_3_se": self.calibrated(3.0),
        })


def coverage(theta, mean=None, cov=None, *, samples=None, levels=LEVELS, calibration=None) -> Coverage:
    """Expected coverage of the true ``theta`` at each nominal level.

    From a Gaussian (``mean``, ``cov``): θ_j is covered at level α when |θ_j − μ_j| ≤ z_{(1+α)/2} σ_j
    (central interval of the marginal); θ jointly when its squared Mahalanobis distance
    (θ − μ)ᵀ Σ⁻¹ (θ − μ) ≤ χ²_D(α). From ``samples``: θ_j is covered when its fractional rank among
    the samples lies in [(1 − α)/2, (1 + α)/2], θ jointly when fewer than a fraction α of the samples
    are closer to the samples' mean than θ in the samples' own Mahalanobis metric (a level-α region
    of any sample distribution, mixtures too). A calibrated estimator covers a fraction α, up to the
    binomial standard error ``se``.

    Parameters
    ----------
    theta : array_like, shape (N, D)
        The true parameters.
    mean : array_like, shape (N, D), optional
        The Gaussian's means; give them with ``cov``, or give ``samples``.
    cov : array_like, shape (N, D, D), optional
        The Gaussian's covariances, symmetric positive definite.
    samples : array_like, shape (N, S, D), optional
        S samples per series, instead of ``mean`` and ``cov``.
    levels : sequence of float, default LEVELS
        The nominal levels, each in (0, 1).
    calibration : QuantileCalibration, optional
        A :class:`fhn_inverse.uncertainty.calibration.QuantileCalibration` of the Gaussian: the intervals and
        regions are then its calibrated ones (method "calibrated").

    Returns
    -------
    Coverage
        The coverage per parameter and joint at each level, with its binomial standard errors.

    Raises
    ------
    ValueError
        If both or neither of (``mean``, ``cov``) and ``samples`` are given, the shapes do not
        agree, a covariance is not symmetric positive definite, a level is not in (0, 1), or
        ``calibration`` is not for D parameters.
    """
    levels = _levels(levels)
    if samples is not None:
        if mean is not None or cov is not None:
            raise ValueError("give either mean and cov or samples, not both")
        theta, samples = _samples(theta, samples)
        n, s, d = samples.shape
        q = (np.sum(samples < theta[:, None, :], axis=1) + 0.5 * np.sum(samples == theta[:, None, :], axis=1)) / s
        per = np.stack([np.mean(np.abs(q - 0.5) <= a / 2, axis=0) for a in levels])
        centre = samples.mean(axis=1)
        dev = samples - centre[:, None, :]
        scov = np.einsum("nsi,nsj->nij", dev, dev) / max(s - 1, 1) + 1e-12 * np.eye(d)
        chol = _cholesky(scov, "the samples' covariance")
        d_samples = _mahalanobis2(chol, dev)  # (N, S)
        d_theta = _mahalanobis2(chol, theta - centre)  # (N,)
        frac_closer = np.mean(d_samples < d_theta[:, None], axis=1)
        joint = np.array([np.mean(frac_closer < a) for a in levels])
        method = "samples"
    else:
        if mean is None or cov is None:
            raise ValueError("give mean and cov, or samples")
        theta, mean, cov, chol = _gaussian(theta, mean, cov)
        n, d = theta.shape
        if calibration is not None:
            if getattr(calibration, "dim", None) != d:
                raise ValueError(f"calibration must be a QuantileCalibration for D = {d}, got {calibration!r}")
            pairs = [calibration.coverage(theta, mean, cov, float(a)) for a in levels]
            per, joint = np.stack([p[0] for p in pairs]), np.array([p[1] for p in pairs])
            se = np.sqrt(levels * (1 - levels) / n)
            return Coverage(levels, per, joint, se, int(n), "calibrated")
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        absz = np.abs(theta - mean) / sd
        per = np.stack([np.mean(absz <= _normal_quantile(0.5 + a / 2), axis=0) for a in levels])
        m2 = _mahalanobis2(chol, theta - mean)
        joint = np.array([np.mean(m2 <= chi2_quantile(float(a), d)) for a in levels])
        method = "gaussian"
    se = np.sqrt(levels * (1 - levels) / n)
    return Coverage(levels, per, joint, se, int(n), method)


# ------------------------------------------------------------------------------------------ SBC
@dataclass(frozen=True)
class SBC:
    """Simulation-based calibration: the ranks of the true θ and their ECDF against a band.

    Attributes
    ----------
    ranks : ndarray, shape (N, D)
        The ranks of the true θ among ``n_samples`` posterior samples (0 … S).
    n_samples : int
        S, the posterior samples per series.
    z : ndarray, shape (K,)
        The normalised ranks at which the ECDF is evaluated.
    ecdf_diff : ndarray, shape (K, D)
        The ECDF difference at ``z``: the ECDF of the ranks minus the uniform.
    lower, upper : ndarray, shape (K,)
        The simultaneous band of the ECDF difference at level 1 − ``alpha``.
    max_deviation : ndarray, shape (D,)
        The largest |ECDF difference| per parameter.
    outside : ndarray, shape (D,)
        Whether a parameter's ECDF leaves the band.
    alpha : float
        The band's level is 1 − ``alpha``.
    """

    ranks: np.ndarray
    n_samples: int
    z: np.ndarray
    ecdf_diff: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    max_deviation: np.ndarray
    outside: np.ndarray
    alpha: float

    def to_dict(self, names=None, *, ranks: bool = False) -> dict:
        """The numbers as a JSON-ready dict (NaN as null).

        Parameters
        ----------
        names : sequence of str, optional
            The D parameters' names; default θ0, θ1, ….
        ranks : bool, default False
            Also give the ranks.

        Returns
        -------
        dict
            ``n``, ``n_samples``, ``alpha``, the band's kind (``band``), ``max_deviation`` and
            ``outside_band`` by name, and the band's largest half-width (``band_half_width_max``);
            with ``ranks``, also ``ranks``.

        Raises
        ------
        ValueError
            If ``names`` does not give D names.
        """
        names = _names(names, self.ranks.shape[1])
        out = {"n": int(self.ranks.shape[0]), "n_samples": self.n_samples, "alpha": self.alpha,
               "band": "simultaneous, simulated (Säilynoja, Bürkner & Vehtari 2022)",
               "max_deviation": {name: self.max_deviation[j] for j, name in enumerate(names)},
               "band_half_width_max": float(np.max(np.maximum(-self.lower, self.upper))),
               "outside_band": {name: self.outside[j] for j, name in enumerate(names)}}
        if ranks:
            out["ranks"] = self.ranks
        return _json(out)


def _log_factorials(n: int) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))])


def _binomial_cdf_table(n: int, p: np.ndarray) -> np.ndarray:
    """P(Bin(n, p_i) ≤ k) for k = 0 … n: array (K, n + 1), from log-factorials (0 < p_i < 1)."""
    lf = _log_factorials(n)
    k = np.arange(n + 1)
    logpmf = (lf[n] - lf[k] - lf[n - k])[None, :] + k[None, :] * np.log(p)[:, None] \
        + (n - k)[None, :] * np.log1p(-p)[:, None]
    return np.minimum(np.cumsum(np.exp(logpmf), axis=1), 1.0)


def _ecdf_counts(sorted_u: np.ndarray, z: np.ndarray) -> np.ndarray:
    """#(u < z_i) for each row of ``sorted_u`` (M, N) (rows sorted, values in [0, 1)): (M, K)."""
    m, n = sorted_u.shape
    offsets = np.arange(m, dtype=np.float64)[:, None]
    flat = (sorted_u + 2.0 * offsets).ravel()  # rows kept apart: row r lies in [2r, 2r + 1)
    idx = np.searchsorted(flat, (z[None, :] + 2.0 * offsets).ravel(), side="left").reshape(m, -1)
    return idx - n * np.arange(m)[:, None]


def _sbc_band(n: int, z: np.ndarray, alpha: float, n_sim: int, seed: int):
    """Simultaneous 1 − α band for the ECDF of n uniforms at the points z (K,), as counts
    (lower (K,), upper (K,)): the pointwise binomial interval [F⁻¹(γ/2), F⁻¹(1 − γ/2)] at each
    z_i, with γ adjusted by simulation so that n_sim uniform ECDFs stay inside all K intervals at
    once with probability 1 − α (Säilynoja, Bürkner & Vehtari 2022, Stat. Comput. 32:32, §2.2)."""
    cdf = _binomial_cdf_table(n, z)  # (K, n + 1)
    rng = np.random.default_rng(seed)
    block = max(1, (1 << 22) // n)  # simulated ECDFs per block: at most ~4M uniforms in memory
    counts = np.concatenate([_ecdf_counts(np.sort(rng.random((min(block, n_sim - i), n)), axis=1), z)
                             for i in range(0, n_sim, block)])  # (M, K)
    rows = np.arange(len(z))[None, :]
    below = cdf[rows, counts]
    above = 1.0 - np.where(counts > 0, cdf[rows, np.maximum(counts - 1, 0)], 0.0)
    p_min = np.min(2.0 * np.minimum(below, above), axis=1)  # the smallest pointwise two-sided p-value
    gamma = float(np.quantile(p_min, alpha))
    lower = np.array([np.searchsorted(c, gamma / 2, side="left") for c in cdf])
    upper = np.array([np.searchsorted(c, 1 - gamma / 2, side="left") for c in cdf])
    return lower, upper


def sbc(theta, samples, *, alpha: float = 0.05, n_points: int = 100, n_sim: int = 1000, seed: int = 0) -> SBC:
    """Simulation-based calibration (Talts et al. 2018) of posterior samples.

    The rank of each true θ_j among its S posterior ``samples`` — ties broken at random — is uniform
    on {0, …, S} when the posterior is calibrated. The ECDF of the ranks, minus the uniform CDF, is
    evaluated at up to ``n_points`` bin edges z = j / (S + 1), where its expectation is exactly zero,
    against the simultaneous band of level 1 − ``alpha`` of Säilynoja, Bürkner & Vehtari (2022), whose
    γ is found by ``n_sim`` simulated ECDFs (``seed``). The band holds per parameter: with D
    parameters a calibrated posterior leaves some band with probability up to D·alpha.

    Parameters
    ----------
    theta : array_like, shape (N, D)
        The true parameters.
    samples : array_like, shape (N, S, D)
        S posterior samples per series.
    alpha : float, default 0.05
        The band's level is 1 − ``alpha``; ``alpha`` in (0, 1).
    n_points : int, default 100
        At most this many bin edges, at least 1.
    n_sim : int, default 1000
        Simulated ECDFs that find the band's γ, at least 10.
    seed : int, default 0
        The seed of the tie-breaking and of the simulated ECDFs, an integer in [0, 2**64).

    Returns
    -------
    SBC
        The ranks, the ECDF difference and its band.

    Raises
    ------
    ValueError
        If ``samples`` does not have shape (N, S, D) for ``theta`` (N, D), ``alpha`` is not in
        (0, 1), ``n_points`` < 1 or ``n_sim`` < 10.

    Notes
    -----
    Over-confidence piles the ranks up at both ends (a ∪-shaped rank histogram): the ECDF difference
    rises above zero at low ranks and falls below it at high ranks; under-confidence does the
    reverse; bias is a one-sided bulge (the difference keeps one sign).
    """
    theta, samples = _samples(theta, samples)
    alpha = _check_level(alpha, "alpha")
    n_points, n_sim = as_int(n_points, "n_points", 1), as_int(n_sim, "n_sim", 10)
    n, s, d = samples.shape
    rng = np.random.default_rng(as_seed(seed))
    less = np.sum(samples < theta[:, None, :], axis=1)
    ties = np.sum(samples == theta[:, None, :], axis=1)
    ranks = less + np.floor(rng.random(less.shape) * (ties + 1)).astype(np.int64)
    edges = np.unique(np.round(np.linspace(1, s, min(s, n_points))).astype(np.int64))
    z = edges / (s + 1)
    counts = np.stack([np.sum(ranks[:, j][:, None] < edges[None, :], axis=0) for j in range(d)], axis=1)  # (K, D)
    lo, hi = _sbc_band(n, z, alpha, n_sim, as_seed(seed) + 1)
    diff = counts / n - z[:, None]
    outside = np.any((counts < lo[:, None]) | (counts > hi[:, None]), axis=0)
    return SBC(ranks, int(s), z, diff, lo / n - z, hi / n - z, np.max(np.abs(diff), axis=0), outside, alpha)


# ---------------------------------------------------------------------- z-score and contraction
@dataclass(frozen=True)
class ZContraction:
    """Posterior z-scores and contractions per series and parameter.

    A calibrated, informative posterior has z of mean 0 and standard deviation 1 and contractions
    near 1.

    Attributes
    ----------
    z : ndarray, shape (N, D)
        The posterior z-scores z = (mean − θ) / sd.
    contraction : ndarray, shape (N, D)
        The contractions 1 − var_post / var_prior.
    prior_var : ndarray, shape (D,)
        The prior's variances var_prior.
    """

    z: np.ndarray
    contraction: np.ndarray
    prior_var: np.ndarray

    def to_dict(self, names=None) -> dict:
        """The summaries as a JSON-ready dict (NaN as null).

        Parameters
        ----------
        names : sequence of str, optional
            The D parameters' names; default θ0, θ1, ….

        Returns
        -------
        dict
            By parameter name: ``prior_var``, the mean and standard deviation of z (``z_mean``,
            ``z_std``), the fraction with |z| > 3 (``fraction_abs_z_over_3``), and the mean and median
            contraction (``contraction_mean``, ``contraction_median``).

        Raises
        ------
        ValueError
            If ``names`` does not give D names.
        """
        names = _names(names, self.z.shape[1])
        per = lambda f: {name: f(j) for j, name in enumerate(names)}  # noqa: E731
        return _json({
            "prior_var": per(lambda j: self.prior_var[j]),
            "z_mean": per(lambda j: self.z[:, j].mean()), "z_std": per(lambda j: self.z[:, j].std()),
            "fraction_abs_z_over_3": per(lambda j: np.mean(np.abs(self.z[:, j]) > 3)),
            "contraction_mean": per(lambda j: self.contraction[:, j].mean()),
            "contraction_median": per(lambda j: np.median(self.contraction[:, j])),
        })


def z_contraction(theta, mean=None, cov=None, *, samples=None, prior_var=None) -> ZContraction:
    """Posterior z-score and contraction (Schad, Betancourt & Vasishth 2021) per series and parameter.

    Parameters
    ----------
    theta : array_like, shape (N, D)
        The true parameters.
    mean : array_like, shape (N, D), optional
        The Gaussian's means; give them with ``cov``, or give ``samples``.
    cov : array_like, shape (N, D, D), optional
        The Gaussian's covariances, symmetric positive definite.
    samples : array_like, shape (N, S, D), optional
        Posterior samples, instead of ``mean`` and ``cov``: their mean and variance are used.
    prior_var : array_like, shape (D,), optional
        The prior's variances, positive; by default the variance of ``theta`` over the rows, which
        estimates it when θ was drawn from the prior (a test set).

    Returns
    -------
    ZContraction
        The z-scores and contractions.

    Raises
    ------
    ValueError
        If both or neither of (``mean``, ``cov``) and ``samples`` are given, the shapes do not
        agree, a covariance is not symmetric positive definite, ``prior_var`` is not D positive
        numbers, or it is left to a ``theta`` of fewer than 2 rows.
    """
    if samples is not None:
        if mean is not None or cov is not None:
            raise ValueError("give either mean and cov or samples, not both")
        theta, samples = _samples(theta, samples)
        mean, var = samples.mean(axis=1), samples.var(axis=1, ddof=1)
    else:
        if mean is None or cov is None:
            raise ValueError("give mean and cov, or samples")
        theta, mean, cov, _ = _gaussian(theta, mean, cov)
        var = np.diagonal(cov, axis1=1, axis2=2)
    if prior_var is None:
        if len(theta) < 2:
            raise ValueError("the prior variance needs prior_var= or at least 2 rows of theta")
        prior_var = theta.var(axis=0, ddof=1)
    prior_var = as_float_array(prior_var, "prior_var", 1)
    if prior_var.shape != (theta.shape[1],) or np.any(prior_var <= 0):
        raise ValueError(f"prior_var must be {theta.shape[1]} positive numbers, got {prior_var}")
    z = (mean - theta) / np.sqrt(var)
    return ZContraction(z, 1.0 - var / prior_var, prior_var)


# ------------------------------------------------------------------------------------ recovery
@dataclass(frozen=True)
class Recovery:
    """Point estimates against the truth.

    The metrics are the study's (:mod:`fhn_inverse.metrics`).

    Attributes
    ----------
    r2 : ndarray, shape (D,)
        R² per parameter.
    median_ape : ndarray, shape (D,)
        Median-APE per parameter.
    median_ape_all : float
        The Median-APE over all entries.
    mean_width : ndarray, shape (D,), or None
        The mean interval width per parameter; None without intervals.
    """

    r2: np.ndarray
    median_ape: np.ndarray
    median_ape_all: float
    mean_width: np.ndarray | None

    def to_dict(self, names=None) -> dict:
        """The numbers as a JSON-ready dict (NaN as null).

        Parameters
        ----------
        names : sequence of str, optional
            The D parameters' names; default θ0, θ1, ….

        Returns
        -------
        dict
            ``r2``, ``median_ape`` and ``mean_interval_width`` by parameter name (the last None without
            intervals), and ``median_ape_all``.

        Raises
        ------
        ValueError
            If ``names`` does not give D names.
        """
        names = _names(names, len(self.r2))
        per = lambda v: None if v is None else {name: v[j] for j, name in enumerate(names)}  # noqa: E731
        return _json({"r2": per(self.r2), "median_ape": per(self.median_ape), "median_ape_all": self.median_ape_all,
                      "mean_interval_width": per(self.mean_width)})


def recovery(theta, estimate, lower=None, upper=None) -> Recovery:
    """R² and Median-APE of ``estimate`` against ``theta``, and the mean width of intervals.

    Parameters
    ----------
    theta : array_like, shape (N, D)
        The true parameters.
    estimate : array_like, shape (N, D)
        The point estimates.
    lower, upper : array_like, shape (N, D), optional
        The intervals [``lower``, ``upper``]; their mean width is computed when given.

    Returns
    -------
    Recovery
        The metrics; Median-APE is NaN for a parameter whose true value is 0 somewhere.

    Raises
    ------
    ValueError
        If ``estimate``, ``lower`` or ``upper`` does not have the shape of ``theta``.
    """
    from .. import metrics

    theta = _theta(theta)
    estimate = _theta(estimate)
    if estimate.shape != theta.shape:
        raise ValueError(f"estimate must have the shape of theta {theta.shape}, got {estimate.shape}")
    r2 = metrics.r2_score(theta, estimate)
    ape = np.where(theta != 0, np.abs(estimate - theta) / np.where(theta != 0, np.abs(theta), 1.0), np.nan)
    per = np.median(ape, axis=0)
    width = None
    if lower is not None or upper is not None:
        lower, upper = _theta(lower), _theta(upper)
        if lower.shape != theta.shape or upper.shape != theta.shape:
            raise ValueError(f"lower and upper must have the shape of theta {theta.shape}")
        width = np.mean(upper - lower, axis=0)
    return Recovery(r2, per, float(np.median(ape)), width)


# ------------------------------------------------------------------- posterior predictive check
@dataclass(frozen=True)
class PosteriorPredictive:
    """Re-simulations at posterior samples against the observed series, for n series.

    Attributes
    ----------
    t : ndarray, shape (L,)
        The grid.
    observed : ndarray, shape (n, L)
        The observed series on the grid ``t``.
    lower, upper : ndarray, shape (n, L)
        The band at the quantiles ``band`` of the re-simulated series.
    median : ndarray, shape (n, L)
        The re-simulated series' median.
    inside : ndarray, shape (n,)
        The fraction of observed points inside the band, per series.
    inside_all : float
        The fraction of observed points inside the band over all series.
    band : (float, float)
        The band's quantiles.
    n_draws : ndarray, shape (n,)
        The draws that simulated successfully, per series.
    """

    t: np.ndarray
    observed: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    median: np.ndarray
    inside: np.ndarray
    inside_all: float
    band: tuple[float, float]
    n_draws: np.ndarray

    def to_dict(self) -> dict:
        """The numbers as a JSON-ready dict (NaN as null).

        Returns
        -------
        dict
            ``band``, ``n_series``, ``inside``, ``inside_all`` and ``n_draws``.
        """
        return _json({"band": list(self.band), "n_series": len(self.observed), "inside": self.inside,
                      "inside_all": self.inside_all, "n_draws": self.n_draws})


def posterior_predictive(samples, observed, *, noise=None, t=None, band=(0.05, 0.95), seed: int = 0,
                         n_threads: int = 0) -> PosteriorPredictive:
    """Posterior predictive check: re-simulated series at posterior samples against the observed ones.

    The ODE is simulated (``fi.simulate``) at each of the S posterior ``samples`` of n series, and
    the ``band`` quantiles of the re-simulated series are compared with the ``observed`` series.
    Draws whose trajectory fails are left out (``n_draws`` counts the rest).

    Parameters
    ----------
    samples : array_like, shape (n, S, D)
        S posterior samples for each of n series; the first P columns are the model's parameters,
        further columns (noise parameters of a joint map) are ignored.
    observed : array_like, shape (n, L)
        The observed series on the grid ``t``.
    noise : array_like, shape (n, 2), optional
        The (standard deviation, ρ) of the AR(1) measurement noise of each series, added to each
        re-simulation (draws of ``seed``) so that noisy observations are compared with noisy
        predictions; None for clean series. Standard deviations >= 0, |ρ| < 1.
    t : array_like, shape (L,), optional
        The grid; default: the study's.
    band : (float, float), default (0.05, 0.95)
        The (low, high) quantiles of the band, in (0, 1) with low < high.
    seed : int, default 0
        The seed of the noise's draws, an integer in [0, 2**64).
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    PosteriorPredictive
        The band, the median and the fraction of observed points inside the band.

    Raises
    ------
    ValueError
        If ``samples`` and ``observed`` do not have the same n, ``samples`` has fewer columns than
        the model's P parameters, ``observed`` does not have the grid's L points, ``band`` is not
        (low, high) quantiles with low < high, or ``noise`` is not (n, 2) valid rows.
    """
    from ..models.simulation import DEFAULT_GRID, FitzHughNagumo, ar1_noise, simulate

    samples = as_float_array(samples, "samples", 3)
    observed = as_float_array(observed, "observed", (1, 2))
    observed = observed.reshape(1, -1) if observed.ndim == 1 else observed
    n, s, d = samples.shape
    p = len(FitzHughNagumo.param_names)
    if observed.shape[0] != n:
        raise ValueError(f"samples (n, S, D) and observed (n, L) must have the same n, got {n} and {observed.shape[0]}")
    if d < p:
        raise ValueError(f"samples must hold the model's {p} parameters in their first columns, got D = {d}")
    grid = DEFAULT_GRID if t is None else as_float_array(t, "t", 1)
    if observed.shape[1] != grid.size:
        raise ValueError(f"observed series must have the grid's {grid.size} points, got {observed.shape[1]}")
    q_lo, q_hi = (_check_level(b, "band") for b in band)
    if not q_lo < q_hi:
        raise ValueError(f"band must be (low, high) quantiles with low < high, got {band!r}")
    flat = samples[:, :, :p].reshape(n * s, p)
    u, status = simulate(flat, t=grid, return_status=True, n_threads=n_threads)
    if noise is not None:
        noise = as_float_array(noise, "noise", 2)
        if noise.shape != (n, 2) or np.any(noise[:, 0] < 0) or np.any(np.abs(noise[:, 1]) >= 1):
            raise ValueError(f"noise must be (n, 2) = ({n}, 2) rows of (standard deviation >= 0, |rho| < 1), "
                             f"got shape {noise.shape}")
        per_draw = np.repeat(noise, s, axis=0)
        u = u + ar1_noise(per_draw[:, 0], per_draw[:, 1], grid.size, seed=as_seed(seed), n_threads=n_threads)
    u = u.reshape(n, s, grid.size)
    ok = (status == 0).reshape(n, s)
    lower, upper, median = (np.full(observed.shape, np.nan) for _ in range(3))
    inside = np.full(n, np.nan)
    for i in range(n):
        if ok[i].any():
            lower[i], median[i], upper[i] = np.quantile(u[i, ok[i]], [q_lo, 0.5, q_hi], axis=0)
            inside[i] = np.mean((observed[i] >= lower[i]) & (observed[i] <= upper[i]))
    done = np.isfinite(inside)
    inside_all = float(np.mean(inside[done])) if done.any() else math.nan
    return PosteriorPredictive(grid, observed, lower, upper, median, inside, inside_all, (q_lo, q_hi), ok.sum(axis=1))


# --------------------------------------------------------------------------------- calibration
def fit_cov_scale(mean, cov, theta, *, method: str = "nll", levels=REPORT_LEVELS) -> float:
    """The scalar c for which N(mean, c·cov) fits the held-out ``theta`` best.

    This is temperature scaling of a Gaussian head; fit it on a calibration split, not the test
    set. Over-confident covariances give c > 1.

    Parameters
    ----------
    mean : array_like, shape (N, D)
        The head's means.
    cov : array_like, shape (N, D, D)
        The head's covariances, symmetric positive definite.
    theta : array_like, shape (N, D)
        The held-out true parameters.
    method : {"nll", "coverage"}, default "nll"
        "nll": the maximum-likelihood c, which minimises the Gaussian negative log-likelihood
        Σ_i [D log c + m_i²/c] / 2 of the calibration split, c = mean(m²) / D with m² the squared
        Mahalanobis distance under ``cov``: after scaling the mean m² equals D, as it does for a
        calibrated Gaussian. "coverage": the c that minimises the squared errors of the joint
        coverage at ``levels``, robust to a few gross outliers that the mean of m² weighs heavily.
    levels : sequence of float, default REPORT_LEVELS
        The levels of ``method="coverage"`` (default 0.5, 0.8, 0.9, 0.95), each in (0, 1).

    Returns
    -------
    float
        The scale c.

    Raises
    ------
    ValueError
        If ``method`` is not "nll" or "coverage", the shapes do not agree, or a covariance is not
        symmetric positive definite.
    """
    theta, mean, cov, chol = _gaussian(theta, mean, cov)
    m2 = _mahalanobis2(chol, theta - mean)
    d = theta.shape[1]
    if method == "nll":
        return float(np.mean(m2) / d)
    if method != "coverage":
        raise ValueError(f"method must be 'nll' or 'coverage', got {method!r}")
    levels = _levels(levels)
    q = np.array([chi2_quantile(float(a), d) for a in levels])
    sorted_m2 = np.sort(m2)
    # coverage(c) at level a is #(m² ≤ c q_a) / N: it changes only at c = m²_i / q_a, so the
    # candidates are those points and the midpoints between consecutive ones
    steps = np.unique((sorted_m2[:, None] / q[None, :]).ravel())
    candidates = np.concatenate([steps, 0.5 * (steps[1:] + steps[:-1])])
    cover = np.searchsorted(sorted_m2, candidates[:, None] * q[None, :], side="right") / len(m2)
    loss = np.sum((cover - levels[None, :]) ** 2, axis=1)
    best = candidates[loss == loss.min()]
    return float(np.median(best))


# ------------------------------------------------------------------------------------- diagnose
def _is_ensemble(model) -> bool:
    """An ensemble of maps (it has ``members``) rather than one map."""
    return hasattr(model, "members")


def _model_draws(model, X, mean, cov, n_samples, seed, n_threads):
    if model.head == "gaussian_nll":
        return model.sample(X, n_samples, seed=seed, n_threads=n_threads)
    return sample_gaussian(mean, cov, n_samples, seed=seed)  # a local-Gaussian head's estimated covariance


def diagnose(model, X_test, theta_test, *, out=None, levels=LEVELS, n_samples: int = 1000, seed: int = 0,
             series=None, noise=None, t=None, names: Sequence[str] | None = None, ppc_series: int = 4,
             n_threads: int = 0) -> dict:
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
    noise : array_like, shape (N, 2), optional
        The (standard deviation, ρ) of the series' AR(1) noise, as in :func:`posterior_predictive`.
    t : array_like, shape (L,), optional
        The grid of ``series``, as in :func:`posterior_predictive`.
    names : sequence of str, optional
        The D parameters' names; default θ0, θ1, ….
    ppc_series : int, default 4
        Series of the posterior predictive check, at least 1.
    n_threads : int, default 0
        Threads to use (0: all cores).

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
    """
    from .._util.io import atomic_savefig, atomic_write_text

    if not getattr(model, "has_cov", False):
        raise ValueError("diagnose needs a map or ensemble with a covariance (a Gaussian-NLL or local-Gaussian "
                         "head); this one predicts point estimates only")
    n_samples = as_int(n_samples, "n_samples", 2)
    seed = as_seed(seed)
    ppc_series = as_int(ppc_series, "ppc_series", 1)
    levels = _levels(levels)
    mean, cov = model.predict(X_test, return_cov=True, n_threads=n_threads)
    theta = _theta(theta_test)
    if theta.shape != mean.shape:
        raise ValueError(f"theta_test must have the model's shape (N, D) = {mean.shape}, got {np.shape(theta_test)}")
    names = _names(names, theta.shape[1])
    draws = _model_draws(model, X_test, mean, cov, n_samples, seed, n_threads)
    calibration = getattr(model, "calibration", None)
    mixture = _is_ensemble(model) and len(model) > 1 and model.head == "gaussian_nll"
    if calibration is not None:
        cov_result = coverage(theta, mean, cov, levels=levels, calibration=calibration)
        lower, upper = calibration.interval(mean, cov, 0.95)
    elif mixture:
        cov_result = coverage(theta, samples=draws, levels=levels)
        lower, upper = np.quantile(draws, [0.025, 0.975], axis=1)
    else:
        cov_result = coverage(theta, mean, cov, levels=levels)
        half = _normal_quantile(0.975) * np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        lower, upper = mean - half, mean + half
    sbc_result = sbc(theta, draws, seed=seed)
    zc = z_contraction(theta, mean, cov)
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
        series = as_float_array(series, "series", 2)
        if len(series) != len(theta):
            raise ValueError(f"series must have one row per test series ({len(theta)}), got {len(series)}")
        k = min(ppc_series, len(series))
        noise_k = None if noise is None else as_float_array(noise, "noise", 2)[:k]
        ppc = posterior_predictive(draws[:k, :100], series[:k], noise=noise_k, t=t, seed=seed, n_threads=n_threads)
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


# -------------------------------------------------------------------------------------- figures
def _fig(figsize):
    from .._util.figures import new_figure

    return new_figure(figsize)


def coverage_figure(result: Coverage, names=None, title=None):
    """Empirical against nominal coverage, one line per parameter and the joint region.

    The diagonal and the band ±1.96 binomial standard errors of a calibrated estimator are drawn
    with them.

    Parameters
    ----------
    result : Coverage
        The coverage.
    names : sequence of str, optional
        The parameters' names; default θ0, θ1, ….
    title : str, optional
        The title; default "Coverage (method)".

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    names = _names(names, result.per_parameter.shape[1])
    fig = _fig((4.6, 4.2))
    ax = fig.add_subplot()
    grid = np.linspace(0.0, 1.0, 201)
    half = 1.96 * np.sqrt(grid * (1 - grid) / result.n)
    ax.fill_between(grid, grid - half, grid + half, color="0.85", label=f"±1.96 se (N = {result.n:,})")
    ax.plot([0, 1], [0, 1], color="0.4", lw=1)
    for j, name in enumerate(names):
        ax.plot(result.levels, result.per_parameter[:, j], "o-", ms=3, label=name)
    ax.plot(result.levels, result.joint, "s--", ms=3, color="black", label="joint")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("nominal coverage")
    ax.set_ylabel("empirical coverage")
    ax.set_aspect("equal")
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(title or f"Coverage ({result.method})")
    return fig


def sbc_figure(result: SBC, names=None, title=None):
    """ECDF of the normalised SBC ranks minus the uniform CDF, one panel per parameter.

    The simultaneous band of level 1 − alpha is drawn with it.

    Parameters
    ----------
    result : SBC
        The SBC result.
    names : sequence of str, optional
        The parameters' names; default θ0, θ1, ….
    title : str, optional
        The title; default "SBC" with N and S.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    names = _names(names, result.ranks.shape[1])
    d = len(names)
    fig = _fig((3.4 * d, 3.0))
    axes = fig.subplots(1, d, squeeze=False, sharey=True)[0]
    z = np.concatenate([[0.0], result.z, [1.0]])
    lo = np.concatenate([[0.0], result.lower, [0.0]])
    hi = np.concatenate([[0.0], result.upper, [0.0]])
    for j, ax in enumerate(axes):
        ax.fill_between(z, lo, hi, color="0.85", label=f"{100 * (1 - result.alpha):g} % band")
        ax.axhline(0.0, color="0.4", lw=1)
        diff = np.concatenate([[0.0], result.ecdf_diff[:, j], [0.0]])
        ax.plot(z, diff, color="tab:red" if result.outside[j] else "tab:blue", lw=1.4)
        ax.set_xlabel("normalised rank")
        ax.set_title(f"{names[j]}: max |Δ| = {result.max_deviation[j]:.3f}", fontsize="small")
    axes[0].set_ylabel("ECDF − uniform")
    axes[0].legend(loc="lower left", fontsize="small")
    fig.suptitle(title or f"SBC, N = {len(result.ranks):,}, S = {result.n_samples:,}")
    return fig


def z_contraction_figure(result: ZContraction, names=None, title=None):
    """Posterior z-score against posterior contraction, one scatter per parameter.

    Parameters
    ----------
    result : ZContraction
        The z-scores and contractions.
    names : sequence of str, optional
        The parameters' names; default θ0, θ1, ….
    title : str, optional
        The title; none by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    names = _names(names, result.z.shape[1])
    d = len(names)
    fig = _fig((3.4 * d, 3.2))
    axes = fig.subplots(1, d, squeeze=False, sharey=True)[0]
    for j, ax in enumerate(axes):
        ax.axhspan(-2, 2, color="0.9")
        ax.scatter(result.contraction[:, j], result.z[:, j], s=3, alpha=0.5, color="tab:blue")
        ax.axhline(0.0, color="0.4", lw=1)
        ax.set_xlim(min(0.0, float(np.min(result.contraction[:, j]))), 1.0)
        ax.set_xlabel("posterior contraction")
        ax.set_title(names[j], fontsize="small")
    axes[0].set_ylabel("posterior z-score")
    if title:
        fig.suptitle(title)
    return fig


def recovery_figure(theta, estimate, lower=None, upper=None, names=None, title=None, max_points: int = 400):
    """Estimate against truth with its intervals, one panel per parameter, and the identity line.

    Parameters
    ----------
    theta : array_like, shape (N, D)
        The true parameters.
    estimate : array_like, shape (N, D)
        The estimates.
    lower, upper : array_like, shape (N, D), optional
        The intervals' ends; no error bars without them.
    names : sequence of str, optional
        The parameters' names; default θ0, θ1, ….
    title : str, optional
        The title; none by default.
    max_points : int, default 400
        Only the first ``max_points`` series are drawn; at least 1.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    theta, estimate = _theta(theta), _theta(estimate)
    names = _names(names, theta.shape[1])
    k = min(len(theta), as_int(max_points, "max_points", 1))
    fig = _fig((3.4 * len(names), 3.4))
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for j, ax in enumerate(axes):
        x, y = theta[:k, j], estimate[:k, j]
        yerr = None if lower is None else np.vstack([y - _theta(lower)[:k, j], _theta(upper)[:k, j] - y])
        ax.errorbar(x, y, yerr=yerr, fmt=".", ms=3, lw=0.6, alpha=0.5, color="tab:blue", ecolor="tab:blue")
        lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        ax.plot([lo, hi], [lo, hi], color="0.4", lw=1)
        ax.set_xlabel(f"true {names[j]}")
        ax.set_ylabel(f"estimated {names[j]}")
    if title:
        fig.suptitle(title)
    return fig


def ppc_figure(result: PosteriorPredictive, title=None):
    """The band of re-simulated series (and their median) against each observed series.

    Parameters
    ----------
    result : PosteriorPredictive
        The posterior predictive check.
    title : str, optional
        The title; default "Posterior predictive check".

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    n = len(result.observed)
    fig = _fig((8, 1.7 * n + 0.6))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    lo, hi = (100 * b for b in result.band)
    for i, ax in enumerate(axes):
        ax.fill_between(result.t, result.lower[i], result.upper[i], color="tab:blue", alpha=0.25,
                        label=f"re-simulated {lo:g}–{hi:g} %")
        ax.plot(result.t, result.median[i], color="tab:blue", lw=1, label="median")
        ax.plot(result.t, result.observed[i], ".", color="tab:orange", ms=2, label="observed")
        ax.set_ylabel("u")
        ax.set_title(f"{100 * result.inside[i]:.0f} % of points inside ({result.n_draws[i]} draws)",
                     fontsize="small", loc="left")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3, frameon=False)
    axes[-1].set_xlabel("t")
    fig.suptitle(title or "Posterior predictive check")
    return fig
