"""What an :class:`~fhn_inverse.nn.InverseMap` with a Gaussian head says beyond its estimate:
draws, central intervals and the calibration that makes them hold on fresh series. The methods
work on the law ``predict(..., latent=True)`` gives (in the coordinate the targets are learned in)
and map what they return back to the targets' units (:mod:`~fhn_inverse.nn.transforms`)."""

from __future__ import annotations

import numpy as np

from .checks import _check_draws, _normal_quantile
from .support import gaussian_interval, support_of
from .training import _bounded_int

__all__ = ["UncertaintyMethods"]


class UncertaintyMethods:
    """Draws, intervals and calibration of a map's Gaussian head: a part of
    :class:`~fhn_inverse.nn.InverseMap` (it uses the map's ``predict``, ``parts``, ``calibration``,
    ``cov_scale``, ``prior``, ``noise`` and ``transform``)."""

    def sample(self, X, n: int, *, seed: int = 0, n_threads: int = 0, t=None, resample: bool = False) -> np.ndarray:
        """``n`` draws per series (1 to 2**24) from the predicted Gaussian N(mean, cov), a function
        of ``seed`` alone (NumPy's PCG64).

        After ``calibrate(..., method="quantile")`` the draws come from the calibrated law (the
        Gaussian copula with calibrated marginals,
        :class:`~fhn_inverse.uncertainty.calibration.QuantileCalibration`). ``X``, ``n_threads``,
        ``t`` and ``resample`` are as for :meth:`predict`. Returns (N, n, D); ValueError if ``n`` is
        out of range or the map predicts no covariance.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> ds = fi.Dataset.generate(300, seed=0, progress=False)
        >>> m = fi.InverseMap.dense((8,), output_activation=None).fit(
        ...     ds.d, ds.theta, features="fourier", trained_on=ds, loss="gaussian_nll", scaling="standard",
        ...     epochs=2, progress=False, transform="support")     # logit coordinates; calibrated on 30 series
        >>> draws = m.sample(ds.d[:3], 100, seed=1)
        >>> draws.shape, bool(np.array_equal(draws, m.sample(ds.d[:3], 100, seed=1)))     # a function of the seed
        ((3, 100, 2), True)
        >>> bool((draws >= m.prior.lower).all() and (draws <= m.prior.upper).all())     # inside the prior's support
        True
        """
        n = _bounded_int(n, "n", 1, 1 << 24)
        mean, cov = self.predict(X, return_cov=True, n_threads=n_threads, t=t, resample=resample, latent=True)
        _check_draws(len(mean), n, mean.shape[1])
        self.parts.head.warn_if_uncalibrated("draws", self.calibration, self.cov_scale)
        from ..uncertainty.stats import sample_gaussian
        draws = (self.calibration.sample(mean, cov, n, seed=seed) if self.calibration is not None
                 else sample_gaussian(mean, cov, n, seed=seed))  # in blocks: Ctrl-C gets through
        return draws if self.transform is None else self.transform.inverse(draws)

    def interval(self, X, level: float = 0.95, *, n_threads: int = 0, t=None,
                 resample: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Per-parameter central intervals (lower, upper), each (N, D), of the predicted Gaussian
        at ``level`` in (0, 1): mean ∓ z·√diag(cov), z the normal quantile.

        After ``calibrate(..., method="quantile")``, the calibrated interval mean + √diag(cov)·[T(−z),
        T(z)]. Clipped to the support of the prior (and noise) the map was trained on, where it records
        them. ``X``, ``n_threads``, ``t`` and ``resample`` are as for :meth:`predict`. ValueError if
        ``level`` is not in (0, 1) or the map predicts no covariance.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> ds = fi.Dataset.generate(300, seed=0, progress=False)
        >>> m = fi.InverseMap.dense((8,), output_activation=None).fit(
        ...     ds.d, ds.theta, features="fourier", trained_on=ds, loss="gaussian_nll", scaling="standard",
        ...     epochs=2, progress=False, transform="support")
        >>> lower, upper = m.interval(ds.d[:4], 0.9)
        >>> lower.shape, bool((lower <= upper).all())
        ((4, 2), True)
        >>> bool((lower >= m.prior.lower).all() and (upper <= m.prior.upper).all())     # inside the prior's support
        True
        """
        _normal_quantile(level)
        mean, cov = self.predict(X, return_cov=True, n_threads=n_threads, t=t, resample=resample, latent=True)
        self.parts.head.warn_if_uncalibrated("intervals", self.calibration, self.cov_scale)
        box = support_of(self.prior, self.noise, mean.shape[1])
        return gaussian_interval(mean, cov, level, self.calibration, box, self.transform)

    def calibrate(self, X_cal, Y_cal, *, method: str = "quantile", n_threads: int = 0):
        """Calibrate the Gaussian head on a held-out split (X_cal, Y_cal) of series the map was
        neither trained nor early-stopped on; ``save`` stores the result.

        Gaussian-NLL heads only (a local-Gaussian head's covariance estimates a target, not a
        posterior). Training again keeps ``cov_scale`` and drops ``calibration``.

        Parameters
        ----------
        X_cal : array_like
            The split's inputs, as for :meth:`predict`.
        Y_cal : array_like, shape (N, D) or (N,)
            Their true parameters.
        method : {"quantile", "nll", "coverage"}, default "quantile"
            "nll" or "coverage": fit the scalar ``cov_scale`` (temperature scaling; "nll" the
            maximum-likelihood scale, "coverage" the best joint coverage at 50, 80, 90 and 95 %, see
            :func:`~fhn_inverse.uncertainty.coverage.fit_cov_scale`) that multiplies the covariance of
            ``predict``, ``sample`` and ``interval``; drops a quantile calibration. "quantile": fit a
            :class:`~fhn_inverse.uncertainty.calibration.QuantileCalibration` (per-parameter quantile
            recalibration, a conformal radius for the joint region) and set it as ``calibration``;
            ``interval`` and ``sample`` then use it, ``predict`` is unchanged. At least 20 series; a few
            thousand fix the quantiles to a fraction of a point of coverage.
        n_threads : int, default 0

        Returns
        -------
        float or QuantileCalibration
            The new ``cov_scale``, or the calibration ("quantile"). ValueError without a Gaussian-NLL
            head, for an unknown method, or a "quantile" split under 20 series.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> x = np.random.default_rng(0).standard_normal((340, 16)).astype(np.float32)
        >>> y = x[:, :2] ** 2
        >>> m = fi.InverseMap.dense((8,), output_activation=None)
        >>> m = m.fit(x[:300], y[:300], loss="gaussian_nll", scaling="standard", epochs=2, progress=False)
        >>> m.calibration     # fitted on the last 10 % of the training series, held out of training
        QuantileCalibration(D=2, 30 knots, fitted on 30 series)
        >>> scale = m.calibrate(x[300:], y[300:], method="nll")     # temperature scaling instead
        >>> scale == m.cov_scale, m.calibration is None
        (True, True)
        >>> m.calibrate(x[300:], y[300:])
        QuantileCalibration(D=2, 40 knots, fitted on 40 series)
        """
        from ..uncertainty.calibration import calibration_split

        head = self.parts.head
        if head is None or not head.calibratable:
            raise ValueError(f"calibrate needs a map with a Gaussian-NLL head, this one has {self.head!r} "
                             "(a local-Gaussian head's covariance estimates a target, not a posterior)")
        head.check_calibration_method(method)
        y, mean, cov = calibration_split(self, X_cal, Y_cal, n_threads)
        self.cov_scale, self.calibration = head.calibrate(y, mean, cov, method, self.cov_scale)
        return self.calibration if method == "quantile" else self.cov_scale
