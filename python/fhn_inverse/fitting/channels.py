"""Series of several observed quantities in the fits. A user model that observes K quantities
(:class:`~fhn_inverse.models.ODEModel` with ``observe=[...]``) gives series (N, K, L); the fits
take them as rows of K·L values, the channels one after another (the core's layout), and whiten
each channel with its own AR(1) noise: the channels' noises are independent, so the misfit is the
sum of theirs.
"""

from __future__ import annotations

import numpy as np

from .._util.validation import as_float_array
from ..models.simulation import model_grid, observed_count, simulate

__all__ = ["flat_series", "simulate_rows", "whitening"]


def flat_series(d, model, t=None, name: str = "d") -> np.ndarray:
    """``d`` as rows (N, K·L): (N, L) for a model observing one quantity; (N, K, L), or already
    (N, K·L) with L the points of the grid ``t`` (default: the model's), for one observing K > 1.
    ValueError naming the shape expected."""
    K = observed_count(model)
    if K == 1:
        return as_float_array(d, name, 2)
    arr = as_float_array(d, name, (2, 3))
    length = len(model_grid(model)) if t is None else np.size(t)
    if arr.shape[1] != K if arr.ndim == 3 else arr.shape[1] != K * length:
        raise ValueError(f"{name} must have shape (N, {K}, L) for {model.spec.name}, which observes {K} quantities "
                         f"({', '.join(model.observed)}), got {arr.shape}")
    return arr.reshape(arr.shape[0], -1)


def simulate_rows(theta, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """``simulate(theta, return_status=True, **kwargs)`` with the series as rows (N, K·L)."""
    u, status = simulate(theta, return_status=True, **kwargs)
    return u.reshape(u.shape[0], -1), status


def whitening(s: np.ndarray, rho: np.ndarray, n: int, channels: int):
    """``whiten(x, rows)``: rows x (M, K·L) of the series ``rows`` whitened channel by channel,
    W x / (s √(1 − ρ²)) with each channel's (s, ρ) (``s``, ``rho``: (n·K,), row-major (n, K))."""
    from ..uncertainty.laplace import ar1_whiten

    K = channels
    rho2, scale2 = rho.reshape(n, K), (1.0 / (s * np.sqrt(1.0 - rho**2))).reshape(n, K)

    def whiten(x, rows):
        m = x.shape[0]
        xs = x.reshape(m * K, -1)
        return (ar1_whiten(xs, rho2[rows].ravel()) * scale2[rows].reshape(-1, 1)).reshape(m, -1)

    return whiten
