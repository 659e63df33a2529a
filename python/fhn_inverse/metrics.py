"""Accuracy of inverse maps: R², median absolute percentage error, re-simulation errors.

Conventions follow the study (spec/paper.md): R² per parameter (and their mean); Median-APE has
two readings (``median_ape``'s ``reading``): the median over every entry of |θ̂_j − θ_j| / |θ_j|
("component", both parameters' ratios pooled) and the median over samples of ‖θ̂ − θ‖₂ / ‖θ‖₂
("sample", the form the study writes for its covariance table); a re-simulated series û (the ODE at the predicted
parameters) is compared with the test series d by its mean squared error, which splits exactly
into squared bias and centred MSE: MSE = (mean(d − û))² + mean((e − mean(e))²), e = d − û.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._util.validation import as_float_array

__all__ = ["r2_score", "READINGS", "median_ape", "ResimulationErrors", "resimulation_errors", "PooledErrors",
           "pooled_resimulation_errors", "report"]


def _pair(y_true, y_pred):
    y_true = as_float_array(y_true, "y_true", (1, 2))
    y_pred = as_float_array(y_pred, "y_pred", (1, 2))
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {y_true.shape} and {y_pred.shape}")
    return y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)


def r2_score(y_true, y_pred) -> np.ndarray:
    """Coefficient of determination per column: 1 − Σ(y − ŷ)² / Σ(y − ȳ)².

    A constant column gives 1.0 if predicted exactly, else 0.0 (as scikit-learn does).

    Parameters
    ----------
    y_true : array_like, shape (N, P) or (N,)
        True values, at least 2 samples.
    y_pred : array_like, shape (N, P) or (N,)
        Predicted values, of the shape of ``y_true``.

    Returns
    -------
    ndarray, shape (P,)
        R² per column.

    Raises
    ------
    ValueError
        If the shapes differ or there are fewer than 2 samples.

    Examples
    --------
    >>> from fhn_inverse import metrics
    >>> metrics.r2_score([[1.0], [2.0], [3.0]], [[1.0], [2.0], [4.0]])
    array([0.5])
    """
    y, p = _pair(y_true, y_pred)
    if len(y) < 2:
        raise ValueError(f"R² needs at least 2 samples, got {len(y)}")
    ss_res = np.sum((y - p) ** 2, axis=0)
    ss_tot = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    out = np.ones(y.shape[1])
    nonconstant = ss_tot > 0
    out[nonconstant] = 1.0 - ss_res[nonconstant] / ss_tot[nonconstant]
    out[~nonconstant & (ss_res > 0)] = 0.0
    return out


READINGS = ("component", "sample")


def median_ape(y_true, y_pred, *, per_parameter: bool = False, reading: str = "component"):
    """Median absolute percentage error, in one of two readings.

    Parameters
    ----------
    y_true : array_like, shape (N, P) or (N,)
        True values.
    y_pred : array_like, shape (N, P) or (N,)
        Predicted values, of the shape of ``y_true``.
    per_parameter : bool, default False
        Return one median per column (P,); per column the two readings are the same.
    reading : {"component", "sample"}, default "component"
        ``"component"``: the median of |ŷ_j − y_j| / |y_j| over all entries (both parameters'
        ratios pooled into one median). ``"sample"``: the median over samples of
        ‖ŷ − y‖₂ / ‖y‖₂ (one ratio per sample).

    Returns
    -------
    float or ndarray of shape (P,)
        The median; one per column with ``per_parameter``.

    Raises
    ------
    ValueError
        If ``reading`` is unknown, the shapes differ, or the ratio is undefined: an entry of
        ``y_true`` is 0 (component reading, or ``per_parameter``), or a row of ``y_true`` is 0
        (sample reading).

    Examples
    --------
    >>> from fhn_inverse import metrics
    >>> y, y_hat = [[1.0, 2.0], [2.0, 4.0]], [[1.1, 2.0], [2.0, 5.0]]
    >>> round(metrics.median_ape(y, y_hat), 3)  # the median of 0.1, 0, 0, 0.25
    0.05
    >>> round(metrics.median_ape(y, y_hat, reading="sample"), 3)  # the median of 0.045 and 0.224
    0.134
    """
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
    y, p = _pair(y_true, y_pred)
    if per_parameter or reading == "component":
        if np.any(y == 0):
            raise ValueError("median_ape is undefined where y_true == 0")
        ape = np.abs(p - y) / np.abs(y)
        return np.median(ape, axis=0) if per_parameter else float(np.median(ape))
    norm = np.linalg.norm(y, axis=1)
    if np.any(norm == 0):
        raise ValueError("median_ape (reading='sample') is undefined where a row of y_true is 0")
    return float(np.median(np.linalg.norm(p - y, axis=1) / norm))


class ResimulationErrors(NamedTuple):
    """Per-series errors of re-simulated series (:func:`resimulation_errors`): ``mse``,
    ``squared_bias`` and ``c_mse``, each of shape (N,), with mse = squared_bias + c_mse.

    Examples
    --------
    >>> from fhn_inverse import metrics
    >>> e = metrics.resimulation_errors([[1.0, 1.0, 1.0, 1.0]], [[0.0, 0.0, 0.0, 0.0]])
    >>> e._fields
    ('mse', 'squared_bias', 'c_mse')
    >>> e.mse, e.squared_bias, e.c_mse     # an offset: all bias
    (array([1.]), array([1.]), array([0.]))
    """

    mse: np.ndarray            #: (N,) mean squared error per series
    squared_bias: np.ndarray   #: (N,) (mean error)² per series
    c_mse: np.ndarray          #: (N,) centred MSE per series


def _resimulation_pair(d, u_hat):
    d = as_float_array(d, "d", (2, 3))  # (N, K, L): K observed quantities
    u_hat = as_float_array(u_hat, "u_hat", (2, 3))
    if d.shape != u_hat.shape:
        raise ValueError(f"d and u_hat must have the same shape, got {d.shape} and {u_hat.shape}")
    return d - u_hat


def resimulation_errors(d, u_hat) -> ResimulationErrors:
    """Per-series errors between test series ``d`` and re-simulated ``u_hat``.

    Parameters
    ----------
    d : array_like, shape (N, L)
        The test series; (N, K, L) for K observed quantities.
    u_hat : array_like, shape of d
        The re-simulated series.

    Returns
    -------
    ResimulationErrors
        ``mse``, ``squared_bias`` and ``c_mse``, each of shape (N,) (or (N, K), per quantity).

    Examples
    --------
    >>> from fhn_inverse import metrics
    >>> d = [[1.0, 1.0, 1.0, 1.0], [1.0, -1.0, 1.0, -1.0]]     # errors: an offset, then a zigzag
    >>> u_hat = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    >>> metrics.resimulation_errors(d, u_hat)
    ResimulationErrors(mse=array([1., 1.]), squared_bias=array([1., 0.]), c_mse=array([0., 1.]))
    """
    e = _resimulation_pair(d, u_hat)
    bias = e.mean(axis=-1)
    c_mse = np.mean((e - bias[..., None]) ** 2, axis=-1)
    return ResimulationErrors(np.mean(e**2, axis=-1), bias**2, c_mse)


class PooledErrors(NamedTuple):
    """Errors of re-simulated series over a whole test set (:func:`pooled_resimulation_errors`):
    ``mse``, ``squared_bias`` and ``c_mse``, floats with mse = squared_bias + c_mse.

    Examples
    --------
    >>> from fhn_inverse import metrics
    >>> pooled = metrics.pooled_resimulation_errors([[1.0, 1.0], [3.0, 3.0]], [[0.0, 0.0], [0.0, 0.0]])
    >>> pooled.mse, pooled.squared_bias, pooled.c_mse     # mean error 2
    (5.0, 4.0, 1.0)
    """

    mse: float           #: mean squared error over every series and time point
    squared_bias: float  #: (mean error over every series and time point)²
    c_mse: float         #: the rest: mse − squared_bias


def pooled_resimulation_errors(d, u_hat) -> PooledErrors:
    """The split of :func:`resimulation_errors`, over the whole test set at once.

    The bias is the mean error over all series and time points, so series whose errors have
    opposite signs cancel in it (unlike the mean of the per-series squared biases).

    Parameters
    ----------
    d : array_like, shape (N, L)
        The test series.
    u_hat : array_like, shape (N, L)
        The re-simulated series.

    Returns
    -------
    PooledErrors
        ``mse``, ``squared_bias`` and ``c_mse``, each a float.

    Examples
    --------
    >>> from fhn_inverse import metrics
    >>> d = [[1.0, 1.0, 1.0, 1.0], [-1.0, -1.0, -1.0, -1.0]]     # offsets of opposite signs
    >>> u_hat = [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    >>> metrics.pooled_resimulation_errors(d, u_hat)     # they cancel in the pooled bias
    PooledErrors(mse=1.0, squared_bias=0.0, c_mse=1.0)
    >>> metrics.resimulation_errors(d, u_hat).squared_bias     # not in the per-series ones
    array([1., 1.])
    """
    e = _resimulation_pair(d, u_hat)
    bias = float(e.mean())
    return PooledErrors(float(np.mean(e**2)), bias**2, float(np.mean((e - bias) ** 2)))


def report(y_true, y_pred, names=None) -> dict:
    """R² and Median-APE per parameter and overall, as a JSON-ready dict.

    Parameters
    ----------
    y_true : array_like, shape (N, P) or (N,)
        True values.
    y_pred : array_like, shape (N, P) or (N,)
        Predicted values, of the shape of ``y_true``.
    names : sequence of str, optional
        One name per parameter; default ``"theta0"``, ``"theta1"``, ….

    Returns
    -------
    dict
        ``"r2"`` and ``"median_ape"`` (per parameter, keyed by name), ``"r2_mean"``,
        ``"median_ape_all"`` (the component reading of :func:`median_ape`) and
        ``"median_ape_sample"`` (its sample reading).

    Raises
    ------
    ValueError
        If ``names`` does not have one entry per parameter.

    Examples
    --------
    >>> from fhn_inverse import metrics
    >>> y = [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]
    >>> y_hat = [[1.0, 11.0], [2.0, 20.0], [3.0, 30.0]]
    >>> rep = metrics.report(y, y_hat, names=["a", "b"])
    >>> sorted(rep)
    ['median_ape', 'median_ape_all', 'median_ape_sample', 'r2', 'r2_mean']
    >>> rep["r2"], rep["median_ape"]
    ({'a': 1.0, 'b': 0.995}, {'a': 0.0, 'b': 0.0})
    """
    y, p = _pair(y_true, y_pred)
    names = list(names) if names is not None else [f"theta{j}" for j in range(y.shape[1])]
    if len(names) != y.shape[1]:
        raise ValueError(f"names must have {y.shape[1]} entries, got {len(names)}")
    r2 = r2_score(y, p)
    ape = median_ape(y, p, per_parameter=True)
    return {
        "r2": dict(zip(names, map(float, r2))),
        "median_ape": dict(zip(names, map(float, ape))),
        "r2_mean": float(r2.mean()),
        "median_ape_all": median_ape(y, p),
        "median_ape_sample": median_ape(y, p, reading="sample"),
    }
