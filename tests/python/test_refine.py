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


def test_refine_recovers_clean_parameters_and_never_raises_the_misfit(truth):
    theta, d = truth
    start = np.clip(theta + 0.02 * np.random.default_rng(2).standard_normal(theta.shape),
                    fi.default_prior().lower, fi.default_prior().upper)
    res = fi.refine(start, d)
    assert np.all(res.mse <= res.start_mse)
    # most series come back to their parameters (to rounding); the misfit of all of them falls
    close = np.max(np.abs(res.theta - theta), axis=1) < 1e-6
    assert close.mean() >= 0.75
    assert np.median(res.mse) < 1e-3 * np.median(res.start_mse)
    # estimates stay in the box
    assert np.all(res.theta >= fi.default_prior().lower) and np.all(res.theta <= fi.default_prior().upper)
    # zero iterations: the (clipped) start, unchanged
    np.testing.assert_array_equal(fi.refine(start, d, iterations=0).theta, start)


def test_refine_anchor_keeps_estimates_near_the_start(truth):
    theta, d = truth
    start = theta + 0.02
    far = fi.refine(start, d, anchor=0.0)
    held = fi.refine(start, d, anchor=1e3)
    assert np.max(np.abs(held.theta - np.clip(start, fi.default_prior().lower, fi.default_prior().upper))) < \
        np.max(np.abs(far.theta - np.clip(start, fi.default_prior().lower, fi.default_prior().upper)))


def test_refine_bad_input(truth):
    theta, d = truth
    with pytest.raises(ValueError, match="one row per estimate"):
        fi.refine(theta[:3], d)
    with pytest.raises(ValueError, match="step"):
        fi.refine(theta, d, step=0.0)
    with pytest.raises(ValueError, match="anchor"):
        fi.refine(theta, d, anchor=-1.0)
    with pytest.raises(ValueError, match="lower < upper"):
        fi.refine(theta, d, lower=[1.0, 1.0], upper=[0.0, 0.0])


def test_fit_series_finds_the_parameters_from_wrong_candidates(truth):
    theta, d = truth
    # candidates from elsewhere in the prior: the local fit from them alone misses some series
    cand = fi.default_prior().sample(2 * len(theta), seed=21).reshape(2, len(theta), 2)
    local = fi.refine(fi.best_fitting(cand, d).theta, d)
    fit = fi.fit_series(cand, d)
    assert np.all(fit.mse <= local.mse)            # never worse than the local fit
    assert np.any(local.mse > fit.threshold)       # the case the restarts are for ...
    assert np.array_equal(fit.restarted, fit.mse < local.mse)
    assert fit.restarted.any()
    assert np.all(fit.mse < 1e-12)                 # ... and every noise-free series is fitted
    np.testing.assert_allclose(fit.theta, theta, atol=1e-5)
    # the same estimates on one thread as on all, and with the restarts in blocks of 3 series
    np.testing.assert_array_equal(fi.fit_series(cand, d, n_threads=1).theta, fit.theta)
    np.testing.assert_array_equal(fi.fit_series(cand, d, block=3).theta, fit.theta)
    # no restart rounds: the local fit from the best candidate, unchanged
    plain = fi.fit_series(cand, d, rounds=0)
    np.testing.assert_array_equal(plain.theta, local.theta)
    assert not plain.restarted.any()


def test_fit_series_threshold_follows_the_median_misfit(truth):
    theta, d = truth
    noisy = d + 0.1 * np.random.default_rng(4).standard_normal(d.shape)
    fit = fi.fit_series(theta[None], noisy, rounds=0, threshold=3.0, tol=0.0)
    assert fit.threshold == pytest.approx(3.0 * np.median(fit.mse))
    # fitting the noise: the misfit is about its variance, a little below
    assert 0.008 < np.median(fit.mse) < 0.0101


def test_nearest_grid_points_match_brute_force(truth):
    from fhn_inverse.fitting.refine import _grid, _nearest_on_grid

    theta, d = truth
    box = fi.default_prior()
    g = _grid(box.lower, box.upper, 9)
    assert g.shape == (81, 2) and np.allclose(g.min(0), box.lower) and np.allclose(g.max(0), box.upper)
    near, closest = _nearest_on_grid(g, d, t=None, model=None, n_threads=0, starts=3, block=5)
    u = fi.simulate(g)
    mse = np.mean((u[None] - d[:, None]) ** 2, axis=2)
    np.testing.assert_array_equal(near, g[np.argsort(mse, axis=1, kind="stable")[:, :3]])
    np.testing.assert_allclose(closest, mse.min(axis=1), rtol=1e-9, atol=1e-12)


def test_fit_series_bad_input(truth):
    theta, d = truth
    with pytest.raises(ValueError, match="3 dimensions"):
        fi.fit_series(theta, d)
    with pytest.raises(ValueError, match="one row per series"):
        fi.fit_series(theta[None, :5], d)
    with pytest.raises(ValueError, match="500 points per series, the grid t has 1000"):
        fi.fit_series(theta[None], d[:, :500])
    for kw, msg in ((dict(threshold=0.5), "threshold"), (dict(tol=-1.0), "tol"), (dict(grid=1), "grid"),
                    (dict(starts=0), "starts"), (dict(rounds=-1), "rounds"), (dict(grid=2000), "grid"),
                    (dict(block=0), "block")):
        with pytest.raises(ValueError, match=msg):
            fi.fit_series(theta[None], d, **kw)
