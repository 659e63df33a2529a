"""What an :class:`~fhn_inverse.nn.Ensemble` of Gaussian-NLL maps says beyond its estimate: the
members' equally weighted mixture, its calibration, draws and central intervals, in the
coordinate the members learn their targets in (:mod:`~fhn_inverse.nn.transforms`) and mapped back."""

from __future__ import annotations

import math

import numpy as np

from .._util.validation import as_int, as_seed
from .checks import _check_draws
from .support import gaussian_interval, support_of

__all__ = ["MixtureMethods"]


class MixtureMethods:
    """Calibration, draws and intervals of an ensemble's mixture: a part of
    :class:`~fhn_inverse.nn.Ensemble` (it uses the ensemble's ``members``, ``head``, ``predict``,
    ``calibration``, ``transform`` and ``_members_gaussians``)."""

    def calibrate(self, X_cal, Y_cal, *, method: str = "quantile", n_threads: int = 0):
        """Fit a quantile calibration of the mixture on a held-out calibration split and set it.

        The :class:`fhn_inverse.uncertainty.calibration.QuantileCalibration` is fitted to the mixture's mean
        and covariance (``predict(X, return_cov=True)``) and set as ``calibration``. ``interval``
        and ``sample`` then use the calibrated law (the Gaussian copula around the mixture's
        moments with calibrated marginals) instead of the mixture; ``save`` stores it in the
        manifest. Gaussian-NLL members only.

        Parameters
        ----------
        X_cal : array_like
            The calibration split's inputs, as for :meth:`predict`.
        Y_cal : array_like, shape (N, D) or (N,)
            Its true parameters.
        method : {"quantile"}, default "quantile"
            The only method (scale members with their own ``calibrate``).
        n_threads : int, default 0
            Threads to use (0: all cores).

        Returns
        -------
        QuantileCalibration
            The calibration, also set as ``calibration``.

        Raises
        ------
        ValueError
            If ``method`` is not "quantile", or the members do not have a Gaussian-NLL head.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> x = np.random.default_rng(0).standard_normal((340, 16)).astype(np.float32)
        >>> y = x[:, :2] ** 2
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,), output_activation=None), 2)
        >>> ens = ens.fit(x[:300], y[:300], loss="gaussian_nll", scaling="standard", calibration_split=None,
        ...               epochs=2, progress=False)     # nothing held out: calibrate on a split of its own
        >>> ens.calibration is None
        True
        >>> ens.calibrate(x[300:], y[300:])
        QuantileCalibration(D=2, 40 knots, fitted on 40 series)
        """
        if method != "quantile":
            raise ValueError(f"method must be 'quantile' for an ensemble (scale members with their own "
                             f"calibrate), got {method!r}")
        if self.head != "gaussian_nll":
            raise ValueError(f"calibrate needs members with a Gaussian-NLL head, these have {self.head!r}")
        from ..uncertainty.calibration import QuantileCalibration, calibration_split

        self.calibration = QuantileCalibration.fit(*calibration_split(self, X_cal, Y_cal, n_threads))
        return self.calibration

    def sample(self, X, n: int, *, seed: int = 0, n_threads: int = 0, t=None, resample: bool = False) -> np.ndarray:
        """``n`` draws per series from the mixture of the members' Gaussians.

        Each draw picks a member uniformly, then draws from its Gaussian; after :meth:`calibrate`,
        the draws come from the calibrated law instead. Gaussian-NLL members only (a
        local-Gaussian head estimates a target, not a posterior).

        Parameters
        ----------
        X : array_like
            Inputs, as for :meth:`predict`.
        n : int
            Draws per series, at least 1.
        seed : int, default 0
            The seed, an integer in [0, 2**64).
        n_threads : int, default 0
            Threads to use (0: all cores).
        t, resample
            The series' times and whether to interpolate them, as for :meth:`predict`.

        Returns
        -------
        ndarray, shape (N, n, D)
            The draws, a function of ``seed``.

        Raises
        ------
        ValueError
            If the members do not have a Gaussian-NLL head.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> x = np.random.default_rng(0).standard_normal((300, 16)).astype(np.float32)
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,), output_activation=None), 2)
        >>> ens = ens.fit(x, x[:, :2] ** 2, loss="gaussian_nll", scaling="standard", epochs=2, progress=False)
        >>> draws = ens.sample(x[:3], 50, seed=1)     # from the calibrated law (fit calibrates the mixture)
        >>> draws.shape, bool(np.array_equal(draws, ens.sample(x[:3], 50, seed=1)))     # a function of the seed
        ((3, 50, 2), True)
        """
        if self.head != "gaussian_nll":
            raise ValueError(f"sampling needs members with a Gaussian-NLL head, these have {self.head!r}")
        n = as_int(n, "n", 1)
        self._warn_if_uncalibrated("draws")
        transform = self.transform  # draws in its coordinate, mapped back
        back = (lambda v: v) if transform is None else transform.inverse
        if self.calibration is not None:
            mean, cov = self.predict(X, return_cov=True, n_threads=n_threads, t=t, resample=resample, latent=True)
            _check_draws(len(mean), n, mean.shape[1])
            return back(self.calibration.sample(mean, cov, n, seed=seed))
        means, covs = self._members_gaussians(X, n_threads, t, resample, True)  # (K, N, D), (K, N, D, D)
        _check_draws(means.shape[1], n, means.shape[2])
        rng = np.random.default_rng(as_seed(seed))
        k = rng.integers(0, len(self.members), size=(means.shape[1], n))
        z = rng.standard_normal((means.shape[1], n, means.shape[2]))
        chol = np.linalg.cholesky(covs)  # (K, N, D, D)
        rows = np.arange(means.shape[1])[:, None]
        return back(means[k, rows] + np.einsum("nsij,nsj->nsi", chol[k, rows], z))

    def _warn_if_uncalibrated(self, what: str) -> None:
        if self.calibration is None and all(m.cov_scale == 1.0 for m in self.members):
            from ..uncertainty.calibration import warn_uncalibrated

            warn_uncalibrated(what, stacklevel=4)

    def interval(self, X, level: float = 0.95, *, n_threads: int = 0, t=None,
                 resample: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Per-parameter central intervals of the members' mixture at ``level``.

        The (1 ∓ level)/2 quantiles of each parameter's mixture of normals, by bisection to 1e-12
        of the interval's width; after :meth:`calibrate`, the calibrated intervals instead. Clipped
        to the support of the prior (and noise) the members were trained on, where they record it.
        Gaussian-NLL members only.

        Parameters
        ----------
        X : array_like
            Inputs, as for :meth:`predict`.
        level : float, default 0.95
            The level, in (0, 1).
        n_threads : int, default 0
            Threads to use (0: all cores).
        t, resample
            The series' times and whether to interpolate them, as for :meth:`predict`.

        Returns
        -------
        lower : ndarray, shape (N, D)
            The intervals' lower ends.
        upper : ndarray, shape (N, D)
            The intervals' upper ends.

        Raises
        ------
        ValueError
            If the members do not have a Gaussian-NLL head, or ``level`` is not in (0, 1).

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> ds = fi.Dataset.generate(300, seed=0, progress=False)
        >>> ens = fi.Ensemble.like(fi.InverseMap.dense((8,), output_activation=None), 2).fit(
        ...     ds.d, ds.theta, features="fourier", trained_on=ds, loss="gaussian_nll", scaling="standard",
        ...     epochs=2, progress=False, transform="support")
        >>> lower, upper = ens.interval(ds.d[:4], 0.9)
        >>> lower.shape, bool((lower <= upper).all())
        ((4, 2), True)
        >>> bool((lower >= ens.prior.lower).all() and (upper <= ens.prior.upper).all())     # inside the prior's support
        True
        """
        if self.head != "gaussian_nll":
            raise ValueError(f"intervals need members with a Gaussian-NLL head, these have {self.head!r}")
        if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
            raise ValueError(f"level must be in (0, 1), got {level!r}")
        self._warn_if_uncalibrated("intervals")
        first, transform = self.members[0], self.transform  # the law in its coordinate, the bounds mapped back
        if self.calibration is not None:
            mean, cov = self.predict(X, return_cov=True, n_threads=n_threads, t=t, resample=resample, latent=True)
            return gaussian_interval(mean, cov, level, self.calibration, support_of(first.prior, first.noise,
                                                                                    mean.shape[1]), transform)
        means, covs = self._members_gaussians(X, n_threads, t, resample, True)
        sd = np.sqrt(np.diagonal(covs, axis1=2, axis2=3))  # (K, N, D)
        erf = np.vectorize(math.erf, otypes=[float])

        def mixture_cdf(x):  # x (N, D): the mixture's CDF per parameter
            return np.mean(0.5 * (1.0 + erf((x[None] - means) / (sd * math.sqrt(2.0)))), axis=0)

        bounds = []
        for q in ((1 - level) / 2, (1 + level) / 2):
            lo, hi = (means - 10 * sd).min(axis=0), (means + 10 * sd).max(axis=0)
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                below = mixture_cdf(mid) < q
                lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
            bounds.append(0.5 * (lo + hi) if transform is None else transform.inverse(0.5 * (lo + hi)))
        box = support_of(first.prior, first.noise, means.shape[2])  # inside what the parameters can be
        return tuple(bounds) if box is None else tuple(np.clip(b, box[0], box[1]) for b in bounds)
