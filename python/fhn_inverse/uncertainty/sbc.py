"""Simulation-based calibration (Talts et al. 2018): the ranks of the true θ among posterior samples
and the ECDF of the ranks against the simultaneous band of Säilynoja, Bürkner & Vehtari (2022),
with binomial tails from log-factorials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._util.validation import as_int, as_seed
from .stats import _check_level, _draw_blocks, _json, _names, _samples

__all__ = ["SBC", "sbc"]


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

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(200, 2))
    >>> result = diagnostics.sbc(theta, rng.normal(size=(200, 100, 2)))  # 100 samples per series
    >>> result.ranks.shape, result.n_samples, result.ecdf_diff.shape, result.outside.tolist()
    ((200, 2), 100, (100, 2), [False, False])
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

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse import diagnostics
        >>> rng = np.random.default_rng(0)
        >>> theta = rng.normal(size=(200, 2))
        >>> d = diagnostics.sbc(theta, 0.5 * rng.normal(size=(200, 100, 2))).to_dict(["a", "b"])  # too narrow
        >>> sorted(d)
        ['alpha', 'band', 'band_half_width_max', 'max_deviation', 'n', 'n_samples', 'outside_band']
        >>> d["n"], d["n_samples"], d["outside_band"]
        (200, 100, {'a': True, 'b': True})
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

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(200, 2))                 # θ drawn from N(0, 1) ...
    >>> samples = rng.normal(size=(200, 100, 2))          # ... and so are its "posterior" samples
    >>> diagnostics.sbc(theta, samples).outside.tolist()  # calibrated: inside the band
    [False, False]
    >>> diagnostics.sbc(theta, 0.5 * samples).outside.tolist()  # over-confident
    [True, True]
    """
    theta, samples = _samples(theta, samples)
    alpha = _check_level(alpha, "alpha")
    n_points, n_sim = as_int(n_points, "n_points", 1), as_int(n_sim, "n_sim", 10)
    n, s, d = samples.shape
    rng = np.random.default_rng(as_seed(seed))
    less, ties = np.zeros((n, d), dtype=np.int64), np.zeros((n, d), dtype=np.int64)
    for rows, draws in _draw_blocks(n, s, d):  # Ctrl-C lands between blocks
        block, truth = samples[rows, draws], theta[rows, None, :]
        less[rows] += np.sum(block < truth, axis=1)
        ties[rows] += np.sum(block == truth, axis=1)
    ranks = less + np.floor(rng.random(less.shape) * (ties + 1)).astype(np.int64)
    edges = np.unique(np.round(np.linspace(1, s, min(s, n_points))).astype(np.int64))
    z = edges / (s + 1)
    counts = np.stack([np.sum(ranks[:, j][:, None] < edges[None, :], axis=0) for j in range(d)], axis=1)  # (K, D)
    lo, hi = _sbc_band(n, z, alpha, n_sim, as_seed(seed) + 1)
    diff = counts / n - z[:, None]
    outside = np.any((counts < lo[:, None]) | (counts > hi[:, None]), axis=0)
    return SBC(ranks, int(s), z, diff, lo / n - z, hi / n - z, np.max(np.abs(diff), axis=0), outside, alpha)
