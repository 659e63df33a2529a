"""Free sets: a model's rows hold any of its parameters, constants and initial state.

FitzHugh–Nagumo with γ, ζ and (u0, v0) free against SciPy's ``solve_ivp`` written out here; the
default free set bitwise the model's own path; sensitivities to every kind of quantity against
central differences of simulations; Laplace covariances against a dense finite-difference
Gauss–Newton; records, pickles, the command line, and errors that name the value."""

import pickle

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.models import MorrisLecar, model_from_dict, model_to_dict

scipy_integrate = pytest.importorskip("scipy.integrate")

EVERY = ("theta0", "theta1", "gamma", "zeta", "u0", "v0")


def fhn_rhs(_, x, theta0, theta1, gamma, zeta):
    """FitzHugh–Nagumo as the study writes it (spec/paper.md, eq. 1), independently of the core."""
    u, v = x
    return [gamma * (u - u**3 / 3 + v + zeta), -(u - theta0 + theta1 * v) / gamma]


def test_every_fitzhugh_nagumo_quantity_free_matches_scipy():
    model = fi.models.FitzHughNagumo(free=EVERY)
    z = fi.default_prior(model).sample(40, seed=1)
    t = fi.DEFAULT_GRID
    u = fi.simulate(z, model=model, rtol=1e-12, atol=1e-12)
    worst = 0.0
    for row, (th0, th1, gamma, zeta, u0, v0) in zip(u, z):
        ref = scipy_integrate.solve_ivp(fhn_rhs, (0.0, t[-1]), [u0, v0], method="DOP853", t_eval=t,
                                        rtol=1e-12, atol=1e-12, args=(th0, th1, gamma, zeta))
        assert ref.success
        worst = max(worst, np.max(np.abs(row - ref.y[0])) / np.ptp(ref.y[0]).clip(1.0))
    assert worst < 1e-6, worst


def test_the_default_free_set_and_fixed_values_reproduce_the_study_bitwise():
    theta = fi.default_prior().sample(64, seed=0)
    study = fi.simulate(theta)
    assert fi.FitzHughNagumo(free=("theta0", "theta1")).is_default_free
    # γ free at the study's value: one model per row, the same arithmetic
    gamma = fi.FitzHughNagumo(free=("theta0", "theta1", "gamma"))
    assert np.array_equal(fi.simulate(np.c_[theta, np.full(64, 3.0)], model=gamma), study)
    # θ1 fixed by keyword, θ0 free: the same series as the full θ with that θ1
    one = fi.FitzHughNagumo(free=("theta0",), theta1=0.25)
    full = np.c_[theta[:, 0], np.full(64, 0.25)]
    assert np.array_equal(fi.simulate(theta[:, :1], model=one), fi.simulate(full))
    assert np.array_equal(fi.simulate(theta[:, :1], model=one, method="rkf78-simd"),
                          fi.simulate(full, method="rkf78-simd"))  # parameters only: the lanes still run
    # the initial state by row equals a model built with that initial state
    init = fi.FitzHughNagumo(free=("theta0", "theta1", "u0", "v0"))
    rows = np.c_[theta[:3], [[0.5, -0.2]] * 3]
    started = fi.FitzHughNagumo(initial=(0.5, -0.2))
    assert np.array_equal(fi.simulate(rows, model=init), fi.simulate(theta[:3], model=started))


def _central_differences(model, z, h, **kw):
    cols = []
    for j in range(z.size):
        step = np.zeros_like(z)
        step[j] = h * max(1.0, abs(z[j]))
        up, down = fi.simulate(z + step, model=model, **kw), fi.simulate(z - step, model=model, **kw)
        cols.append((up - down) / (2 * step[j]))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("free", [EVERY, ("gamma", "theta1"), ("v0",)])
def test_sensitivities_to_every_kind_of_quantity_match_differences(free):
    model = fi.FitzHughNagumo(free=free)
    z = fi.default_prior(model).sample(3, seed=4)
    tight = dict(rtol=1e-12, atol=1e-12)
    u, J = fi.sensitivities(z, model=model, **tight)
    assert J.shape == (3, fi.DEFAULT_GRID.size, len(free))
    np.testing.assert_allclose(u, fi.simulate(z, model=model, **tight), atol=1e-8)  # its own steps
    for n in range(3):
        num = _central_differences(model, z[n], 1e-6, **tight)
        scale = np.abs(num).max(axis=0).clip(1e-3)
        assert (np.abs(J[n] - num).max(axis=0) / scale).max() < 1e-5


def test_the_laplace_covariance_of_a_free_set_is_the_finite_difference_gauss_newton():
    model = fi.FitzHughNagumo(free=("theta0", "theta1", "gamma", "u0"))
    z = fi.default_prior(model).sample(2, seed=7)
    s, rho = 0.1, 0.6
    C, info = fi.laplace_covariance(z, noise=(s, rho), dt=1.0, model=model, prior=None, return_information=True,
                                    rtol=1e-12, atol=1e-12)
    for n in range(2):
        J = _central_differences(model, z[n], 1e-6, rtol=1e-12, atol=1e-12)
        L = J.shape[0]
        gamma = s**2 * rho ** np.abs(np.subtract.outer(np.arange(L), np.arange(L)))
        dense = J.T @ np.linalg.solve(gamma, J)
        np.testing.assert_allclose(info[n], dense, rtol=1e-4)
        np.testing.assert_allclose(C[n], np.linalg.inv(dense), rtol=1e-3)


def test_other_models_free_a_subset_their_initial_state_or_a_constant():
    ml = MorrisLecar(free=("I_app", "g_K"), g_Ca=4.0, phi=0.04)
    assert ml.fixed == {"g_Ca": 4.0, "phi": 0.04}
    z = np.array([[90.0, 8.0], [40.0, 7.0]])
    full = np.c_[z[:, 0], [4.0, 4.0], z[:, 1], [0.04, 0.04]]
    assert np.array_equal(fi.simulate(z, model=ml), fi.simulate(full, model=MorrisLecar()))
    with_v0 = MorrisLecar(free=("I_app", "g_Ca", "g_K", "phi", "V0"))
    u, J = fi.sensitivities(np.c_[full, [-40.0, -55.0]], model=with_v0)
    assert J.shape == (2, u.shape[1], 5) and np.isfinite(J).all()
    # a free constant simulates; its sensitivities need a constant Jacobian the header does not declare
    cap = MorrisLecar(free=("I_app", "capacitance"))
    assert fi.simulate(np.array([[90.0, 20.0]]), model=cap).shape == (1, 1000)
    with pytest.raises(ValueError, match="constant_jacobian"):
        fi.sensitivities(np.array([[90.0, 20.0]]), model=cap)
    with pytest.raises(ValueError, match="no default range for capacitance"):
        fi.default_prior(cap)


def test_free_sets_round_trip_through_records_pickles_and_data_sets(tmp_path):
    model = fi.FitzHughNagumo(zeta=-0.3, free=("theta1", "gamma", "u0"), theta0=0.6)
    record = model_to_dict(model)
    assert record["free"] == ["theta1", "gamma", "u0"] and record["theta0"] == 0.6
    again = model_from_dict(record)
    assert repr(again) == repr(model) and again.free == model.free
    assert repr(pickle.loads(pickle.dumps(model))) == repr(model)
    assert "free" not in model_to_dict(fi.FitzHughNagumo())  # records of the study's model are as before
    ds = fi.Dataset.generate(30, seed=2, model=model, noise=fi.AR1Noise(), progress=False)
    assert ds.theta.shape == (30, 3)
    ds.save(tmp_path / "d.npz")
    loaded = fi.Dataset.load(tmp_path / "d.npz")
    assert loaded.config["model"] == record
    np.testing.assert_array_equal(loaded.u, fi.simulate(loaded.theta, model=model_from_dict(loaded.config["model"])))


def test_bad_free_sets_name_the_value():
    with pytest.raises(ValueError, match="'kappa' is not a quantity of FitzHughNagumo; its quantities are theta0"):
        fi.FitzHughNagumo(free=("theta0", "kappa"))
    with pytest.raises(ValueError, match="at least one"):
        fi.FitzHughNagumo(free=())
    with pytest.raises(ValueError, match="'gamma' appears twice"):
        fi.FitzHughNagumo(free=("gamma", "gamma"))
    with pytest.raises(TypeError, match="the string 'gamma'"):
        fi.FitzHughNagumo(free="gamma")
    with pytest.raises(ValueError, match="'theta0' is free; it takes no fixed value"):
        fi.FitzHughNagumo(free=("theta0",), theta0=0.1)
    model = fi.FitzHughNagumo(free=("theta0", "theta1", "gamma"))
    with pytest.raises(ValueError, match=r"theta must have 3 columns \(theta0, theta1, gamma\), got shape \(4, 2\)"):
        fi.simulate(np.zeros((4, 2)), model=model)
    with pytest.raises(ValueError, match="row 1: gamma must be finite and > 0, got -1"):
        fi.simulate(np.array([[0.4, 0.4, 3.0], [0.4, 0.4, -1.0]]), model=model)


def test_the_command_line_simulates_a_free_set(tmp_path, capsys):
    from fhn_inverse.cli import main

    out = tmp_path / "g.npz"
    assert main(["simulate", str(out), "-n", "20", "--free", "theta0,theta1,gamma", "--quiet"]) == 0
    data = fi.Dataset.load(out)
    assert data.theta.shape == (20, 3) and data.config["model"]["free"] == ["theta0", "theta1", "gamma"]
    assert 1.0 <= data.theta[:, 2].min() and data.theta[:, 2].max() <= 5.0
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", str(tmp_path / "h.npz"), "-n", "5", "--free", "theta0,kappa", "--quiet"])
    assert exit_.value.code == 2 and "'kappa' is not a quantity of FitzHughNagumo" in capsys.readouterr().err
    assert not (tmp_path / "h.npz").exists()
