"""best_fitting: the candidate whose re-simulated series fits the observation best."""

import numpy as np
import pytest

import fhn_inverse as fi


@pytest.fixture(scope="module")
def truth():
    theta = fi.default_prior().sample(12, seed=3)
    return theta, fi.simulate(theta)


def test_picks_the_true_parameters_among_decoys(truth):
    theta, d = truth
    rng = np.random.default_rng(0)
    k, n = 4, len(theta)
    decoys = fi.default_prior().sample(k * n, seed=9).reshape(k, n, 2)
    where = rng.integers(0, k, n)
    cand = decoys.copy()
    cand[where, np.arange(n)] = theta
    best = fi.best_fitting(cand, d)
    np.testing.assert_array_equal(best.index, where)
    np.testing.assert_array_equal(best.theta, theta)
    assert np.all(best.mse < 1e-20)
    # its error is each series' smallest over the candidates, computed independently
    u = fi.simulate(decoys.reshape(-1, 2)).reshape(k, n, -1)
    assert np.all(np.mean((u - d) ** 2, axis=2)[np.arange(k)[:, None] != where] > 0)


def test_noisy_series_and_blocks(truth):
    theta, d = truth
    noisy = d + 0.05 * np.random.default_rng(1).standard_normal(d.shape)
    cand = np.stack([theta + 0.05, theta, theta - 0.05])
    a = fi.best_fitting(cand, noisy)
    b = fi.best_fitting(cand, noisy, block=5)
    np.testing.assert_array_equal(a.index, b.index)
    np.testing.assert_allclose(a.mse, b.mse, rtol=0, atol=0)
    u = fi.simulate(cand.reshape(-1, 2)).reshape(3, len(theta), -1)
    np.testing.assert_allclose(a.mse, np.min(np.mean((u - noisy) ** 2, axis=2), axis=0))


def test_bad_input(truth):
    theta, d = truth
    with pytest.raises(ValueError, match="3 dimensions"):
        fi.best_fitting(theta, d)
    with pytest.raises(ValueError, match="one row per series"):
        fi.best_fitting(theta[None, :5], d)
    with pytest.raises(ValueError, match="points per series"):
        fi.best_fitting(theta[None], d[:, :500])
    with pytest.raises(ValueError, match="block"):
        fi.best_fitting(theta[None], d, block=0)
    with pytest.raises(ValueError, match="finite"):
        fi.best_fitting(np.full((1, len(theta), 2), np.nan), d)
