"""Maps trained on series with features=: the file records the features, the grid and the targets'
names; predict takes raw series, checks their grid, and resamples them on request."""

import json
import warnings

import numpy as np
import pytest

import fhn_inverse as fi


@pytest.fixture(scope="module")
def data():
    return fi.Dataset.generate(240, 0, noise=fi.AR1Noise(), progress=False)


@pytest.fixture(scope="module")
def fourier_map(data):
    return fi.InverseMap.dense(units=[16], seed=1).fit(data.d, data.theta, epochs=2, features="fourier",
                                                       targets=("theta0", "theta1"), progress=False)


def test_the_map_makes_its_features_and_records_them(data, fourier_map, tmp_path):
    bare = fi.InverseMap.dense(units=[16], seed=1).fit(fi.features(data.d, "fourier"), data.theta, epochs=2,
                                                       progress=False)
    np.testing.assert_array_equal(fourier_map.predict(data.d), bare.predict(fi.features(data.d, "fourier")))
    assert fourier_map.inputs["features"] == "fourier" and fourier_map.inputs["targets"] == ["theta0", "theta1"]
    t0, dt, length = fourier_map.inputs["grid"]
    assert (t0, length) == (0.0, 1000) and dt == pytest.approx(0.2, rel=1e-12)
    fourier_map.save(tmp_path / "m.safetensors")
    back = fi.InverseMap.load(tmp_path / "m.safetensors")
    assert back.inputs == fourier_map.inputs
    np.testing.assert_array_equal(back.predict(data.d), fourier_map.predict(data.d))
    # float32, batch of 1
    np.testing.assert_allclose(back.predict(data.d[3]), fourier_map.predict(data.d)[3], rtol=1e-6)
    ens = fi.Ensemble([back, back])
    np.testing.assert_array_equal(ens.predict(data.d[:5]), back.predict(data.d[:5]))


def test_series_on_another_grid_are_refused_or_resampled(data, fourier_map):
    coarse, t_coarse = data.d[:, ::2], data.t[::2]
    with pytest.raises(ValueError, match=r"1000 points at t = 0, 0.2, …, 199.8 \(Δt = 0.2\); these have 500"):
        fourier_map.predict(coarse)
    with pytest.raises(ValueError, match=r"interpolate them onto the map's grid \(resample=True"):
        fourier_map.predict(coarse, t=t_coarse)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resampled = fourier_map.predict(coarse, t=t_coarse, resample=True)
    assert any("end values are held" in str(w.message) for w in caught)  # 199.8: half a step past 199.6
    direct = fourier_map.predict(np.stack([np.interp(data.t, t_coarse, row) for row in coarse]))
    np.testing.assert_array_equal(resampled, direct)
    # the map's own grid given as t: no resampling, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(fourier_map.predict(data.d, t=data.t), fourier_map.predict(data.d))
    shifted = data.t + 1.0
    with pytest.raises(ValueError, match="these have 1000 points at t = 1 … 200.8"):
        fourier_map.predict(data.d, t=shifted)
    with pytest.raises(ValueError, match="strictly increasing"):
        fourier_map.predict(data.d, t=data.t[::-1], resample=True)


def test_bad_uses_are_clear_errors(data, fourier_map, tmp_path):
    features = fi.features(data.d, "fourier")  # arrays that are not series: no grid to check times against
    plain = fi.InverseMap.dense(units=[8], seed=0).fit(features, data.theta, epochs=1, progress=False)
    with pytest.raises(ValueError, match="for maps trained on series"):
        plain.predict(features, t=data.t)
    with pytest.raises(ValueError, match="describe series"):
        fi.InverseMap.dense(units=[8]).fit(features, data.theta, epochs=1, t=data.t, progress=False)
    with pytest.raises(ValueError, match="features must be one of"):
        fi.InverseMap.dense(units=[8]).fit(data.d, data.theta, epochs=1, features="wavelet", progress=False)
    with pytest.raises(ValueError, match="need their times t="):
        fi.InverseMap.dense(units=[8]).fit(data.d[:, :500], data.theta, epochs=1, features="time", progress=False)
    with pytest.raises(ValueError, match="evenly spaced"):
        fi.InverseMap.dense(units=[8]).fit(data.d, data.theta, epochs=1, features="time", t=data.t ** 1.01,
                                           progress=False)
    with pytest.raises(ValueError, match="takes 'fourier' features"):
        fourier_map.fit(data.d, data.theta, epochs=1, features="time", progress=False)
    # a model file whose inputs record is damaged: refused, naming the file
    fourier_map.save(tmp_path / "m.safetensors")
    raw = (tmp_path / "m.safetensors").read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    header["__metadata__"]["inputs"] = json.dumps({"features": "fourier", "grid": [0, -0.2, 1000], "targets": None})
    header["__metadata__"].pop("header_sha256", None)  # a hand-edited header: no checksum to match
    body = json.dumps(header).encode()
    (tmp_path / "bad.safetensors").write_bytes(len(body).to_bytes(8, "little") + body + raw[8 + n:])
    with pytest.raises(ValueError, match=r"bad\.safetensors.*grid must be"):
        fi.InverseMap.load(tmp_path / "bad.safetensors")


def test_the_file_records_units_prior_noise_and_version(data, tmp_path):
    study = fi.Dataset.generate(60, 3, noise=fi.AR1Noise.study(), prior=fi.UniformPrior([0.1, 0.2], [0.9, 1.0]),
                                progress=False)
    m = fi.InverseMap.dense(units=[8]).fit(study.d, study.theta, epochs=1, features="time", t=study.t,
                                           targets=["theta0", "theta1"], units={"theta1": "mV"},
                                           trained_on=study, progress=False)
    assert m.units == {"theta0": "dimensionless", "theta1": "mV", "t": fi.nn.DEFAULT_UNITS["t"]}
    assert m.trained_on["size"] == 60 and m.trained_on["noise"]["law"] == "normal"
    m.save(tmp_path / "m.safetensors")
    back = fi.InverseMap.load(tmp_path / "m.safetensors")
    assert back.units == m.units and back.trained_on == m.trained_on
    # the recorded prior and noise are the objects the data came from: the same draws
    assert isinstance(back.prior, fi.UniformPrior)
    np.testing.assert_array_equal(back.prior.sample(50, 7), fi.UniformPrior([0.1, 0.2], [0.9, 1.0]).sample(50, 7))
    np.testing.assert_array_equal(back.noise.sample(4, 100, 5)[0], fi.AR1Noise.study().sample(4, 100, 5)[0])
    about = back.describe()
    assert about["version"] == fi.__version__ and about["inputs"]["grid"][2] == 1000
    assert about["targets"] == ["theta0", "theta1"] and about["epochs_trained"] == 1
    json.dumps(about)  # JSON-ready
    ens = fi.Ensemble([back, back])
    assert ens.prior is not None and ens.describe()["members"] == 2 and ens.units == m.units


def test_a_map_without_records_and_bad_records(data):
    m = fi.InverseMap.dense(units=[8]).fit(data.d, data.theta, epochs=1, progress=False)
    assert m.units is None and m.trained_on is None and m.prior is None and m.noise is None
    assert m.describe()["targets"] == ["theta0", "theta1"]
    kw = dict(epochs=1, features="time", targets=["theta0", "theta1"], progress=False)
    with pytest.raises(ValueError, match=r"units name \['sigma'\]"):
        fi.InverseMap.dense(units=[8]).fit(data.d, data.theta, units={"sigma": "mV"}, **kw)
    with pytest.raises(ValueError, match="units must be a dict"):
        fi.InverseMap.dense(units=[8]).fit(data.d, data.theta, units={"theta0": 1}, **kw)
    with pytest.raises(ValueError, match="JSON-serialisable"):
        fi.InverseMap.dense(units=[8]).fit(data.d, data.theta, trained_on={"x": object()}, **kw)
    with pytest.raises(TypeError, match="trained_on must be a Dataset or a dict"):
        fi.InverseMap.dense(units=[8]).fit(data.d, data.theta, trained_on=[1, 2], **kw)


def test_cli_info_says_what_a_model_is(data, tmp_path, capsys):
    from fhn_inverse.cli import main

    data[:80].save(tmp_path / "d.npz")
    assert main(["train", str(tmp_path / "d.npz"), str(tmp_path / "m.safetensors"), "--arch", "dense",
                 "--epochs", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["info", str(tmp_path / "m.safetensors")]) == 0
    text = capsys.readouterr().out
    assert "1000 points at t = 0 + 0.2·k" in text and "80 noisy series" in text and '"kind": "ar1"' in text
    assert main(["info", str(tmp_path / "m.safetensors"), "--json"]) == 0
    about = json.loads(capsys.readouterr().out)
    assert about["trained_on"]["series"] == "noisy" and about["units"]["theta0"] == "dimensionless"
