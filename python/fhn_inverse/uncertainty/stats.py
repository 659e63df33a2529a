"""The statistical helpers the uncertainty diagnostics share: the χ² distribution function and
quantile (from the regularized incomplete gamma function, no SciPy), the validation of θ, Gaussians
(mean, cov) and samples, squared Mahalanobis distances, JSON-ready numbers, Gaussian draws, the
default grids of nominal levels, and the blocks in which work on draws (N, S, D) is done.

Python handles Ctrl-C between bytecodes, never inside a NumPy call: one call on 10**7 draws would
hold a KeyboardInterrupt for seconds. Work on draws therefore goes in blocks of about
:data:`BLOCK_ELEMENTS` numbers (:func:`_row_blocks`, :func:`_draw_blocks`), each call a few
milliseconds; blocks of whole rows give the numbers of one call on the whole array, bit for bit.
"""

from __future__ import annotations

import math
import numbers
from statistics import NormalDist

import numpy as np

from .._util.validation import as_float_array, as_int, as_seed

__all__ = ["LEVELS", "REPORT_LEVELS", "chi2_cdf", "chi2_quantile", "sample_gaussian"]

#: The levels the report and the acceptance criteria quote.
REPORT_LEVELS = (0.5, 0.8, 0.9, 0.95)
#: The default grid of nominal levels: 0.05, 0.10, …, 0.95 and 0.99.
LEVELS = tuple(round(0.05 * k, 2) for k in range(1, 20)) + (0.99,)
#: Numbers per block of work on draws (8 MiB of float64): a NumPy call on a block takes
#: milliseconds, so Ctrl-C lands within a fraction of a second.
BLOCK_ELEMENTS = 1 << 20


def _row_blocks(n_rows: int, per_row: int):
    """Slices of whole rows, about :data:`BLOCK_ELEMENTS` numbers each (one row at least), for an
    array of ``n_rows`` rows of ``per_row`` numbers."""
    step = max(1, BLOCK_ELEMENTS // max(1, per_row))
    for lo in range(0, n_rows, step):
        yield slice(lo, min(n_rows, lo + step))


def _draw_blocks(n_rows: int, n_draws: int, width: int):
    """(rows, draws) slices covering an (n_rows, n_draws, width) array in C order, about
    :data:`BLOCK_ELEMENTS` numbers each: whole rows where a row is smaller than a block, else parts
    of one row (then a result of matmul may differ in the last bit from one call's)."""
    if n_draws * width <= BLOCK_ELEMENTS:
        for rows in _row_blocks(n_rows, n_draws * width):
            yield rows, slice(0, n_draws)
        return
    step = max(1, BLOCK_ELEMENTS // max(1, width))
    for r in range(n_rows):
        for lo in range(0, n_draws, step):
            yield slice(r, r + 1), slice(lo, min(n_draws, lo + step))


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

    Examples
    --------
    >>> from fhn_inverse import diagnostics
    >>> round(diagnostics.chi2_cdf(3.841458820694124, 1), 6)  # the 95 % point of χ²_1
    0.95
    >>> diagnostics.chi2_cdf(0.0, 3)
    0.0
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

    Examples
    --------
    >>> import math
    >>> from fhn_inverse import diagnostics
    >>> round(diagnostics.chi2_quantile(0.95, 1), 4)  # 1.96²
    3.8415
    >>> math.isclose(diagnostics.chi2_quantile(0.9, 2), -2 * math.log(1 - 0.9))
    True
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
        The draws, a function of ``seed`` alone: ``mean + z Lᵀ`` (L the Cholesky factor of
        ``cov``) with z the standard normals of NumPy's PCG64 stream, drawn in blocks in the
        array's order (the numbers of one draw of the whole array).

    Raises
    ------
    ValueError
        If the shapes of ``mean`` and ``cov`` do not agree or a covariance is not symmetric
        positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse.uncertainty.stats import sample_gaussian
    >>> draws = sample_gaussian(np.zeros((1, 2)), np.array([[[1.0, 0.5], [0.5, 2.0]]]), 50_000, seed=1)
    >>> draws.shape, np.round(np.cov(draws[0].T), 1).tolist()
    ((1, 50000, 2), [[1.0, 0.5], [0.5, 2.0]])
    """
    _, mean, cov, chol = _gaussian(mean, mean, cov)
    n = as_int(n, "n", 1)
    rng = np.random.default_rng(as_seed(seed))
    chol_t = np.transpose(chol, (0, 2, 1))
    out = np.empty((mean.shape[0], n, mean.shape[1]))
    for rows, draws in _draw_blocks(*out.shape):
        z = rng.standard_normal(out[rows, draws].shape)
        out[rows, draws] = mean[rows, None, :] + z @ chol_t[rows]
    return out
