"""Local Gaussians N(θ̄, C) as network targets: log-Euclidean coordinates and the study's errors.

The Laplace covariance C (:func:`fhn_inverse.laplace_covariance`) spans many orders of magnitude
across the prior (largest eigenvalue 1e-5 … 1e-1), so a network regresses it in log-Euclidean
coordinates: ℓ = vech(logm C) = (log C)_11, (log C)_12, (log C)_22 for P = 2, and
Ĉ = expm(unvech(ℓ̂)) is symmetric positive definite by construction. The errors are the
study's: medians over the test set of ‖θ̄ − θ̂‖₂ / ‖θ̄‖₂ and ‖C − Ĉ‖_F / ‖C‖_F.
"""

from __future__ import annotations

import numpy as np

from .._util.validation import as_float_array

__all__ = ["cov_error", "from_log_coordinates", "log_coordinates", "mean_error", "n_log_coordinates"]


def n_log_coordinates(p: int) -> int:
    """Number of log-Euclidean coordinates of a P × P covariance: P (P + 1) / 2.

    Parameters
    ----------
    p : int
        P, the covariance's size.

    Returns
    -------
    int
        P (P + 1) / 2.
    """
    return p * (p + 1) // 2


def _spd(C, name: str = "C") -> np.ndarray:
    C = as_float_array(C, name, (2, 3))
    C3 = C[None] if C.ndim == 2 else C
    if C3.shape[1] != C3.shape[2]:
        raise ValueError(f"{name} must hold square matrices, got shape {C.shape}")
    if not np.allclose(C3, np.transpose(C3, (0, 2, 1)), rtol=1e-10, atol=0):
        raise ValueError(f"{name} must be symmetric")
    return C3


def log_coordinates(C) -> np.ndarray:
    """ℓ = vech(logm C) for symmetric positive definite (SPD) C.

    Parameters
    ----------
    C : array_like, shape (N, P, P) or (P, P)
        SPD matrices, or one.

    Returns
    -------
    ndarray, shape (N, P(P+1)/2)
        The rows of the lower triangle of logm C in row order ((1,1), (2,1), (2,2), … );
        (P(P+1)/2,) for one C of shape (P, P).

    Raises
    ------
    ValueError
        If C is not SPD.
    """
    C3 = _spd(C)
    w, V = np.linalg.eigh(C3)
    if not np.all(w > 0):
        bad = int(np.flatnonzero((w <= 0).any(axis=1))[0])
        raise ValueError(f"C must be positive definite; matrix {bad} has eigenvalues {w[bad].tolist()}")
    logC = np.einsum("nij,nj,nkj->nik", V, np.log(w), V)
    rows, cols = np.tril_indices(C3.shape[1])
    out = logC[:, rows, cols]
    return out[0] if np.ndim(C) == 2 else out


def from_log_coordinates(ell, p: int | None = None) -> np.ndarray:
    """C = expm(unvech(ℓ)), symmetric positive definite.

    Parameters
    ----------
    ell : array_like, shape (N, P(P+1)/2) or (P(P+1)/2,)
        Log-Euclidean coordinates, as :func:`log_coordinates` gives them, or one vector.
    p : int, optional
        P; by default inferred from the number of coordinates.

    Returns
    -------
    ndarray, shape (N, P, P)
        The SPD matrices C; (P, P) for one vector.

    Raises
    ------
    ValueError
        If ``ell`` does not have P(P+1)/2 columns.
    """
    ell = as_float_array(ell, "ell", (1, 2))
    e2 = ell[None] if ell.ndim == 1 else ell
    m = e2.shape[1]
    p = int(round((np.sqrt(8 * m + 1) - 1) / 2)) if p is None else p
    if n_log_coordinates(p) != m:
        raise ValueError(f"ell must have P(P+1)/2 columns, got {m}")
    L = np.zeros((e2.shape[0], p, p))
    rows, cols = np.tril_indices(p)
    L[:, rows, cols] = e2
    L[:, cols, rows] = e2
    w, V = np.linalg.eigh(L)
    C = np.einsum("nij,nj,nkj->nik", V, np.exp(w), V)
    C = 0.5 * (C + np.transpose(C, (0, 2, 1)))
    return C[0] if ell.ndim == 1 else C


def mean_error(theta_bar, theta_hat) -> float:
    """Median over samples of ‖θ̄ − θ̂‖₂ / ‖θ̄‖₂ (the study's error of the local Gaussian's mean).

    Parameters
    ----------
    theta_bar : array_like, shape (N, P)
        The target means θ̄.
    theta_hat : array_like, shape (N, P)
        The predicted means θ̂.

    Returns
    -------
    float
        The median relative error.

    Raises
    ------
    ValueError
        If the shapes differ.
    """
    a = as_float_array(theta_bar, "theta_bar", 2)
    b = as_float_array(theta_hat, "theta_hat", 2)
    if a.shape != b.shape:
        raise ValueError(f"theta_bar and theta_hat must have the same shape, got {a.shape} and {b.shape}")
    return float(np.median(np.linalg.norm(a - b, axis=1) / np.linalg.norm(a, axis=1)))


def cov_error(C, C_hat) -> float:
    """Median over samples of ‖C − Ĉ‖_F / ‖C‖_F (the study's error of the local Gaussian's covariance).

    Parameters
    ----------
    C : array_like, shape (N, P, P)
        The target covariances.
    C_hat : array_like, shape (N, P, P)
        The predicted covariances Ĉ.

    Returns
    -------
    float
        The median relative error.

    Raises
    ------
    ValueError
        If the shapes differ.
    """
    a = as_float_array(C, "C", 3)
    b = as_float_array(C_hat, "C_hat", 3)
    if a.shape != b.shape:
        raise ValueError(f"C and C_hat must have the same shape, got {a.shape} and {b.shape}")
    return float(np.median(np.linalg.norm(a - b, axis=(1, 2)) / np.linalg.norm(a, axis=(1, 2))))
