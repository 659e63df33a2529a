"""Parameter transforms: targets learned in a coordinate without bounds (log, logit), so that
estimates, interval bounds and draws stay inside each parameter's support."""

import json
import warnings

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.nn.transforms import LabelTransform


def test_forward_and_inverse_are_inverse_and_the_jacobian_is_the_derivative():
    t = LabelTransform(["identity", "log", "logit"], [-np.inf, 0.5, 0.2], [np.inf, np.inf, 1.2], ["a", "b", "c"])
    rng = np.random.default_rng(0)
    y = np.column_stack([rng.normal(size=50), 0.5 + rng.exponential(size=50), rng.uniform(0.2, 1.2, size=50)])
    z = t.forward(y)
    np.testing.assert_allclose(z[:, 0], y[:, 0])
    np.testing.assert_allclose(z[:, 1], np.log(y[:, 1] - 0.5))
    np.testing.assert_allclose(z[:, 2], np.log((y[:, 2] - 0.2) / (1.2 - y[:, 2])))
    np.testing.assert_allclose(t.inverse(z), y, rtol=1e-12, atol=1e-12)
    h = 1e-6
    fd = (t.inverse(z + h) - t.inverse(z - h)) / (2 * h)
    np.testing.assert_allclose(t.jacobian(z), fd, rtol=1e-6)
    # far out in z the inverse stays inside the support (or on its edge), never beyond
    far = t.inverse(np.array([[0.0, -800.0, -80.0], [0.0, 3.0, 80.0]]))
    assert far[0, 1] >= 0.5 and 0.2 <= far[0, 2] and far[1, 2] <= 1.2
    with pytest.raises(ValueError, match=r"Y: c = 1.3 \(row 1\) is outside the support of its transform, logit on "
                                         r"\(0.2, 1.2\)"):
        t.forward(np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 1.3]]))
    with pytest.raises(ValueError, match="b = 0.5 .* log on"):
        t.forward(np.array([[0.0, 0.5, 0.5]]))
    # the delta method: J Σ J at the mean
    cov = np.array([np.diag([0.1, 0.2, 0.3])])
    m, c = t.to_theta(z[:1], cov)
    jac = t.jacobian(z[:1])[0]
    np.testing.assert_allclose(c[0], np.diag([0.1, 0.2, 0.3]) * np.outer(jac, jac))
    np.testing.assert_allclose(m, y[:1])
    assert LabelTransform.from_json(json.loads(json.dumps(t.to_json())), 3).to_json() == t.to_json()


def test_specs_from_the_support_by_name_or_by_column_and_their_errors():
    box = (np.array([0.2, 0.2, 0.0]), np.array([1.2, 1.2, np.inf]))
    t = LabelTransform.from_spec("support", 3, ["theta0", "theta1", "g"], box)
    assert t.kinds == ("logit", "logit", "log") and t.upper[1] == 1.2 and t.lower[2] == 0.0
    t = LabelTransform.from_spec({"theta1": "logit", "g": ("log", -1.0)}, 3, ["theta0", "theta1", "g"], box)
    assert t.kinds == ("identity", "logit", "log") and t.lower[2] == -1.0
    t = LabelTransform.from_spec(["identity", ("logit", 0.0, 2.0)], 2)
    assert t.kinds == ("identity", "logit") and t.upper[1] == 2.0
    assert LabelTransform.from_spec(None, 2) is None and LabelTransform.from_spec(["identity"] * 2, 2) is None
    with pytest.raises(ValueError, match="needs the prior the map is trained on"):
        LabelTransform.from_spec("support", 2)
    with pytest.raises(ValueError, match=r"transform names \['gamma'\]; the targets are theta0, theta1"):
        LabelTransform.from_spec({"gamma": "log"}, 2, ["theta0", "theta1"])
    with pytest.raises(ValueError, match="logit needs bounds"):
        LabelTransform.from_spec(["logit", "identity"], 2)
    for bad, match in [("logt", "is not a transform"), ({"a": ("logit", 1.0, 0.5)}, "logit needs a < b"),
                       ([("log", float("nan"))], "finite numbers"), ({"a": ("identity", 1.0)}, "takes no bounds"),
                       (3, "transform: 3 is not a transform")]:
        with pytest.raises(ValueError, match=match):
            fi.TrainingConfig(transform=bad)
    assert fi.TrainingConfig(transform={"a": ("log", 1)}).transform == {"a": ["log", 1]}


@pytest.fixture(scope="module")
def noisy():
    train = fi.Dataset.generate(1200, 3, noise=fi.AR1Noise(), progress=False)
    test = fi.Dataset.generate(300, 4, noise=fi.AR1Noise(), progress=False)
    return train, test


def gaussian_map(transform, train, seed=0, **kw):
    m = fi.InverseMap.dense((32, 32), output_activation=None, seed=seed)
    return m.fit(train.d, train.theta, loss="gaussian_nll", scaling="standard", epochs=15, progress=False,
                 features="fourier", trained_on=train, transform=transform, targets=["theta0", "theta1"], **kw)


def test_a_gaussian_map_learned_in_logit_stays_inside_the_prior(noisy, tmp_path):
    train, test = noisy
    lower, upper = np.asarray(train.config["prior"]["lower"]), np.asarray(train.config["prior"]["upper"])
    m = gaussian_map("support", train)
    assert m.transform.kinds == ("logit", "logit") and m.parts.training["transform"] == "support"
    np.testing.assert_array_equal(m.transform.lower, lower)
    # series far from anything trained on (noise ten times the study's): still inside
    rough = test.u + 10 * (test.d - test.u)
    mean, cov = m.predict(rough, return_cov=True)
    assert np.all((mean > lower) & (mean < upper)) and np.all(np.linalg.eigvalsh(cov) > 0)
    lo, hi = m.interval(rough, 0.95)
    assert np.all((lower <= lo) & (lo <= mean) & (mean <= hi) & (hi <= upper))
    draws = m.sample(rough[:20], 200, seed=1)
    assert np.all((draws >= lower) & (draws <= upper))
    # the same network without the transform draws outside the box on such series
    plain = gaussian_map(None, train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fi.UncalibratedWarning)
        plain.calibration = None
        outside = plain.sample(rough[:20], 200, seed=1)
    assert np.any((outside < lower) | (outside > upper))
    # intervals are the z-intervals mapped back: exact quantiles of the law in z
    mz, cz = m.predict(test.d[:5], return_cov=True, latent=True)
    lz, hz = m.calibration.interval(mz, cz, 0.8)
    lo, hi = m.interval(test.d[:5], 0.8)
    np.testing.assert_allclose(lo, m.transform.inverse(lz))
    np.testing.assert_allclose(hi, m.transform.inverse(hz))
    np.testing.assert_allclose(m.predict(test.d[:5]), m.transform.inverse(mz))
    # the file keeps the transform: the same numbers after loading
    m.save(tmp_path / "m.safetensors")
    back = fi.InverseMap.load(tmp_path / "m.safetensors")
    assert back.transform.to_json() == m.transform.to_json()
    assert back.describe()["transform"]["kinds"] == ["logit", "logit"]
    np.testing.assert_array_equal(back.interval(rough[:10], 0.9)[0], m.interval(rough[:10], 0.9)[0])
    np.testing.assert_array_equal(back.predict(rough[:10], return_cov=True)[1], m.predict(rough[:10],
                                                                                          return_cov=True)[1])


def test_calibrated_in_the_learned_coordinate_it_covers_fresh_series(noisy):
    train, test = noisy
    m = gaussian_map("support", train, calibration_split=0.3)
    report = fi.diagnose(m, test.d, test.theta, n_samples=200, names=["theta0", "theta1"])
    n = len(test.theta)
    for level, row in report["coverage_at_report_levels"].items():
        p = float(level.rstrip("%")) / 100
        tol = 3 * np.sqrt(p * (1 - p) * (1 / n + 1 / 360)) + 0.02
        for name in ("theta0", "theta1", "joint"):
            assert abs(row[name] - p) < tol, (level, name, row[name])
    assert report["recovery"]["r2"]["theta0"] > 0.3


def test_transforms_refuse_what_they_cannot_do(noisy):
    train, _ = noisy
    with pytest.raises(ValueError, match="is outside the support of its transform"):
        fi.InverseMap.dense((8,), output_activation=None).fit(
            train.d, train.theta, loss="gaussian_nll", epochs=1, progress=False, transform=["log", ("logit", 0.5, 0.9)])
    cov = np.tile(np.eye(2) * 0.01, (len(train), 1, 1))
    with pytest.raises(ValueError, match="not 'local_gaussian'"):
        fi.InverseMap.dense((8,), output_activation=None).fit(train.d, train.theta, cov=cov, scaling="standard",
                                                               epochs=1, progress=False, transform=["log", "log"])


def test_a_point_map_and_a_stream_learn_in_the_transform():
    src = fi.Simulations(300, block=150, seed=2, n_threads=1)
    m = fi.InverseMap.dense((16,), seed=1).fit(src, epochs=2, progress=False, transform="support")
    assert m.transform.kinds == ("logit", "logit")
    x, y = src.validation_set(50)
    pred = m.predict(x)
    box = src.describe()["prior"]
    assert np.all((pred > box["lower"]) & (pred < box["upper"]))
    # the network regresses the scaled logits: its raw output, unscaled, is g(θ̂)
    raw = m.network.predict(m.prepare_input(x), 1).astype(np.float64)
    np.testing.assert_allclose(pred, m.transform.inverse(m.parts.scaling.inverse(raw)))


def test_the_command_line_trains_in_the_transform(tmp_path, capsys):
    from fhn_inverse.cli import main

    data = tmp_path / "d.npz"
    assert main(["simulate", str(data), "-n", "300", "--seed", "1", "--quiet"]) == 0
    model = tmp_path / "m.safetensors"
    assert main(["train", str(data), str(model), "--arch", "dense", "--epochs", "2", "--transform", "support",
                 "--quiet"]) == 0
    m = fi.InverseMap.load(model)
    assert m.transform.kinds == ("logit", "logit")
    capsys.readouterr()
    assert main(["info", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["transform"]["kinds"] == ["logit", "logit"]


def test_estimates_and_calibrated_bounds_never_leave_a_bounded_prior(noisy):
    """The property, with transform="auto": a Gaussian-NLL map trained on data that record their
    prior learns in logit coordinates; a point map learns θ itself, and its sigmoid output stays
    within its training labels. Inputs far from the training data (series of parameters outside the
    prior, noise ten times as strong, white noise, constants, scaled series) included."""
    train, test = noisy
    prior = fi.default_prior(fi.FitzHughNagumo())
    lower, upper = np.asarray(prior.lower), np.asarray(prior.upper)
    gauss = fi.InverseMap.dense((32, 32), output_activation=None, seed=5).fit(
        train.d, train.theta, loss="gaussian_nll", scaling="standard", epochs=10, progress=False, trained_on=train,
        transform="auto")
    point = fi.InverseMap.dense((32, 32), seed=5).fit(train.d, train.theta, epochs=10, progress=False,
                                                      trained_on=train, transform="auto")
    assert gauss.transform.kinds == ("logit", "logit") and point.transform is None
    rng = np.random.default_rng(11)
    outside, status = fi.simulate(np.column_stack([rng.uniform(-0.5, 2.0, 40), rng.uniform(-0.5, 2.0, 40)]),
                                  return_status=True)
    outside = outside[status == 0]
    inputs = [test.d, test.u + 10 * (test.d - test.u), rng.normal(0, 2, (60, 1000)), np.full((5, 1000), 1.5),
              3 * test.d[:50], -test.d[:50], outside]
    for x in inputs:
        for m in (gauss, point):
            est = m.predict(x)
            assert np.all((est > lower) & (est < upper)), m.head
        for level in (0.5, 0.9, 0.99):
            lo, hi = gauss.interval(x, level)
            assert np.all((lower <= lo) & (lo <= hi) & (hi <= upper))
        draws = gauss.sample(x[:10], 100, seed=3)
        assert np.all((draws >= lower) & (draws <= upper))


def test_an_ensemble_mixes_its_members_in_their_coordinate(noisy):
    train, test = noisy
    lower, upper = np.asarray(train.config["prior"]["lower"]), np.asarray(train.config["prior"]["upper"])
    members = [gaussian_map("support", train, seed=s, calibration_split=None) for s in (1, 2)]
    ens = fi.Ensemble(members)
    assert ens.transform.to_json() == members[0].transform.to_json()
    rough = test.u + 10 * (test.d - test.u)
    with pytest.warns(fi.UncalibratedWarning):
        lo, hi = ens.interval(rough, 0.95)
    assert np.all((lower <= lo) & (lo <= hi) & (hi <= upper))
    with pytest.warns(fi.UncalibratedWarning):
        draws = ens.sample(rough[:10], 100, seed=2)
    assert np.all((draws >= lower) & (draws <= upper))
    ens.calibrate(test.d[:150], test.theta[:150])
    lo, hi = ens.interval(rough, 0.9)
    assert np.all((lower <= lo) & (lo <= hi) & (hi <= upper))
    assert np.all((ens.sample(rough[:10], 50, seed=2) >= lower))
    report = fi.diagnose(ens, test.d[150:], test.theta[150:], n_samples=100, names=["theta0", "theta1"])
    assert report["recovery"]["r2"]["theta0"] > 0.3
    other = gaussian_map(None, train, seed=3, calibration_split=None)
    with pytest.raises(ValueError, match="different coordinates"):
        fi.Ensemble([members[0], other]).transform  # noqa: B018


def test_the_pytorch_export_maps_back_as_predict_does(noisy):
    torch = pytest.importorskip("torch")
    train, test = noisy
    m = gaussian_map("support", train)
    feats = fi.features(test.d[:20], "fourier").astype(np.float32)
    mean, cov = m.predict(test.d[:20], return_cov=True)
    with torch.no_grad():
        tm, tc = m.to_torch(return_cov=True)(torch.from_numpy(feats))
        tp = m.to_torch()(torch.from_numpy(feats))
    np.testing.assert_allclose(tm.numpy(), mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(tc.numpy(), cov, rtol=1e-3, atol=1e-8)
    np.testing.assert_allclose(tp.numpy(), mean, rtol=1e-4, atol=1e-5)
