"""The posterior predictive check: the ODE re-simulated at posterior samples (with the series'
AR(1) noise when given), and the band of the re-simulated series against the observed ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._util.validation import as_float_array, as_seed
from .stats import _check_level, _json

__all__ = ["PosteriorPredictive", "posterior_predictive"]


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

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> theta = np.array([[0.4, 0.4], [0.7, 0.1]])
    >>> samples = theta[:, None, :] + 0.01 * np.random.default_rng(0).normal(size=(2, 50, 2))
    >>> ppc = fi.diagnostics.posterior_predictive(samples, fi.simulate(theta))
    >>> ppc.t.shape, ppc.lower.shape, ppc.band, ppc.n_draws.tolist()
    ((1000,), (2, 1000), (0.05, 0.95), [50, 50])
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

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> theta = np.array([[0.4, 0.4], [0.7, 0.1]])
        >>> samples = theta[:, None, :] + 0.01 * np.random.default_rng(0).normal(size=(2, 50, 2))
        >>> d = fi.diagnostics.posterior_predictive(samples, fi.simulate(theta)).to_dict()
        >>> sorted(d), d["n_series"], d["n_draws"]
        (['band', 'inside', 'inside_all', 'n_draws', 'n_series'], 2, [50, 50])
        """
        return _json({"band": list(self.band), "n_series": len(self.observed), "inside": self.inside,
                      "inside_all": self.inside_all, "n_draws": self.n_draws})


def posterior_predictive(samples, observed, *, noise=None, t=None, band=(0.05, 0.95), seed: int = 0,
                         n_threads: int = 0, model=None) -> PosteriorPredictive:
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
        The observed series on the grid ``t``; (n, K, L) for a model that observes K quantities.
    noise : array_like of shape (n, 2), or an observation law, optional
        The (standard deviation, ρ) of the AR(1) measurement noise of each series (for K channels:
        the same for each, or (n, K, 2)), added to each re-simulation (draws of ``seed``) so that
        noisy observations are compared with noisy predictions; or an observation law with fixed
        parameters (:mod:`~fhn_inverse.models.observation`: log-normal, Poisson, binomial, ...)
        that observes each re-simulation (a law with ranges draws its parameters anew for each
        draw); None for clean series. Standard deviations >= 0, |ρ| < 1.
    t : array_like, shape (L,), optional
        The grid; default: the model's (the study's for FitzHugh–Nagumo).
    band : (float, float), default (0.05, 0.95)
        The (low, high) quantiles of the band, in (0, 1) with low < high.
    seed : int, default 0
        The seed of the noise's draws, an integer in [0, 2**64).
    n_threads : int, default 0
        Threads to use (0: all cores).
    model : optional
        The ODE model (a built-in model or an :class:`~fhn_inverse.ODEModel`); the samples' first
        columns are its free quantities. Default: FitzHugh–Nagumo.

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

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> theta = np.array([[0.4, 0.4], [0.7, 0.1]])
    >>> samples = theta[:, None, :] + 0.01 * np.random.default_rng(0).normal(size=(2, 50, 2))
    >>> noise = np.array([[0.05, 0.5], [0.05, 0.5]])  # (sd, ρ) of each series' AR(1) noise
    >>> observed = fi.simulate(theta) + fi.ar1_noise(noise[:, 0], noise[:, 1], 1000, seed=1)
    >>> ppc = fi.diagnostics.posterior_predictive(samples, observed, noise=noise)
    >>> ppc.median.shape, ppc.inside.shape, bool(ppc.inside_all > 0.9)  # most points inside the 5–95 % band
    ((2, 1000), (2,), True)
    """
    from ..models.noise import ar1_noise
    from ..models.observation import observe
    from ..models.simulation import FitzHughNagumo, model_grid, observed_count, simulate

    samples = as_float_array(samples, "samples", 3)
    ode = FitzHughNagumo() if model is None else model
    K = observed_count(ode)
    observed = as_float_array(observed, "observed", (1, 2) if K == 1 else (2, 3))
    observed = observed[None] if observed.ndim == (1 if K == 1 else 2) else observed
    n, s, d = samples.shape
    p = len(ode.free)
    shape = "(n, L)" if K == 1 else f"(n, {K}, L)"
    if observed.shape[0] != n:
        raise ValueError(f"samples (n, S, D) and observed {shape} must have the same n, got {n} and "
                         f"{observed.shape[0]}")
    if K > 1 and observed.shape[1] != K:
        raise ValueError(f"observed must be {shape} for a model observing {K} quantities, got {observed.shape}")
    if d < p:
        raise ValueError(f"samples must hold the model's {p} parameters in their first columns, got D = {d}")
    grid = model_grid(ode) if t is None else as_float_array(t, "t", 1)
    if observed.shape[-1] != grid.size:
        raise ValueError(f"observed series must have the grid's {grid.size} points, got {observed.shape[-1]}")
    q_lo, q_hi = (_check_level(b, "band") for b in band)
    if not q_lo < q_hi:
        raise ValueError(f"band must be (low, high) quantiles with low < high, got {band!r}")
    flat = samples[:, :, :p].reshape(n * s, p)
    u, status = simulate(flat, model=ode, t=grid, return_status=True, n_threads=n_threads)
    ok = (status == 0).reshape(n, s)
    if hasattr(noise, "observe"):  # an observation law; draw j's noise depends on (seed, j) alone
        good = np.flatnonzero(ok.ravel())
        if good.size:  # a failed draw (NaN, left out below) is observed in place of a successful one's series
            filled = np.where(ok.reshape((-1,) + (1,) * (u.ndim - 1)), u, u[good[0]])
            u = observe(noise, np.ascontiguousarray(filled), as_seed(seed), 0, n_threads)[0]
    elif noise is not None:
        noise = as_float_array(noise, "noise", (2, 3) if K > 1 else 2)
        noise = np.broadcast_to(noise[:, None], (n, K, 2)) if noise.ndim == 2 else noise
        if noise.shape != (n, K, 2) or np.any(noise[..., 0] < 0) or np.any(np.abs(noise[..., 1]) >= 1):
            raise ValueError(f"noise must be (n, 2) = ({n}, 2) rows of (standard deviation >= 0, |rho| < 1)"
                             + (f" or (n, {K}, 2), one per channel" if K > 1 else "") + f", got shape {noise.shape}")
        per_draw = np.repeat(noise.reshape(n, K * 2), s, axis=0).reshape(-1, 2)  # rows (draw, channel)
        eta = ar1_noise(per_draw[:, 0], per_draw[:, 1], grid.size, seed=as_seed(seed), n_threads=n_threads)
        u = u + eta.reshape(u.shape)
    u = u.reshape(n, s, *observed.shape[1:])
    lower, upper, median = (np.full(observed.shape, np.nan) for _ in range(3))
    inside = np.full(n, np.nan)
    for i in range(n):
        if ok[i].any():
            lower[i], median[i], upper[i] = np.quantile(u[i, ok[i]], [q_lo, 0.5, q_hi], axis=0)
            inside[i] = np.mean((observed[i] >= lower[i]) & (observed[i] <= upper[i]))  # over every channel
    done = np.isfinite(inside)
    inside_all = float(np.mean(inside[done])) if done.any() else math.nan
    return PosteriorPredictive(grid, observed, lower, upper, median, inside, inside_all, (q_lo, q_hi), ok.sum(axis=1))
