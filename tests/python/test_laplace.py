"""Forward sensitivities, AR(1) whitening and Laplace covariances against independent references:
dense Toeplitz inverses, central differences of `simulate`, SciPy's integration of the augmented
system, finite-difference Hessians, and the spread of MAP estimates over noise realisations."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import toeplitz

import fhn_inverse as fi


def dense_precision(n, s, rho):
    return np.linalg.inv(toeplitz(s**2 * rho ** np.arange(n)))


@pytest.mark.parametrize("n", [8, 9, 17, 33, 50])
@pytest.mark.parametrize("rho", [-0.6, 0.0, 0.66, 0.79, 0.92])
def test_whitening_gives_the_ar1_precision(n, rho):
    s = 0.335
    Wt = fi.ar1_whiten(np.eye(n), rho)  # row j = W e_j, i.e. Wᵀ
    precision = Wt @ Wt.T / (s**2 * (1 - rho**2))
    ref = dense_precision(n, s, rho)
    assert np.abs(precision - ref).max() <= 1e-12 * np.abs(ref).max()


def test_whitening_of_ar1_noise_is_white():
    eta, params = fi.AR1Noise(sigma=0.07, rho=0.8).sample(400, 1000, seed=3)
    w = fi.ar1_whiten(eta, params[:, 1])[:, 1:]
    s_eps = 0.07 / 0.2 * np.sqrt(1 - 0.8**2)
    assert abs(w.std() / s_eps - 1) < 0.01
    lag1 = np.mean(w[:, 1:] * w[:, :-1]) / w.var()
    assert abs(lag1) < 0.01  # the raw noise has 0.8


def test_sensitivities_match_central_differences_for_20_prior_draws():
    theta = fi.default_prior().sample(20, seed=5)
    u, J = fi.sensitivities(theta, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(u, fi.simulate(theta, rtol=1e-12, atol=1e-12), atol=1e-9)
    h = 1e-5
    for i in range(2):
        step = np.zeros(2)
        step[i] = h
        fd = (fi.simulate(theta + step, rtol=1e-12, atol=1e-12)
              - fi.simulate(theta - step, rtol=1e-12, atol=1e-12)) / (2 * h)
        scale = np.abs(J[:, :, i]).max(axis=1)
        err = np.abs(fd - J[:, :, i]).max(axis=1)
        assert np.all(err <= 1e-5 * scale), (i, (err / scale).max())


def test_sensitivities_match_scipy_on_the_augmented_system():
    theta, gamma, zeta = np.array([0.55, 0.35]), 3.0, -0.4

    def rhs(_, y):
        u, v, s0, r0, s1, r1 = y
        return [gamma * (u - u**3 / 3 + v + zeta), -(u - theta[0] + theta[1] * v) / gamma,
                gamma * ((1 - u**2) * s0 + r0), -(s0 - 1 + theta[1] * r0) / gamma,
                gamma * ((1 - u**2) * s1 + r1), -(s1 + theta[1] * r1 + v) / gamma]

    t = fi.DEFAULT_GRID
    sol = solve_ivp(rhs, (0, t[-1]), np.zeros(6), method="DOP853", t_eval=t, rtol=1e-12, atol=1e-12)
    u, J = fi.sensitivities(theta, rtol=1e-12, atol=1e-12)
    assert np.abs(u - sol.y[0]).max() < 1e-8
    assert np.abs(J - sol.y[[2, 4]].T).max() < 1e-6 * np.abs(J).max()


def test_single_theta_shapes_and_thread_independence():
    theta = fi.default_prior().sample(13, seed=2)
    u1, J1 = fi.sensitivities(theta, n_threads=1)
    u3, J3 = fi.sensitivities(theta, n_threads=3)
    assert np.array_equal(J1, J3) and np.array_equal(u1, u3)
    u, J = fi.sensitivities(theta[4])
    assert u.shape == (1000,) and J.shape == (1000, 2)
    assert np.array_equal(J, J1[4])
    C1 = fi.laplace_covariance(theta, n_threads=1)
    C3 = fi.laplace_covariance(theta, n_threads=3)
    assert np.array_equal(C1, C3)
    assert np.array_equal(fi.laplace_covariance(theta[4]), C1[4])


def objective(theta, d, s, rho, prior):
    r = fi.ar1_whiten(d - fi.simulate(theta, rtol=1e-13, atol=1e-13), rho)
    dev = theta - prior.mean
    return 0.5 * r @ r / (s**2 * (1 - rho**2)) + 0.5 * dev @ np.linalg.solve(prior.covariance, dev)


@pytest.mark.parametrize("theta", [(0.4, 0.4), (0.9, 0.1), (-0.1, 1.0)])
def test_gauss_newton_hessian_matches_finite_differences_on_noise_free_data(theta):
    theta = np.array(theta)
    sigma, rho = fi.REFERENCE_NOISE
    s = sigma / 0.2
    prior = fi.default_prior()
    C, info = fi.laplace_covariance(theta, prior=prior, rtol=1e-13, atol=1e-13, return_information=True)
    H = np.linalg.inv(C)
    d = fi.simulate(theta, rtol=1e-13, atol=1e-13)
    h = 1e-3 * np.sqrt(np.diag(C))  # steps along each axis, scaled to the posterior width
    fd = np.empty((2, 2))
    f = lambda x: objective(x, d, s, rho, prior)  # noqa: E731
    for a in range(2):
        for b in range(2):
            ea, eb = np.eye(2)[a] * h[a], np.eye(2)[b] * h[b]
            fd[a, b] = ((f(theta + ea + eb) - f(theta + ea - eb) - f(theta - ea + eb) + f(theta - ea - eb))
                        / (4 * h[a] * h[b]))
    assert np.linalg.norm(fd - H) <= 1e-4 * np.linalg.norm(H), (fd, H)
    np.testing.assert_allclose(H, info + np.linalg.inv(prior.covariance), rtol=1e-12)


def test_covariances_are_spd_over_the_prior_and_shrink_with_the_noise():
    theta = fi.default_prior().sample(300, seed=8)
    C = fi.laplace_covariance(theta)
    assert C.shape == (300, 2, 2)
    assert np.array_equal(C, np.transpose(C, (0, 2, 1)))
    assert np.all(np.linalg.eigvalsh(C) > 0)
    # Half the noise standard deviation: a quarter of the data's contribution to the covariance.
    sigma, rho = fi.REFERENCE_NOISE
    _, info = fi.laplace_covariance(theta[:5], noise=(sigma, rho), return_information=True)
    _, info_half = fi.laplace_covariance(theta[:5], noise=(sigma / 2, rho), return_information=True)
    np.testing.assert_allclose(info_half, 4 * info, rtol=1e-12)
    # Without a prior, C is the inverse information; the prior only ever shrinks C.
    C_lik = fi.laplace_covariance(theta[:5], prior=None)
    np.testing.assert_allclose(C_lik, np.linalg.inv(info), rtol=1e-9)
    assert np.all(np.linalg.eigvalsh(C_lik - C[:5]) > -1e-15)


def test_per_sample_noise_and_ar1noise_objects():
    theta = fi.default_prior().sample(4, seed=1)
    params = np.array([[0.05, 0.7], [0.08, 0.9], [0.067, 0.79], [0.04, 0.66]])
    C = fi.laplace_covariance(theta, noise=params)
    for i in range(4):
        np.testing.assert_array_equal(C[i], fi.laplace_covariance(theta[i], noise=tuple(params[i])))
    np.testing.assert_array_equal(fi.laplace_covariance(theta, noise=fi.AR1Noise(sigma=0.067, rho=0.79)),
                                  fi.laplace_covariance(theta))


def batched_map(d, start, rho, scale, prior, iterations=30):
    """MAP estimates for many series at once: Gauss–Newton on the whitened residuals and the prior,
    a row's step halved until its objective decreases (an independent solver, not ``fi.refine``)."""
    P = np.linalg.inv(prior.covariance)
    th = np.repeat(start[None], len(d), axis=0)

    def phi(th, rows):
        r = fi.ar1_whiten(d[rows] - fi.simulate(th), rho) * scale
        dev = th - prior.mean
        return 0.5 * (r**2).sum(1) + 0.5 * np.einsum("ni,ij,nj->n", dev, P, dev), r

    f, r = phi(th, np.arange(len(d)))
    active = np.arange(len(d))
    for _ in range(iterations):
        _, J = fi.sensitivities(th[active])
        WJ = fi.ar1_whiten(np.transpose(J, (0, 2, 1)).reshape(-1, J.shape[1]), rho)
        WJ = WJ.reshape(len(active), 2, -1) * scale  # (n, 2, L)
        H = np.einsum("nil,njl->nij", WJ, WJ) + P
        g = -np.einsum("nil,nl->ni", WJ, r[active]) + (th[active] - prior.mean) @ P
        step = -np.linalg.solve(H, g[..., None])[..., 0]
        pending, t = np.arange(len(active)), 1.0
        while pending.size and t > 1e-6:
            rows = active[pending]
            f_new, r_new = phi(th[rows] + t * step[pending], rows)
            better = f_new <= f[rows]
            th[rows[better]] += t * step[pending[better]]
            f[rows[better]], r[rows[better]] = f_new[better], r_new[better]
            pending, t = pending[~better], t / 2
        done = -np.einsum("ni,ni->n", g, step) < 1e-10 * (1 + f[active])  # predicted decrease
        active = active[~done]
        if not active.size:
            break
    return th


@pytest.mark.parametrize("theta", [(0.6, 0.25), (0.8, 1.0), (0.9, 0.1)])  # spiking, not (no spike), spiking
def test_map_estimates_spread_as_the_sandwich_predicts(theta):
    """Covariance of MAP estimates over 200 AR(1) noise realisations against C·(JᵀΓ⁻¹J)·C;
    the relative Frobenius error of a 200-sample covariance is about 2·√(2/200) = 0.2."""
    theta = np.array(theta)
    sigma, rho = fi.REFERENCE_NOISE
    scale = 1 / (sigma / 0.2 * np.sqrt(1 - rho**2))
    prior = fi.default_prior()
    C, info = fi.laplace_covariance(theta, return_information=True)
    eta, _ = fi.AR1Noise(sigma=sigma, rho=rho).sample(200, 1000, seed=11)
    estimates = batched_map(fi.simulate(theta) + eta, theta, rho, scale, prior)
    sandwich = C @ info @ C
    err = np.linalg.norm(np.cov(estimates.T) - sandwich) / np.linalg.norm(sandwich)
    assert err < 0.25, (err, np.cov(estimates.T), sandwich)


@pytest.mark.parametrize("kwargs, match", [
    (dict(theta=[[np.nan, 0.4]]), "finite"),
    (dict(theta=[[0.4, 0.4, 0.1]]), "columns"),
    (dict(theta=[0.4, 0.4], noise=(0.07, 1.0)), r"rho must be in \(-1, 1\)"),
    (dict(theta=[0.4, 0.4], noise=(0.07, -1.5)), r"rho must be in \(-1, 1\)"),
    (dict(theta=[0.4, 0.4], noise=(0.0, 0.5)), "sigma must be > 0"),
    (dict(theta=[0.4, 0.4], noise=(-0.1, 0.5)), "sigma must be > 0"),
    (dict(theta=[[0.4, 0.4]], noise=np.ones((3, 2)) * 0.5), r"\(N, 2\) array"),
    (dict(theta=[0.4, 0.4], dt=0.0), "dt must be"),
    (dict(theta=[0.4, 0.4], noise=fi.AR1Noise()), "fixed sigma and rho"),
])
def test_laplace_covariance_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fi.laplace_covariance(**kwargs)


def test_bad_input_to_sensitivities_and_whitening():
    with pytest.raises(ValueError, match="finite"):
        fi.sensitivities([[0.4, np.inf]])
    with pytest.raises(TypeError):
        fi.laplace_covariance([0.4, 0.4], prior="flat")
    with pytest.raises(ValueError, match=r"rho\[0\] must be in \(-1, 1\)"):
        fi.ar1_whiten(np.ones(5), 1.0)
    with pytest.raises(ValueError, match="one value per series"):
        fi.ar1_whiten(np.ones((3, 5)), [0.1, 0.2])
