"""Checking predicted parameters against the data: re-simulate candidates, keep the best fit.

A network's estimate can land on the wrong side of a bifurcation (a spiking series mapped to
parameters whose solution is flat); the observed series shows it at once. ``best_fitting``
simulates several candidate parameter vectors per series (an ensemble's members and their mean,
say) and keeps, per series, the one whose simulated series is closest to the observation in
mean squared error: the maximum-likelihood choice among the candidates under white Gaussian
measurement noise.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_float_array, as_int
from .simulation import FitzHughNagumo, simulate


class BestFit(NamedTuple):
    theta: np.ndarray  # (N, P) the chosen candidate per series
    index: np.ndarray  # (N,) which candidate (first of equals)
    mse: np.ndarray    # (N,) its mean squared error against the series (inf if every candidate failed)


def best_fitting(candidates, d, *, t=None, model: FitzHughNagumo | None = None, n_threads: int = 0,
                 block: int = 1024) -> BestFit:
    """Per series, the candidate whose simulated series is closest to the observed one.

    ``candidates`` (K, N, P): K parameter vectors for each of N series; ``d`` (N, L): the observed
    series on the grid ``t`` (default: the study's). Candidates whose simulation fails count as
    infinitely far. Simulates K·N series, ``block`` series at a time (memory K·block·L floats).
    """
    c = as_float_array(candidates, "candidates", 3)
    d = as_float_array(d, "d", 2)
    k, n, p = c.shape
    if d.shape[0] != n:
        raise ValueError(f"d must have one row per series of candidates ({n}), got {d.shape[0]}")
    block = as_int(block, "block", 1)
    mse = np.empty((k, n))
    for s in range(0, n, block):
        e = min(n, s + block)
        u, status = simulate(c[:, s:e].reshape(-1, p), t=t, model=model, n_threads=n_threads,
                             return_status=True)
        if u.shape[1] != d.shape[1]:
            raise ValueError(f"d has {d.shape[1]} points per series, the grid t has {u.shape[1]}")
        err = np.mean((u.reshape(k, e - s, -1) - d[None, s:e]) ** 2, axis=2)
        err[(status != 0).reshape(k, e - s)] = np.inf
        mse[:, s:e] = err
    index = np.argmin(mse, axis=0)
    rows = np.arange(n)
    return BestFit(c[index, rows], index, mse[index, rows])
