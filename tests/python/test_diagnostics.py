"""Diagnostics of posteriors (coverage, SBC, z-score/contraction, recovery, predictive checks), the
covariance scale that calibrates a Gaussian head, ``fi.diagnose`` and ``fhn-inverse diagnose``.

The reference is a linear-Gaussian model whose posterior is known exactly: θ ~ N(0, I₂),
y = Aθ + ε, ε ~ N(0, s² I₆), so θ | y ~ N(Σ Aᵀ y / s², Σ), Σ = (AᵀA / s² + I)⁻¹. The exact
posterior must pass every check within sampling error; the same posterior with its covariance
divided or multiplied by 4 must fail them.
"""

import json

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import cli
from fhn_inverse.uncertainty import diagnostics as dg

N, NOISE_SD = 2000, 0.5


def linear_gaussian(n, seed):
    """(y (n, 6), θ (n, 2), posterior mean (n, 2), posterior covariance (n, 2, 2))."""
    a = np.random.default_rng(123).normal(size=(6, 2))  # one forward model for every split
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n, 2))
    y = theta @ a.T + NOISE_SD * rng.normal(size=(n, 6))
    post = np.linalg.inv(a.T @ a / NOISE_SD**2 + np.eye(2))
    mean = y @ a @ post.T / NOISE_SD**2
    return y, theta, mean, np.broadcast_to(post, (n, 2, 2)).copy()


@pytest.fixture(scope="module")
def toy():
    return linear_gaussian(N, seed=1)


# --------------------------------------------------------------------------------- χ² quantiles
@pytest.mark.parametrize("df, expected", [(1, 3.841458820694124), (2, 5.991464547107979), (3, 7.814727903251178)])
def test_chi2_quantile_known_values(df, expected):
    assert dg.chi2_quantile(0.95, df) == pytest.approx(expected, rel=1e-12)


def test_chi2_quantile_inverts_the_cdf_and_the_closed_form_for_two_dof():
    for level in (0.01, 0.05, 0.5, 0.8, 0.9, 0.99, 0.999):
        assert dg.chi2_quantile(level, 2) == pytest.approx(-2 * np.log1p(-level), rel=1e-12)
        for df in (1, 3, 4, 7, 20, 100):
            assert dg.chi2_cdf(dg.chi2_quantile(level, df), df) == pytest.approx(level, abs=1e-13)
    assert dg.chi2_quantile(0.5, 1) == pytest.approx(0.454936423119572, rel=1e-12)  # (Φ⁻¹(0.75))²
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        dg.chi2_quantile(1.0, 2)
    with pytest.raises(ValueError, match="df must be"):
        dg.chi2_quantile(0.5, 0)


# ----------------------------------------------------------------- the exact posterior passes
def test_exact_posterior_is_calibrated(toy):
    _, theta, mean, cov = toy
    for result in (dg.coverage(theta, mean, cov, levels=dg.REPORT_LEVELS),
                   dg.coverage(theta, samples=dg.sample_gaussian(mean, cov, 400, seed=2), levels=dg.REPORT_LEVELS)):
        # within 3 binomial standard errors (≤ 1.5 points at 95 %, N = 2000), per parameter and joint
        assert result.calibrated(3.0), result.error_in_se()
        assert result.se[-1] == pytest.approx(np.sqrt(0.95 * 0.05 / N))
    samples = dg.sample_gaussian(mean, cov, 200, seed=3)
    result = dg.sbc(theta, samples)
    assert not result.outside.any() and np.all(result.max_deviation < result.upper.max())
    assert result.ranks.shape == (N, 2) and result.ranks.min() >= 0 and result.ranks.max() <= 200
    zc = dg.z_contraction(theta, mean, cov, prior_var=[1.0, 1.0])
    assert np.all(np.abs(zc.z.mean(axis=0)) < 3 / np.sqrt(N))
    assert np.all(np.abs(zc.z.std(axis=0) - 1) < 0.05)
    np.testing.assert_allclose(zc.contraction[0], 1 - np.diag(cov[0]))


@pytest.mark.parametrize("factor", [0.25, 4.0])
def test_over_and_under_confident_posteriors_are_flagged(toy, factor):
    _, theta, mean, cov = toy
    result = dg.coverage(theta, mean, factor * cov, levels=dg.REPORT_LEVELS)
    assert not result.calibrated(3.0)
    emp = np.column_stack([result.per_parameter, result.joint])
    sign = -1 if factor < 1 else 1  # over-confident: too few covered; under-confident: too many
    assert np.all(sign * (emp - result.levels[:, None]) > 5 * result.se[:, None])
    from_samples = dg.coverage(theta, samples=dg.sample_gaussian(mean, factor * cov, 400, seed=2),
                               levels=dg.REPORT_LEVELS)
    assert not from_samples.calibrated(3.0)
    s = dg.sbc(theta, dg.sample_gaussian(mean, factor * cov, 200, seed=3))
    assert s.outside.all()
    # over-confidence piles the ranks up at both ends (the ECDF above the uniform at low ranks),
    # under-confidence in the middle (below it there)
    low = s.z < 0.2
    assert np.all(sign * s.ecdf_diff[low] < 0.0)


def test_a_biased_posterior_is_flagged_by_sbc(toy):
    _, theta, mean, cov = toy
    shifted = mean + 0.5 * np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    s = dg.sbc(theta, dg.sample_gaussian(shifted, cov, 200, seed=3))
    # samples above the truth: ranks too low, the ECDF above the uniform
    assert s.outside.all() and np.all(s.ecdf_diff[np.argmin(np.abs(s.z - 0.5))] > 0.1)


def test_sbc_band_holds_its_level_for_calibrated_ranks():
    """Uniform ranks leave the simultaneous 95 % band in about 5 % of repetitions."""
    rng = np.random.default_rng(7)
    left = 0
    for rep in range(100):
        theta = rng.normal(size=(300, 1))
        left += dg.sbc(theta, rng.normal(size=(300, 49, 1)), n_sim=300, seed=rep).outside[0]
    assert left <= 12  # binomial(100, 0.05): P(> 12) < 0.001


def test_fit_cov_scale_recovers_the_factor(toy):
    _, theta, mean, cov = toy
    for method in ("nll", "coverage"):
        scale = dg.fit_cov_scale(mean, cov / 4, theta, method=method)
        assert scale == pytest.approx(4.0, rel=0.1), method
    # fitted on a calibration split, the scale is 4 within 3 of its standard errors (mean of N
    # χ²_2 / 2: relative se sqrt(2 / (N D)) = 2.2 %) and gives a fresh test split the exact
    # posterior's coverage (calibrated, test_exact_posterior_is_calibrated) to within 2 points
    _, th_cal, m_cal, c_cal = linear_gaussian(N, seed=9)
    scale = dg.fit_cov_scale(m_cal, c_cal / 4, th_cal)
    assert scale == pytest.approx(4.0, rel=3 * np.sqrt(2 / (N * 2)))
    exact, fixed = (dg.coverage(theta, mean, c, levels=dg.REPORT_LEVELS) for c in (cov, scale * cov / 4))
    assert np.max(np.abs(fixed.per_parameter - exact.per_parameter)) < 0.02
    assert np.max(np.abs(fixed.joint - exact.joint)) < 0.02
    assert not dg.coverage(theta, mean, cov / 4, levels=dg.REPORT_LEVELS).calibrated(3.0)
    with pytest.raises(ValueError, match="method must be"):
        dg.fit_cov_scale(mean, cov, theta, method="isotonic")


def test_recovery_and_input_checks(toy):
    _, theta, mean, cov = toy
    rec = dg.recovery(theta, mean)
    np.testing.assert_allclose(rec.r2, fi.metrics.r2_score(theta, mean))
    assert rec.median_ape_all == pytest.approx(fi.metrics.median_ape(theta, mean))
    with pytest.raises(ValueError, match="must agree"):
        dg.coverage(theta, mean[:10], cov)
    with pytest.raises(ValueError, match="positive definite"):
        dg.coverage(theta, mean, -cov)
    with pytest.raises(ValueError, match="not both"):
        dg.coverage(theta, mean, cov, samples=np.zeros((N, 3, 2)))


# ---------------------------------------------------------------------- posterior predictive
def test_posterior_predictive_covers_the_truth_and_not_a_wrong_posterior():
    data = fi.Dataset.generate(2, seed=4, noise=fi.AR1Noise(), progress=False)
    noise = np.column_stack([data.noise[:, 0] / 0.2, data.noise[:, 1]])
    rng = np.random.default_rng(0)
    near = data.theta[:, None, :] + 0.002 * rng.normal(size=(2, 60, 2))
    good = dg.posterior_predictive(near, data.d, noise=noise)
    assert good.inside_all > 0.8 and np.all(good.n_draws == 60)
    wrong = dg.posterior_predictive(near[::-1], data.d, noise=noise)  # each series' band from the other's θ
    assert wrong.inside_all < good.inside_all - 0.1
    assert dg.ppc_figure(good).axes


# ------------------------------------------------------------- maps: cov_scale and calibrate
@pytest.fixture(scope="module")
def nll_map():
    y, theta, _, _ = linear_gaussian(1500, seed=5)
    m = fi.InverseMap.dense(units=[16], output_activation=None, seed=0)
    return m.fit(y, theta, loss="gaussian_nll", scaling="standard", epochs=15, batch_size=64, calibration_split=None,
                 progress=False)


def test_calibrate_sets_the_scale_and_round_trips(nll_map, tmp_path):
    y_cal, th_cal, _, _ = linear_gaussian(800, seed=6)
    m = fi.InverseMap.load(_saved(nll_map, tmp_path / "raw.safetensors"))
    assert m.cov_scale == 1.0
    mean0, cov0 = m.predict(y_cal, return_cov=True)
    with pytest.warns(fi.UncalibratedWarning):
        lo0, hi0 = m.interval(y_cal, 0.9)
    scale = m.calibrate(y_cal, th_cal, method="nll")
    assert scale == m.cov_scale == pytest.approx(dg.fit_cov_scale(mean0, cov0, th_cal))
    mean1, cov1 = m.predict(y_cal, return_cov=True)
    np.testing.assert_array_equal(mean1, mean0)
    np.testing.assert_allclose(cov1, scale * cov0, rtol=1e-12)
    lo1, hi1 = m.interval(y_cal, 0.9)
    np.testing.assert_allclose(hi1 - lo1, np.sqrt(scale) * (hi0 - lo0), rtol=1e-12)
    # after calibration the mean squared Mahalanobis distance on the calibration split is D
    assert dg.fit_cov_scale(mean1, cov1, th_cal) == pytest.approx(1.0)
    path = _saved(m, tmp_path / "calibrated.safetensors")
    loaded = fi.InverseMap.load(path)
    assert loaded.cov_scale == scale
    np.testing.assert_array_equal(loaded.predict(y_cal, return_cov=True)[1], cov1)
    assert "calibration" in _metadata(path) and "calibration" not in _metadata(tmp_path / "raw.safetensors")
    m.cov_scale = -1.0
    with pytest.raises(ValueError, match="cov_scale must be a finite number > 0"):
        m.predict(y_cal, return_cov=True)


def test_a_hand_edited_calibration_is_checked(nll_map, tmp_path):
    from fhn_inverse import nn

    path = _saved(nll_map, tmp_path / "m.safetensors")
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header["__metadata__"]["calibration"] = json.dumps({"cov_scale": 0.0})
    header["__metadata__"]["header_sha256"] = nn._header_digest(header)
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + data[8 + n:])
    with pytest.raises(ValueError, match="cov_scale must be a finite number > 0"):
        fi.InverseMap.load(path)


def test_calibrate_refuses_maps_without_a_posterior():
    x = np.random.default_rng(0).normal(size=(40, 5))
    theta = np.random.default_rng(1).normal(size=(40, 2))
    point = fi.InverseMap.dense(units=[4]).fit(x, theta, epochs=1, progress=False)
    with pytest.raises(ValueError, match="Gaussian-NLL head"):
        point.calibrate(x, theta)
    cov = np.broadcast_to(np.eye(2) * 0.1, (40, 2, 2)).copy()
    local = fi.InverseMap.dense(units=[4], output_activation=None).fit(x, theta, cov=cov, epochs=1,
                                                                     scaling="standard", progress=False)
    with pytest.raises(ValueError, match="estimates a target, not a posterior"):
        local.calibrate(x, theta)


def _saved(model, path):
    model.save(path)
    return path


def _metadata(path):
    data = path.read_bytes()
    return json.loads(data[8:8 + int.from_bytes(data[:8], "little")])["__metadata__"]


# --------------------------------------------------------------------------------- fi.diagnose
def test_diagnose_writes_the_report_and_figures(nll_map, tmp_path):
    y, theta, _, _ = linear_gaussian(600, seed=8)
    report = fi.diagnose(nll_map, y, theta, out=tmp_path / "report", n_samples=100, seed=1)
    on_disk = json.loads((tmp_path / "report" / "report.json").read_text())
    assert on_disk["coverage"] == report["coverage"] and on_disk["sbc"] == report["sbc"]
    for name in ("coverage.png", "sbc.png", "z_contraction.png", "recovery.png"):
        assert (tmp_path / "report" / name).stat().st_size > 1000
    assert report["figures"] == ["coverage.png", "recovery.png", "sbc.png", "z_contraction.png"]
    mean, cov = nll_map.predict(y, return_cov=True)
    expected = dg.coverage(theta, mean, cov)
    assert report["coverage"]["joint"] == pytest.approx(expected.joint.tolist())
    assert set(report["coverage_at_report_levels"]) == {"50%", "80%", "90%", "95%"}
    assert report["recovery"]["r2"]["θ0"] == pytest.approx(fi.metrics.r2_score(theta, mean)[0])
    assert report["recovery"]["r2"]["θ0"] > 0.5  # the map learnt something
    assert "ppc" not in report
    # an ensemble of Gaussian heads: coverage of the mixture, from its samples
    ens = fi.Ensemble([nll_map, fi.InverseMap.load(_saved(nll_map, tmp_path / "copy.safetensors"))])
    assert fi.diagnose(ens, y[:200], theta[:200], n_samples=50)["coverage"]["method"] == "samples"
    with pytest.raises(ValueError, match="point estimates only"):
        fi.diagnose(fi.InverseMap.dense(units=[4]).fit(y[:50], theta[:50], epochs=1, progress=False), y, theta)


# ------------------------------------------------------------------------------ the command line
def test_cli_diagnose_end_to_end(tmp_path, capsys):
    data, model, out = tmp_path / "data.npz", tmp_path / "nll.safetensors", tmp_path / "diag"
    assert cli.main(["simulate", str(data), "-n", "200", "--quiet"]) == 0
    assert cli.main(["train", str(data), str(model), "--arch", "dense", "--epochs", "3", "--loss", "gaussian_nll",
                     "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["diagnose", str(model), str(data), "--out", str(out), "--samples", "40", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "theta0" in text and "joint" in text and "SBC" in text
    report = json.loads((out / "report.json").read_text())
    assert report["n"] == 200 and report["n_samples"] == 40 and report["ppc"]["n_series"] == 4
    for name in ("coverage.png", "sbc.png", "z_contraction.png", "recovery.png", "ppc.png"):
        assert (out / name).exists()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    for argv, match in ([str(bad), str(data)], "bad.safetensors"), ([str(model), str(model)], "nll.safetensors"):
        with pytest.raises(SystemExit) as err:
            cli.main(["diagnose", *argv, "--out", str(out)])
        assert err.value.code == 2 and match in capsys.readouterr().err
    point = tmp_path / "point.safetensors"
    assert cli.main(["train", str(data), str(point), "--arch", "dense", "--epochs", "1", "--quiet"]) == 0
    with pytest.raises(SystemExit) as err:
        cli.main(["diagnose", str(point), str(data), "--out", str(out)])
    assert err.value.code == 2 and "point estimates only" in capsys.readouterr().err
