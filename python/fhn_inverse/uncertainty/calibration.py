"""Quantile recalibration of Gaussian posteriors, fitted on a held-out calibration split.

A Gaussian head N(μ, Σ) can be off in a way no single covariance scale repairs: heavier tails than
a Gaussian, a different miscalibration per parameter. :class:`QuantileCalibration` keeps the
head's mean and covariance and replaces the standard normal law of the standardised errors by the
one observed on a calibration split:

- **per parameter** (quantile recalibration, Kuleshov, Fenner & Ermon 2018, ICML): the signed
  standardised errors z_j = (θ_j − μ_j)/σ_j of the calibration split define a monotone map T_j
  from standard normal scores to calibrated ones (their empirical quantiles at the same
  probability). The calibrated marginal of θ_j is μ_j + σ_j T_j(ζ), ζ ~ N(0, 1); its central
  level-α interval is μ_j + σ_j [T_j(−z_{(1+α)/2}), T_j(z_{(1+α)/2})]. For a calibrated head T_j
  is the identity.
- **joint** (split conformal prediction with the Mahalanobis distance as score; Vovk et al. 2005,
  Angelopoulos & Bates 2021): the level-α region is the ellipsoid (θ − μ)ᵀΣ⁻¹(θ − μ) ≤ r(α)²,
  r(α) the α-quantile of the calibration split's Mahalanobis distances (instead of √χ²_D(α)).
- **samples** come from the Gaussian copula with the head's correlation and the calibrated
  marginals: ζ ~ N(0, R), θ_j = μ_j + σ_j T_j(ζ_j). For a calibrated head they are draws of
  N(μ, Σ).

What it guarantees is marginal calibration over the distribution the calibration split was drawn
from (the prior and noise of the training data): coverage averaged over series, not for each
series. The calibration split must be series the map was neither trained nor early-stopped on;
the simulator makes it cheap to draw a fresh one. Quantiles are stored at ``knots`` probabilities
(k + ½)/K, K = min(knots, N), interpolated linearly in normal-score space and extrapolated
beyond the outermost knots with the slope of the outer 2.5 % of them.
"""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np

from .._util.validation import as_float_array, as_int, as_seed
from .stats import _check_level, _draw_blocks, _gaussian, _mahalanobis2, chi2_quantile

__all__ = ["QuantileCalibration", "MIN_CALIBRATION", "UncalibratedWarning", "warn_uncalibrated"]

#: The fewest calibration series a :class:`QuantileCalibration` accepts.
MIN_CALIBRATION = 20


class UncalibratedWarning(UserWarning):
    """Intervals or draws of a Gaussian head that was never calibrated: a Gaussian-NLL network's
    own covariance is often too narrow on fresh series (docs/uncertainty.md).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(300, 8)), rng.normal(size=(300, 2))
    >>> m = fi.InverseMap.dense((8,), output_activation=None).fit(x, y, loss="gaussian_nll", epochs=1,
    ...                                                           progress=False, calibration_split=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     draws = m.sample(x[:3], 10)  # no calibration split held out: the head is uncalibrated
    >>> draws.shape, [w.category.__name__ for w in caught]
    ((3, 10, 2), ['UncalibratedWarning'])
    """


def warn_uncalibrated(what: str, stacklevel: int = 3) -> None:
    """Say, with an :class:`UncalibratedWarning`, that ``what`` comes from an uncalibrated head."""
    import warnings

    warnings.warn(f"{what} of an uncalibrated Gaussian-NLL head: its coverage on fresh series is often below "
                  "nominal; calibrate it on held-out series (calibrate(X_cal, Y_cal)), or train it with "
                  "calibration_split > 0 (the default) on enough series to hold 20 out", UncalibratedWarning,
                  stacklevel=stacklevel)
_MAX_KNOTS = 4096
_NORMAL = NormalDist()
_normal_ppf = np.vectorize(_NORMAL.inv_cdf, otypes=[float])


def _standardise(theta, mean, cov):
    """z (N, D) signed standardised errors, m (N,) Mahalanobis distances."""
    theta, mean, cov, chol = _gaussian(theta, mean, cov)
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    return (theta - mean) / sd, np.sqrt(_mahalanobis2(chol, theta - mean))


def calibration_split(model, X_cal, Y_cal, n_threads: int = 0):
    """(labels (N, D), the model's mean (N, D) and covariance (N, D, D)) of a calibration split,
    the labels checked against the model's predictions; shared by maps and ensembles. For a map
    with a ``transform`` all three are in the coordinate it learns in (its law there)."""
    y = as_float_array(Y_cal, "Y_cal", (1, 2))
    transform = getattr(model, "transform", None)
    latent = {} if transform is None else {"latent": True}
    mean, cov = model.predict(X_cal, return_cov=True, n_threads=n_threads, **latent)
    y = y.reshape(len(y), -1)
    if y.shape != mean.shape:
        raise ValueError(f"Y_cal must have shape {mean.shape} (one row of {mean.shape[1]} targets per "
                         f"series of X_cal), got {np.shape(Y_cal)}")
    if len(y) < MIN_CALIBRATION:
        raise ValueError(f"a calibration split needs at least {MIN_CALIBRATION} series, got {len(y)}: a scale or "
                         "quantiles from fewer say nothing about the head's calibration")
    if not np.isfinite(y).all():
        raise ValueError("Y_cal must be finite")
    return (y if transform is None else transform.forward(y, "Y_cal")), mean, cov


class QuantileCalibration:
    """Calibrated quantiles of the standardised errors of a Gaussian head.

    See the module's documentation. Fit it with :meth:`fit`; maps and ensembles do it in
    ``calibrate(..., method="quantile")``.

    Parameters
    ----------
    marginal : array_like, shape (K, D)
        The quantiles of z_j at the probabilities ``probs``, non-decreasing; K in [2, 4096].
    radius : array_like, shape (K,)
        The quantiles of the Mahalanobis distance, non-decreasing and >= 0.
    n : int
        The calibration split's size, at least :data:`MIN_CALIBRATION`.

    Attributes
    ----------
    probs : ndarray, shape (K,)
        The probabilities of the quantiles, (k + ½)/K.

    Raises
    ------
    ValueError
        If ``marginal`` and ``radius`` do not have the same K in [2, 4096], or the quantiles
        decrease or a radius is negative.
    """

    def __init__(self, marginal, radius, n: int):
        marginal = as_float_array(marginal, "marginal", 2)
        radius = as_float_array(radius, "radius", 1)
        k = len(radius)
        if not 2 <= k <= _MAX_KNOTS or marginal.shape[0] != k:
            raise ValueError(f"marginal (K, D) and radius (K,) need the same K in [2, {_MAX_KNOTS}], "
                             f"got {marginal.shape} and {radius.shape}")
        if np.any(np.diff(marginal, axis=0) < 0) or np.any(np.diff(radius) < 0) or np.any(radius < 0):
            raise ValueError("the calibration quantiles must be non-decreasing (and the radii >= 0)")
        self.marginal, self.radius = marginal, radius
        self.n = as_int(n, "n", MIN_CALIBRATION)
        self.probs = (np.arange(k) + 0.5) / k
        self._scores = _normal_ppf(self.probs)  # the standard normal scores of the knots
        lo = max(1, int(round(0.025 * k)))
        span = self._scores[-1] - self._scores[-1 - lo]
        self._slopes = ((marginal[lo] - marginal[0]) / span, (marginal[-1] - marginal[-1 - lo]) / span)

    @property
    def dim(self) -> int:
        return self.marginal.shape[1]

    @classmethod
    def fit(cls, theta, mean, cov, *, knots: int = 1000) -> QuantileCalibration:
        """Fit on a calibration split.

        Parameters
        ----------
        theta : array_like, shape (N, D)
            The true parameters, N >= 20.
        mean : array_like, shape (N, D)
            The head's means for the same series.
        cov : array_like, shape (N, D, D)
            The head's covariances for the same series.
        knots : int, default 1000
            Quantiles stored, at least 2: K = min(knots, 4096, N).

        Returns
        -------
        QuantileCalibration
            The fitted calibration.

        Raises
        ------
        ValueError
            If the split has fewer than :data:`MIN_CALIBRATION` (20) series.
        """
        z, m = _standardise(theta, mean, cov)
        if len(z) < MIN_CALIBRATION:
            raise ValueError(f"a calibration split needs at least {MIN_CALIBRATION} series, got {len(z)}")
        k = min(as_int(knots, "knots", 2), _MAX_KNOTS, len(z))
        probs = (np.arange(k) + 0.5) / k
        return cls(np.quantile(z, probs, axis=0), np.quantile(m, probs), len(z))

    # -- the calibrated law of the standardised errors
    def transform(self, score) -> np.ndarray:
        """T_j: standard normal scores to calibrated standardised errors.

        Parameters
        ----------
        score : array_like, shape (..., D)
            Standard normal scores.

        Returns
        -------
        ndarray, shape (..., D)
            The calibrated standardised errors.

        Raises
        ------
        ValueError
            If the last dimension of ``score`` is not D.
        """
        score = np.asarray(score, dtype=np.float64)
        if score.shape[-1:] != (self.dim,):
            raise ValueError(f"scores must end in the dimension {self.dim}, got shape {score.shape}")
        out = np.empty_like(score)
        s, (lo_slope, hi_slope) = self._scores, self._slopes
        for j in range(self.dim):
            x, q = score[..., j], self.marginal[:, j]
            y = np.interp(x, s, q)
            y = np.where(x < s[0], q[0] + lo_slope[j] * (x - s[0]), y)
            out[..., j] = np.where(x > s[-1], q[-1] + hi_slope[j] * (x - s[-1]), y)
        return out

    def z_interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """The calibrated central level interval of every z_j.

        Parameters
        ----------
        level : float
            The level, in (0, 1).

        Returns
        -------
        lower : ndarray, shape (D,)
            The intervals' lower ends.
        upper : ndarray, shape (D,)
            The intervals' upper ends.
        """
        g = _NORMAL.inv_cdf(0.5 + _check_level(level) / 2)
        return self.transform(np.full(self.dim, -g)), self.transform(np.full(self.dim, g))

    def joint_radius(self, level: float) -> float:
        """r(level): the level-quantile of the calibration split's Mahalanobis distances.

        Beyond the outermost knots it is scaled like √χ²_D.

        Parameters
        ----------
        level : float
            The level, in (0, 1).

        Returns
        -------
        float
            The radius r(level).
        """
        level = _check_level(level)
        p, r = self.probs, self.radius
        if level < p[0]:
            return float(r[0] * math.sqrt(chi2_quantile(level, self.dim) / chi2_quantile(float(p[0]), self.dim)))
        if level > p[-1]:
            return float(r[-1] * math.sqrt(chi2_quantile(level, self.dim) / chi2_quantile(float(p[-1]), self.dim)))
        return float(np.interp(level, p, r))

    # -- applied to a Gaussian head's predictions
    def _check(self, mean, cov):
        mean = as_float_array(mean, "mean", 2)
        cov = as_float_array(cov, "cov", 3)
        if mean.shape[1] != self.dim or cov.shape != (len(mean), self.dim, self.dim):
            raise ValueError(f"the calibration is for D = {self.dim}; got mean {mean.shape} and cov {cov.shape}")
        return mean, cov

    def interval(self, mean, cov, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Per-parameter calibrated central intervals at ``level``.

        Parameters
        ----------
        mean : array_like, shape (N, D)
            The head's means.
        cov : array_like, shape (N, D, D)
            The head's covariances.
        level : float, default 0.95
            The level, in (0, 1).

        Returns
        -------
        lower : ndarray, shape (N, D)
            The intervals' lower ends.
        upper : ndarray, shape (N, D)
            The intervals' upper ends.
        """
        mean, cov = self._check(mean, cov)
        lo, hi = self.z_interval(level)
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        return mean + lo * sd, mean + hi * sd

    def sample(self, mean, cov, n: int, *, seed: int = 0) -> np.ndarray:
        """``n`` draws per series from the Gaussian copula with the calibrated marginals.

        Parameters
        ----------
        mean : array_like, shape (N, D)
            The head's means.
        cov : array_like, shape (N, D, D)
            The head's covariances.
        n : int
            Draws per series, at least 1.
        seed : int, default 0
            The seed, an integer in [0, 2**64).

        Returns
        -------
        ndarray, shape (N, n, D)
            The draws, a function of ``seed`` alone (NumPy's PCG64 stream, drawn in blocks in the
            array's order: the numbers of one draw of the whole array).
        """
        mean, cov = self._check(mean, cov)
        n = as_int(n, "n", 1)
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        corr = cov / (sd[:, :, None] * sd[:, None, :])
        chol_t = np.transpose(np.linalg.cholesky(corr), (0, 2, 1))
        rng = np.random.default_rng(as_seed(seed))
        out = np.empty((len(mean), n, self.dim))
        for rows, draws in _draw_blocks(*out.shape):  # Ctrl-C lands between blocks
            z = rng.standard_normal(out[rows, draws].shape)
            out[rows, draws] = mean[rows, None, :] + sd[rows, None, :] * self.transform(z @ chol_t[rows])
        return out

    def coverage(self, theta, mean, cov, level: float) -> tuple[np.ndarray, float]:
        """Fractions of ``theta`` inside the calibrated intervals and region.

        Parameters
        ----------
        theta : array_like, shape (N, D)
            The true parameters.
        mean : array_like, shape (N, D)
            The head's means for the same series.
        cov : array_like, shape (N, D, D)
            The head's covariances for the same series.
        level : float
            The level, in (0, 1).

        Returns
        -------
        marginal : ndarray, shape (D,)
            The fraction inside each parameter's calibrated interval.
        joint : float
            The fraction inside the calibrated region.
        """
        z, m = _standardise(theta, mean, cov)
        lo, hi = self.z_interval(level)
        return np.mean((z >= lo) & (z <= hi), axis=0), float(np.mean(m <= self.joint_radius(level)))

    # -- files
    def to_dict(self) -> dict:
        return {"n": self.n, "marginal": self.marginal.tolist(), "radius": self.radius.tolist()}

    @classmethod
    def from_dict(cls, data) -> QuantileCalibration:
        if not isinstance(data, dict) or set(data) != {"n", "marginal", "radius"}:
            raise ValueError(f"a quantile calibration is {{'n', 'marginal', 'radius'}}, got "
                             f"{sorted(data) if isinstance(data, dict) else type(data).__name__}")
        return cls(np.asarray(data["marginal"], dtype=np.float64), np.asarray(data["radius"], dtype=np.float64),
                   data["n"])

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def __eq__(self, other) -> bool:
        return (isinstance(other, QuantileCalibration) and self.n == other.n
                and np.array_equal(self.marginal, other.marginal) and np.array_equal(self.radius, other.radius))

    def __repr__(self) -> str:
        return f"QuantileCalibration(D={self.dim}, {len(self.radius)} knots, fitted on {self.n:,} series)"
