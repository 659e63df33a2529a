"""The most accurate estimate in one call: the MAP fit under AR(1) noise, with intervals.

``map_fit`` takes starting estimates (a network's) and the observed series and returns, per series,
the MAP estimate under stationary AR(1) noise and the prior, its Laplace standard deviations,
central intervals (their coverage checked on simulations, :data:`INTERVAL_SCALE`; clipped to the
prior's box), the noise it used and a flag. It does not fit the noise jointly with θ: the noise
is given, or estimated once from the residuals of a least-squares fit (:func:`noise_from_residuals`).
"""

from __future__ import annotations

from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from .._util.validation import as_float, as_float_array, as_int
from ..models.priors import GaussianPrior, IndependentPrior, UniformPrior, default_prior
from ..models.simulation import FitzHughNagumo, model_grid, observed_count
from .channels import flat_series, simulate_rows
from ..uncertainty.laplace import laplace_covariance, noise_arrays
from .refine import MAX_ITERATIONS, _per_series, fit_series, measured_noise, refine

__all__ = ["FLAGS", "INTERVAL_SCALE", "RHO_RANGE", "MapFit", "map_fit", "noise_from_residuals"]

#: The range the residuals' lag-one correlation is clipped to (:func:`noise_from_residuals`).
RHO_RANGE = (0.0, 0.99)
#: A residual standard deviation is at least this fraction of the series' root mean square (a
#: noise-free series fitted exactly would otherwise have none, and no likelihood).
SD_FLOOR = 1e-6

#: Per parameter, the factor the Laplace standard deviations are multiplied by for the intervals:
#: the Laplace covariance of the MAP estimate ignores the error of a noise estimated from residuals,
#: the prior's truncation and the model's non-linearity, any of which could make it too narrow.
#: Checked on simulations of the study's setting (θ from ``default_prior()``, noise ``AR1Noise()``,
#: starts from a small CNN, noise estimated from residuals): the factor that makes 90 % intervals
#: cover 90 % is 1 within its sampling error, and the uncorrected intervals cover within the
#: binomial band at 50/80/90/95 %, so none is applied. Re-measure with
#: ``python benchmarks/map_fit_coverage.py --fit-scale`` (the factor it prints goes here).
INTERVAL_SCALE = (1.0, 1.0)

#: The bits of :attr:`MapFit.flag`; 0: none of these.
FLAGS = {
    "edge": 1,           # the estimate lies on the box's edge (pinned there; its interval is one-sided)
    "no_covariance": 2,  # no Laplace covariance there (a failed simulation or a singular precision):
                         # sd is NaN and the interval is the whole box
    "noise_clipped": 4,  # the noise estimated from the residuals was clipped (ρ to RHO_RANGE, sd to its floor)
    "failed": 8,         # the estimate's simulation failed (mse is inf)
}


class MapFit(NamedTuple):
    """The result of :func:`map_fit`, per series: the MAP estimates ``theta``, their Laplace
    standard deviations ``sd`` and intervals [``lower``, ``upper``] (each (N, P)); the noise used
    as measured (``noise``) and in the study's convention (``study_noise``), and whether it was
    estimated (``noise_estimated``), each (N, 2); ``mse`` and ``flag`` (N,); and ``level``.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> data = fi.Dataset.generate(1, seed=3, noise=fi.AR1Noise(), progress=False)
    >>> fit = fi.map_fit(data.theta + 0.02, data.d, noise_sd=0.3, rounds=0, iterations=5)
    >>> fit.theta.shape, fit.sd.shape, fit.lower.shape, fit.mse.shape, fit.level
    ((1, 2), (1, 2), (1, 2), (1,), 0.9)
    >>> fit.noise_estimated.tolist()     # the standard deviation given, ρ from the residuals
    [[False, True]]
    >>> float(fit.noise[0, 0]), fit.flag.tolist()
    (0.3, [0])
    """

    theta: np.ndarray        # (N, P) MAP estimates
    sd: np.ndarray           # (N, P) their Laplace standard deviations (NaN where there is none)
    lower: np.ndarray        # (N, P) lower ends of the central intervals at ``level``
    upper: np.ndarray        # (N, P) upper ends
    noise: np.ndarray        # (N, 2) the noise used, as measured: (standard deviation in the units of d, ρ);
    #                          (N, K, 2), each channel's, for a model observing K quantities
    study_noise: np.ndarray  # (N, 2) the same in the study's convention: (σ = standard deviation × Δt, ρ)
    noise_estimated: np.ndarray  # (N, 2) bool: that value came from the residuals, not from the caller
    mse: np.ndarray          # (N,) mean squared error of the estimate's simulated series against d
    flag: np.ndarray         # (N,) int: bits of FLAGS, 0 where none applies
    level: float             # the intervals' level


def noise_from_residuals(r) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The AR(1) noise of residuals: their root mean square and lag-one autocorrelation.

    For r = d − u(θ̂) of a fit, sd = √(mean r²) (the noise has mean 0, so no mean is removed) and
    ρ = Σ r_k r_{k−1} / Σ r_k², clipped to :data:`RHO_RANGE` (0 for residuals that are all 0).
    Fitting P parameters takes about P/L of the residuals' variance away: negligible for L in the
    hundreds.

    Parameters
    ----------
    r : array_like, shape (N, L)
        Residuals, one series per row, L >= 2.

    Returns
    -------
    sd : ndarray, shape (N,)
        The standard deviations, in the units of r.
    rho : ndarray, shape (N,)
        The lag-one correlations, in :data:`RHO_RANGE`.
    clipped : ndarray, shape (N,)
        Whether ρ was clipped.

    Raises
    ------
    ValueError
        If ``r`` is not finite and 2-dimensional with at least 2 points per series.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> sd, rho, clipped = fi.noise_from_residuals([[1.0, 1.0, 1.0, 1.0], [1.0, -1.0, 1.0, -1.0]])
    >>> sd, rho, clipped     # the zigzag's ρ = −3/4 is clipped to RHO_RANGE
    (array([1., 1.]), array([0.75, 0.  ]), array([False,  True]))
    """
    r = as_float_array(r, "r", 2)
    if r.shape[1] < 2:
        raise ValueError(f"r must have at least 2 points per series for a lag-one correlation, got {r.shape[1]}")
    power = np.sum(r**2, axis=1)
    sd = np.sqrt(power / r.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.sum(r[:, 1:] * r[:, :-1], axis=1) / power
    raw = np.where(power > 0, raw, 0.0)
    rho = np.clip(raw, *RHO_RANGE)
    return sd, rho, rho != raw


def _prior_and_box(prior, lower, upper, p: int, model=None):
    """The Gaussian prior of the MAP term (None for a uniform one) and the box [lo, hi]: ``lower``
    and ``upper`` where given, else the prior's finite bounds, else the study's box. The prior
    defaults to the model's (:func:`default_prior`)."""
    prior = default_prior(model) if prior is None else prior
    if not isinstance(prior, (GaussianPrior, UniformPrior, IndependentPrior)):
        raise TypeError(f"prior must be a GaussianPrior, a UniformPrior, an IndependentPrior or None, got "
                        f"{type(prior).__name__}")
    if prior.lower.shape != (p,):
        raise ValueError(f"prior must have {p} parameters (the columns of start), got {prior.lower.shape[0]}")
    study = default_prior()
    study_lo, study_hi = (study.lower, study.upper) if study.lower.shape == (p,) else (np.full(p, -np.inf),) * 2
    lo = np.where(np.isfinite(prior.lower), prior.lower, study_lo) if lower is None else as_float_array(
        lower, "lower", 1)
    hi = np.where(np.isfinite(prior.upper), prior.upper, study_hi) if upper is None else as_float_array(
        upper, "upper", 1)
    if lo.shape != (p,) or hi.shape != (p,) or not np.all(np.isfinite(lo) & np.isfinite(hi) & (lo < hi)):
        raise ValueError(f"lower and upper must be {p} finite values with lower < upper, got {lo} and {hi}")
    if isinstance(prior, IndependentPrior):
        return prior.gaussian_part(), lo, hi
    return (prior if isinstance(prior, GaussianPrior) else None), lo, hi


def _grid_step(t, length: int, model) -> float:
    """Δt of the study's convention: the grid's mean step (default: the model's grid)."""
    grid = model_grid(model) if t is None else as_float_array(t, "t", 1)
    if grid.shape != (length,):
        raise ValueError(f"d has {length} points per series, the grid t has {grid.shape[0]}")
    if length < 2:
        raise ValueError(f"the series need at least 2 points, got {length}")
    return float(grid[-1] - grid[0]) / (length - 1)


def _given_noise(noise, noise_sd, noise_rho, n: int, dt: float, channels: int = 1):
    """(sd, ρ) per series (and channel: (n·K,), row-major (n, K)) as given, NaN where not given (to be
    estimated)."""
    if noise is not None:
        if noise_sd is not None or noise_rho is not None:
            raise ValueError("give noise (the study's sigma = standard deviation × dt) or noise_sd/noise_rho "
                             "(the measured standard deviation), not both")
        return noise_arrays(noise, dt, n, channels)  # an AR1Noise brings its own dt
    sd = np.full(n, np.nan) if noise_sd is None else _per_series(noise_sd, "noise_sd", n).copy()
    rho = np.full(n, np.nan) if noise_rho is None else _per_series(noise_rho, "noise_rho", n).copy()
    if noise_sd is not None or noise_rho is not None:  # the given values' ranges
        measured_noise(np.where(np.isnan(sd), 1.0, sd), np.where(np.isnan(rho), 0.0, rho), n)
    return np.repeat(sd, channels), np.repeat(rho, channels)  # the same for every channel


def map_fit(start, d, *, t=None, prior=None, noise=None, noise_sd=None, noise_rho=None, level: float = 0.9,
            lower=None, upper=None, model: FitzHughNagumo | None = None, rounds: int = 2, iterations: int = 20,
            n_threads: int = 0) -> MapFit:
    """MAP estimates under AR(1) noise and the prior, with Laplace intervals.

    The steps, all series at once:

    1. The least-squares fit (:func:`fit_series` from ``start``: Levenberg–Marquardt, then
       global restarts on a grid over the box for the series it leaves poorly fitted, up to
       ``rounds`` rounds). The MAP refinement alone, from a network's estimate, stalls in the
       whitened misfit's sharp valleys for many series; from this fit it starts in the right basin.
    2. The noise: as given, or, where not given, estimated from the residuals d − u(θ̂) of step
       1 (:func:`noise_from_residuals`: their root mean square and lag-one autocorrelation, ρ
       clipped to :data:`RHO_RANGE`). A two-stage scheme: the noise is estimated once, θ refitted
       once with it (step 3); it is not iterated.
    3. The MAP estimate: :func:`refine` from step 1 with the generalised least squares under that
       AR(1) noise and, for a :class:`GaussianPrior`, its term ½(θ − μ)ᵀΓpr⁻¹(θ − μ) (its
       truncation ignored; a :class:`UniformPrior` adds none), for 5 × ``iterations``, clipped to
       the box.
    4. Intervals: C = (JᵀΓ⁻¹J + Γpr⁻¹)⁻¹ at the estimate (:func:`laplace_covariance`, the same
       noise and prior), sd = √diag(C), and θ̂ ∓ z·c·sd with z the normal quantile of ``level``
       and c = :data:`INTERVAL_SCALE` per parameter, clipped to the box. The truth lies in the
       prior's support, so the clipping never loses coverage.

    Parameters
    ----------
    start : array_like, shape (N, P)
        Starting estimates, one per series: a network's (for a joint map with (σ, ρ) outputs,
        its θ columns; its noise columns can go to ``noise``).
    d : array_like, shape (N, L), or (N, K, L) for a model observing K quantities
        The observed series.
    t : array_like, shape (L,), optional
        Their grid; default: the model's. Its mean step is the Δt of the study's convention.
    prior : GaussianPrior, UniformPrior or IndependentPrior, optional
        The prior; default :func:`default_prior`. A Gaussian one (or normal marginals) makes the
        estimate a MAP estimate; a uniform one only bounds it.
    noise : (float, float), array_like of shape (N, 2) or AR1Noise, optional
        The noise in the study's convention: (σ, ρ) with σ = standard deviation × Δt (the grid's
        step; an ``AR1Noise`` with fixed σ and ρ brings its own ``dt``), for every series or per
        series. Not with ``noise_sd`` or ``noise_rho``.
    noise_sd : float or array_like of shape (N,), optional
        The noise's standard deviation as measured, in the units of ``d``, > 0.
    noise_rho : float or array_like of shape (N,), optional
        The noise's lag-one correlation, in (−1, 1). Of ``noise_sd`` and ``noise_rho``, one not
        given is estimated from the residuals (step 2); with neither, and no ``noise``, both are.
    level : float, default 0.9
        The intervals' level, in (0, 1).
    lower, upper : array_like, shape (P,), optional
        The box of the fit and of the intervals; default: the prior's bounds, where finite, else
        the study's box.
    model : FitzHughNagumo, optional
        The model; default ``FitzHughNagumo()``.
    rounds : int, default 2
        Rounds of global restarts in step 1 (:func:`fit_series`); 0: local refinement only.
    iterations : int, default 20
        Levenberg–Marquardt iterations of step 1 (0 to 1,000); step 3 takes 5 × as many.
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    MapFit
        Per series: ``theta``, ``sd``, ``lower``, ``upper`` (N, P); ``noise`` (N, 2), the (sd, ρ)
        used, and ``study_noise`` (N, 2), the same as (σ = sd·Δt, ρ); ``noise_estimated`` (N, 2)
        bool; ``mse`` (N,), the plain mean squared error of the fit; ``flag`` (N,), bits of
        :data:`FLAGS`; and ``level``.

    Raises
    ------
    ValueError
        If an argument is out of its range (the message names the value and the range: noise
        standard deviations > 0, correlations in (−1, 1), ``level`` in (0, 1)), or the shapes of
        ``start``, ``d``, ``t`` and the noise do not fit together.
    TypeError
        If ``prior`` is neither a ``GaussianPrior``, a ``UniformPrior`` nor ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> data = fi.Dataset.generate(2, seed=3, noise=fi.AR1Noise(), progress=False)
    >>> fit = fi.map_fit(data.theta + 0.02, data.d)  # e.g. a network's estimates as the start
    >>> fit.theta.shape
    (2, 2)
    >>> bool(np.all((fit.lower <= fit.theta) & (fit.theta <= fit.upper)))
    True
    """
    start = as_float_array(start, "start", 2)
    d, K = flat_series(d, model, t), observed_count(model)
    n, p = start.shape
    if d.shape[0] != n:
        raise ValueError(f"d must have one row per starting estimate ({n}), got {d.shape[0]}")
    level = as_float(level, "level")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    iterations = as_int(iterations, "iterations", 0, MAX_ITERATIONS // 10)
    dt = _grid_step(t, d.shape[1] // K, model)
    gaussian, lo, hi = _prior_and_box(prior, lower, upper, p, model)
    sd, rho = _given_noise(noise, noise_sd, noise_rho, n, dt, K)  # (n·K,): each channel's noise
    kw = dict(t=t, model=model, n_threads=n_threads)

    search = fit_series(start[None], d, lower=lo, upper=hi, rounds=rounds, iterations=iterations, **kw)
    estimated = np.column_stack([np.isnan(sd), np.isnan(rho)])  # (n·K, 2): rows are (series, channel)
    flag = np.zeros(n, dtype=np.int64)
    if estimated.any():
        rows = np.flatnonzero(estimated.reshape(n, -1).any(axis=1))
        u, status = simulate_rows(search.theta[rows], **kw)
        r = np.where((status == 0)[:, None], d[rows] - u, d[rows])  # a failed fit: the series itself
        r = r.reshape(rows.size * K, -1)  # each channel's residuals, with their own noise
        pairs = (rows[:, None] * K + np.arange(K)).ravel()
        sd_r, rho_r, rho_clipped = noise_from_residuals(r)
        floor = SD_FLOOR * np.sqrt(np.mean(d[rows].reshape(rows.size * K, -1) ** 2, axis=1)) + np.finfo(float).tiny
        sd[pairs] = np.where(estimated[pairs, 0], np.maximum(sd_r, floor), sd[pairs])
        rho[pairs] = np.where(estimated[pairs, 1], rho_r, rho[pairs])
        clipped = (estimated[pairs, 0] & (sd_r < floor)) | (estimated[pairs, 1] & rho_clipped)
        flag[rows[clipped.reshape(rows.size, K).any(axis=1)]] |= FLAGS["noise_clipped"]
    measured = np.column_stack([sd, rho]) if K == 1 else np.stack([sd, rho], axis=-1).reshape(n, K, 2)

    fit = refine(search.theta, d, lower=lo, upper=hi, iterations=5 * iterations, noise=measured, dt=1.0,
                 prior=gaussian, **kw)
    theta = fit.theta
    cov, status = laplace_covariance(theta, noise=measured, dt=1.0, prior=gaussian, return_status=True, **kw)
    var = np.diagonal(cov, axis1=1, axis2=2)
    sd_theta = np.sqrt(np.where(var > 0, var, np.nan))  # NaN where C is missing (NaN) or not positive
    missing = ~np.all(np.isfinite(sd_theta), axis=1) | (status != 0)
    sd_theta[missing] = np.nan
    scale = np.asarray(INTERVAL_SCALE) if p == len(INTERVAL_SCALE) else 1.0  # measured for FitzHugh–Nagumo's θ
    half = NormalDist().inv_cdf(0.5 + level / 2) * scale * sd_theta
    low = np.where(missing[:, None], lo, np.clip(theta - half, lo, hi))
    high = np.where(missing[:, None], hi, np.clip(theta + half, lo, hi))

    width = hi - lo
    edge = np.any((theta <= lo + 1e-9 * width) | (theta >= hi - 1e-9 * width), axis=1)
    flag[edge] |= FLAGS["edge"]
    flag[missing] |= FLAGS["no_covariance"]
    flag[~np.isfinite(fit.mse)] |= FLAGS["failed"]
    study = measured * np.array([dt, 1.0])
    estimated = estimated if K == 1 else estimated.reshape(n, K, 2)
    return MapFit(theta, sd_theta, low, high, measured, study, estimated, fit.mse, flag, level)
