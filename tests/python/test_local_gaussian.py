"""Log-Euclidean coordinates of covariances and the study's local-Gaussian errors."""

import numpy as np
import pytest
from scipy.linalg import expm, logm

import fhn_inverse as fi
from fhn_inverse.uncertainty import local_gaussian as lg


def test_log_coordinates_match_scipy_and_round_trip():
    C = fi.laplace_covariance(fi.default_prior().sample(50, seed=4))
    ell = lg.log_coordinates(C)
    assert ell.shape == (50, 3)
    for i in (0, 17, 49):
        L = logm(C[i]).real
        np.testing.assert_allclose(ell[i], [L[0, 0], L[1, 0], L[1, 1]], rtol=1e-8, atol=1e-10)
    back = lg.from_log_coordinates(ell)
    np.testing.assert_allclose(back, C, rtol=1e-9, atol=0)
    np.testing.assert_allclose(lg.from_log_coordinates(ell[3]), expm(logm(C[3]).real), rtol=1e-9)


def test_any_coordinates_give_an_spd_matrix():
    ell = np.random.default_rng(0).normal(scale=5, size=(200, 3))
    C = lg.from_log_coordinates(ell)
    assert np.array_equal(C, np.transpose(C, (0, 2, 1)))
    assert np.all(np.linalg.eigvalsh(C) > 0)


def test_errors_by_hand():
    theta = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    hat = np.array([[1.0, 0.5], [0.0, 1.0], [3.0, 4.0]])
    # per-sample ‖θ̄ − θ̂‖₂ / ‖θ̄‖₂ = 0.5, 0.5, 0 → median 0.5
    assert lg.mean_error(theta, hat) == 0.5
    C = np.array([np.eye(2), 2 * np.eye(2), np.diag([3.0, 4.0])])
    C_hat = np.array([np.eye(2), np.eye(2), np.diag([3.0, 4.0])])
    # ‖C − Ĉ‖_F / ‖C‖_F = 0, √2 / √8 = 0.5, 0 → median 0
    assert lg.cov_error(C, C_hat) == 0.0
    assert lg.cov_error(C[1:], C_hat[1:]) == pytest.approx(0.25)


def test_bad_input():
    with pytest.raises(ValueError, match="positive definite"):
        lg.log_coordinates(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        lg.log_coordinates(np.array([[1.0, 0.1], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="P\\(P\\+1\\)/2"):
        lg.from_log_coordinates(np.ones((3, 4)))
    with pytest.raises(ValueError, match="same shape"):
        lg.mean_error(np.ones((3, 2)), np.ones((2, 2)))
