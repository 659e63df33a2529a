"""A check of an estimate on real data that needs no truth: the residuals of the fitted series.

For each series, the ODE is simulated at the estimate and the residual r = d − u(θ̂) is taken.
Under the model — the ODE at the true parameters plus stationary AR(1) noise — the residual of a
good estimate is AR(1) noise: whitened with its lag-one correlation ρ (``ar1_whiten``), it is white.
The Ljung–Box statistic of the whitened residual over ``lags`` lags,

    Q = n (n + 2) Σ_{k=1..K} r̂_k² / (n − k),

is then χ² with K degrees of freedom (K − 1 where ρ is estimated from the same residual); its
upper tail is the p-value. A small p-value says the fitted series does not explain the data: a
wrong estimate (a missed or extra spike), data the model does not describe, or noise of another
kind. The residual's standard deviation and lag-one correlation come with it, to compare with
the noise a map was trained on.

The check is as sharp as the estimate is good: an error of 0.01 in θ shifts the spikes of a
spiking series enough to fail it, so it judges fits of the ODE (``map_fit``, ``fit_series``), not
a network's estimate. :func:`out_of_distribution` needs no estimate at all: it compares each
series with simulations from the prior.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._util.validation import as_float_array, as_int, as_threads
from .laplace import ar1_whiten

__all__ = ["ResidualCheck", "residual_check", "chi2_sf_even", "out_of_distribution", "OOD_FEATURES"]


class ResidualCheck(NamedTuple):
    """Per series: ``p_value`` of the Ljung–Box test of the whitened residual (NaN where the ODE
    did not simulate at the estimate), the residual's standard deviation ``sd`` and lag-one
    correlation ``rho`` (estimated from it), and the degrees of freedom ``df`` of the test. For a
    model observing K quantities, ``sd`` and ``rho`` are each channel's, (N, K), and the test
    joins the channels (``df`` = K × each channel's)."""

    p_value: np.ndarray
    sd: np.ndarray
    rho: np.ndarray
    df: int


def chi2_sf_even(q, df: int) -> np.ndarray:
    """P(χ²_df > q) for an even number of degrees of freedom (exactly: e^{−q/2} Σ_{j<df/2} (q/2)^j / j!)."""
    df = as_int(df, "df", 2)
    if df % 2:
        raise ValueError(f"df must be even, got {df}")
    half = np.asarray(q, dtype=np.float64) / 2.0
    term = np.exp(-half)
    total = term.copy()
    for j in range(1, df // 2):
        term = term * half / j
        total = total + term
    return np.clip(total, 0.0, 1.0)


def residual_check(theta, d, *, t=None, model=None, rho=None, lags: int = 10, n_threads: int = 0) -> ResidualCheck:
    """The residual check of estimates ``theta`` (N, P) of observed series ``d`` (N, L).

    Parameters
    ----------
    theta : array_like, shape (N, P)
        The estimates (a map's means, or a fit's).
    d : array_like, shape (N, L)
        The observed series on the grid ``t``; (N, K, L) for a model observing K quantities: each
        channel's residuals are whitened with their own ρ, and the channels' statistics add up
        (independent noises: Q is χ² with K·df degrees of freedom).
    t : array_like, shape (L,), optional
        Their grid; default: the study's.
    model : FitzHughNagumo, optional
        The ODE; default ``FitzHughNagumo()``.
    rho : float or array_like of shape (N,), optional
        The noise's lag-one correlation where it is known (a joint map's estimate, the user's); None:
        estimated from each residual (the test then has one degree of freedom fewer).
    lags : int, default 10
        Lags of the Ljung–Box statistic, 2 to 100 (an even number of degrees of freedom is used:
        ``lags`` with ρ given, ``lags`` − 1 with ρ estimated, so ``lags`` must be even, resp. odd;
        it is rounded up to make it so).
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    ResidualCheck
    """
    from ..models.simulation import simulate

    theta = as_float_array(theta, "theta", 2)
    d = as_float_array(d, "d", (2, 3))
    channels = d.shape[1] if d.ndim == 3 else 1
    if len(theta) != len(d):
        raise ValueError(f"theta and d must hold one row per series, got {len(theta)} and {len(d)}")
    lags = as_int(lags, "lags", 2)
    if lags > 100 or lags >= d.shape[-1] - 1:
        raise ValueError(f"lags must be in [2, min(100, L - 2)] for series of L = {d.shape[-1]} points, got {lags}")
    n_threads = as_threads(n_threads)
    kwargs = {} if t is None else {"t": as_float_array(t, "t", 1)}
    if model is not None:
        kwargs["model"] = model
    u, status = simulate(theta, n_threads=n_threads, return_status=True, **kwargs)
    if u.shape != d.shape:
        raise ValueError(f"the series have shape {d.shape[1:]}, the model's on this grid {u.shape[1:]}")
    ok = np.repeat(np.asarray(status) == 0, channels)  # rows (series, channel)
    d, u = d.reshape(-1, d.shape[-1]), u.reshape(-1, u.shape[-1])
    r = np.where(ok[:, None], d - np.nan_to_num(u), 0.0)
    r = r - r.mean(axis=1, keepdims=True)
    sd = r.std(axis=1)
    lag1 = np.sum(r[:, 1:] * r[:, :-1], axis=1) / np.maximum(np.sum(r * r, axis=1), np.finfo(float).tiny)
    estimated = rho is None
    if estimated:
        rho = np.clip(lag1, -0.99, 0.99)
        lags += lags % 2 == 0  # df = lags − 1, even
    else:
        lags += lags % 2  # df = lags, even
        rho, n = np.asarray(rho, dtype=np.float64), len(d) // channels
        if rho.shape not in ((), (n,), (n, channels)):
            raise ValueError(f"rho must be a number, one per series ({n},)"
                             + (f" or one per series and channel ({n}, {channels})" if channels > 1 else "")
                             + f", got shape {rho.shape}")
        rho = np.broadcast_to(rho[..., None] if rho.ndim == 1 else rho, (n, channels)).ravel()
        if not np.all(np.abs(rho) < 1):
            raise ValueError(f"rho must lie in (-1, 1), got {rho[np.abs(rho) >= 1][:3].tolist()}")
    w = ar1_whiten(r, rho, n_threads=n_threads)
    w = w - w.mean(axis=1, keepdims=True)
    n = w.shape[1]
    denom = np.maximum(np.sum(w * w, axis=1), np.finfo(float).tiny)
    q = np.zeros(len(w))
    for k in range(1, lags + 1):
        ac = np.sum(w[:, k:] * w[:, :-k], axis=1) / denom
        q += ac * ac / (n - k)
    q *= n * (n + 2)
    df = lags - 1 if estimated else lags
    shape = (-1,) if channels == 1 else (-1, channels)
    sd, lag1 = np.where(ok, sd, np.nan).reshape(shape), np.where(ok, lag1, np.nan).reshape(shape)
    q, good = q.reshape(-1, channels).sum(axis=1), (ok & (sd.ravel() > 0)).reshape(-1, channels).all(axis=1)
    p = np.where(good, chi2_sf_even(q, channels * df), np.nan)
    return ResidualCheck(p_value=p, sd=sd, rho=lag1, df=channels * df)


#: features of a series that the out-of-distribution check compares with simulations from the prior
OOD_FEATURES = ("min", "max", "step_sd")


def _features(d: np.ndarray) -> np.ndarray:
    """Per series: its minimum, maximum and the standard deviation of its steps (the noise's and the
    spikes' scale), (N, 3); (N, K, 3) for series of K observed quantities."""
    return np.stack([d.min(axis=-1), d.max(axis=-1), np.diff(d, axis=-1).std(axis=-1)], axis=-1)


def out_of_distribution(d, *, t, prior=None, noise=None, model=None, n: int = 400, seed: int = 0,
                        margin: float = 0.25, n_threads: int = 0) -> list[list[str]]:
    """Why each series of ``d`` (N, L) on the grid ``t`` lies outside what the map was trained on
    (an empty list where it does not), judged without the map: ``n`` series simulated from
    ``prior`` with ``noise`` on the same grid give the range of each feature (minimum, maximum,
    standard deviation of the steps) from its 0.1 % to its 99.9 % quantile, widened by ``margin``
    of its width on each side; a series outside a feature's range is named with the feature.
    Series in other units (mV for the model's dimensionless u), with much more or less noise, or
    of another kind are caught; a series that only looks unusual inside these ranges is not.
    """
    from ..data.dataset import Dataset

    d = as_float_array(d, "d", (2, 3))
    ref = _features(Dataset.generate(as_int(n, "n", 20), seed, prior=prior, noise=noise, model=model, t=t,
                                     progress=False, n_threads=n_threads).d)
    low, high = np.quantile(ref, 0.001, axis=0), np.quantile(ref, 0.999, axis=0)
    width = high - low
    low, high = low - margin * width, high + margin * width
    feats = _features(d)
    if feats.shape[1:] != ref.shape[1:]:
        raise ValueError(f"d has series of shape {d.shape[1:]}; the model's are {ref.shape[1:-1] + (d.shape[-1],)}")
    feats, low, high = feats.reshape(len(d), -1), low.ravel(), high.ravel()
    names = [f"{name}{'' if d.ndim == 2 else f' of channel {c}'}"
             for c in range(1 if d.ndim == 2 else d.shape[1]) for name in OOD_FEATURES]
    reasons: list[list[str]] = [[] for _ in range(len(d))]
    for j, name in enumerate(names):
        for i in np.flatnonzero((feats[:, j] < low[j]) | (feats[:, j] > high[j])):
            reasons[i].append(f"{name} {feats[i, j]:.3g} outside the training data's {low[j]:.3g}…{high[j]:.3g}")
    return reasons
