"""User models that observe several quantities (fi.ODEModel(observe=[...])): series (N, K, L), one
native integration per trajectory for all channels, sensitivities (N, K, L, P), Laplace information
summed over the channels' independent noises, per-channel observation laws, data sets and maps.

Two models compile once per module (about 20 s each): Lotka–Volterra observed in x, y and x·y, and
the same equations observed in y alone (the reference for a channel).
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.models import ChannelNoise, noise_from_dict

LV = dict(equations={"x": "alpha*x - beta*x*y", "y": "delta*x*y - gamma*y"},
          initial={"x": "x_start", "y": "y_start"},
          parameters={"alpha": (0.5, 1.5), "beta": (0.02, 0.08), "delta": (0.01, 0.04), "gamma": (0.5, 1.5)},
          constants={"x_start": 30.0, "y_start": 10.0}, name="LotkaVolterra", grid=(0.25, 120),
          ranges={"x_start": (20.0, 40.0), "y_start": (5.0, 15.0), "x0": (20.0, 40.0), "y0": (5.0, 15.0)})
OBSERVED = ["x", "y", "x*y/100"]


@pytest.fixture(scope="module")
def lv(cache):
    return fi.ODEModel(observe=OBSERVED, **LV)


@pytest.fixture(scope="module")
def lv_y(cache):
    return fi.ODEModel(observe="y", **LV)


@pytest.fixture(scope="module")
def lv_numpy(cache):
    return fi.ODEModel(observe=OBSERVED, backend="numpy", **LV)


@pytest.fixture(scope="module")
def theta(lv):
    return fi.default_prior(lv).sample(40, seed=3)


def test_a_model_declares_its_observed_quantities(lv, lv_y):
    assert lv.observed == ("x", "y", "x * y / 100") and lv.observed_count == 3
    assert lv_y.observed == ("y",) and lv_y.observed_count == 1
    assert fi.ODEModel.from_dict(json.loads(json.dumps(lv.to_dict()))).observed == lv.observed
    assert lv.to_dict()["spec"]["observe"] == ["x", "y", "x * y / 100"]


@pytest.mark.parametrize("method", fi.models.METHODS)
def test_each_channel_is_the_series_of_that_quantity_alone(lv, lv_y, theta, method):
    u = fi.simulate(theta, model=lv, method=method)
    assert u.shape == (40, 3, 120)
    np.testing.assert_array_equal(u[:, 1], fi.simulate(theta, model=lv_y, method=method))  # bitwise
    np.testing.assert_allclose(u[:, 2], u[:, 0] * u[:, 1] / 100, rtol=1e-14)
    one = fi.simulate(theta[0], model=lv, method=method)
    assert one.shape == (3, 120)
    np.testing.assert_array_equal(one, u[0])


def test_the_channels_match_scipy(lv, theta):
    from scipy.integrate import solve_ivp
    t = fi.models.model_grid(lv)
    u = fi.simulate(theta[:3], model=lv, rtol=1e-12, atol=1e-12)
    for row, (a, b, d, g) in zip(u, theta[:3]):
        ref = solve_ivp(lambda _, s, a, b, d, g: [a * s[0] - b * s[0] * s[1], d * s[0] * s[1] - g * s[1]],
                        (0, t[-1]), [30.0, 10.0], t_eval=t, args=(a, b, d, g), method="DOP853", rtol=1e-12,
                        atol=1e-12).y
        np.testing.assert_allclose(row[:2], ref, rtol=1e-8)
        np.testing.assert_allclose(row[2], ref[0] * ref[1] / 100, rtol=1e-8)


def test_a_failed_trajectory_is_nan_in_every_channel(lv):
    theta = np.array([[1.0, 0.05, 0.02, 1.0], [1.0, 0.05, 0.02, 1.0]])
    u, status = fi.simulate(theta, model=lv, max_steps=5, return_status=True)
    assert (status == 2).all() and np.isnan(u).all()


@pytest.mark.parametrize("free", [None, ("alpha", "gamma", "x0", "y0")])
def test_sensitivities_of_every_channel_match_central_differences(lv, free):
    model = lv if free is None else fi.ODEModel(observe=OBSERVED, free=free, beta=0.05, delta=0.02, **LV)
    z = np.array([1.1, 0.05, 0.02, 0.9]) if free is None else np.array([1.1, 0.9, 28.0, 11.0])
    u, J = fi.sensitivities(z, model=model)
    assert u.shape == (3, 120) and J.shape == (3, 120, 4)
    np.testing.assert_allclose(u, fi.simulate(z, model=model, rtol=1e-10, atol=1e-10), rtol=1e-8)
    for i in range(4):
        h = 1e-6 * max(1.0, abs(z[i]))
        up, dn = z.copy(), z.copy()
        up[i] += h
        dn[i] -= h
        fd = (fi.simulate(up, model=model, rtol=1e-12, atol=1e-12)
              - fi.simulate(dn, model=model, rtol=1e-12, atol=1e-12)) / (2 * h)
        scale = np.abs(fd).max(axis=1, keepdims=True)
        assert np.abs(J[:, :, i] - fd).max(axis=1).max() / scale.min() < 1e-5


def test_the_laplace_information_sums_the_channels_independent_noises(lv, theta):
    rng = np.random.default_rng(0)
    noise = np.stack([rng.uniform(0.2, 2.0, (5, 3)), rng.uniform(-0.5, 0.8, (5, 3))], axis=-1)  # (N, K, 2)
    C, info = fi.laplace_covariance(theta[:5], model=lv, noise=noise, prior=None, return_information=True)
    _, J = fi.sensitivities(theta[:5], model=lv)
    for n in range(5):
        expected = np.zeros((4, 4))
        for c in range(3):
            s, rho = noise[n, c, 0] / 0.2, noise[n, c, 1]
            lags = np.abs(np.subtract.outer(np.arange(120), np.arange(120)))
            gamma = s**2 * rho**lags  # the stationary AR(1) covariance of channel c
            expected += J[n, c].T @ np.linalg.solve(gamma, J[n, c])
        np.testing.assert_allclose(info[n], expected, rtol=1e-7)
        np.testing.assert_allclose(C[n], np.linalg.inv(expected), rtol=1e-6)
    # one (σ, ρ) is every channel's
    np.testing.assert_allclose(fi.laplace_covariance(theta[:5], model=lv, noise=(0.5, 0.3), prior=None),
                               fi.laplace_covariance(theta[:5], model=lv, noise=np.broadcast_to([0.5, 0.3], (5, 3, 2)),
                                                     prior=None), rtol=1e-12)
    # a free set with initial states: laplace_free, each channel's own noise
    free = fi.ODEModel(observe=OBSERVED, free=("alpha", "gamma", "x0", "y0"), beta=0.05, delta=0.02, **LV)
    z = np.column_stack([theta[:5, 0], theta[:5, 3], np.full(5, 28.0), np.full(5, 11.0)])
    info = fi.laplace_covariance(z, model=free, noise=noise, prior=None, return_information=True)[1]
    _, J = fi.sensitivities(z, model=free)
    for n in range(5):
        expected = np.zeros((4, 4))
        for c in range(3):
            W = np.stack([fi.ar1_whiten(col, noise[n, c, 1]) for col in J[n, c].T], axis=1)
            expected += W.T @ W / ((noise[n, c, 0] / 0.2) ** 2 * (1 - noise[n, c, 1] ** 2))
        np.testing.assert_allclose(info[n], expected, rtol=1e-7)
    swapped = noise[:, ::-1]  # the channels' noises matter: swapping them changes the information
    assert not np.allclose(fi.laplace_covariance(z, model=free, noise=swapped, prior=None, return_information=True)[1],
                           info, rtol=1e-3)
    with pytest.raises(ValueError, match=r"an \(N, 3, 2\) array \(per observed quantity\)"):
        fi.laplace_covariance(theta[:5], model=lv, noise=np.ones((5, 2, 2)) * 0.5)


def test_the_numpy_backend_observes_every_channel_as_the_compiled_path(lv, lv_numpy, theta):
    np.testing.assert_allclose(fi.simulate(theta[:6], model=lv_numpy), fi.simulate(theta[:6], model=lv), rtol=1e-9)
    u, J = fi.sensitivities(theta[:2], model=lv)
    un, Jn = fi.sensitivities(theta[:2], model=lv_numpy)
    np.testing.assert_allclose(un, u, rtol=1e-9)
    np.testing.assert_allclose(Jn, J, rtol=1e-7, atol=1e-9 * np.abs(J).max())
    noise = np.broadcast_to([0.5, 0.3], (2, 3, 2))
    np.testing.assert_allclose(fi.laplace_covariance(theta[:2], model=lv_numpy, noise=noise, prior=None),
                               fi.laplace_covariance(theta[:2], model=lv, noise=noise, prior=None), rtol=1e-6)


def test_channel_noise_draws_each_channel_independently_and_reproducibly():
    u = np.full((6, 3, 400), 2.0)
    noise = ChannelNoise([fi.GaussianNoise(0.1), None, fi.models.PoissonNoise(scale=(5.0, 10.0))],
                         names=("x", "y", "z"))
    d, params = noise.observe(u, seed=4)
    assert d.shape == u.shape and params.shape == (6, 3)
    assert noise.param_names == ("sigma[x]", "rho[x]", "scale[z]")
    np.testing.assert_array_equal(d[:, 1], u[:, 1])  # None: observed exactly
    assert abs((d[:, 0] - 2.0).std() - 0.1) < 0.01 and (d[:, 2] == np.round(d[:, 2])).all()
    # series i of channel c depends on (seed, c, i) only: a later start gives the later rows
    d_tail, p_tail = noise.observe(u[2:], seed=4, start=2)
    np.testing.assert_array_equal(d_tail, d[2:])
    np.testing.assert_array_equal(p_tail, params[2:])
    # one law on every channel: the channels' draws differ
    same, _ = ChannelNoise([fi.GaussianNoise(0.1)] * 2).observe(np.zeros((1, 2, 50)), seed=0)
    assert not np.array_equal(same[0, 0], same[0, 1])
    back = noise_from_dict(json.loads(json.dumps(noise.to_dict())))
    np.testing.assert_array_equal(back.observe(u, seed=4)[0], d)
    with pytest.raises(ValueError, match=r"observes series \(N, 3, L\), got shape \(6, 2, 400\)"):
        noise.observe(u[:, :2], seed=0)
    with pytest.raises(ValueError, match="channel z: Poisson noise needs a rate >= 0"):
        noise.observe(-u, seed=0)
    with pytest.raises(TypeError, match="observation law or None, got str"):
        ChannelNoise(["gaussian"])


def test_a_data_set_of_several_channels_generates_saves_and_loads(lv, tmp_path):
    noise = fi.models.LogNormalNoise(sigma=(0.05, 0.25), rho=0.0)
    ds = fi.Dataset.generate(50, seed=2, model=lv, noise=noise, progress=False, chunk=16)
    assert ds.u.shape == ds.d.shape == (50, 3, 120) and ds.noise.shape == (50, 6)
    assert ds.config["noise"]["kind"] == "channels" and ds.config["noise"]["names"] == list(lv.observed)
    assert repr(ds).startswith("Dataset(n=50, channels=3, length=120")
    # chunking changes nothing; the clean series are the model's
    np.testing.assert_array_equal(fi.Dataset.generate(50, seed=2, model=lv, noise=noise, progress=False).d, ds.d)
    np.testing.assert_array_equal(ds.u, fi.simulate(ds.theta, model=lv))
    sigma = ds.noise[:, ::2]  # each channel's own σ, drawn independently
    assert not np.allclose(sigma[:, 0], sigma[:, 1])
    np.testing.assert_allclose(np.log(ds.d / ds.u).std(axis=2), sigma, rtol=0.3)
    back = fi.Dataset.load(ds.save(tmp_path / "lv.npz"))
    np.testing.assert_array_equal(back.d, ds.d)
    assert back[3:5].d.shape == (2, 3, 120)
    with pytest.raises(ValueError, match=r"Dataset.d must have shape \(50, 3, 120\)"):
        fi.Dataset(ds.t, ds.theta, ds.u, ds.d[:, :2], ds.noise, ds.index)


def test_a_map_of_several_channels_trains_saves_and_predicts_in_a_fresh_process(lv, cache, tmp_path):
    ds = fi.Dataset.generate(600, seed=5, model=lv, noise=fi.models.LogNormalNoise(sigma=0.05, rho=0.0),
                             progress=False)
    X = np.log(ds.d)
    net = fi.InverseMap.cnn(seed=0).fit(X[:500], ds.theta[:500], epochs=3, progress=False, input_scaling="channel",
                                        trained_on=ds, t=ds.t)
    expected = net.predict(X[500:])
    assert expected.shape == (100, 4)
    with pytest.raises(ValueError, match=r"the map takes series of 3 observed quantities, \(N, 3, L\)"):
        net.predict(X[500:, :2])
    # features of several quantities: each quantity's channels in turn
    F = fi.features(X[:2], "time+fourier")
    assert F.shape == (2, 6, 120)
    np.testing.assert_array_equal(F[:, 2:4], fi.features(X[:2, 1], "time+fourier"))
    spectral = fi.InverseMap.cnn(seed=0).fit(X[:200], ds.theta[:200], epochs=1, progress=False, t=ds.t,
                                             features="time+fourier")
    assert spectral.predict(X[500:503]).shape == (3, 4)
    # series on a finer grid are interpolated onto the map's, channel by channel
    fine = np.arange(0, 120 * 0.25 - 0.1, 0.125)
    fine_series = np.stack([[np.interp(fine, ds.t, row) for row in x] for x in X[500:503]])
    np.testing.assert_allclose(net.predict(fine_series, t=fine, resample=True), expected[:3], rtol=1e-5)
    net.save(tmp_path / "lv_map")
    np.save(tmp_path / "x.npy", X[500:])
    script = textwrap.dedent(f"""
        import numpy as np, fhn_inverse as fi
        net = fi.InverseMap.load({str(tmp_path / 'lv_map')!r})
        np.save({str(tmp_path / 'out.npy')!r}, net.predict(np.load({str(tmp_path / 'x.npy')!r})))
        from fhn_inverse.cli import main
        main(["info", {str(tmp_path / 'lv_map')!r}])
        """)
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                         env={**os.environ, "FHN_INVERSE_CACHE": str(cache)}).stdout
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)
    assert "(observed: x, y, x * y / 100;" in out


@pytest.mark.parametrize("observe, message", [
    (["x", "x"], "observe names 'x' twice"),
    (["x", "z"], "unknown name 'z'"),
    ([f"x + {i}" for i in range(17)], "observe must name 1 to 16 quantities, got 17"),
    ([], "observe must name 1 to 16 quantities, got 0"),
    (["x", "y/(x - x)"], "the observed quantity is not finite at the initial state"),
])
def test_bad_observed_quantities_are_refused_by_name(observe, message, tmp_path, monkeypatch):
    monkeypatch.setenv("FHN_INVERSE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ValueError, match=message):
        fi.ODEModel(observe=observe, **LV)
    assert not (tmp_path / "cache").exists()


def test_the_whitening_of_several_channels_is_each_channels_own():
    from fhn_inverse.fitting.channels import whitening
    rng = np.random.default_rng(1)
    s, rho = rng.uniform(0.5, 2.0, 4 * 3), rng.uniform(-0.5, 0.9, 4 * 3)  # (n·K,) for n = 4, K = 3
    x = rng.standard_normal((2, 3 * 50))  # rows of the series 1 and 3
    out = whitening(s, rho, 4, 3)(x, np.array([1, 3]))
    for m, row in enumerate((1, 3)):
        for c in range(3):
            k = row * 3 + c
            expected = fi.ar1_whiten(x[m, c * 50:(c + 1) * 50], rho[k]) / (s[k] * np.sqrt(1 - rho[k] ** 2))
            np.testing.assert_allclose(out[m, c * 50:(c + 1) * 50], expected, rtol=1e-14)


def test_fits_of_several_channels_recover_theta_and_each_channels_noise(lv, theta):
    truth = theta[:6]
    clean = fi.simulate(truth, model=lv)
    start = truth * 1.03
    fit = fi.fit_series(start[None], clean, model=lv, rounds=0)
    np.testing.assert_allclose(fit.theta, truth, rtol=1e-5)
    for bad in (clean[:, :2], clean[:, 0]):  # two of the three channels; one channel's series alone
        with pytest.raises(ValueError, match=r"d must have shape \(N, 3, L\) for LotkaVolterra, which observes 3"):
            fi.fit_series(start[None], bad, model=lv, rounds=0)
        with pytest.raises(ValueError, match=r"d must have shape \(N, 3, L\)"):
            fi.map_fit(start, bad, model=lv, rounds=0)
    # AR(1) noise of a different size on each channel: map_fit estimates each channel's from its residuals
    sd_true = np.array([0.5, 0.2, 0.3])
    eta = np.stack([fi.models.ar1_noise(np.full(6, sd), np.full(6, 0.5), 120, seed=10 + c)
                    for c, sd in enumerate(sd_true)], axis=1)
    d = clean + eta
    result = fi.map_fit(start, d, model=lv, rounds=0, prior=fi.default_prior(lv))
    assert result.noise.shape == (6, 3, 2) and result.noise_estimated.all()
    np.testing.assert_allclose(result.noise[..., 0].mean(axis=0), sd_true, rtol=0.2)
    assert np.abs(result.theta - truth).mean() < np.abs(start - truth).mean()
    assert np.all(np.isfinite(result.sd)) and np.all(result.lower <= result.upper)


def test_the_posterior_predictive_check_covers_every_channel(lv, theta):
    rng = np.random.default_rng(2)
    truth = theta[:3]
    samples = truth[:, None, :] * (1 + 0.002 * rng.standard_normal((3, 200, 4)))
    clean = fi.simulate(truth, model=lv)
    noise = np.broadcast_to([[0.3, 0.4], [0.2, 0.4], [0.4, 0.0]], (3, 3, 2))
    eta = fi.models.ar1_noise(noise[..., 0].ravel(), noise[..., 1].ravel(), 120, seed=7).reshape(3, 3, 120)
    ppc = fi.diagnostics.posterior_predictive(samples, clean + eta, noise=noise, model=lv, seed=1)
    assert ppc.lower.shape == (3, 3, 120) and ppc.n_draws.tolist() == [200] * 3
    assert 0.8 < ppc.inside_all <= 1.0
    # a series far off in one channel only falls out of the band there
    off = clean + eta
    off[:, 1] *= 1.5
    inside = fi.diagnostics.posterior_predictive(samples, off, noise=noise, model=lv, seed=1)
    assert inside.inside_all < ppc.inside_all - 0.2
    # an observation law observes the re-simulations (counts here)
    counts = fi.models.PoissonNoise(scale=1.0)
    d, _ = fi.models.observation.observe(counts, clean, seed=3)
    law = fi.diagnostics.posterior_predictive(samples, d, noise=counts, model=lv, seed=1)
    assert 0.8 < law.inside_all <= 1.0 and np.all(2 * law.median == np.round(2 * law.median))  # counts' medians
    with pytest.raises(ValueError, match=r"observed must be \(n, 3, L\)"):
        fi.diagnostics.posterior_predictive(samples, clean[:, :2], model=lv)


def test_several_channels_stream_store_fan_out_and_train(lv, cache, tmp_path):
    noise = fi.models.LogNormalNoise(sigma=(0.05, 0.2), rho=0.0)
    src = fi.Simulations(200, block=100, seed=1, model=lv, noise=noise, n_threads=1, labels="theta+noise")
    X, Y = next(iter(src.blocks(0)))
    assert X.shape == (100, 3, 120) and Y.shape == (100, 4 + 6)  # θ and each channel's (σ, ρ)
    m = fi.InverseMap.cnn(seed=0).fit(src, epochs=1, progress=False)
    assert m.predict(X[:5]).shape == (5, 10)
    local = fi.Dataset.generate(120, 3, model=lv, noise=noise, progress=False)
    pytest.importorskip("zarr")
    from fhn_inverse.data.store import open_zarr, save_zarr

    store = open_zarr(save_zarr(local, tmp_path / "local.zarr", chunk=50))
    assert len(store) == 120 and store.load().d.shape == (120, 3, 120)
    np.testing.assert_array_equal(store.load().d, local.d)
    np.testing.assert_array_equal(store[10:20].u, local.u[10:20])
    distributed = pytest.importorskip("dask.distributed")
    from fhn_inverse import distributed as fid

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cl, \
            distributed.Client(cl) as client:
        built = fid.generate(120, 3, tmp_path / "s.zarr", chunk=50, model=lv, noise=noise, client=client)
    np.testing.assert_array_equal(built.columns(0, 120, ("d",))["d"], local.d)
    np.testing.assert_array_equal(open_zarr(tmp_path / "s.zarr").columns(100, 120, ("u",))["u"], local.u[100:])


def test_the_command_line_simulates_and_trains_a_model_of_several_channels(lv, cache, tmp_path, capsys):
    from fhn_inverse.cli import main

    table = lambda d: "\n".join(f"{k} = {json.dumps(v)}" for k, v in d.items())  # noqa: E731
    toml = (f'name = "LotkaVolterra"\nobserve = {json.dumps(OBSERVED)}\ngrid = {list(LV["grid"])}\n'
            f"[equations]\n{table(LV['equations'])}\n[initial]\n{table(LV['initial'])}\n"
            f"[parameters]\n{table({k: list(v) for k, v in LV['parameters'].items()})}\n"
            f"[constants]\n{table(LV['constants'])}\n"
            f"[ranges]\n{table({k: list(v) for k, v in LV['ranges'].items()})}\n")
    (tmp_path / "lv.toml").write_text(toml)
    data, store = tmp_path / "d.npz", tmp_path / "d.zarr"
    assert main(["simulate", str(data), "-n", "120", "--model", str(tmp_path / "lv.toml"), "--quiet"]) == 0
    ds = fi.Dataset.load(data)
    assert ds.d.shape == (120, 3, 120) and ds.config["model"]["hash"] == lv.key
    np.testing.assert_array_equal(ds.u, fi.simulate(ds.theta, model=lv))
    law = ds.config["noise"]  # each channel's AR(1) level from its own span
    assert law["kind"] == "channels" and law["names"] == list(lv.observed)
    base = fi.simulate(fi.default_prior(lv).sample(200, seed=0), model=lv)
    for c in range(3):  # σ uniform on 1-5 % of that channel's median range
        span = float(np.median(np.ptp(base[:, c], axis=1)))
        np.testing.assert_allclose(law["laws"][c]["sigma"], [0.01 * span, 0.05 * span], rtol=1e-12)
    pytest.importorskip("zarr")
    assert main(["simulate", str(store), "-n", "120", "--chunk", "50", "--model", str(tmp_path / "lv.toml"),
                 "--quiet"]) == 0
    from fhn_inverse.data.store import open_zarr
    np.testing.assert_array_equal(open_zarr(store).load().d, ds.d)
    model = tmp_path / "m.safetensors"
    assert main(["train", str(data), str(model), "--arch", "cnn", "--epochs", "1", "--quiet"]) == 0
    assert fi.InverseMap.load(model).predict(ds.d[:4]).shape == (4, 4)
    np.save(tmp_path / "few.npy", ds.d[:4])  # (4, 3, 120): predict reads series of several quantities
    capsys.readouterr()
    assert main(["predict", str(model), str(tmp_path / "few.npy"), "--fit", "-o", str(tmp_path / "fit.csv")]) == 0
    header = (tmp_path / "fit.csv").read_text().splitlines()[0].split(",")
    assert {"noise_sd[x]", "noise_rho[y]", "noise_sd[x * y / 100]", "residual_sd[y]", "ppc_p"} <= set(header)
    assert len((tmp_path / "fit.csv").read_text().splitlines()) == 5
    nll = tmp_path / "nll.safetensors"  # a Gaussian head, diagnosed with each channel's AR(1) noise
    assert main(["train", str(data), str(nll), "--arch", "cnn", "--epochs", "1", "--loss", "gaussian_nll",
                 "--quiet"]) == 0
    assert main(["diagnose", str(nll), str(data), "--out", str(tmp_path / "diag"), "--samples", "50"]) == 0
    report = json.loads((tmp_path / "diag" / "report.json").read_text())
    assert report["ppc"]["n_series"] == 4 and report["ppc"]["inside_all"] is not None
    fresh = tmp_path / "fresh.safetensors"
    assert main(["train", "fresh", str(fresh), "--ode", str(tmp_path / "lv.toml"), "--per-epoch", "100",
                 "--block", "50", "--epochs", "1", "--arch", "cnn", "--quiet"]) == 0
    assert fi.InverseMap.load(fresh).describe()["trained_on"]["model"]["spec"]["observe"] == list(lv.observed)


def test_the_residual_check_joins_the_channels(lv):
    from fhn_inverse.uncertainty.residuals import out_of_distribution, residual_check
    truth = fi.default_prior(lv).sample(300, seed=8)
    clean = fi.simulate(truth, model=lv)
    rho = np.array([0.0, 0.5, 0.8])
    eta = fi.models.ar1_noise(np.full(900, 0.3), np.tile(rho, 300), 120, seed=9).reshape(300, 3, 120)
    check = residual_check(truth, clean + eta, model=lv, t=fi.models.model_grid(lv))
    assert check.p_value.shape == (300,) and check.sd.shape == check.rho.shape == (300, 3) and check.df == 3 * 10
    assert 0.01 < np.mean(check.p_value < 0.05) < 0.1  # at the truth the joint test rejects about 5 %
    np.testing.assert_allclose(check.rho.mean(axis=0), rho, atol=0.05)
    wrong = residual_check(truth * 1.05, clean + eta, model=lv, t=fi.models.model_grid(lv))
    assert np.mean(wrong.p_value < 0.05) > 0.9
    far = clean[:4] + eta[:4]
    far[0, 1] *= 50.0  # one channel of one series far outside what the prior simulates
    reasons = out_of_distribution(far, t=fi.models.model_grid(lv), model=lv, n=100)
    assert reasons[0] and all("of channel 1" in r for r in reasons[0]) and not any(reasons[1:])
