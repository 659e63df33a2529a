"""User models (fi.ODEModel): equations compiled to native code, run by the built-in models' code.

The models compile once per test session into a temporary cache (about 20 s each), so the tests
share three: FitzHugh–Nagumo and Morris–Lecar written as equations (checked against the built-in
headers), and a model that calls every lane-by-lane function.
"""

import hashlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.models import compile as native

FHN_EQUATIONS = dict(
    equations={"u": "gamma*(u - u^3/3 + v + zeta)", "v": "-(u - theta0 + theta1*v)/gamma"},
    initial={"u": 0.0, "v": 0.0}, parameters={"theta0": (-0.2, 1.0), "theta1": (-0.4, 1.2)},
    constants={"gamma": 3.0, "zeta": -0.4}, observe="u", name="FHNEquations", grid=(0.2, 1000),
    ranges={"gamma": (1.0, 5.0), "zeta": (-0.8, 0.0), "u0": (-2.0, 2.0), "v0": (-1.0, 1.0)})

ML_EQUATIONS = dict(
    equations={"V": "(I_app - g_l*(V - v_l) - g_Ca*0.5*(1 + tanh((V - v1)/v2))*(V - v_ca) - g_K*w*(V - v_k))"
                    " / capacitance",
               "w": "phi*cosh((V - v3)/(2*v4))*(0.5*(1 + tanh((V - v3)/v4)) - w)"},
    initial={"V": "v_l", "w": "0.5*(1 + tanh((v_l - v3)/v4))"},
    parameters={name: fi.models.MorrisLecar.ranges[name] for name in fi.models.MorrisLecar.param_names},
    constants=fi.models.MorrisLecar().constants, name="MLEquations", grid=(1.0, 1000),
    units={"V": "mV", "t": "ms", "I_app": "uA/cm^2"})

# every function, including those the SIMD lanes run lane by lane (log, sqrt, sin, cos, sinh, abs, pow),
# observed through an expression of both states
EXOTIC = dict(
    equations={"x": "y", "y": "-k*sin(x) - b*y*sqrt(1 + x^2) + 0.1*log(1 + exp(-x^2)) + 0.01*abs(y)^1.5"
                              " + c2*tanh(y)*cos(x) - 0.01*sinh(x/4) + 0.01*cosh(y/4) + 0.001*tan(x/4)"},
    initial={"x": "x_start", "y": 0.0}, parameters={"k": (0.5, 2.0), "b": (0.05, 0.4)},
    constants={"x_start": 1.0, "c2": 0.05}, name="Exotic", grid=(0.1, 300), observe="x + 0.5*y^2",
    ranges={"x_start": (0.5, 1.5), "c2": (0.0, 0.1), "x0": (0.5, 1.5), "y0": (-0.5, 0.5)})


@pytest.fixture(scope="module")
def fhn(cache):
    return fi.ODEModel(**FHN_EQUATIONS)


@pytest.fixture(scope="module")
def ml(cache):
    return fi.ODEModel(**ML_EQUATIONS)


@pytest.fixture(scope="module")
def exotic(cache):
    return fi.ODEModel(**EXOTIC)


@pytest.mark.parametrize("method", ["rkf78", "rkf78-simd"])
def test_fitzhugh_nagumo_written_as_equations_gives_the_builtin_series(fhn, method):
    theta = fi.default_prior().sample(200, seed=1)
    np.testing.assert_allclose(fi.simulate(theta, model=fhn, method=method),
                               fi.simulate(theta, method=method), rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", ["rkf78", "rkf78-simd"])
def test_morris_lecar_written_as_equations_gives_the_builtin_series(ml, method):
    builtin = fi.models.MorrisLecar()
    theta = fi.default_prior(builtin).sample(200, seed=2)
    np.testing.assert_allclose(fi.simulate(theta, model=ml, method=method),
                               fi.simulate(theta, model=builtin, method=method), rtol=0, atol=1e-10)


def test_a_user_model_declares_what_a_builtin_one_does(fhn, ml):
    assert fhn.param_names == ["theta0", "theta1"] and fhn.constant_names == ["gamma", "zeta"]
    assert fhn.quantity_names == fi.FitzHughNagumo.quantity_names
    assert fhn.ranges == fi.FitzHughNagumo.ranges
    assert ml.initial == pytest.approx(fi.models.MorrisLecar().initial, abs=1e-12)
    assert ml.units["I_app"] == "uA/cm^2" and ml.units["g_K"] == "dimensionless"
    np.testing.assert_array_equal(fi.models.model_grid(ml), fi.models.model_grid(fi.models.MorrisLecar()))
    x, th = np.array([0.3, -0.2]), np.array([0.4, 0.7])
    np.testing.assert_allclose(fhn.rhs(x, th), fi.FitzHughNagumo().rhs(x, th), rtol=1e-15)
    for a, b in zip(fhn.jacobians(x, th), fi.FitzHughNagumo().jacobians(x, th)):
        np.testing.assert_allclose(a, b, rtol=1e-15)


def test_constants_free_sets_and_fixed_values_work_as_for_builtin_models(fhn):
    spec = dict(FHN_EQUATIONS)
    model = fi.ODEModel(**spec, free=("theta0", "theta1", "gamma"), gamma=2.5)
    assert model.free == ("theta0", "theta1", "gamma") and model.constants["gamma"] == 2.5
    builtin = fi.FitzHughNagumo(free=("theta0", "theta1", "gamma"))
    theta = fi.default_prior(builtin).sample(20, seed=4)
    np.testing.assert_allclose(fi.simulate(theta, model=model), fi.simulate(theta, model=builtin), atol=1e-10)
    assert fi.default_prior(model).names == ["theta0", "theta1", "gamma"]


def test_simd_lanes_run_every_function_as_the_odeint_path(exotic):
    theta = fi.default_prior(exotic).sample(64, seed=5)
    ref = fi.simulate(theta, model=exotic, rtol=1e-12, atol=1e-12)
    err_odeint = np.abs(fi.simulate(theta, model=exotic) - ref).max()
    err_simd = np.abs(fi.simulate(theta, model=exotic, method="rkf78-simd") - ref).max()
    assert err_simd <= 1.1 * err_odeint + 1e-9, (err_simd, err_odeint)


def test_the_series_match_scipy(exotic):
    scipy_integrate = pytest.importorskip("scipy.integrate")
    from fhn_inverse.models import equations as eq
    trees = exotic.spec.trees
    t = fi.models.model_grid(exotic)
    for th in fi.default_prior(exotic).sample(5, seed=6):
        values = {"k": th[0], "b": th[1], "x_start": 1.0, "c2": 0.05}

        def f(_, y, values=values):
            return [eq.evaluate(trees[s], {**values, "x": y[0], "y": y[1]}) for s in ("x", "y")]
        x, y = scipy_integrate.solve_ivp(f, (0, t[-1]), [1.0, 0.0], method="DOP853", t_eval=t, rtol=1e-12,
                                         atol=1e-12).y
        ref = x + 0.5 * y**2
        np.testing.assert_allclose(fi.simulate(th, model=exotic, rtol=1e-12, atol=1e-12), ref,
                                   atol=1e-6 * np.ptp(ref))


@pytest.mark.parametrize("free", [None, ("k", "b", "c2", "x0", "y0")])
def test_sensitivities_of_a_user_model_match_central_differences(exotic, free):
    model = exotic if free is None else fi.ODEModel(**EXOTIC, free=free)
    theta = fi.default_prior(model).sample(3, seed=7)
    tight = dict(rtol=1e-12, atol=1e-12)
    _, J = fi.sensitivities(theta, model=model, **tight)
    for n, th in enumerate(theta):
        h = 1e-6 * np.maximum(1.0, np.abs(th))
        fd = np.column_stack([(fi.simulate(th + e, model=model, **tight) - fi.simulate(th - e, model=model, **tight))
                              / (2 * h[j]) for j, e in enumerate(np.diag(h))])
        np.testing.assert_allclose(J[n], fd, rtol=1e-5, atol=1e-5 * np.abs(fd).max())


def test_the_laplace_information_of_a_user_model_is_the_finite_difference_gauss_newton(exotic):
    theta = fi.default_prior(exotic).sample(2, seed=8)
    s, rho, tight = 0.05, 0.6, dict(rtol=1e-12, atol=1e-12)
    t = fi.models.model_grid(exotic)
    _, info = fi.laplace_covariance(theta, noise=(s, rho), dt=1.0, model=exotic, prior=None,
                                    return_information=True, **tight)
    gamma = s**2 * rho ** np.abs(np.subtract.outer(np.arange(t.size), np.arange(t.size)))
    for n, th in enumerate(theta):
        h = 1e-6 * np.maximum(1.0, np.abs(th))
        J = np.column_stack([(fi.simulate(th + e, model=exotic, **tight) - fi.simulate(th - e, model=exotic, **tight))
                             / (2 * h[j]) for j, e in enumerate(np.diag(h))])
        np.testing.assert_allclose(info[n], J.T @ np.linalg.solve(gamma, J), rtol=1e-4,
                                   atol=1e-6 * np.abs(info[n]).max())


def test_a_user_model_runs_end_to_end_and_its_map_predicts_in_a_fresh_process(exotic, cache, tmp_path):
    data = fi.Dataset.generate(400, 3, model=exotic, noise=fi.AR1Noise(sigma=0.02, rho=0.5, dt=1.0),
                               progress=False)
    m = fi.InverseMap.dense(units=[16], output_activation=None, seed=0)
    m.fit(data.d, data.theta, epochs=5, loss="gaussian_nll", scaling="standard", t=data.t, progress=False,
          trained_on=data)
    mean, cov = m.predict(data.d[:5], return_cov=True)
    assert mean.shape == (5, 2) and cov.shape == (5, 2, 2) and m.describe()["targets"] == ["k", "b"]
    C = fi.laplace_covariance(data.theta[:5], noise=(0.02, 0.5), dt=1.0, model=exotic, t=data.t)
    assert C.shape == (5, 2, 2) and np.all(np.linalg.eigvalsh(C) > 0)
    fit = fi.fit_series(mean[None], data.d[:5], t=data.t, model=exotic)
    assert np.abs(fit.theta - data.theta[:5]).mean() < np.abs(mean - data.theta[:5]).mean()
    path = tmp_path / "exotic_map"
    m.save(path)
    np.save(tmp_path / "d.npy", data.d[:5])
    script = textwrap.dedent(f"""
        import numpy as np, fhn_inverse as fi
        m = fi.InverseMap.load({str(path)!r})
        print(repr(m.predict(np.load({str(tmp_path / 'd.npy')!r})).tolist()))
        model = fi.models.model_from_dict(m.describe()["trained_on"]["model"])
        print(type(model).__name__, model.spec.name)
        from fhn_inverse.cli import main
        main(["info", {str(path)!r}])
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "FHN_INVERSE_CACHE": str(cache)}).stdout.splitlines()
    np.testing.assert_array_equal(np.array(eval(out[0])), m.predict(data.d[:5]))  # noqa: S307 (our own repr)
    assert out[1] == "ODEModel Exotic"
    assert any(line.startswith("model: ODEModel Exotic, dx/dt = y, dy/dt = -k * sin(x)") and
               "(observed: x + 0.5 * y ^ 2;" in line for line in out)


def test_a_user_model_pickles_and_records_with_its_equations(fhn):
    model = fi.ODEModel(**FHN_EQUATIONS, free=("theta0", "zeta"), theta1=0.3)
    back = pickle.loads(pickle.dumps(model))
    assert repr(back) == repr(model) and back.key == model.key and back.fixed == {"theta1": 0.3}
    record = fi.models.model_to_dict(model)
    assert record["spec"]["equations"]["u"] == "gamma * (u - u ^ 3 / 3 + v + zeta)" and record["hash"] == model.key
    assert repr(fi.models.model_from_dict(record)) == repr(model)


def test_a_model_compiles_once_and_later_uses_load_it(fhn, cache):
    modules = sorted(cache.glob("models/_ode_*.so")) + sorted(cache.glob("models/_ode_*.pyd"))
    before = {p: p.stat().st_mtime_ns for p in modules}
    again = fi.ODEModel(**FHN_EQUATIONS)
    assert again.module is fhn.module
    assert {p: p.stat().st_mtime_ns for p in modules} == before
    assert (cache / "models" / f"_ode_{fhn.key}.cpp").is_file()  # the generated source, for reading


HOSTILE = {
    "an unknown name": ("u + q", "unknown name 'q'"),
    "a syntax error": ("u +* v", "position 3"),
    "an import": ("__import__('os').system('touch /tmp/fhn_pwned')", "position"),
    "attribute access": ("u.real", "unexpected '.' at position 1"),
    "a 10 MB string": ("u" * 10_000_000, "at most 10,000"),
    "a division by zero at the initial state": ("1/(u - v)", "1 / (u - v)"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_or_broken_equations_are_refused_and_nothing_is_written(case, tmp_path, monkeypatch):
    monkeypatch.setenv("FHN_INVERSE_CACHE", str(tmp_path / "cache"))
    text, message = HOSTILE[case]
    spec = dict(FHN_EQUATIONS, equations={"u": text, "v": "-(u - theta0 + theta1*v)/gamma"})
    with pytest.raises(ValueError, match="equation of u") as err:
        fi.ODEModel(**spec)
    assert message in str(err.value)
    assert not (tmp_path / "cache").exists() and not os.path.exists("/tmp/fhn_pwned")


@pytest.mark.parametrize("change, error, message", [
    (dict(parameters=[]), ValueError, "at least one parameter"),
    (dict(parameters=["theta0", "theta0"]), ValueError, "'theta0' is both"),
    (dict(constants={"gamma": float("nan"), "zeta": -0.4}), ValueError, "constant gamma must be a finite number"),
    (dict(observe="w"), ValueError, "unknown name 'w'"),
    (dict(observe="u/v"), ValueError, "the observed quantity is not finite at the initial state: u / v"),
    (dict(initial={"w": 1.0}), ValueError, "initial names 'w'"),
    (dict(initial={"u": "theta0"}), ValueError, "constants only"),
    (dict(name="class"), ValueError, "name must be an ASCII identifier"),
    (dict(name="Model"), ValueError, "reserved"),
    (dict(grid=(0.0, 100)), ValueError, "finite step > 0"),
    (dict(equations="u' = u"), TypeError, "equations must be a non-empty mapping"),
    (dict(ranges={"nope": (0, 1)}), ValueError, "ranges names 'nope'"),
    (dict(equations={f"x{i}": "0" for i in range(65)}), ValueError, "at most 64 states, got 65"),
    (dict(parameters=[f"p{i}" for i in range(257)]), ValueError, "at most 256 parameters, got 257"),
])
def test_bad_model_arguments_get_a_clear_error(change, error, message, tmp_path, monkeypatch):
    monkeypatch.setenv("FHN_INVERSE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(error, match=message):
        fi.ODEModel(**{**FHN_EQUATIONS, **change})
    assert not (tmp_path / "cache").exists()


def test_bad_values_for_a_compiled_model_are_refused_by_name(fhn):
    with pytest.raises(TypeError, match="unknown keyword 'delta'"):
        fi.ODEModel(**FHN_EQUATIONS, delta=1.0)
    with pytest.raises(ValueError, match="theta must have 2 columns"):
        fi.simulate(np.zeros((3, 3)), model=fhn)


def test_a_missing_compiler_is_named(tmp_path, monkeypatch):
    record = dict(native.build_record(), cxx="/nonexistent/g++")
    monkeypatch.setattr(native, "build_record", lambda: record)
    monkeypatch.setenv("FHN_INVERSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(native.NativeBuildError, match="needs a C\\+\\+17 compiler"):
        fi.ODEModel(**FHN_EQUATIONS, backend="compiled")
    assert not (tmp_path / "cache").exists()


def _toml(spec: dict, noise: str = "") -> str:
    """FHN_EQUATIONS as the TOML a user writes (the same model, so the same compiled module)."""
    table = lambda d: "\n".join(f"{k} = {json.dumps(v)}" for k, v in d.items())  # noqa: E731
    return (f'name = "{spec["name"]}"\nobserve = "{spec["observe"]}"\ngrid = {list(spec["grid"])}\n'
            f"[equations]\n{table(spec['equations'])}\n[initial]\n{table(spec['initial'])}\n"
            f"[parameters]\n{table({k: list(v) for k, v in spec['parameters'].items()})}\n"
            f"[constants]\n{table(spec['constants'])}\n"
            f"[ranges]\n{table({k: list(v) for k, v in spec['ranges'].items()})}\n"
            + noise)


def test_the_command_line_simulates_and_trains_a_user_model_of_a_toml_file(fhn, cache, tmp_path, capsys):
    from fhn_inverse.cli import main

    (tmp_path / "fhn.toml").write_text(_toml(FHN_EQUATIONS, "[noise]\nsigma = [0.1, 0.2]\nrho = 0.5\n"))
    data, model = tmp_path / "d.npz", tmp_path / "m.safetensors"
    assert main(["simulate", str(data), "-n", "200", "--model", str(tmp_path / "fhn.toml"), "--quiet"]) == 0
    ds = fi.Dataset.load(data)
    assert ds.config["model"]["hash"] == fhn.key and ds.config["noise"]["sigma"] == [0.1, 0.2]
    np.testing.assert_allclose(ds.u, fi.simulate(ds.theta), atol=1e-10)  # FitzHugh–Nagumo's own series
    assert main(["train", str(data), str(model), "--arch", "dense", "--epochs", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["info", str(model)]) == 0
    assert "model: ODEModel FHNEquations, du/dt = gamma * (u - u ^ 3 / 3 + v + zeta)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["simulate", str(tmp_path / "x.npz"), "--model", "no-such-model"])
    assert "--model must be one of fitzhugh-nagumo" in capsys.readouterr().err
    fresh = tmp_path / "fresh.safetensors"
    assert main(["train", "fresh", str(fresh), "--ode", str(tmp_path / "fhn.toml"), "--per-epoch", "200",
                 "--block", "100", "--epochs", "1", "--arch", "dense", "--quiet"]) == 0
    assert fi.InverseMap.load(fresh).describe()["trained_on"]["model"]["hash"] == fhn.key
    with pytest.raises(SystemExit):
        main(["train", str(data), str(tmp_path / "x.safetensors"), "--ode", "morris-lecar", "--quiet"])
    assert "--ode chooses the model of fresh simulations" in capsys.readouterr().err
    (tmp_path / "bad.toml").write_text('name = "Bad"\nparameters = ["a"]\n[equations]\nx = "x.real"\n')
    with pytest.raises(SystemExit):
        main(["simulate", str(tmp_path / "x.npz"), "--model", str(tmp_path / "bad.toml")])
    assert "unexpected '.' at position 1" in capsys.readouterr().err and not (tmp_path / "x.npz").exists()


def test_a_model_configuration_names_its_unknown_keys(cache):
    with pytest.raises(ValueError, match="unknown: 'equation'"):
        fi.ODEModel.from_config({"equation": {"x": "-x"}, "parameters": ["a"]})
    with pytest.raises(ValueError, match="needs its equations"):
        fi.ODEModel.from_config({"parameters": ["a"]})
    with pytest.raises(ValueError, match="record lacks 'equations'"):
        fi.models.model_from_dict({"name": "ODEModel", "spec": {"parameters": ["a"]}})


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # dask.distributed's sockets, as in test_distributed_fanout
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_user_model_streams_stores_fans_out_and_is_diagnosed(exotic, cache, tmp_path):
    noise = fi.AR1Noise(sigma=0.02, rho=0.5, dt=1.0)
    src = fi.Simulations(200, block=100, seed=1, model=exotic, noise=noise, n_threads=1)
    m = fi.InverseMap.dense((16,), output_activation=None, seed=0).fit(src, epochs=2, loss="gaussian_nll",
                                                                        progress=False)
    assert m.describe()["trained_on"]["model"]["hash"] == exotic.key and m.describe()["targets"] == ["k", "b"]
    test = fi.Dataset.generate(60, seed=5, model=exotic, noise=noise, progress=False)
    report = fi.diagnose(m, test.d, test.theta, series=test.d, noise=test.noise, ppc_series=2, n_samples=50)
    assert report["ppc"]["n_series"] == 2 and report["ppc"]["inside"] is not None  # re-simulated with the user model
    distributed = pytest.importorskip("dask.distributed")
    from fhn_inverse import distributed as fid

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cl, \
            distributed.Client(cl) as client:
        store = fid.generate(120, 3, tmp_path / "s.zarr", chunk=50, model=exotic, noise=noise, client=client)
    local = fi.Dataset.generate(120, 3, model=exotic, noise=noise, progress=False)
    np.testing.assert_array_equal(store.columns(0, 120, ("d",))["d"], local.d)  # built by processes that compiled


@pytest.fixture(scope="module")
def fhn_numpy(cache):
    return fi.ODEModel(**FHN_EQUATIONS, backend="numpy")


@pytest.mark.parametrize("method", ["rkf78", "rkf78-simd"])
def test_the_numpy_backend_integrates_as_the_compiled_path(fhn_numpy, method):
    theta = fi.default_prior().sample(40, seed=3)
    assert fhn_numpy.backend == "numpy" and repr(fhn_numpy) == "ODEModel FHNEquations(gamma=3.0, zeta=-0.4, initial=" \
                                                               "(0.0, 0.0))"
    np.testing.assert_allclose(fi.simulate(theta, model=fhn_numpy, method=method), fi.simulate(theta), atol=1e-9)
    _, J = fi.sensitivities(theta[:4], model=fhn_numpy)
    _, J_ref = fi.sensitivities(theta[:4])
    np.testing.assert_allclose(J, J_ref, atol=1e-8 * np.abs(J_ref).max())


def test_the_numpy_backend_takes_free_sets_fixed_values_and_laplace(fhn_numpy):
    model = fi.ODEModel(**FHN_EQUATIONS, backend="numpy", free=("theta0", "gamma", "u0"), theta1=0.3)
    builtin = fi.FitzHughNagumo(free=("theta0", "gamma", "u0"), theta1=0.3)
    assert repr(model) == "ODEModel " + repr(builtin).replace("FitzHughNagumo", "FHNEquations")
    assert model.fixed == builtin.fixed and model.free == builtin.free
    z = fi.default_prior(builtin).sample(4, seed=2)
    np.testing.assert_allclose(fi.simulate(z, model=model), fi.simulate(z, model=builtin), atol=1e-9)
    _, J = fi.sensitivities(z, model=model)
    _, J_ref = fi.sensitivities(z, model=builtin)
    np.testing.assert_allclose(J, J_ref, atol=1e-8 * np.abs(J_ref).max())
    C = fi.laplace_covariance(z, model=model, noise=(0.05, 0.6), prior=None)
    C_ref = fi.laplace_covariance(z, model=builtin, noise=(0.05, 0.6), prior=None)
    np.testing.assert_allclose(C, C_ref, rtol=1e-6)
    for bad, match in [(dict(free=("theta0", "nope")), "'nope' is not a quantity"),
                       (dict(free=("theta0",), theta0=1.0), "'theta0' is free"),
                       (dict(delta=1.0), "unknown keyword 'delta'")]:
        with pytest.raises((ValueError, TypeError), match=match):
            fi.ODEModel(**FHN_EQUATIONS, backend="numpy", **bad)
    with pytest.raises(ValueError, match="theta must have 3 columns"):
        fi.simulate(np.zeros((2, 2)), model=model)


def test_without_a_compiler_auto_falls_back_to_numpy_and_says_why(tmp_path, monkeypatch):
    record = dict(native.build_record(), cxx="/nonexistent/g++")
    monkeypatch.setattr(native, "build_record", lambda: record)
    monkeypatch.setenv("FHN_INVERSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CXX", raising=False)
    with pytest.warns(fi.models.SlowBackendWarning, match="NumPy backend.*needs a C\\+\\+17 compiler"):
        model = fi.ODEModel(**FHN_EQUATIONS)
    assert model.backend == "numpy"
    np.testing.assert_allclose(fi.simulate([0.4, 0.4], model=model), fi.simulate([0.4, 0.4]), atol=1e-9)
    with pytest.raises(ValueError, match="backend must be one of auto, compiled, numpy"):
        fi.ODEModel(**FHN_EQUATIONS, backend="jit")


def test_sympy_expressions_are_read_as_text_through_the_same_parser():
    sympy = pytest.importorskip("sympy")
    u, v, th0, th1, gamma, zeta = sympy.symbols("u v theta0 theta1 gamma zeta")
    spec = dict(FHN_EQUATIONS, equations={"u": gamma * (u - u**3 / 3 + v + zeta), "v": -(u - th0 + th1 * v) / gamma},
                backend="numpy")
    model = fi.ODEModel(**spec)
    from fhn_inverse.models import equations as eq

    assert model.spec.equations["u"] == eq.to_text(eq.parse(str(spec["equations"]["u"])))
    np.testing.assert_allclose(fi.simulate([[0.4, 0.4]], model=model), fi.simulate([[0.4, 0.4]]), atol=1e-9)
    hostile = sympy.Symbol("__import__")  # a name the model does not declare, refused as text is
    with pytest.raises(ValueError, match="unknown name '__import__'"):
        fi.ODEModel(**dict(spec, equations={"u": hostile * u, "v": v}))


def test_an_unwritable_cache_is_named_and_auto_falls_back_to_numpy(tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("not a folder")  # no folder can be made under it, root or not
    monkeypatch.setenv("FHN_INVERSE_CACHE", str(tmp_path / "a_file"))
    spec = dict(FHN_EQUATIONS, name="FHNNoCache")
    with pytest.raises(native.NativeBuildError, match="cannot be written .*set FHN_INVERSE_CACHE"):
        fi.ODEModel(**spec, backend="compiled")
    with pytest.warns(fi.models.SlowBackendWarning, match="cannot be written"):
        assert fi.ODEModel(**spec).backend == "numpy"


def test_a_damaged_module_is_compiled_again_once_while_processes_take_turns(fhn, cache, tmp_path):
    folder = tmp_path / "cache" / "models"
    folder.mkdir(parents=True)
    built = next(p for p in (cache / "models").iterdir() if p.name.startswith(f"_ode_{fhn.key}") and
                 p.suffix in (".so", ".pyd"))
    (folder / built.name).write_bytes(built.read_bytes()[:4096])  # a copy cut short (loading it would crash)
    (folder / f"_ode_{fhn.key}.sha256").write_text(hashlib.sha256(built.read_bytes()).hexdigest())  # the whole's
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        import fhn_inverse as fi
        from fhn_inverse.models import compile as native
        from test_ode_model import FHN_EQUATIONS
        model = fi.ODEModel(**FHN_EQUATIONS)
        print(json.dumps([model.backend, len(native.COMPILE_SECONDS), fi.simulate([0.4, 0.4], model=model)[-1]]))
    """)
    env = {**os.environ, "FHN_INVERSE_CACHE": str(tmp_path / "cache")}
    runs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env) for _ in range(2)]
    outs = [json.loads(r.communicate(timeout=600)[0].splitlines()[-1]) for r in runs]
    assert [o[0] for o in outs] == ["compiled", "compiled"] and sum(o[1] for o in outs) == 1  # compiled once
    assert outs[0][2] == outs[1][2] == fi.simulate([0.4, 0.4])[-1]
    assert not list(folder.glob(".*"))  # no temporary folder left behind
