"""Maps that predict a covariance: the local-Gaussian head (regressed log-Euclidean targets) and the
Gaussian-NLL head; predict(return_cov=True), sample and interval, model files and PyTorch export."""

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.uncertainty import local_gaussian as lg

# These tests check the heads' own Gaussians, so their Gaussian-NLL maps are left uncalibrated
# (calibration_split=None): the warning that says so is expected here, and tested in test_calibration.py.
pytestmark = pytest.mark.filterwarnings("ignore::fhn_inverse.uncertainty.calibration.UncalibratedWarning")


@pytest.fixture(scope="module")
def data():
    theta = fi.default_prior().sample(240, seed=3)
    u = fi.simulate(theta)
    return u, theta, fi.laplace_covariance(theta)


@pytest.fixture(scope="module")
def local_map(data):
    u, theta, C = data
    m = fi.InverseMap.dense(units=[16, 16], output_activation=None, seed=1)
    return m.fit(u, theta, cov=C, epochs=4, scaling="standard", validation=0.1, progress=False)


def test_local_gaussian_head_predicts_spd_covariances(local_map, data):
    u, theta, C = data
    assert local_map.head == "local_gaussian" and local_map.has_cov
    mean, cov = local_map.predict(u, return_cov=True)
    assert mean.shape == (240, 2) and cov.shape == (240, 2, 2)
    assert np.array_equal(mean, local_map.predict(u))
    assert np.array_equal(cov, np.transpose(cov, (0, 2, 1)))
    assert np.all(np.linalg.eigvalsh(cov) > 0)
    # the covariance is the exponential of the network's (unscaled) log coordinates
    raw = local_map.network.predict(u.astype(np.float32), 0)
    ell = local_map.parts.scaling.inverse(raw)[:, 2:]
    np.testing.assert_allclose(cov, lg.from_log_coordinates(ell), rtol=1e-12)


def test_local_gaussian_head_round_trips_through_files_and_torch(local_map, data, tmp_path):
    u = data[0][:16]
    mean, cov = local_map.predict(u, return_cov=True)
    local_map.save(tmp_path / "lg.safetensors")
    loaded = fi.InverseMap.load(tmp_path / "lg.safetensors")
    assert loaded.head == "local_gaussian"
    m2, c2 = loaded.predict(u, return_cov=True)
    assert np.array_equal(mean, m2) and np.array_equal(cov, c2)
    torch = pytest.importorskip("torch")
    with torch.no_grad():
        out = local_map.to_torch()(torch.from_numpy(u.astype(np.float32))).double().numpy()
    np.testing.assert_allclose(out[:, :2], mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lg.from_log_coordinates(out[:, 2:]), cov, rtol=1e-3)


def test_local_gaussian_head_misuse(local_map, data):
    u, theta, C = data
    with pytest.raises(ValueError, match="pass cov= targets"):
        local_map.fit(u, theta, epochs=1, progress=False)
    point = fi.InverseMap.dense(units=[4]).fit(u, theta, epochs=1, progress=False)
    assert point.head == "point" and not point.has_cov
    with pytest.raises(ValueError, match="point estimates only"):
        point.predict(u, return_cov=True)
    with pytest.raises(ValueError, match="trained without"):
        point.fit(u, theta, cov=C, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"shape \(N, D, D\)"):
        fi.InverseMap.dense(units=[4], output_activation=None).fit(u, theta, cov=C[:10], progress=False)
    with pytest.raises(ValueError, match="positive definite"):
        fi.InverseMap.dense(units=[4], output_activation=None).fit(u, theta, cov=-C, progress=False)
    with pytest.raises(ValueError, match="cov_val"):
        fi.InverseMap.dense(units=[4], output_activation=None).fit(
            u, theta, cov=C, validation=(u[:5], theta[:5]), progress=False)


@pytest.fixture(scope="module")
def nll_map(data):
    u, theta, _ = data
    m = fi.InverseMap.dense(units=[16], output_activation=None, seed=2)
    return m.fit(u, theta, loss="gaussian_nll", epochs=3, scaling="minmax", calibration_split=None, progress=False)


def test_gaussian_nll_covariance_is_the_scaled_cholesky_product(nll_map, data):
    u = data[0][:8]
    mean, cov = nll_map.predict(u, return_cov=True)
    raw = nll_map.network.predict(u.astype(np.float32), 0).astype(np.float64)
    L = np.zeros((8, 2, 2))
    L[:, 0, 0], L[:, 1, 0], L[:, 1, 1] = np.exp(raw[:, 2]), raw[:, 3], np.exp(raw[:, 4])
    S = np.diag(nll_map.parts.scaling.scale)
    np.testing.assert_allclose(cov, S @ L @ np.transpose(L, (0, 2, 1)) @ S, rtol=1e-12)
    np.testing.assert_allclose(mean, nll_map.parts.scaling.inverse(raw[:, :2]), rtol=1e-12)


def test_sample_and_interval_follow_the_predicted_gaussian(nll_map, data):
    u = data[0][:3]
    mean, cov = nll_map.predict(u, return_cov=True)
    draws = nll_map.sample(u, 40000, seed=7)
    assert draws.shape == (3, 40000, 2)
    assert np.array_equal(draws, nll_map.sample(u, 40000, seed=7))
    assert not np.array_equal(draws, nll_map.sample(u, 40000, seed=8))
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    # sample mean within 4 standard errors, sample covariance within 3 %
    assert np.all(np.abs(draws.mean(axis=1) - mean) < 4 * sd / np.sqrt(40000))
    for i in range(3):
        np.testing.assert_allclose(np.cov(draws[i].T), cov[i], rtol=0.03, atol=0.03 * sd[i].prod())
    lo, hi = nll_map.interval(u, 0.95)
    np.testing.assert_allclose(hi - mean, 1.959963984540054 * sd, rtol=1e-12)
    np.testing.assert_allclose(mean - lo, hi - mean, rtol=1e-12)
    inside = (draws > lo[:, None]) & (draws < hi[:, None])
    assert np.all(np.abs(inside.mean(axis=1) - 0.95) < 0.005)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        nll_map.interval(u, 1.0)


def test_covariance_experiment_writes_its_table_and_report(tmp_path):
    from fhn_inverse.study import experiments, report

    setup = experiments.Setup(train_sizes=(120,), test_size=30, seed=1,
                              training=experiments.Training(epochs=2, validation=None, early_stopping=None, seed=1))
    result = experiments.covariance(tmp_path / "covariance", setup, examples=3, progress=False)
    table = result["results"]["table"]
    assert set(table) == set(experiments.REGIMES)
    for row in table.values():
        assert set(row) == {"network", "plug_in", "gaussian_nll", "fitted"}
        # the plug-in estimator shares the network's mean; the fit starts from it
        assert row["plug_in"]["e_theta"] == row["network"]["e_theta"]
        assert all(np.isfinite(v["e_C"]) and v["e_C"] >= 0 for v in row.values())
    assert (tmp_path / "covariance" / "results.json").exists()
    assert (tmp_path / "covariance" / "ellipses_noisy-noisy.png").exists()
    md = report.compare(tmp_path)
    assert "| noisy/noisy | network alone |" in md and "0.161" in md
    loaded = fi.InverseMap.load(tmp_path / "covariance" / "models" / "cnn_local-gaussian_train-noisy_N120.safetensors")
    assert loaded.head == "local_gaussian"


def test_covariance_report_marks_cells_by_the_rule():
    from fhn_inverse.study import report

    table = {"clean/clean": {"network": {"e_theta": 0.01, "e_C": 0.2}},
             "noisy/noisy": {"network": {"e_theta": 0.2, "e_C": 0.1}}}
    md = report.covariance_table({"results": {"table": table}})
    assert "| clean/clean | network alone | **0.010** | 0.032 | 0.200 | 0.124 |" in md
    assert "| noisy/noisy | network alone | 0.200 | 0.093 | **0.100** | 0.161 |" in md


@pytest.fixture(scope="module")
def nll_ensemble(data):
    u, theta, _ = data
    ens = fi.Ensemble.like(fi.InverseMap.dense(units=[16], output_activation=None), 3)
    return ens.fit(u, theta, loss="gaussian_nll", epochs=3, scaling="standard", calibration_split=None, progress=False)


def test_ensemble_of_gaussian_heads_is_their_mixture(nll_ensemble, data):
    u = data[0][:5]
    mean, cov = nll_ensemble.predict(u, return_cov=True)
    pairs = [m.predict(u, return_cov=True) for m in nll_ensemble.members]
    mus = np.stack([p[0] for p in pairs])
    sig = np.stack([p[1] for p in pairs])
    np.testing.assert_allclose(mean, mus.mean(axis=0), rtol=1e-12)
    dev = mus - mean
    expected = sig.mean(axis=0) + np.einsum("kni,knj->nij", dev, dev) / 3
    np.testing.assert_allclose(cov, expected, rtol=1e-9, atol=1e-15)
    draws = nll_ensemble.sample(u, 60000, seed=3)
    assert draws.shape == (5, 60000, 2)
    for i in range(5):
        np.testing.assert_allclose(np.cov(draws[i].T), cov[i], rtol=0.05, atol=0.05 * np.sqrt(cov[i].diagonal().prod()))
    lo, hi = nll_ensemble.interval(u, 0.9)
    inside = ((draws > lo[:, None]) & (draws < hi[:, None])).mean(axis=1)
    assert np.all(np.abs(inside - 0.9) < 0.006), inside


def test_one_member_mixture_interval_is_the_gaussian_interval(nll_map, data):
    u = data[0][:4]
    single = fi.Ensemble([nll_map])
    lo, hi = single.interval(u, 0.95)
    lo1, hi1 = nll_map.interval(u, 0.95)
    np.testing.assert_allclose(lo, lo1, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hi, hi1, rtol=1e-9, atol=1e-12)


def test_ensemble_of_local_gaussian_heads_averages_log_covariances(data):
    u, theta, C = data
    ens = fi.Ensemble.like(fi.InverseMap.dense(units=[8], output_activation=None), 2)
    ens.fit(u, theta, cov=C, epochs=2, scaling="standard", progress=False)
    mean, cov = ens.predict(u[:6], return_cov=True)
    logs = [lg.log_coordinates(m.predict(u[:6], return_cov=True)[1]) for m in ens.members]
    np.testing.assert_allclose(cov, lg.from_log_coordinates(np.mean(logs, axis=0)), rtol=1e-10)
    with pytest.raises(ValueError, match="Gaussian-NLL"):
        ens.sample(u[:2], 3)


def test_ensemble_of_point_maps_has_no_covariance(data):
    u, theta, _ = data
    ens = fi.Ensemble.like(fi.InverseMap.dense(units=[4]), 2).fit(u, theta, epochs=1, progress=False)
    assert not ens.has_cov
    with pytest.raises(ValueError, match="not a calibrated uncertainty"):
        ens.predict(u, return_cov=True)


def test_covariance_experiment_with_seed_ensembles(tmp_path):
    from fhn_inverse.study import experiments

    setup = experiments.Setup(train_sizes=(80,), test_size=20, seed=2,
                              training=experiments.Training(epochs=1, validation=None, early_stopping=None, seed=2,
                                                            members=2))
    result = experiments.covariance(tmp_path / "covariance", setup, examples=2, fit=False, progress=False)
    assert set(result["results"]["table"]["noisy/noisy"]) == {"network", "plug_in", "gaussian_nll"}
    ens = fi.Ensemble.load(tmp_path / "covariance" / "models" / "cnn_local-gaussian_train-noisy_N80")
    assert len(ens) == 2 and ens.head == "local_gaussian"


def test_predict_takes_a_single_series(data):
    u, theta, _ = data
    m = fi.InverseMap.dense(units=[8], output_activation=None, seed=4)
    m.fit(u[:100], theta[:100], loss="gaussian_nll", epochs=1, scaling="standard", progress=False)
    mean, cov = m.predict(u[:3], return_cov=True)
    one, one_cov = m.predict(u[1], return_cov=True)
    assert one.shape == (2,) and one_cov.shape == (2, 2)
    np.testing.assert_allclose(one, mean[1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(one_cov, cov[1], rtol=1e-5, atol=1e-9)
    assert m.predict(u[2]).shape == (2,)
    ens = fi.Ensemble([m, m])
    e_mean, e_cov = ens.predict(u[1], return_cov=True)
    assert e_mean.shape == (2,) and e_cov.shape == (2, 2)
    with pytest.raises(ValueError, match="these have 500 points"):  # the map knows its grid
        m.predict(u[1][:500])
