"""Checking predicted parameters against the data: re-simulate candidates, keep the best fit,
refine it locally.

A network's estimate can land on the wrong side of a bifurcation (a spiking series mapped to
parameters whose solution is flat); the observed series shows it at once. ``best_fitting``
simulates several candidate parameter vectors per series (an ensemble's members and their mean,
say) and keeps, per series, the one whose simulated series is closest to the observation in
mean squared error: the maximum-likelihood choice among the candidates under white Gaussian
measurement noise. ``refine`` then descends the same misfit locally (Levenberg–Marquardt, all
series at once through the batch simulator): gradient-based fitting fails from a prior draw,
but from a network's estimate it starts in the right basin.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._util.validation import as_float_array, as_int
from ..models.priors import GaussianPrior, IndependentPrior, default_prior
from ..models.simulation import FitzHughNagumo, observed_count
from .channels import flat_series, simulate_rows, whitening

__all__ = ["MAX_ITERATIONS", "BestFit", "best_fitting", "Refined", "refine", "SeriesFit", "fit_series"]

# ``refine``'s bound on ``iterations`` (``fit_series`` refines its restarts for twice its own).
MAX_ITERATIONS = 10_000
# Levenberg–Marquardt damping never exceeds this; a step rejected at it is rejected for good.
_MAX_DAMPING = 1e10


def _candidates_and_series(candidates, d, model, t) -> tuple[np.ndarray, np.ndarray]:
    """Validated (K, N, P) candidates and series as rows (N, L) (channels one after another)."""
    c = as_float_array(candidates, "candidates", 3)
    d = flat_series(d, model, t)
    if d.shape[0] != c.shape[1]:
        raise ValueError(f"d must have one row per series of candidates ({c.shape[1]}), got {d.shape[0]}")
    return c, d


def _box(lower, upper, p: int, model=None) -> tuple[np.ndarray, np.ndarray]:
    """The parameter box: [lower, upper], by default the box of the model's default prior (for
    FitzHugh–Nagumo the study's)."""
    box = default_prior(model)
    lo = box.lower if lower is None else as_float_array(lower, "lower", 1)
    hi = box.upper if upper is None else as_float_array(upper, "upper", 1)
    if lo.shape != (p,) or hi.shape != (p,) or np.any(lo >= hi):
        raise ValueError(f"lower and upper must be {p} values with lower < upper, got {lo} and {hi}")
    return lo, hi


class BestFit(NamedTuple):
    """:func:`best_fitting`'s result: per series the chosen candidate, its index and its mean squared error.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fi.best_fitting([[[0.3, 0.3]], [[0.4, 0.4]]], fi.simulate([[0.4, 0.4]]))     # the second fits exactly
    BestFit(theta=array([[0.4, 0.4]]), index=array([1]), mse=array([0.]))
    """
    theta: np.ndarray  # (N, P) the chosen candidate per series
    index: np.ndarray  # (N,) which candidate (first of equals)
    mse: np.ndarray    # (N,) its mean squared error against the series (inf if every candidate failed)


def best_fitting(candidates, d, *, t=None, model: FitzHughNagumo | None = None, n_threads: int = 0,
                 block: int = 1024) -> BestFit:
    """Per series, the candidate whose simulated series is closest to the observed one.

    Candidates whose simulation fails count as infinitely far. Simulates K·N series, ``block``
    series at a time (memory K·block·L floats).

    Parameters
    ----------
    candidates : array_like, shape (K, N, P)
        K parameter vectors for each of N series.
    d : array_like, shape (N, L), or (N, K, L) for a model observing K quantities
        The observed series on the grid ``t``.
    t : array_like, shape (L,), optional
        The grid; default: the model's (``model_grid``).
    model : FitzHughNagumo, optional
        The model; default ``FitzHughNagumo()``.
    n_threads : int, default 0
        Threads to use (0: all cores).
    block : int, default 1024
        Series simulated at a time, at least 1.

    Returns
    -------
    BestFit
        ``theta`` (N, P): the chosen candidate per series; ``index`` (N,): which candidate (first
        of equals); ``mse`` (N,): its mean squared error against the series (inf if every
        candidate failed).

    Raises
    ------
    ValueError
        If ``d`` does not have one row per series of ``candidates``, or its length differs from
        the grid's.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> data = fi.Dataset.generate(2, seed=4, progress=False)
    >>> candidates = np.stack([data.theta + 0.2, data.theta])  # (K, N, P): two per series
    >>> fi.best_fitting(candidates, data.d).index.tolist()            # the second fits best
    [1, 1]
    """
    c, d = _candidates_and_series(candidates, d, model, t)
    k, n, p = c.shape
    block = as_int(block, "block", 1)
    mse = np.empty((k, n))
    for s in range(0, n, block):
        e = min(n, s + block)
        u, status = simulate_rows(c[:, s:e].reshape(-1, p), t=t, model=model, n_threads=n_threads)
        if u.shape[1] != d.shape[1]:
            raise ValueError(f"d has {d.shape[1]} points per series, the grid t has {u.shape[1]}")
        err = np.mean((u.reshape(k, e - s, -1) - d[None, s:e]) ** 2, axis=2)
        err[(status != 0).reshape(k, e - s)] = np.inf
        mse[:, s:e] = err
    index = np.argmin(mse, axis=0)
    rows = np.arange(n)
    return BestFit(c[index, rows], index, mse[index, rows])


class Refined(NamedTuple):
    """:func:`refine`'s result: per series the refined estimate, its mean squared error and that of the start.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fi.refine([[0.45, 0.45]], fi.simulate([[0.4, 0.4]]))     # a start 0.05 off the series' θ
    Refined(theta=array([[0.4..., 0.4...]]), mse=array([...e-2...]), start_mse=array([2.09...]))
    """
    theta: np.ndarray   # (N, P) refined estimates
    mse: np.ndarray     # (N,) mean squared error of their simulated series against d (the fit alone)
    start_mse: np.ndarray  # (N,) the same for the starting estimates (inf where they failed)


def refine(theta, d, *, t=None, model: FitzHughNagumo | None = None, lower=None, upper=None,
           anchor: float = 0.0, iterations: int = 20, step: float = 1e-6, tol: float = 1e-10,
           noise=None, dt: float = 0.2, noise_sd=None, noise_rho=None, prior=None,
           n_threads: int = 0) -> Refined:
    """Local least-squares refinement of estimates against the observed series, all at once.

    Levenberg–Marquardt on r(θ) = u(θ) − d for every series in parallel: forward-difference
    Jacobians (relative step ``step``) from one batched simulation of the P shifted estimates,
    a damped 2×2 (P×P) solve per series, a step kept only where it lowers that series' misfit
    (damping ÷10 then, ×10 otherwise, up to 1e10), and estimates clipped to [lower, upper]
    (default: the study's prior box). A good start (a network's estimate, or ``best_fitting``'s
    pick) lies in the basin where this converges; the misfit never rises above the start's.

    Parameters
    ----------
    theta : array_like, shape (N, P)
        The starting estimates, one per series.
    d : array_like, shape (N, L), or (N, K, L) for a model observing K quantities
        The observed series, one per estimate.
    t : array_like, shape (L,), optional
        The grid of ``d``; default: the model's (``model_grid``).
    model : FitzHughNagumo, optional
        The model; default ``FitzHughNagumo()``.
    lower, upper : array_like, shape (P,), optional
        The box [lower, upper] the estimates are clipped to; default: the study's prior box.
    anchor : float, default 0.0
        A finite number >= 0. ``anchor`` > 0 adds anchor·‖θ − θ_start‖² to the misfit (a
        Gaussian prior around the start): where the series hardly depends on a direction of θ (a
        flat series in the non-spiking region) the estimate then stays near its start instead of
        drifting along the flat valley, at the price of a bias of that order elsewhere.
    iterations : int, default 20
        At most this many steps, 0 to ``MAX_ITERATIONS`` = 10,000; a series stops earlier once it
        has converged (see Notes).
    step : float, default 1e-6
        The forward differences' relative step, in (0, 1).
    tol : float, default 1e-10
        The convergence tolerance, in [0, 1) (see Notes).
    noise : (float, float), array_like of shape (N, 2) or AR1Noise, optional
        AR(1) noise in the study's convention: σ is the noise's stationary standard deviation
        times Δt (``dt``), not the standard deviation itself (pass a measured standard deviation
        as ``noise_sd``). ``(σ, ρ)`` for every series, an (N, 2) array of per-series ``(σ, ρ)``,
        or an ``AR1Noise`` with fixed σ and ρ (its own ``dt``). It makes the fit a generalised
        least squares under stationary AR(1) noise: the residuals and the Jacobian are whitened
        (:func:`fhn_inverse.ar1_whiten`), so the misfit is ½‖W(u(θ) − d)‖²/s_ε², the negative
        log-likelihood of correlated noise, instead of a sum of squares that weighs correlated
        errors as if they were independent.
    dt : float, default 0.2
        The Δt of σ/``dt`` for ``noise`` given as numbers (an ``AR1Noise`` brings its own).
    noise_sd, noise_rho : float or array_like of shape (N,), optional
        The same AR(1) noise as measured, instead of ``noise``: ``noise_sd`` its standard
        deviation in the units of ``d`` (> 0), ``noise_rho`` its lag-one correlation, in (−1, 1);
        a number for every series or one per series, both given. ``noise_sd=s`` is
        ``noise=(s·dt, ρ)``.
    prior : GaussianPrior, optional
        Adds ½(θ − μ)ᵀΓpr⁻¹(θ − μ) (its truncation ignored): the estimate is then the MAP
        estimate whose Laplace covariance :func:`fhn_inverse.laplace_covariance` gives.
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    Refined
        ``theta`` (N, P): the refined estimates; ``mse`` (N,): the mean squared error of their
        simulated series against d (the fit alone: it stays the plain mean squared error of the
        fitted series with ``noise`` and ``prior``); ``start_mse`` (N,): the same for the starting
        estimates (inf where they failed).

    Raises
    ------
    ValueError
        If an argument is out of its range, or ``d`` does not fit ``theta`` or the grid.
    TypeError
        If ``prior`` is neither a ``GaussianPrior`` nor ``None``.

    Notes
    -----
    A series stops before ``iterations`` steps, and is no longer simulated, once it has
    converged:

    - its misfit is 0 (an exact start), or its start or a Jacobian's simulation failed;
    - a step is rejected at the largest damping (every later step would be the same one);
    - an accepted step lowers its misfit by at most ``tol`` × the misfit and moves no component
      of θ by more than ``tol`` × (1 + |θ_j|) (default 1e-10; 0 keeps only the two rules above,
      which stop exactly where further iterations could change nothing).

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fit = fi.refine([[0.45, 0.45], [0.35, 0.55]], fi.simulate([[0.4, 0.4], [0.3, 0.5]]))  # starts 0.05 off
    >>> fit.theta.round(6), bool(fit.mse.max() < 1e-12 < fit.start_mse.min())
    (array([[0.4, 0.4], [0.3, 0.5]]), True)
    """
    theta, d = as_float_array(theta, "theta", 2), flat_series(d, model, t)
    n, p = theta.shape
    if d.shape[0] != n:
        raise ValueError(f"d must have one row per estimate ({n}), got {d.shape[0]}")
    iterations = as_int(iterations, "iterations", 0)
    if iterations > MAX_ITERATIONS:
        raise ValueError(f"iterations must be in [0, {MAX_ITERATIONS:,}], got {iterations:,}")
    if not (np.isfinite(anchor) and anchor >= 0):
        raise ValueError(f"anchor must be a finite number >= 0, got {anchor}")
    if not (np.isfinite(step) and 0 < step < 1):
        raise ValueError(f"step must be in (0, 1), got {step}")
    if not (np.isfinite(tol) and 0 <= tol < 1):
        raise ValueError(f"tol must be in [0, 1), got {tol}")
    lo, hi = _box(lower, upper, p, model)
    noise, dt = _noise_in_study_units(noise, dt, noise_sd, noise_rho, n)
    whiten, prior_mean, prior_precision = _likelihood_terms(noise, dt, prior, n, p, observed_count(model))

    def misfit(th, obs, rows=None):
        u, status = simulate_rows(th, t=t, model=model, n_threads=n_threads)
        if u.shape[1] != obs.shape[1]:
            raise ValueError(f"d has {obs.shape[1]} points per series, the grid t has {u.shape[1]}")
        r = u - obs
        cost = np.mean(r**2, axis=1)
        cost[status != 0] = np.inf
        if whiten is None and prior_precision is None:
            return r, r, cost, cost
        rw = r if whiten is None else whiten(r, rows)
        objective = np.mean(rw**2, axis=1) + _prior_cost(th, prior_mean, prior_precision) / obs.shape[1]
        objective[status != 0] = np.inf
        return r, rw, cost, objective

    theta = np.clip(theta, lo, hi)
    origin = theta.copy()
    # r: residuals u − d; rw: the same whitened (noise=); fit: their MSE; cost: the objective
    r, rw, fit, cost = misfit(theta, d, np.arange(n))
    start = fit.copy()
    cost = cost.copy()  # + anchor·‖θ − origin‖², 0 at the start
    L = d.shape[1]
    lam = np.full(n, 1e-3)
    active = np.isfinite(cost) & (cost > 0)
    for _ in range(iterations):
        a = np.flatnonzero(active)  # the series still moving; the others are not simulated again
        if a.size == 0:
            break
        th, ra, rwa, da, ca = theta[a], r[a], rw[a], d[a], cost[a]
        m = a.size
        h = step * np.maximum(1.0, np.abs(th))                      # (M, P)
        shifted = np.repeat(th[None], p, axis=0)                     # (P, M, P)
        for j in range(p):
            shifted[j, :, j] += h[:, j]
        u_shift, status = simulate_rows(shifted.reshape(-1, p), t=t, model=model, n_threads=n_threads)
        jac = (u_shift.reshape(p, m, -1) - (ra + da)[None]) / h.T[:, :, None]  # (P, M, L)
        ok = np.all(status.reshape(p, m) == 0, axis=0)
        jac[:, ~ok] = 0.0
        if whiten is not None:
            jac = whiten(jac.reshape(p * m, -1), np.tile(a, p)).reshape(p, m, -1)
        # normal equations of Σ_l r² + L·anchor·‖θ − origin‖² (the cost times L; r whitened and
        # the prior's (θ − μ)ᵀΓpr⁻¹(θ − μ) added with noise= and prior=)
        jtj = np.einsum("pnl,qnl->npq", jac, jac) + L * anchor * np.eye(p)
        jtr = np.einsum("pnl,nl->np", jac, np.where(ok[:, None], rwa, 0.0)) + L * anchor * (th - origin[a])
        if prior_precision is not None:
            jtj = jtj + prior_precision
            jtr = jtr + (th - prior_mean) @ prior_precision
        damped = jtj + lam[a, None, None] * (np.eye(p) * jtj.diagonal(axis1=1, axis2=2)[:, :, None]
                                             + 1e-12 * np.eye(p))
        delta = -np.linalg.solve(damped, jtr[:, :, None])[:, :, 0]
        trial = np.clip(th + np.where(ok[:, None], delta, 0.0), lo, hi)
        r_new, rw_new, fit_new, objective_new = misfit(trial, da, a)
        cost_new = objective_new + anchor * np.sum((trial - origin[a]) ** 2, axis=1)
        better = ok & (cost_new < ca)
        converged = better & (ca - cost_new <= tol * ca) & np.all(
            np.abs(trial - th) <= tol * (1.0 + np.abs(th)), axis=1)
        stuck = ~ok | (~better & (lam[a] >= _MAX_DAMPING))
        won = a[better]
        theta[won], r[won], fit[won], cost[won] = trial[better], r_new[better], fit_new[better], cost_new[better]
        rw[won] = rw_new[better]
        lam[a] = np.where(better, lam[a] / 10, np.minimum(lam[a] * 10, _MAX_DAMPING))
        active[a[converged | stuck | (better & (cost_new == 0))]] = False
    return Refined(theta, fit, start)


def _per_series(value, name: str, n: int) -> np.ndarray:
    """A number or one value per series, as an (N,) array."""
    scalar = np.ndim(value) == 0
    arr = as_float_array(value, name, (0, 1))  # a number comes back of shape (1,)
    if scalar:
        return np.full(n, arr[0])
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a number or one value per series (N = {n}), got shape {arr.shape}")
    return arr


def measured_noise(noise_sd, noise_rho, n: int) -> np.ndarray:
    """(N, 2): per series the noise's standard deviation in the units of the series and its
    lag-one correlation, from a number or one value per series each; ValueError naming the value
    and its range (sd > 0, ρ in (−1, 1))."""
    sd, rho = _per_series(noise_sd, "noise_sd", n), _per_series(noise_rho, "noise_rho", n)
    bad = np.flatnonzero(~(sd > 0))
    if bad.size:
        raise ValueError(f"noise_sd (the noise's standard deviation, in the units of d) must be > 0, got "
                         f"{sd[bad[0]]} (series {bad[0]})")
    bad = np.flatnonzero(~((rho > -1) & (rho < 1)))
    if bad.size:
        raise ValueError(f"noise_rho (the noise's lag-one correlation) must be in (-1, 1), got {rho[bad[0]]} "
                         f"(series {bad[0]})")
    return np.column_stack([sd, rho])


def _noise_in_study_units(noise, dt, noise_sd, noise_rho, n: int):
    """(noise, dt) for ``_likelihood_terms``: ``noise`` as given, or the measured ``noise_sd`` and
    ``noise_rho`` as per-series (σ, ρ) with Δt = 1 (σ/Δt = the standard deviation itself)."""
    if noise_sd is None and noise_rho is None:
        return noise, dt
    if noise is not None:
        raise ValueError("give noise (the study's sigma = standard deviation × dt) or noise_sd and noise_rho "
                         "(the measured standard deviation), not both")
    if noise_sd is None or noise_rho is None:
        missing = "noise_sd" if noise_sd is None else "noise_rho"
        raise ValueError(f"noise_sd and noise_rho come together; {missing} is missing")
    return measured_noise(noise_sd, noise_rho, n), 1.0


def _likelihood_terms(noise, dt, prior, n: int, p: int, channels: int = 1):
    """The whitening of ``refine``'s residuals (None: white least squares) as a function of
    (residual rows, their series' indices), and the prior's mean and precision (None: no prior)."""
    whiten = None
    if noise is not None:
        from ..uncertainty.laplace import noise_arrays

        whiten = whitening(*noise_arrays(noise, dt, n, channels), n, channels)
    if prior is None:
        return whiten, None, None
    if isinstance(prior, IndependentPrior):  # its normal marginals; flat elsewhere
        prior = prior.gaussian_part()
    if not isinstance(prior, GaussianPrior):
        raise TypeError(f"prior must be a GaussianPrior or None, got {type(prior).__name__}")
    if prior.mean.shape != (p,):
        raise ValueError(f"prior must have {p} parameters, got {prior.mean.shape[0]}")
    precision = np.linalg.inv(prior.covariance)
    return whiten, prior.mean, 0.5 * (precision + precision.T)


def _prior_cost(theta, mean, precision) -> np.ndarray:
    if precision is None:
        return np.zeros(len(theta))
    dev = theta - mean
    return np.einsum("ni,ij,nj->n", dev, precision, dev)


class SeriesFit(NamedTuple):
    """:func:`fit_series`' result: the estimates, their mean squared errors, ``restarted`` and ``threshold``.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fi.fit_series([[[0.45, 0.45]]], fi.simulate([[0.4, 0.4]]), rounds=0)     # no restarts: a local fit
    SeriesFit(theta=array([[0.4..., 0.4...]]), mse=array([...]), restarted=array([False]), threshold=...)
    """
    theta: np.ndarray      # (N, P) the estimates
    mse: np.ndarray        # (N,) mean squared error of their simulated series against d
    restarted: np.ndarray  # (N,) bool: the estimate came from the restarts on the grid
    threshold: float       # misfit above which a series counted as poorly fitted


def _grid(lo, hi, points: int) -> np.ndarray:
    """``points``^P parameter vectors on a regular grid over the box [lo, hi] (corners included)."""
    axes = [np.linspace(a, b, points) for a, b in zip(lo, hi)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(lo))


def _nearest_on_grid(grid_theta, d, *, t, model, n_threads, starts: int, block: int = 1024):
    """For each series of d (N, L), the ``starts`` grid points whose simulated series are closest
    to it in squared error, closest first: (N, starts, P), and the closest one's mean squared
    error (N,). The grid is simulated once for all series; the distances come from matrix
    products over blocks of ``block`` series."""
    u, status = simulate_rows(grid_theta, t=t, model=model, n_threads=n_threads)
    if u.shape[1] != d.shape[1]:
        raise ValueError(f"d has {d.shape[1]} points per series, the grid t has {u.shape[1]}")
    uu = np.sum(u**2, axis=1)
    uu[status != 0] = np.inf
    n = d.shape[0]
    near = np.empty((n, starts, grid_theta.shape[1]))
    closest = np.empty(n)
    for s in range(0, n, block):
        e = min(n, s + block)
        dist = uu[None, :] - 2.0 * d[s:e] @ u.T + np.sum(d[s:e] ** 2, axis=1)[:, None]  # (b, G)
        order = np.argsort(dist, axis=1, kind="stable")[:, :starts]
        near[s:e] = grid_theta[order]
        closest[s:e] = np.maximum(dist[np.arange(e - s), order[:, 0]], 0.0) / d.shape[1]
    return near, closest


def fit_series(candidates, d, *, t=None, model: FitzHughNagumo | None = None, lower=None, upper=None,
               iterations: int = 20, threshold: float = 2.0, tol: float = 1e-6, grid: int | None = None,
               starts: int = 8, rounds: int = 2, noise=None, dt: float = 0.2, noise_sd=None, noise_rho=None,
               prior=None, n_threads: int = 0, block: int = 256) -> SeriesFit:
    """The parameters whose simulated series fits each observed series best.

    The search starts from the network's estimates and searches the whole prior box only where
    they fail:

    1. ``best_fitting`` among the candidates (K, N, P) — an ensemble's members and mean, say —
       then ``refine`` (Levenberg–Marquardt, at most ``iterations``, 0 to 5,000) from the pick.
    2. The ODE's series on a ``grid``^P grid over the box [lower, upper] (one simulation of the
       grid for all series) are ranked against each observation. A series counts as poorly
       fitted when a grid point's series fits it better than its estimate, or when its misfit
       exceeds ``threshold`` × the median misfit over all series + ``tol`` (most series fit
       down to their measurement noise, so the median estimates the noise's mean square; ``tol``
       stands in for it on noise-free series; the limit is set anew after each round). For each
       poorly fitted series the ``starts`` closest grid points are refined (2 × ``iterations``)
       and the least misfit over them and step 1 is kept, so no series ends worse than in step 1.
    3. Up to ``rounds`` such rounds, each on the series still poorly fitted, with twice the grid
       resolution per axis and twice the starts of the round before.

    The restarts run over ``block`` series at a time (memory about 8·block·starts·L values);
    the result does not depend on ``block``.

    Parameters
    ----------
    candidates : array_like, shape (K, N, P)
        K parameter vectors for each of N series — an ensemble's members and mean, say.
    d : array_like, shape (N, L), or (N, K, L) for a model observing K quantities
        The observed series.
    t : array_like, shape (L,), optional
        The grid of ``d``; default: the model's (``model_grid``).
    model : FitzHughNagumo, optional
        The model; default ``FitzHughNagumo()``.
    lower, upper : array_like, shape (P,), optional
        The box [lower, upper] searched; default: the study's prior box.
    iterations : int, default 20
        Levenberg–Marquardt iterations of step 1, 0 to 5,000 (the restarts refine for twice as
        many).
    threshold : float, default 2.0
        A finite number >= 1: a misfit above ``threshold`` × the median misfit + ``tol`` counts
        as poorly fitted.
    tol : float, default 1e-6
        A finite number >= 0 that stands in for the noise's mean square on noise-free series.
    grid : int, optional
        Points per axis of the first round's grid, at least 2; ``grid``^P at most 1,000,000.
        Default: 32 for P ≤ 2 parameters, else about 10,000 points in all (10 per axis for P = 4).
    starts : int, default 8
        Grid points refined per poorly fitted series in the first round, at least 1.
    rounds : int, default 2
        Most rounds of restarts, at least 0.
    noise : (float, float), array_like of shape (N, 2) or AR1Noise, optional
        AR(1) noise in the study's convention (σ = standard deviation × ``dt``), as in
        :func:`refine`; adds the last step (see Notes).
    dt : float, default 0.2
        As in :func:`refine`.
    noise_sd, noise_rho : float or array_like of shape (N,), optional
        The noise as measured (standard deviation in the units of ``d``, lag-one correlation),
        instead of ``noise``, as in :func:`refine`.
    prior : GaussianPrior, optional
        A Gaussian prior, as in :func:`refine`; adds the last step (see Notes).
    n_threads : int, default 0
        Threads to use (0: all cores).
    block : int, default 256
        Series whose restarts run at a time, at least 1.

    Returns
    -------
    SeriesFit
        ``theta`` (N, P): the estimates; ``mse`` (N,): the mean squared error of their simulated
        series against d (with ``noise`` and ``prior`` it stays the plain mean squared error of
        the fitted series); ``restarted`` (N,): whether the estimate came from the restarts on
        the grid; ``threshold``: the misfit above which a series counted as poorly fitted.

    Raises
    ------
    ValueError
        If an argument is out of its range, or ``d`` does not fit ``candidates`` or the grid.
    TypeError
        If ``prior`` is neither a ``GaussianPrior`` nor ``None``.

    Notes
    -----
    This is a global search of the least-squares fit guided by the network: gradient-based
    fitting from a prior draw fails on this non-convex misfit, while from the network's estimate,
    or from the grid's nearest series, it starts in the right basin. It uses the observed series
    beyond the network's estimate — the maximum-likelihood choice under white measurement noise.

    ``noise`` and ``prior`` (as in :func:`refine`) add a last step: the generalised
    least-squares fit under AR(1) noise, plus the prior's term (a MAP estimate), refined from
    the least-squares fit of steps 1–3 for ``iterations`` × 5 more iterations. The search itself
    stays on the plain misfit: whitening a strongly correlated noise (ρ near 1) nearly
    differentiates the residuals, which sharpens the misfit's valleys, so Levenberg–Marquardt on
    the whitened misfit stalls far from starts where the plain one converges; from the plain
    fit it starts in the right basin. Without them the result is unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> data = fi.Dataset.generate(3, seed=4, progress=False)       # noise-free series
    >>> fit = fi.fit_series(data.theta[None] + 0.1, data.d)        # one start per series, 0.1 off
    >>> bool(np.abs(fit.theta - data.theta).max() < 1e-4)
    True
    """
    c, d = _candidates_and_series(candidates, d, model, t)
    _, n, p = c.shape
    iterations = as_int(iterations, "iterations", 0)
    if 2 * iterations > MAX_ITERATIONS:
        raise ValueError(f"iterations must be in [0, {MAX_ITERATIONS // 2:,}] (the restarts refine for twice "
                         f"as many), got {iterations:,}")
    p_free = np.shape(candidates)[-1] if np.ndim(candidates) >= 1 else 2
    if grid is None:  # about 10,000 grid points beyond two parameters
        grid = 32 if p_free <= 2 else max(3, int(round(10_000 ** (1 / p_free))))
    grid = as_int(grid, "grid", 2)
    starts = as_int(starts, "starts", 1)
    rounds = as_int(rounds, "rounds", 0)
    block = as_int(block, "block", 1)
    if not (np.isfinite(threshold) and threshold >= 1):
        raise ValueError(f"threshold must be a finite number >= 1, got {threshold}")
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a finite number >= 0, got {tol}")
    if grid**p > 1_000_000:
        raise ValueError(f"grid^P must be at most 1,000,000 points, got {grid}^{p}")
    lo, hi = _box(lower, upper, p, model)
    kw = dict(t=t, model=model, n_threads=n_threads)
    noise, dt = _noise_in_study_units(noise, dt, noise_sd, noise_rho, n)
    _likelihood_terms(noise, dt, prior, n, p, observed_count(model))  # checks noise and prior before any work

    best = best_fitting(c, d, **kw)
    first = refine(best.theta, d, lower=lo, upper=hi, iterations=iterations, **kw)
    theta, mse = first.theta.copy(), first.mse.copy()
    restarted = np.zeros(n, dtype=bool)

    def poor_limit():
        finite = mse[np.isfinite(mse)]
        return float(threshold * np.median(finite) + tol) if finite.size else float(tol)

    limit = poor_limit()
    for r in range(rounds):
        res = grid * 2**r
        if res**p > 1_000_000:
            break
        s = min(starts * 2**r, res**p)
        near, closest = _nearest_on_grid(_grid(lo, hi, res), d, starts=s, **kw)  # (N, s, P), (N,)
        # poorly fitted: far above the typical misfit, or beaten by a grid point's series as it is
        poor = np.flatnonzero(~(mse <= limit) | (closest < mse))
        if poor.size == 0:
            break
        for b in range(0, poor.size, block):  # blocks of series bound the memory (block·s·L values)
            sel = poor[b:b + block]
            fit = refine(near[sel].reshape(-1, p), np.repeat(d[sel], s, axis=0), lower=lo, upper=hi,
                         iterations=2 * iterations, **kw)
            cost = fit.mse.reshape(-1, s)
            pick = np.argmin(cost, axis=1)  # failed simulations cost inf
            new_mse = cost[np.arange(sel.size), pick]
            won = new_mse < mse[sel]
            rows = sel[won]
            theta[rows] = fit.theta.reshape(-1, s, p)[np.flatnonzero(won), pick[won]]
            mse[rows] = new_mse[won]
            restarted[rows] = True
        limit = poor_limit()
    if noise is not None or prior is not None:
        fit = refine(theta, d, lower=lo, upper=hi, iterations=min(5 * iterations, MAX_ITERATIONS), noise=noise, dt=dt,
                     prior=prior, **kw)
        theta, mse = fit.theta, fit.mse
    return SeriesFit(theta, mse, restarted, limit)
