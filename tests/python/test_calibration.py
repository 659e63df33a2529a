"""Quantile recalibration (``fhn_inverse.uncertainty.calibration.QuantileCalibration``) and its use by maps,
ensembles, model files and the diagnostics.

The reference is the linear-Gaussian posterior of test_diagnostics.py made wrong in a way no scalar
covariance scale repairs: Student-t errors (heavy tails) and a different width per parameter. A
quantile calibration fitted on one split must make coverage and SBC pass on another; fitted to an
exactly calibrated Gaussian it must change nothing beyond the sampling error of its quantiles.
"""

import json
import warnings

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.uncertainty import diagnostics as dg
from fhn_inverse.uncertainty.calibration import QuantileCalibration

LEVELS = dg.REPORT_LEVELS


def miscalibrated(n, seed):
    """θ (n, 2), and a Gaussian N(mean, cov) whose errors are Student-t (3 degrees of freedom)
    with 1.6× (θ0) and 0.7× (θ1) the stated standard deviation, correlated 0.5."""
    rng = np.random.default_rng(seed)
    sd = np.column_stack([rng.uniform(0.5, 2.0, n), rng.uniform(0.1, 0.3, n)])
    corr = np.array([[1.0, 0.5], [0.5, 1.0]])
    cov = corr[None] * sd[:, :, None] * sd[:, None, :]
    mean = rng.normal(size=(n, 2))
    t = rng.standard_t(3, size=(n, 2)) / np.sqrt(3.0)  # unit variance
    z = t @ np.linalg.cholesky(corr).T * np.array([1.6, 0.7])
    return mean + z * sd, mean, cov


def exact(n, seed):
    rng = np.random.default_rng(seed)
    sd = rng.uniform(0.5, 2.0, (n, 2))
    cov = np.array([[1.0, -0.3], [-0.3, 1.0]])[None] * sd[:, :, None] * sd[:, None, :]
    mean = rng.normal(size=(n, 2))
    return mean + np.einsum("nij,nj->ni", np.linalg.cholesky(cov), rng.normal(size=(n, 2))), mean, cov


def test_quantile_calibration_repairs_heavy_tails_and_per_parameter_widths():
    cal = QuantileCalibration.fit(*miscalibrated(20_000, seed=1))
    theta, mean, cov = miscalibrated(4000, seed=2)
    before = dg.coverage(theta, mean, cov, levels=LEVELS)
    after = dg.coverage(theta, mean, cov, levels=LEVELS, calibration=cal)
    assert not before.calibrated(3.0)  # θ0 under-covered, θ1 over-covered: no scalar repairs both
    assert before.per_parameter[3, 0] < 0.9 and before.per_parameter[0, 1] > 0.7
    assert after.calibrated(3.5) and after.method == "calibrated"
    scale = dg.fit_cov_scale(*miscalibrated(20_000, seed=1)[1:], miscalibrated(20_000, seed=1)[0])
    assert not dg.coverage(theta, mean, scale * cov, levels=LEVELS).calibrated(3.0)
    draws = cal.sample(mean, cov, 400, seed=3)
    assert not dg.sbc(theta, draws).outside.any()
    assert dg.sbc(theta, dg.sample_gaussian(mean, cov, 400, seed=3)).outside.all()
    # the intervals are the calibrated quantiles of the standardised errors, per parameter
    lo, hi = cal.interval(mean, cov, 0.9)
    inside = np.mean((theta >= lo) & (theta <= hi), axis=0)
    assert np.allclose(inside, after.per_parameter[LEVELS.index(0.9)])
    assert np.all(hi - lo > 0)


def test_calibration_of_an_exact_gaussian_is_nearly_the_identity():
    cal = QuantileCalibration.fit(*exact(20_000, seed=4))
    g = np.linspace(-2.5, 2.5, 11)
    t = cal.transform(np.column_stack([g, g]))
    assert np.max(np.abs(t - g[:, None])) < 0.08  # quantile noise of 20,000 draws, ~3 standard errors
    for level in (0.5, 0.9, 0.99):
        assert cal.joint_radius(level) == pytest.approx(np.sqrt(dg.chi2_quantile(level, 2)), rel=0.03)
    theta, mean, cov = exact(4000, seed=5)
    assert dg.coverage(theta, mean, cov, levels=LEVELS, calibration=cal).calibrated(3.5)


def test_identity_calibration_samples_and_intervals_are_the_gaussian_ones():
    k = 400
    probs = (np.arange(k) + 0.5) / k
    from statistics import NormalDist

    scores = np.array([NormalDist().inv_cdf(p) for p in probs])
    radius = np.sqrt(-2 * np.log1p(-probs))  # √χ²₂ quantiles
    cal = QuantileCalibration(np.column_stack([scores, scores]), radius, 1000)
    _, mean, cov = exact(50, seed=6)
    np.testing.assert_allclose(cal.sample(mean, cov, 30, seed=7), dg.sample_gaussian(mean, cov, 30, seed=7),
                               rtol=0, atol=1e-12)
    lo, hi = cal.interval(mean, cov, 0.95)
    half = 1.959963984540054 * np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    np.testing.assert_allclose(lo, mean - half, atol=1e-6)
    np.testing.assert_allclose(hi, mean + half, atol=1e-6)
    # outside the knots: linear in normal score, continuous at the last knot
    t = cal.transform(np.array([[scores[-1], scores[0]], [4.0, -4.0], [6.0, -6.0]]))
    assert t[0] == pytest.approx([scores[-1], scores[0]])
    assert t[1][0] < t[2][0] and t[2][1] < t[1][1]
    assert cal.joint_radius(0.9999) > cal.joint_radius(0.999) > radius[-1] - 1e-12


def test_intervals_grow_with_the_level_and_the_law_is_monotone():
    cal = QuantileCalibration.fit(*miscalibrated(5000, seed=8))
    _, mean, cov = miscalibrated(20, seed=9)
    widths = [np.subtract(*cal.interval(mean, cov, a)[::-1]) for a in (0.1, 0.5, 0.9, 0.999)]
    assert all(np.all(b > a) for a, b in zip(widths, widths[1:]))
    g = np.linspace(-8, 8, 401)
    t = cal.transform(np.column_stack([g, g]))
    assert np.all(np.diff(t, axis=0) >= 0)


def test_calibration_rejects_bad_input():
    theta, mean, cov = exact(100, seed=10)
    with pytest.raises(ValueError, match="at least 20"):
        QuantileCalibration.fit(theta[:19], mean[:19], cov[:19])
    cal = QuantileCalibration.fit(theta, mean, cov)
    for level in (0, 1, 1.5, -0.1, True, "0.9"):
        with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
            cal.interval(mean, cov, level)
    with pytest.raises(ValueError, match="D = 2"):
        cal.interval(mean[:, :1], cov[:, :1, :1])
    with pytest.raises(ValueError, match="non-decreasing"):
        QuantileCalibration(np.array([[0.0, 0.0], [-1.0, 1.0]]), np.array([1.0, 2.0]), 50)
    with pytest.raises(ValueError, match="same K"):
        QuantileCalibration(np.zeros((3, 2)), np.zeros(2), 50)
    with pytest.raises(ValueError, match="quantile calibration is"):
        QuantileCalibration.from_dict({"n": 50, "marginal": [[0, 0], [1, 1]]})
    assert QuantileCalibration.from_dict(json.loads(cal.to_json())) == cal
    with pytest.raises(ValueError, match="QuantileCalibration for D = 3"):
        dg.coverage(np.zeros((5, 3)), np.zeros((5, 3)), np.broadcast_to(np.eye(3), (5, 3, 3)), calibration=cal)


# --------------------------------------------------------------------------- maps and ensembles
@pytest.fixture(scope="module")
def data():
    theta = fi.default_prior().sample(300, seed=11)
    return fi.simulate(theta), theta


def test_map_calibration_is_used_stored_and_dropped(data, tmp_path):
    u, theta = data
    m = fi.InverseMap.dense(units=[16], output_activation=None, seed=2)
    m.fit(u[:200], theta[:200], loss="gaussian_nll", epochs=3, scaling="standard", calibration_split=None,
          progress=False)
    with pytest.warns(fi.UncalibratedWarning, match="intervals of an uncalibrated Gaussian-NLL head"):
        plain_lo, plain_hi = m.interval(u[200:], 0.9)
    cal = m.calibrate(u[200:], theta[200:], method="quantile")
    assert isinstance(cal, QuantileCalibration) and m.calibration is cal and cal.n == 100
    mean, cov = m.predict(u[200:], return_cov=True)
    lo, hi = m.interval(u[200:], 0.9)
    np.testing.assert_allclose(lo, cal.interval(mean, cov, 0.9)[0])
    assert not np.allclose(lo, plain_lo)
    # coverage on the calibration split itself is the calibrated level, up to the knots' resolution
    inside = np.mean((theta[200:] >= lo) & (theta[200:] <= hi), axis=0)
    assert np.all(np.abs(inside - 0.9) <= 0.03)  # 100 series: a point at each end is 0.01
    np.testing.assert_array_equal(m.sample(u[200:210], 5, seed=1),
                                  cal.sample(*m.predict(u[200:210], return_cov=True), 5, seed=1))
    m.save(tmp_path / "m.safetensors")
    back = fi.InverseMap.load(tmp_path / "m.safetensors")
    assert back.calibration == cal
    np.testing.assert_array_equal(back.interval(u[200:], 0.9)[1], hi)
    report = dg.diagnose(back, u[200:], theta[200:], n_samples=50)
    assert report["coverage"]["method"] == "calibrated" and "QuantileCalibration" in report["calibration"]
    m.calibrate(u[200:], theta[200:], method="nll")  # a new scale drops the quantiles fitted to the old one
    assert m.calibration is None
    m.calibrate(u[200:], theta[200:], method="quantile")
    m.fit(u[:200], theta[:200], loss="gaussian_nll", epochs=1, scaling="standard", calibration_split=None,
          progress=False)
    assert m.calibration is None
    with pytest.raises(ValueError, match="'nll', 'coverage' or 'quantile'"):
        m.calibrate(u[200:], theta[200:], method="isotonic")
    point = fi.InverseMap.dense(units=[8], seed=0).fit(u, theta, epochs=1, progress=False)
    with pytest.raises(ValueError, match="Gaussian-NLL head"):
        point.calibrate(u, theta, method="quantile")


def test_ensemble_calibration_is_used_and_stored(data, tmp_path):
    u, theta = data
    ens = fi.Ensemble.like(fi.InverseMap.dense(units=[16], output_activation=None), 2)
    ens.fit(u[:200], theta[:200], loss="gaussian_nll", epochs=2, scaling="standard", progress=False)
    cal = ens.calibrate(u[200:], theta[200:])
    mean, cov = ens.predict(u[200:], return_cov=True)
    np.testing.assert_allclose(ens.interval(u[200:], 0.8)[1], cal.interval(mean, cov, 0.8)[1])
    np.testing.assert_array_equal(ens.sample(u[200:205], 4, seed=2),
                                  cal.sample(*ens.predict(u[200:205], return_cov=True), 4, seed=2))
    ens.save(tmp_path / "ens")
    back = fi.Ensemble.load(tmp_path / "ens")
    assert back.calibration == cal
    manifest = json.loads((tmp_path / "ens" / "ensemble.json").read_text())
    manifest["calibration"]["radius"] = manifest["calibration"]["radius"][::-1]
    (tmp_path / "ens" / "ensemble.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="invalid calibration"):
        fi.Ensemble.load(tmp_path / "ens")
    with pytest.raises(ValueError, match="method must be 'quantile'"):
        ens.calibrate(u[200:], theta[200:], method="nll")


def test_cli_calibrate_writes_the_map_back_and_predict_uses_it(tmp_path, capsys):
    from fhn_inverse import cli

    train, held, model = tmp_path / "train.npz", tmp_path / "cal.npz", tmp_path / "nll.safetensors"
    assert cli.main(["simulate", str(train), "-n", "200", "--seed", "1", "--quiet"]) == 0
    assert cli.main(["simulate", str(held), "-n", "120", "--seed", "2", "--quiet"]) == 0
    assert cli.main(["train", str(train), str(model), "--arch", "dense", "--epochs", "3", "--loss", "gaussian_nll",
                     "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["calibrate", str(model), str(held)]) == 0
    assert "joint radius" in capsys.readouterr().out
    m = fi.InverseMap.load(model)
    assert m.calibration is not None and m.calibration.n == 120
    data = fi.Dataset.load(held)
    out = tmp_path / "pred.csv"
    assert cli.main(["predict", str(model), str(held), "--level", "0.8", "--output", str(out)]) == 0  # sidecar follows
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    lo, hi = m.interval(data.d, 0.8)
    np.testing.assert_allclose(table[:, 5:7], lo, rtol=1e-5, atol=1e-6)  # id, means, sds, lower, upper
    np.testing.assert_allclose(table[:, 7:9], hi, rtol=1e-5, atol=1e-6)
    assert cli.main(["calibrate", str(model), str(held), "--method", "nll"]) == 0
    m = fi.InverseMap.load(model)
    assert m.calibration is None and m.cov_scale != 1.0
    ens = fi.Ensemble([m, m])
    ens.save(tmp_path / "ens")
    capsys.readouterr()
    with pytest.raises(SystemExit) as err:
        cli.main(["calibrate", str(tmp_path / "ens"), str(held), "--method", "nll"])
    assert err.value.code == 2 and "--method quantile" in capsys.readouterr().err
    assert cli.main(["calibrate", str(tmp_path / "ens"), str(held)]) == 0
    assert fi.Ensemble.load(tmp_path / "ens").calibration is not None



# ------------------------------------------------------------------------ calibrated by default
def test_a_gaussian_head_calibrates_itself_by_default(data, tmp_path):
    u, theta = data  # 300 series: the default 10 % holds out 30
    m = fi.InverseMap.dense(units=[16], output_activation=None, seed=2)
    m.fit(u, theta, loss="gaussian_nll", epochs=3, scaling="standard", progress=False)
    assert isinstance(m.calibration, QuantileCalibration) and m.calibration.n == 30
    assert m.parts.training["n_train"] == 270 and m.parts.training["n_calibration"] == 30
    # the same as training on the first 270 series and calibrating on the last 30 by hand
    by_hand = fi.InverseMap.dense(units=[16], output_activation=None, seed=2)
    by_hand.fit(u[:270], theta[:270], loss="gaussian_nll", epochs=3, scaling="standard", calibration_split=None,
                progress=False)
    by_hand.calibrate(u[270:], theta[270:])  # the quantile method is calibrate's default
    assert by_hand.calibration == m.calibration
    np.testing.assert_array_equal(m.interval(u[:5], 0.9)[0], by_hand.interval(u[:5], 0.9)[0])
    m.save(tmp_path / "m.safetensors")
    assert fi.InverseMap.load(tmp_path / "m.safetensors").calibration == m.calibration
    # other heads hold nothing out; so does a split that would hold out fewer than 20 series
    point = fi.InverseMap.dense(units=[8], seed=0).fit(u, theta, epochs=1, progress=False)
    assert point.parts.training["n_train"] == 300 and "n_calibration" not in point.parts.training
    small = fi.InverseMap.dense(units=[8], output_activation=None, seed=0)
    small.fit(u[:150], theta[:150], loss="gaussian_nll", epochs=1, progress=False)
    assert small.calibration is None and small.parts.training["n_train"] == 150
    with pytest.warns(fi.UncalibratedWarning, match="draws of an uncalibrated"):
        small.sample(u[:2], 3)
    with pytest.raises(ValueError, match=r"calibration_split must be a fraction in \[0, 1\)"):
        fi.TrainingConfig(calibration_split=1.5)
    assert fi.TrainingConfig(calibration_split=0).calibration_split is None


def test_an_ensemble_of_gaussian_heads_calibrates_its_mixture_by_default(data):
    u, theta = data
    ens = fi.Ensemble.like(fi.InverseMap.dense(units=[8], output_activation=None), 2)
    ens.fit(u, theta, loss="gaussian_nll", epochs=2, scaling="standard", progress=False)
    assert isinstance(ens.calibration, QuantileCalibration) and ens.calibration.n == 30
    assert all(m.calibration is None and m.parts.training["n_train"] == 270 for m in ens.members)
    by_hand = fi.Ensemble.like(fi.InverseMap.dense(units=[8], output_activation=None), 2)
    by_hand.fit(u[:270], theta[:270], loss="gaussian_nll", epochs=2, scaling="standard", calibration_split=None,
                progress=False)
    assert by_hand.calibrate(u[270:], theta[270:]) == ens.calibration


def test_a_default_gaussian_cnn_covers_fresh_series():
    """benchmarks/calibrated_default.py at a smaller size: the study's CNN with a Gaussian-NLL head,
    fit(d, θ, loss="gaussian_nll") with the default settings but a larger calibration split, scored
    on fresh series of another seed. The tolerance is what the sizes allow: 4 binomial standard
    errors of the calibration split and the test set together (about 9 points at 50 %, 4 at 95 %);
    the head's own Gaussian (no split) misses it."""
    train = fi.Dataset.generate(2000, seed=21, noise=fi.AR1Noise(), progress=False)
    test = fi.Dataset.generate(2000, seed=2021, noise=fi.AR1Noise(), progress=False)
    levels = (0.5, 0.8, 0.9, 0.95)

    def errors(split):
        m = fi.InverseMap.cnn(output_activation=None, seed=0)
        m.fit(train.d, train.theta, loss="gaussian_nll", calibration_split=split, progress=False)
        mean, cov = m.predict(test.d, return_cov=True)
        joint = dg.coverage(test.theta, mean, cov, levels=levels, calibration=m.calibration).joint
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fi.UncalibratedWarning)
            per = [np.mean((test.theta >= lo) & (test.theta <= hi), axis=0)
                   for lo, hi in (m.interval(test.d, level) for level in levels)]
        return m, np.column_stack([np.array(per), joint]) - np.array(levels)[:, None]  # (levels, θ0 θ1 joint)

    m, after = errors(0.3)
    assert m.parts.training["n_calibration"] == 600 and m.calibration.n == 600
    tol = 4 * np.sqrt(np.array(levels) * (1 - np.array(levels)) * (1 / 600 + 1 / len(test)))[:, None]
    assert np.all(np.abs(after) <= tol), after
    _, before = errors(None)
    assert np.any(np.abs(before) > tol) and before[2:].max() < 0  # the raw head is over-confident
