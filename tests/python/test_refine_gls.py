"""refine under correlated noise: generalised least squares through the AR(1) whitening, and the
MAP estimate with a Gaussian prior, against the Laplace covariance."""

import numpy as np
import pytest

import fhn_inverse as fi


@pytest.fixture(scope="module")
def correlated():
    theta = np.array([0.6, 0.25])  # a spiking series
    eta, _ = fi.AR1Noise(sigma=0.067, rho=0.95).sample(150, 1000, seed=21)
    return theta, fi.simulate(theta) + eta


def test_gls_is_closer_to_the_truth_than_white_least_squares(correlated):
    theta, d = correlated
    start = np.repeat(theta[None], len(d), axis=0)
    ols = fi.refine(start, d, iterations=40)
    gls = fi.refine(start, d, iterations=40, noise=(0.067, 0.95))
    err_ols = np.mean(np.sum((ols.theta - theta) ** 2, axis=1))
    err_gls = np.mean(np.sum((gls.theta - theta) ** 2, axis=1))
    assert err_gls < 0.8 * err_ols, (err_gls, err_ols)
    # the white fit is the best plain sum of squares; the GLS fit trades it for the likelihood
    assert np.all(ols.mse <= gls.mse * (1 + 1e-9))


def test_map_estimates_spread_as_the_laplace_sandwich(correlated):
    theta, d = correlated
    prior = fi.default_prior()
    noise = (0.067, 0.95)
    fit = fi.refine(np.repeat(theta[None], len(d), axis=0), d, iterations=40, noise=noise, prior=prior)
    C, info = fi.laplace_covariance(theta, noise=noise, prior=prior, return_information=True)
    sandwich = C @ info @ C
    err = np.linalg.norm(np.cov(fit.theta.T) - sandwich) / np.linalg.norm(sandwich)
    assert err < 0.3, (err, np.cov(fit.theta.T), sandwich)  # 150 draws: about 2·√(2/150) = 0.23


def test_per_series_noise_equals_the_shared_one(correlated):
    theta, d = correlated
    start = np.repeat(theta[None], 6, axis=0) + 0.01
    a = fi.refine(start, d[:6], noise=(0.067, 0.95))
    b = fi.refine(start, d[:6], noise=np.tile([0.067, 0.95], (6, 1)))
    c = fi.refine(start, d[:6], noise=fi.AR1Noise(sigma=0.067, rho=0.95))
    assert np.array_equal(a.theta, b.theta) and np.array_equal(a.theta, c.theta)


def test_bad_noise_and_prior(correlated):
    theta, d = correlated
    start = np.repeat(theta[None], 3, axis=0)
    with pytest.raises(ValueError, match=r"rho must be in \(-1, 1\)"):
        fi.refine(start, d[:3], noise=(0.067, 1.0))
    with pytest.raises(ValueError, match="sigma must be > 0"):
        fi.refine(start, d[:3], noise=(0.0, 0.5))
    with pytest.raises(ValueError, match=r"\(N, 2\) array"):
        fi.refine(start, d[:3], noise=np.ones((4, 2)) * 0.5)
    with pytest.raises(TypeError, match="GaussianPrior"):
        fi.refine(start, d[:3], prior="flat")


def test_fit_series_under_correlated_noise_is_closer_to_the_truth(correlated):
    theta, d = correlated
    d = d[:60]
    cand = np.stack([np.repeat(theta[None] + [0.04, -0.03], len(d), axis=0),
                     np.repeat(theta[None] - [0.03, 0.02], len(d), axis=0)])
    ols = fi.fit_series(cand, d, rounds=1)
    gls = fi.fit_series(cand, d, rounds=1, noise=(0.067, 0.95))
    err_ols = np.mean(np.sum((ols.theta - theta) ** 2, axis=1))
    err_gls = np.mean(np.sum((gls.theta - theta) ** 2, axis=1))
    assert err_gls < 0.8 * err_ols, (err_gls, err_ols)
    # the same per-series noise, and a run at one thread, give the same fits
    same = fi.fit_series(cand, d, rounds=1, noise=np.tile([0.067, 0.95], (len(d), 1)), n_threads=1)
    np.testing.assert_array_equal(same.theta, gls.theta)


def _map_objective(theta, d, noise, prior):
    """½‖W(u(θ) − d)‖²/s_ε² + ½(θ − μ)ᵀΓpr⁻¹(θ − μ) per series, from the public pieces."""
    sigma, rho = noise
    s = sigma / 0.2  # the stationary standard deviation (dt = 0.2)
    r = fi.simulate(theta) - d
    w = fi.ar1_whiten(r, np.full(len(r), rho)) / (s * np.sqrt(1 - rho**2))
    dev = theta - prior.mean
    return 0.5 * np.sum(w**2, axis=1) + 0.5 * np.einsum("ni,ij,nj->n", dev, np.linalg.inv(prior.covariance), dev)


def test_fit_series_map_is_the_map_refinement_of_the_least_squares_fit(correlated):
    theta, d = correlated
    d = d[:24]
    noise, prior = (0.067, 0.95), fi.default_prior()
    cand = np.repeat(theta[None] + [0.3, 0.3], len(d), axis=0)[None]  # far: the restarts must rescue it
    plain = fi.fit_series(cand, d, iterations=10)
    fit = fi.fit_series(cand, d, noise=noise, prior=prior, iterations=10)
    assert plain.restarted.any()
    np.testing.assert_array_equal(fit.restarted, plain.restarted)
    np.testing.assert_array_equal(fit.theta, fi.refine(plain.theta, d, iterations=50, noise=noise, prior=prior).theta)
    assert np.all(_map_objective(fit.theta, d, noise, prior) <= _map_objective(plain.theta, d, noise, prior))


def test_fit_series_bad_noise_and_prior(correlated):
    theta, d = correlated
    cand = np.repeat(theta[None], 3, axis=0)[None]
    with pytest.raises(ValueError, match=r"rho must be in \(-1, 1\)"):
        fi.fit_series(cand, d[:3], noise=(0.067, 1.0))
    with pytest.raises(ValueError, match="sigma must be > 0"):
        fi.fit_series(cand, d[:3], noise=np.array([[0.067, 0.5], [0.067, 0.5], [-1.0, 0.5]]))
    with pytest.raises(TypeError, match="GaussianPrior"):
        fi.fit_series(cand, d[:3], prior="flat")
