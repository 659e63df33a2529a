"""Coverage of the true θ at a grid of nominal levels, per parameter and joint, from a Gaussian per
series, from samples or from a quantile calibration (:func:`coverage`), and the scalar covariance
scale (temperature) that remedies an over- or under-confident Gaussian head (:func:`fit_cov_scale`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .stats import (
    LEVELS, REPORT_LEVELS, _cholesky, _gaussian, _json, _levels, _mahalanobis2, _names, _normal_quantile,
    _row_blocks, _samples, chi2_quantile,
)

__all__ = ["Coverage", "coverage", "fit_cov_scale"]


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

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> mean = rng.normal(size=(1000, 2))
    >>> theta = mean + rng.normal(size=(1000, 2))
    >>> result = diagnostics.coverage(theta, mean, np.broadcast_to(np.eye(2), (1000, 2, 2)), levels=(0.5, 0.9))
    >>> result.method, result.n, result.per_parameter.shape, result.joint.tolist()
    ('gaussian', 1000, (2, 2), [0.495, 0.901])
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

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse import diagnostics
        >>> rng = np.random.default_rng(0)
        >>> mean = rng.normal(size=(1000, 2))
        >>> theta = mean + rng.normal(size=(1000, 2))
        >>> cov = np.broadcast_to(0.25 * np.eye(2), (1000, 2, 2))  # sd 0.5 for errors of sd 1
        >>> err = diagnostics.coverage(theta, mean, cov, levels=(0.5, 0.9)).error_in_se()
        >>> err.shape, np.round(err[:, -1], 1).tolist()  # the joint region: far below nominal
        ((2, 3), [-21.8, -49.3])
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

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse import diagnostics
        >>> rng = np.random.default_rng(0)
        >>> mean = rng.normal(size=(1000, 2))
        >>> theta = mean + rng.normal(size=(1000, 2))
        >>> for scale in (1.0, 0.25):  # the true error covariance, then one too narrow
        ...     cov = np.broadcast_to(scale * np.eye(2), (1000, 2, 2))
        ...     print(diagnostics.coverage(theta, mean, cov, levels=(0.5, 0.9)).calibrated())
        True
        False
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

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse import diagnostics
        >>> rng = np.random.default_rng(0)
        >>> mean = rng.normal(size=(1000, 2))
        >>> theta = mean + rng.normal(size=(1000, 2))
        >>> result = diagnostics.coverage(theta, mean, np.broadcast_to(np.eye(2), (1000, 2, 2)), levels=(0.5, 0.9))
        >>> d = result.to_dict(["a", "b"])
        >>> sorted(d)
        ['joint', 'levels', 'max_abs_error_pp', 'max_abs_error_se', 'method', 'n', 'per_parameter', 'se', 'within_3_se']
        >>> d["per_parameter"]["a"], d["within_3_se"]
        ([0.488, 0.896], True)
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

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> mean = rng.normal(size=(4000, 2))
    >>> cov = np.broadcast_to(np.eye(2), (4000, 2, 2))
    >>> theta = mean + rng.normal(size=(4000, 2))       # drawn from the predicted Gaussians
    >>> result = diagnostics.coverage(theta, mean, cov, levels=(0.5, 0.9))
    >>> np.round(result.joint, 1).tolist()             # close to nominal
    [0.5, 0.9]
    """
    levels = _levels(levels)
    if samples is not None:
        if mean is not None or cov is not None:
            raise ValueError("give either mean and cov or samples, not both")
        theta, samples = _samples(theta, samples)
        n, s, d = samples.shape
        q, centre, scov = np.empty((n, d)), np.empty((n, d)), np.empty((n, d, d))
        for rows in _row_blocks(n, s * d):  # blocks of whole rows: Ctrl-C lands between them
            block, truth = samples[rows], theta[rows, None, :]
            q[rows] = (np.sum(block < truth, axis=1) + 0.5 * np.sum(block == truth, axis=1)) / s
            centre[rows] = block.mean(axis=1)
            dev = block - centre[rows, None, :]
            scov[rows] = np.einsum("nsi,nsj->nij", dev, dev) / max(s - 1, 1) + 1e-12 * np.eye(d)
        per = np.stack([np.mean(np.abs(q - 0.5) <= a / 2, axis=0) for a in levels])
        chol = _cholesky(scov, "the samples' covariance")
        d_theta = _mahalanobis2(chol, theta - centre)  # (N,)
        frac_closer = np.empty(n)
        for rows in _row_blocks(n, s * d):
            d_samples = _mahalanobis2(chol[rows], samples[rows] - centre[rows, None, :])  # (rows, S)
            frac_closer[rows] = np.mean(d_samples < d_theta[rows, None], axis=1)
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

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> mean = rng.normal(size=(1000, 2))
    >>> theta = mean + rng.normal(size=(1000, 2))           # errors of variance 1 ...
    >>> cov = np.broadcast_to(0.25 * np.eye(2), (1000, 2, 2))  # ... predicted as 0.25: c ≈ 4
    >>> round(diagnostics.fit_cov_scale(mean, cov, theta), 2)
    3.97
    >>> round(diagnostics.fit_cov_scale(mean, cov, theta, method="coverage"), 2)
    4.05
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
