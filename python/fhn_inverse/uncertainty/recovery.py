"""Posterior estimates against the truth: the posterior z-score against the contraction per series
and parameter (:func:`z_contraction`), and the recovery of point estimates, R², Median-APE and
the mean interval width (:func:`recovery`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._util.validation import as_float_array
from .stats import _gaussian, _json, _names, _samples, _theta

__all__ = ["ZContraction", "z_contraction", "Recovery", "recovery"]


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

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> theta = np.array([[0.0], [1.0], [2.0]])
    >>> result = diagnostics.z_contraction(theta, theta + 0.5, np.full((3, 1, 1), 0.25))
    >>> result.z.ravel().tolist(), result.contraction.ravel().tolist(), result.prior_var.tolist()
    ([1.0, 1.0, 1.0], [0.75, 0.75, 0.75], [1.0])
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

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse import diagnostics
        >>> theta = np.array([[0.0], [1.0], [2.0]])
        >>> d = diagnostics.z_contraction(theta, theta + 0.5, np.full((3, 1, 1), 0.25)).to_dict(["a"])
        >>> sorted(d)
        ['contraction_mean', 'contraction_median', 'fraction_abs_z_over_3', 'prior_var', 'z_mean', 'z_std']
        >>> d["z_mean"], d["contraction_mean"]
        ({'a': 1.0}, {'a': 0.75})
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

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(200, 2))                 # drawn from a prior of variance 1
    >>> mean = theta + 0.5 * rng.normal(size=(200, 2))    # posteriors of sd 0.5 around the truth
    >>> result = diagnostics.z_contraction(theta, mean, np.broadcast_to(0.25 * np.eye(2), (200, 2, 2)),
    ...                                    prior_var=[1.0, 1.0])
    >>> result.z.shape, np.round(result.z.std(axis=0), 1).tolist(), result.contraction[0].tolist()
    ((200, 2), [1.0, 1.0], [0.75, 0.75])
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

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> theta = np.array([[1.0, 2.0], [2.0, 4.0], [4.0, 8.0]])
    >>> result = diagnostics.recovery(theta, theta * [1.1, 1.0])  # θ0 10 % too large, θ1 exact
    >>> np.round(result.median_ape, 2).tolist(), round(result.median_ape_all, 2), result.mean_width is None
    ([0.1, 0.0], 0.05, True)
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

        Examples
        --------
        >>> import numpy as np
        >>> from fhn_inverse import diagnostics
        >>> theta = np.array([[1.0], [2.0], [4.0]])
        >>> d = diagnostics.recovery(theta, theta, theta - 0.5, theta + 0.5).to_dict(["a"])
        >>> d
        {'r2': {'a': 1.0}, 'median_ape': {'a': 0.0}, 'median_ape_all': 0.0, 'mean_interval_width': {'a': 1.0}}
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

    Examples
    --------
    >>> import numpy as np
    >>> from fhn_inverse import diagnostics
    >>> theta = np.array([[1.0, 2.0], [2.0, 4.0], [4.0, 8.0]])
    >>> estimate = np.array([[1.1, 2.0], [1.8, 4.0], [4.0, 8.8]])
    >>> result = diagnostics.recovery(theta, estimate, estimate - 0.5, estimate + 0.5)
    >>> np.round(result.r2, 3).tolist(), np.round(result.median_ape, 2).tolist(), result.mean_width.tolist()
    ([0.989, 0.966], [0.1, 0.0], [1.0, 1.0])
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
