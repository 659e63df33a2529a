"""The core's models beyond FitzHugh–Nagumo, each against an independent reference: its series
against SciPy's ``solve_ivp`` (DOP853, rtol = atol = 1e-12) on 200 prior draws, within 1e-6 of
the voltage range; its Jacobians against central differences of its right-hand side; its
sensitivities against central differences of simulations; and the path simulate → Dataset → fit →
predict → laplace_covariance with k = 4 free parameters."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.models import HodgkinHuxley, MorrisLecar, model_from_dict, model_to_dict

scipy_integrate = pytest.importorskip("scipy.integrate")


def morris_lecar_rhs(c):
    """Morris–Lecar written out from Rinzel & Ermentrout (1998), independently of the core."""
    def rhs(_, x, i_app, g_ca, g_k, phi):
        v, w = x
        m_inf = 0.5 * (1 + np.tanh((v - c["v1"]) / c["v2"]))
        w_inf = 0.5 * (1 + np.tanh((v - c["v3"]) / c["v4"]))
        dv = (i_app - c["g_l"] * (v - c["v_l"]) - g_ca * m_inf * (v - c["v_ca"]) - g_k * w * (v - c["v_k"]))
        return [dv / c["capacitance"], phi * np.cosh((v - c["v3"]) / (2 * c["v4"])) * (w_inf - w)]
    return rhs


def hodgkin_huxley_rhs(c):
    """Hodgkin–Huxley with a rest at −65 mV, written out from Dayan & Abbott (2001, eqs. 5.22–5.24)."""
    def rhs(_, x, g_na, g_k, g_l, i_app):
        v, m, h, n = x
        a_m, b_m = 0.1 * (v + 40) / (1 - np.exp(-(v + 40) / 10)), 4 * np.exp(-(v + 65) / 18)
        a_h, b_h = 0.07 * np.exp(-(v + 65) / 20), 1 / (1 + np.exp(-(v + 35) / 10))
        a_n, b_n = 0.01 * (v + 55) / (1 - np.exp(-(v + 55) / 10)), 0.125 * np.exp(-(v + 65) / 80)
        current = i_app - g_na * m**3 * h * (v - c["e_na"]) - g_k * n**4 * (v - c["e_k"]) - g_l * (v - c["e_l"])
        return [current / c["capacitance"], a_m * (1 - m) - b_m * m, a_h * (1 - h) - b_h * h, a_n * (1 - n) - b_n * n]
    return rhs


MODELS = {"morris_lecar_hopf": (MorrisLecar(), morris_lecar_rhs),
          "morris_lecar_snic": (MorrisLecar(v3=12.0, v4=17.4), morris_lecar_rhs),
          "hodgkin_huxley": (HodgkinHuxley(), hodgkin_huxley_rhs)}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_series_match_scipy_dop853(name):
    model, reference = MODELS[name]
    draws = {"morris_lecar_hopf": 200, "morris_lecar_snic": 50, "hodgkin_huxley": 100}[name]  # SciPy takes 0.5 s each
    theta = fi.default_prior(model).sample(draws, seed=3)
    t = fi.models.model_grid(model)
    u = fi.simulate(theta, model=model, t=t, rtol=1e-12, atol=1e-12)
    rhs = reference(model.constants)
    worst = 0.0
    for row, th in zip(u, theta):
        ref = scipy_integrate.solve_ivp(rhs, (0.0, t[-1]), list(model.initial), method="DOP853", t_eval=t,
                                        rtol=1e-12, atol=1e-12, args=tuple(th))
        assert ref.success
        worst = max(worst, np.max(np.abs(row - ref.y[0])) / np.ptp(ref.y[0]).clip(1.0))
    assert worst < 1e-6, worst
    spiking = np.mean(u.max(axis=1) > 0)
    assert 0.2 < spiking < 0.95, spiking  # the prior spans rest and repetitive firing
    assert model_to_dict(model_from_dict(model_to_dict(model))) == model_to_dict(model)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_jacobians_match_central_differences(name):
    model, _ = MODELS[name]
    rng = np.random.default_rng(0)
    prior = fi.default_prior(model)
    for _ in range(200):
        x = np.concatenate([[rng.uniform(-90, 60)], rng.uniform(0, 1, size=len(model.initial) - 1)])
        th = prior.sample(1, seed=int(rng.integers(1 << 30)))[0]
        jx, jt = (np.asarray(j) for j in model.jacobians(x, th))
        S, P = len(x), len(th)
        num_x = np.column_stack([(np.asarray(model.rhs(x + h, th)) - np.asarray(model.rhs(x - h, th))) / (2 * 1e-6)
                                 for h in np.eye(S) * 1e-6])
        assert np.all(np.isfinite(jx)) and np.all(np.isfinite(jt))
        steps = 1e-6 * np.maximum(1.0, np.abs(th))
        num_t = np.column_stack([(np.asarray(model.rhs(x, th + h)) - np.asarray(model.rhs(x, th - h))) / (2 * s)
                                 for h, s in zip(np.diag(steps), steps)])
        np.testing.assert_allclose(jx.reshape(S, S), num_x, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(jt.reshape(S, P), num_t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model,theta,t", [
    (MorrisLecar(), [[100.0, 4.4, 8.0, 0.04], [60.0, 4.0, 7.0, 0.06]], np.arange(300) * 1.0),
    (HodgkinHuxley(), [[120.0, 36.0, 0.3, 10.0], [100.0, 30.0, 0.2, 3.0]], np.arange(300) * 0.1)],
    ids=["morris_lecar", "hodgkin_huxley"])
def test_sensitivities_match_differences_of_simulations(model, theta, t):
    theta = np.asarray(theta)
    u, J = fi.sensitivities(theta, model=model, t=t, rtol=1e-12, atol=1e-12)
    assert J.shape == (2, 300, 4)
    for j in range(4):
        h = np.zeros(4)
        h[j] = 1e-6 * max(1.0, abs(theta[0, j]))
        num = (fi.simulate(theta + h, model=model, t=t, rtol=1e-13, atol=1e-13)
               - fi.simulate(theta - h, model=model, t=t, rtol=1e-13, atol=1e-13)) / (2 * h[j])
        scale = np.abs(num).max(axis=1, keepdims=True)
        np.testing.assert_allclose(J[:, :, j] / scale, num / scale, atol=1e-5)


@pytest.mark.parametrize("model", [MorrisLecar(), HodgkinHuxley()], ids=["morris_lecar", "hodgkin_huxley"])
def test_a_four_parameter_model_runs_end_to_end(tmp_path, model):
    data = fi.Dataset.generate(300, 1, model=model, noise=fi.AR1Noise(sigma=0.5, rho=0.8, dt=1.0), progress=False)
    assert data.theta.shape == (300, 4) and data.config["model"] == model_to_dict(model)
    data.save(tmp_path / "ml.npz")
    again = fi.Dataset.load(tmp_path / "ml.npz")
    assert model_to_dict(model_from_dict(again.config["model"])) == data.config["model"]
    m = fi.InverseMap.dense(units=[16], output_activation=None, seed=0)
    m.fit(data.d, data.theta, epochs=2, loss="gaussian_nll", scaling="standard", input_scaling="channel", t=data.t,
          progress=False, trained_on=data)  # V in mV: the inputs standardised
    mean, cov = m.predict(data.d[:5], return_cov=True)
    assert mean.shape == (5, 4) and cov.shape == (5, 4, 4)
    assert m.describe()["targets"] == list(model.param_names)  # named after the data's model
    lo, hi = m.interval(data.d[:5], 0.9)
    prior = m.prior
    assert isinstance(prior, fi.UniformPrior) and np.all(lo >= prior.lower) and np.all(hi <= prior.upper)
    C = fi.laplace_covariance(data.theta[:3], noise=(0.5, 0.8), dt=1.0, model=model, t=data.t, rtol=1e-8, atol=1e-8)
    assert C.shape == (3, 4, 4) and np.all(np.linalg.eigvalsh(C) > 0)  # the model's default (uniform) prior: none
    start = data.theta[:3] * 1.02
    fit = fi.refine(start, data.d[:3], model=model, t=data.t, iterations=5)  # the box: the model's prior's
    assert np.all(fit.mse <= fit.start_mse) and np.all((fit.theta >= prior.lower) & (fit.theta <= prior.upper))
    best = fi.map_fit(start, data.d[:3], model=model, t=data.t, rounds=0, iterations=3)
    assert best.theta.shape == best.lower.shape == (3, 4) and np.all(best.lower <= best.upper)


def test_bad_models_and_widths_name_the_value():
    with pytest.raises(ValueError, match="theta must have 4 columns"):
        fi.simulate(np.zeros((2, 2)), model=MorrisLecar())
    with pytest.raises(ValueError, match="capacitance, V2 and V4 must be > 0"):
        MorrisLecar(capacitance=-1.0)
    with pytest.raises(ValueError, match="a model record names one of"):
        model_from_dict({"name": "Izhikevich"})


def test_the_command_line_simulates_trains_and_predicts_other_models(tmp_path, capsys):
    from fhn_inverse.cli import main

    data, model = tmp_path / "hh.npz", tmp_path / "hh.safetensors"
    assert main(["simulate", str(data), "-n", "300", "--model", "hodgkin-huxley", "--quiet"]) == 0
    ds = fi.Dataset.load(data)
    assert ds.theta.shape == (300, 4) and ds.config["model"]["name"] == "HodgkinHuxley"
    assert main(["train", str(data), str(model), "--arch", "dense", "--epochs", "2", "--loss", "gaussian_nll",
                 "--quiet"]) == 0
    np.save(tmp_path / "s.npy", ds.d[:4])
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "s.npy"), "--level", "0.9"]) == 0
    header = capsys.readouterr().out.splitlines()[0].split(",")
    assert header[:5] == ["id", "g_Na", "g_K", "g_L", "I_app"] and header[-1] == "ood"
    assert main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    assert "targets: g_Na [mS/cm^2]" in out and "model: HodgkinHuxley; values " in out and "e_l=" in out


@pytest.mark.parametrize("model", [MorrisLecar(v3=12.0, v4=17.4, initial=(-50.0, 0.1)), HodgkinHuxley(e_l=-55.0)],
                         ids=["morris_lecar", "hodgkin_huxley"])
def test_models_pickle_with_their_constants(model):
    import pickle

    again = pickle.loads(pickle.dumps(model))
    assert type(again) is type(model) and model_to_dict(again) == model_to_dict(model)
    theta = fi.default_prior(model).sample(3, seed=1)
    np.testing.assert_array_equal(fi.simulate(theta, model=again), fi.simulate(theta, model=model))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_simd_lanes_are_as_accurate_as_the_odeint_path(name):
    model, _ = MODELS[name]
    theta = fi.default_prior(model).sample(64, seed=5)
    ref = fi.simulate(theta, model=model, rtol=1e-12, atol=1e-12)
    err_odeint = np.abs(fi.simulate(theta, model=model) - ref).max()
    err_simd = np.abs(fi.simulate(theta, model=model, method="rkf78-simd") - ref).max()
    assert err_simd <= 1.1 * err_odeint + 1e-9, (err_simd, err_odeint)


def test_a_model_added_to_the_list_runs_end_to_end_with_nothing_else_changed():
    """The damped oscillator is one header and one list entry: bound, simulated (both paths),
    sampled from its default prior on its default grid, learned, and given Laplace covariances
    and fits, through the same code as every model."""
    oscillator = {m.__name__: m for m in fi.models.MODELS}["DampedOscillator"]()
    theta = fi.default_prior(oscillator).sample(50, seed=2)
    t = fi.models.model_grid(oscillator)
    omega, zeta = theta[:, :1], theta[:, 1:]
    omega_d = omega * np.sqrt(1 - zeta**2)
    exact = np.exp(-zeta * omega * t) * (np.cos(omega_d * t) + zeta * omega / omega_d * np.sin(omega_d * t))
    for method in ("rkf78", "rkf78-simd"):
        np.testing.assert_allclose(fi.simulate(theta, model=oscillator, method=method, rtol=1e-12, atol=1e-12),
                                   exact, atol=1e-9)
    data = fi.Dataset.generate(400, 3, model=oscillator, noise=fi.AR1Noise(sigma=0.02, rho=0.5, dt=1.0),
                               progress=False)
    m = fi.InverseMap.dense(units=[16], output_activation=None, seed=0)
    m.fit(data.d, data.theta, epochs=5, loss="gaussian_nll", scaling="standard", t=data.t, progress=False,
          trained_on=data)
    mean, cov = m.predict(data.d[:5], return_cov=True)
    assert mean.shape == (5, 2) and cov.shape == (5, 2, 2) and m.describe()["targets"] == ["omega", "zeta_damping"]
    C = fi.laplace_covariance(data.theta[:5], noise=(0.02, 0.5), dt=1.0, model=oscillator, t=data.t)
    assert C.shape == (5, 2, 2) and np.all(np.linalg.eigvalsh(C) > 0)
    fit = fi.fit_series(mean[None], data.d[:5], t=data.t, model=oscillator)
    assert np.abs(fit.theta - data.theta[:5]).mean() < np.abs(mean - data.theta[:5]).mean()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_laplace_information_is_the_finite_difference_gauss_newton(name):
    """JᵀΓ⁻¹J of laplace_covariance against J from central differences of simulations and the
    dense AR(1) covariance Γ_jk = s² ρ^|j−k|."""
    model, _ = MODELS[name]
    theta = fi.default_prior(model).sample(2, seed=11)
    s, rho, tight = 0.5, 0.7, dict(rtol=1e-12, atol=1e-12)
    t = fi.models.model_grid(model)[:400]  # 400 points keep the dense solve small
    _, info = fi.laplace_covariance(theta, noise=(s, rho), dt=1.0, model=model, t=t, prior=None,
                                    return_information=True, **tight)
    lags = np.abs(np.subtract.outer(np.arange(t.size), np.arange(t.size)))
    gamma = s**2 * rho**lags
    for n, th in enumerate(theta):
        h = 1e-6 * np.maximum(1.0, np.abs(th))
        J = np.column_stack([(fi.simulate(th + e, model=model, t=t, **tight) -
                              fi.simulate(th - e, model=model, t=t, **tight)) / (2 * e[j])
                             for j, e in enumerate(np.diag(h))])
        np.testing.assert_allclose(info[n], J.T @ np.linalg.solve(gamma, J), rtol=1e-4,
                                   atol=1e-6 * np.abs(info[n]).max())


def test_sensitivities_and_laplace_default_to_the_models_grid():
    """Without t, sensitivities and laplace_covariance use the model's grid, as simulate does."""
    ml = fi.models.MorrisLecar()
    theta = fi.default_prior(ml).sample(2, seed=3)
    u = fi.simulate(theta, model=ml)
    u_s, J = fi.sensitivities(theta, model=ml, rtol=1e-9, atol=1e-9)
    assert u_s.shape == u.shape == (2, ml.grid_points)
    np.testing.assert_allclose(u_s, u, atol=1e-4 * np.ptp(u))
    t = fi.models.model_grid(ml)
    c_default = fi.laplace_covariance(theta, model=ml, noise=(0.5, 0.8), dt=float(t[1] - t[0]))
    c_grid = fi.laplace_covariance(theta, model=ml, noise=(0.5, 0.8), dt=float(t[1] - t[0]), t=t)
    np.testing.assert_array_equal(c_default, c_grid)
