"""The SIMD-lane simulator (method="rkf78-simd"): the same Runge–Kutta–Fehlberg 7(8) scheme and
step-size control as the Odeint path, many trajectories at once. Equal to it within the
tolerances, as accurate against SciPy's DOP853 at 1e-12, the same per-sample status, and each
sample's result independent of its lane, its neighbours and the thread count."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import _core
from fhn_inverse.models.simulation import STATUS

SIMD = "rkf78-simd"


@pytest.fixture(scope="module")
def theta():
    return fi.default_prior().sample(600, seed=11)


def test_equal_to_the_odeint_path_within_the_tolerances(theta):
    a = fi.simulate(theta)
    b = fi.simulate(theta, method=SIMD)
    assert np.abs(a - b).max() < 1e-7
    assert not np.array_equal(a, b)  # a different integrator, not a copy of the first
    loose = fi.simulate(theta[:50], method=SIMD, rtol=1e-6, atol=1e-6)
    assert 1e-9 < np.abs(loose - a[:50]).max() < 1e-3  # the tolerance is honoured


def test_as_accurate_as_the_odeint_path_against_dop853():
    from scipy.integrate import solve_ivp

    theta = fi.default_prior().sample(12, seed=2)
    grid = fi.DEFAULT_GRID

    def rhs(t, x, a, b):
        u, v = x
        return [3.0 * (u - u**3 / 3 + v - 0.4), -(u - a + b * v) / 3.0]

    ref = np.stack([solve_ivp(rhs, (0, grid[-1]), [0.0, 0.0], method="DOP853", t_eval=grid, args=tuple(th),
                              rtol=1e-12, atol=1e-12).y[0] for th in theta])
    err_odeint = np.abs(fi.simulate(theta) - ref).max()
    err_simd = np.abs(fi.simulate(theta, method=SIMD) - ref).max()
    assert err_simd <= 1.1 * err_odeint + 1e-9


def test_a_sample_does_not_depend_on_its_lane_its_neighbours_or_the_threads(theta):
    u = fi.simulate(theta, method=SIMD, n_threads=1)
    assert np.array_equal(u, fi.simulate(theta, method=SIMD, n_threads=2))
    perm = np.random.default_rng(0).permutation(len(theta))
    assert np.array_equal(u[perm], fi.simulate(theta[perm], method=SIMD, n_threads=2))
    assert np.array_equal(u[5:8], fi.simulate(theta[5:8], method=SIMD))
    assert np.array_equal(u[3], fi.simulate(theta[3], method=SIMD))


def test_status_per_sample_as_the_odeint_path():
    theta = np.array([[0.4, 1e6], [0.0, -60.0], [0.4, 0.4]] * 5)  # stiff, growing, ok; in every lane
    t = np.arange(100) * 0.2
    u, status = fi.simulate(theta, t=t, max_steps=20_000, return_status=True, method=SIMD)
    assert [STATUS[int(s)] for s in status[:3]] == ["step_budget", "diverged", "ok"]
    _, ref = fi.simulate(theta, t=t, max_steps=20_000, return_status=True)
    assert np.array_equal(status, ref)
    assert np.isnan(u[status != 0]).all() and np.isfinite(u[status == 0]).all()
    _, short = fi.simulate(theta[2:3], max_steps=10, return_status=True, method=SIMD)
    assert list(short) == [2]
    with pytest.raises(fi.SimulationError, match=r"diverged"):
        fi.simulate(theta, t=t, max_steps=20_000, method=SIMD)


@pytest.mark.parametrize("t, t0", [(np.array([0.0]), 0.0), (np.array([0.5, 0.7, 3.0, 3.05, 10.0]), 0.0),
                                   (np.array([1.0, 2.0]), 1.0), (np.arange(1, 50) * 0.37, -0.5)])
def test_any_grid_and_start(t, t0, theta):
    a = fi.simulate(theta[:20], t=t, t0=t0)
    b = fi.simulate(theta[:20], t=t, t0=t0, method=SIMD)
    assert a.shape == b.shape and np.abs(a - b).max() < 1e-7
    if t[0] == t0:
        assert np.array_equal(b[:, 0], np.zeros(20))  # the initial state, observed at t0


def test_other_model_constants(theta):
    model = fi.FitzHughNagumo(gamma=2.0, zeta=0.1, initial=(-1.0, 0.5))
    a = fi.simulate(theta[:30], model=model)
    b = fi.simulate(theta[:30], model=model, method=SIMD)
    assert np.abs(a - b).max() < 1e-7 and b[0, 0] == -1.0


def test_method_is_checked_and_recorded():
    with pytest.raises(ValueError, match=r"method must be one of \('rkf78', 'rkf78-simd'\), got 'rk4'"):
        fi.simulate([0.4, 0.4], method="rk4")
    assert _core.SimulatorOptions(fi.DEFAULT_GRID, method=SIMD).method == SIMD
    assert _core.SimulatorOptions.lanes in (4, 8, 16)  # vector width × groups
    data = fi.Dataset.generate(20, 3, method=SIMD, progress=False)
    assert data.config["simulator"]["method"] == SIMD
    ref = fi.Dataset.generate(20, 3, progress=False)
    assert ref.config["simulator"]["method"] == "rkf78"
    assert np.abs(data.u - ref.u).max() < 1e-7 and np.array_equal(data.theta, ref.theta)
