"""Intervals inside what the parameters can be: a map that records the prior (and the noise) of
its training data clips its intervals to their support, the box every true value lies in, so
that a bound never claims a value the data could not have come from (and coverage of values from
that prior can only rise)."""

from __future__ import annotations

import numpy as np

from .checks import _normal_quantile

__all__ = ["support_of", "gaussian_interval"]


def support_of(prior, noise, d: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(lower, upper), each (d,), of the ``d`` values a map predicts: the prior's box for the
    model's parameters, then the noise's (σ, ρ) ranges for a joint map; None where the map does not
    record them (or predicts something else)."""
    if prior is None:
        return None
    lower, upper = np.asarray(prior.lower, dtype=float), np.asarray(prior.upper, dtype=float)
    p = lower.shape[0]
    if d == p:
        return lower, upper
    if d == p + 2 and noise is not None:
        ranges = [v if isinstance(v, tuple) else (v, v) for v in (noise.sigma, noise.rho)]
        return (np.concatenate([lower, [r[0] for r in ranges]]), np.concatenate([upper, [r[1] for r in ranges]]))
    return None


def gaussian_interval(mean, cov, level, calibration, box, transform=None) -> tuple[np.ndarray, np.ndarray]:
    """Central intervals at ``level`` of N(mean, cov) per parameter (mean ∓ z·√diag(cov)), or of
    the calibrated law where ``calibration`` is set; with a ``transform`` (a ``LabelTransform``) the
    law is in its coordinate and the bounds are mapped back; clipped to ``box`` (from
    :func:`support_of`) unless it is None."""
    z = _normal_quantile(level)
    if calibration is not None:
        lo, hi = calibration.interval(mean, cov, level)
    else:
        half = z * np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        lo, hi = mean - half, mean + half
    if transform is not None:  # increasing in each coordinate: the bounds map to the bounds
        lo, hi = transform.inverse(lo), transform.inverse(hi)
    if box is not None:
        lo, hi = np.clip(lo, box[0], box[1]), np.clip(hi, box[0], box[1])
    return lo, hi
