"""Simulator against SciPy, reference spike counts, priors, failures and bad input."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import fhn_inverse as fi


def scipy_fhn(theta, t, gamma=3.0, zeta=-0.4, method="DOP853", tol=1e-12):
    def rhs(_, x):
        u, v = x
        return [gamma * (u - u**3 / 3 + v + zeta), -(u - theta[0] + theta[1] * v) / gamma]

    sol = solve_ivp(rhs, (t[0], t[-1]), [0.0, 0.0], method=method, t_eval=t, rtol=tol, atol=tol)
    assert sol.success
    return sol.y[0]


def test_matches_scipy_on_100_random_parameters():
    theta = fi.default_prior().sample(100, seed=1)
    u = fi.simulate(theta)
    errors = [np.max(np.abs(u[i] - scipy_fhn(theta[i], fi.DEFAULT_GRID))) for i in range(len(theta))]
    assert max(errors) <= 2e-6, max(errors)  # 4.3e-7 measured at the default rtol = atol = 1e-9


def test_error_shrinks_with_tolerance():
    theta = np.array([[0.3, 0.6], [0.8, 0.1]])
    ref = np.stack([scipy_fhn(th, fi.DEFAULT_GRID) for th in theta])
    errors = [np.abs(fi.simulate(theta, rtol=tol, atol=tol) - ref).max() for tol in (1e-4, 1e-6, 1e-8)]
    # An adaptive 7(8) method: 100x tighter tolerance, >= 10x smaller error.
    assert errors[1] < errors[0] / 10 and errors[2] < errors[1] / 10, errors


def test_reference_spike_counts(reference):
    theta = reference["theta"].astype(np.float64)
    u = fi.simulate(theta, t=reference["time"])
    stats = fi.spike_statistics(u, reference["time"])
    window = reference["time"][-1] - reference["time"][0]
    expected = np.where(np.isnan(reference["rate"]), 0, np.rint(reference["rate"] * window / 1000)).astype(int)
    agree = np.mean(stats.count == expected)
    assert agree >= 0.99, agree
    assert np.mean(np.abs(stats.count - expected) <= 1) >= 0.999
    # The excited steady state: the reference's duration is the whole window, and so is ours.
    excited = reference["duration"] == np.float32(window)
    ours = (stats.count[excited] == 0) & np.isclose(stats.duration[excited], window)
    assert excited.sum() > 100 and ours.mean() >= 0.99


def test_thread_count_and_chunking_do_not_change_results():
    theta = fi.default_prior().sample(300, seed=4)
    one = fi.simulate(theta, n_threads=1)
    two = fi.simulate(theta, n_threads=2)
    chunks = np.concatenate([fi.simulate(theta[:100]), fi.simulate(theta[100:])])
    assert np.array_equal(one, two) and np.array_equal(one, chunks)


def test_single_parameter_vector_gives_one_series():
    u = fi.simulate([0.4, 0.4])
    assert u.shape == (1000,) and u[0] == 0.0


def test_model_constants_are_configurable():
    theta = np.array([0.4, 0.4])
    base = fi.simulate(theta)
    other = fi.simulate(theta, model=fi.FitzHughNagumo(gamma=3.0, zeta=0.0, initial=(-1.0, 1.0)))
    assert other[0] == -1.0 and not np.allclose(base, other)
    assert np.allclose(scipy_fhn(theta, fi.DEFAULT_GRID, zeta=0.0)[:1], [0.0])


def test_failures_are_reported_per_sample():
    theta = np.array([[0.4, 0.4], [0.0, -60.0]])
    with pytest.raises(fi.SimulationError, match="1 of 2 trajectories failed: 1 \\(diverged\\)") as info:
        fi.simulate(theta)
    assert list(info.value.indices) == [1]
    u, status = fi.simulate(theta, return_status=True)
    assert list(status) == [0, 1] and np.all(np.isnan(u[1])) and np.all(np.isfinite(u[0]))
    _, status = fi.simulate(theta[:1], max_steps=10, return_status=True)
    assert list(status) == [2]


def test_default_prior_reproduces_reference_statistics(reference):
    ref = reference["theta"].astype(np.float64)
    ours = fi.default_prior().sample(100_000, seed=0)
    se = ref.std(0) / np.sqrt(len(ref))
    assert np.all(np.abs(ours.mean(0) - ref.mean(0)) < 4 * se)
    assert np.allclose(ours.std(0), ref.std(0), rtol=0.03)
    assert np.allclose(ours.min(0), ref.min(0), atol=0.01) and np.allclose(ours.max(0), ref.max(0), atol=0.01)
    assert abs(np.corrcoef(ours.T)[0, 1]) < 0.01


def test_prior_sample_depends_only_on_seed_and_index():
    prior = fi.UniformPrior([0, 0], [1, 2])
    full = prior.sample(50, seed=9)
    assert np.array_equal(prior.sample(10, seed=9, start=40), full[40:])
    assert not np.array_equal(prior.sample(50, seed=10), full)
    assert full[:, 1].max() <= 2 and full.min() >= 0


@pytest.mark.parametrize(
    "theta, error, match",
    [
        ([[0.4, np.nan]], ValueError, "theta must be finite, got nan at index \\(0, 1\\)"),
        ([[0.4, np.inf]], ValueError, "must be finite"),
        (np.zeros((0, 2)), ValueError, "theta must not be empty"),
        (np.zeros((3, 3)), ValueError, "theta must have 2 columns"),
        (np.zeros((2, 2, 2)), ValueError, "theta must have 1 or 2 dimensions"),
        (np.array([["a", "b"]]), TypeError, "theta must be a real numeric array"),
        (np.zeros((2, 2), dtype=complex), TypeError, "dtype complex128"),
    ],
)
def test_bad_parameters(theta, error, match):
    with pytest.raises(error, match=match):
        fi.simulate(theta)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"t": [0.0, 1.0, 1.0]}, "t_obs must be strictly increasing"),
        ({"t": [0.0, 2.0, 1.0]}, "strictly increasing"),
        ({"t": []}, "t must not be empty"),
        ({"rtol": 0.0}, "rtol must be in \\(0, 1\\), got 0"),
        ({"atol": -1.0}, "atol must be finite and > 0"),
        ({"max_steps": 0}, "max_steps must be >= 1, got 0"),
        ({"n_threads": -1}, "n_threads must be >= 0, got -1"),
        ({"t0": 5.0}, "t0 must be finite and <= t_obs\\[0\\]"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fi.simulate([0.4, 0.4], **kwargs)


def test_bad_model_and_prior():
    with pytest.raises(ValueError, match="gamma must be finite and > 0"):
        fi.FitzHughNagumo(gamma=0.0)
    with pytest.raises(TypeError,
                       match=r"model must be one of the core.s models \(FitzHughNagumo, .*\) or an ODEModel, got str"):
        fi.simulate([0.4, 0.4], model="fhn")
    with pytest.raises(ValueError, match="positive definite"):
        fi.GaussianPrior([0, 0], [[1, 2], [2, 1]])
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        fi.default_prior().sample(0)
    with pytest.raises(ValueError, match="lower\\[0\\] < upper\\[0\\]"):
        fi.UniformPrior([1, 0], [0, 1])
    with pytest.raises(ValueError, match="seed must be >= 0"):
        fi.default_prior().sample(3, seed=-1)


def test_spike_statistics_bad_input():
    with pytest.raises(ValueError, match="t must have the series length 1000"):
        fi.spike_statistics(np.zeros((2, 1000)), t=np.arange(10.0))
    with pytest.raises(ValueError, match="min_points must be >= 1, got 0"):
        fi.spike_statistics(np.zeros((2, 1000)), min_points=0)
    with pytest.raises(ValueError, match="u must be finite"):
        fi.spike_statistics(np.full((2, 1000), np.nan))
