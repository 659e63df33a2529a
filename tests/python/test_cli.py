"""The command line: the main job at a small size, simulate → train → predict, configs, errors."""

import json

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import cli


def test_demo_reports_and_writes(tmp_path, capsys):
    assert cli.main(["demo", "--out", str(tmp_path), "--train-size", "300", "--test-size", "200",
                     "--epochs", "8", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "clean/noisy" in out and "Median-APE" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["results"]["clean/clean"]["r2"]["theta0"] > 0.5
    for name in ("loss_curves.png", "prior_samples.png", "models/cnn_train-noisy.safetensors"):
        assert (tmp_path / name).exists()


def test_simulate_train_predict_round_trip(tmp_path, capsys):
    data = tmp_path / "data.npz"
    model = tmp_path / "map.safetensors"
    assert cli.main(["simulate", str(data), "-n", "300", "--quiet"]) == 0
    config = tmp_path / "run.toml"
    config.write_text("epochs = 3\nbatch_size = 64\n")
    assert cli.main(["train", str(data), str(model), "--config", str(config), "--quiet"]) == 0
    import fhn_inverse as fi

    series = fi.Dataset.load(data).d[:5]
    np.savetxt(tmp_path / "series.csv", series, delimiter=",")
    assert cli.main(["predict", str(model), str(tmp_path / "series.csv"), "-o", str(tmp_path / "pred.csv")]) == 0
    pred = np.loadtxt(tmp_path / "pred.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(pred[:, 0], np.arange(5))  # the series' IDs: their rows
    np.testing.assert_allclose(pred[:, 1:3], fi.InverseMap.load(model).predict(series), rtol=1e-6)
    assert (tmp_path / "pred.csv").read_text().splitlines()[0] == "id,theta0,theta1,ood"
    np.testing.assert_array_equal(pred[:, 3], 0)  # series like the training data's: none flagged
    assert fi.InverseMap.load(model).parts.training["epochs"] == 3
    # --fit: the ODE fitted to noise-free series from the (barely trained) map's estimates
    theta = fi.Dataset.load(data).theta[:5]
    np.save(tmp_path / "clean.npy", fi.Dataset.load(data).u[:5])
    assert cli.main(["predict", str(model), str(tmp_path / "clean.npy"), "--fit", "-o", str(tmp_path / "fit.csv")]) == 0
    header = (tmp_path / "fit.csv").read_text().splitlines()[0].split(",")
    assert header == ["id", "theta0", "theta1", "theta0_sd", "theta1_sd", "theta0_lo95", "theta1_lo95",
                      "theta0_hi95", "theta1_hi95", "noise_sd", "noise_rho", "fit_mse", "fit_flag", "ppc_p",
                      "residual_sd", "ood"]
    fitted = np.loadtxt(tmp_path / "fit.csv", delimiter=",", skiprows=1)[:, 1:]
    assert np.all(fitted[:, header.index("fit_mse") - 1] < 1e-12)
    np.testing.assert_allclose(fitted[:, :2], theta, atol=1e-5)
    # series of another length: a clear error saying what the map expects
    np.save(tmp_path / "short.npy", fi.Dataset.load(data).u[:2, :500])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli.main(["predict", str(model), str(tmp_path / "short.npy"), "--fit"])
    assert "the map takes series of 1000 points at t = 0, 0.2" in capsys.readouterr().err


@pytest.mark.parametrize("argv, match", [
    (["simulate", "x.npz", "-n", "0"], "n must be >= 1, got 0"),
    (["reproduce", "everything"], "invalid choice"),
    (["demo", "--epochs", "many"], "invalid int value"),
])
def test_bad_arguments_exit_with_a_message(argv, match, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2 and match in capsys.readouterr().err


def test_bad_config(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("colour = 'blue'\n")
    with pytest.raises(SystemExit):
        cli.main(["simulate", str(tmp_path / "x.npz"), "--config", str(config)])
    assert "unknown option 'colour'" in capsys.readouterr().err


def test_predict_writes_intervals_for_maps_with_a_covariance(tmp_path, capsys):
    import fhn_inverse as fi

    data, model = tmp_path / "data.npz", tmp_path / "nll.safetensors"
    assert cli.main(["simulate", str(data), "-n", "300", "--quiet"]) == 0
    assert cli.main(["train", str(data), str(model), "--arch", "dense", "--epochs", "3", "--loss", "gaussian_nll",
                     "--quiet"]) == 0
    series = fi.Dataset.load(data).d[:4]
    np.save(tmp_path / "s.npy", series)
    assert cli.main(["predict", str(model), str(tmp_path / "s.npy"), "--level", "0.9", "-o",
                     str(tmp_path / "p.csv")]) == 0
    header = (tmp_path / "p.csv").read_text().splitlines()[0].split(",")
    assert header == ["id", "theta0", "theta1", "theta0_sd", "theta1_sd", "theta0_lo90", "theta1_lo90",
                      "theta0_hi90", "theta1_hi90", "ood"]
    pred = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1)[:, 1:-1]
    m = fi.InverseMap.load(model)
    mean, cov = m.predict(series, return_cov=True)
    lo, hi = m.interval(series, 0.9)
    assert m.calibration is not None  # trained maps calibrate themselves: the sd is the calibrated one
    lo68, hi68 = m.calibration.interval(mean, cov, 0.6826894921370859)
    np.testing.assert_allclose(pred, np.column_stack([mean, (hi68 - lo68) / 2, lo, hi]), rtol=1e-5)
    box = m.prior
    assert np.all(lo >= box.lower) and np.all(hi <= box.upper)  # inside the prior's support
    with pytest.raises(SystemExit) as err:
        cli.main(["predict", str(model), str(tmp_path / "s.npy"), "--level", "1.5"])
    assert err.value.code == 2 and "--level must be in (0, 1)" in capsys.readouterr().err


def test_reproduce_prints_whole_json_or_a_summary(tmp_path, capsys, monkeypatch):
    from fhn_inverse.study import experiments

    results = {"small": {"a": 0.123456789}}
    monkeypatch.setattr(experiments, "reproduce", lambda *a, **k: {"results": results, "elapsed_s": 1.0})
    assert cli.main(["reproduce", "noise", "--out", str(tmp_path), "--quick", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[: out.index("\nwrote")]) == results
    results.update(big={f"cell{i}": 0.123456789 for i in range(400)})
    assert cli.main(["reproduce", "noise", "--out", str(tmp_path), "--quick", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("noise results: small, big (") and "report" in out


def test_reproduce_all_runs_every_experiment_into_its_folder(tmp_path, capsys, monkeypatch):
    from fhn_inverse.study import experiments

    calls = []

    def fake(name, out, **kwargs):
        calls.append((name, out, kwargs["quick"]))
        return {"results": {"speed": {}} if name == "speed" else {"x": 1}, "elapsed_s": 0.1}

    monkeypatch.setattr(experiments, "reproduce", fake)
    monkeypatch.setattr("fhn_inverse.study.speed.table", lambda results: "speed table")
    assert cli.main(["reproduce", "all", "--out", str(tmp_path), "--quick", "--quiet"]) == 0
    assert [c[0] for c in calls] == list(experiments.EXPERIMENTS)
    assert all(out == tmp_path / name and quick for name, out, quick in calls)
    text = capsys.readouterr().out
    assert "covariance results: x" in text and "speed table" in text


def test_results_json_records_machine_and_load(tmp_path):
    from fhn_inverse.study import experiments

    result = experiments.reproduce("noise", tmp_path / "noise", quick=True, progress=False)
    saved = json.loads((tmp_path / "noise" / "results.json").read_text())
    assert saved["machine"] == result["machine"] and saved["machine"]["cores"] >= 1
    assert saved["machine"]["fhn_inverse"] and saved["machine"]["cpu"]
    assert set(saved["load_average"]) == {"start", "end"} and saved["elapsed_s"] > 0


def test_one_version_everywhere():
    from importlib.metadata import version

    # pyproject.toml reads it from __init__.py, CMake too (the extension carries it)
    assert version("fhn-inverse") == fi.__version__ == fi._core.__version__


def test_a_warning_is_one_line_on_stderr(tmp_path, capsys):
    """predict with an uncalibrated Gaussian head says so in one line, not with a file path and a
    source line."""
    data = fi.Dataset.generate(60, seed=0, noise=fi.AR1Noise(), progress=False)
    m = fi.InverseMap.dense((8,), output_activation=None).fit(data.d, data.theta, loss="gaussian_nll",
                                                              calibration_split=None, epochs=1, progress=False)
    m.save(tmp_path / "m.safetensors")
    np.save(tmp_path / "s.npy", data.d[:3])
    capsys.readouterr()
    import warnings

    with warnings.catch_warnings():  # the suite makes warnings errors; a user's shell shows them
        warnings.simplefilter("default")
        assert cli.main(["predict", str(tmp_path / "m.safetensors"), str(tmp_path / "s.npy"), "-o",
                         str(tmp_path / "p.csv")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1 and all(line.startswith("fhn-inverse predict: warning: ") for line in err), err
    assert "calibrat" in err[0] and ".py" not in err[0]


def test_a_config_that_asks_for_the_fit_is_overridden_by_no_fit(tmp_path, capsys):
    data = fi.Dataset.generate(40, seed=0, noise=fi.AR1Noise(), progress=False)
    m = fi.InverseMap.dense((8,)).fit(data.d, data.theta, epochs=1, progress=False)
    m.save(tmp_path / "m.safetensors")
    np.save(tmp_path / "s.npy", data.d[:2])
    (tmp_path / "c.toml").write_text("fit = true\nlevel = 0.8\n")
    assert cli.main(["predict", str(tmp_path / "m.safetensors"), str(tmp_path / "s.npy"), "--config",
                     str(tmp_path / "c.toml"), "--no-fit", "-o", str(tmp_path / "p.csv")]) == 0
    header = (tmp_path / "p.csv").read_text().splitlines()[0]
    assert "fit_mse" not in header and header.startswith("id,theta0,theta1")
    (tmp_path / "c.toml").write_text("fit = 1\n")
    with pytest.raises(SystemExit):
        cli.main(["predict", str(tmp_path / "m.safetensors"), str(tmp_path / "s.npy"), "--config",
                  str(tmp_path / "c.toml")])
    assert "is a flag: it must be true or false" in capsys.readouterr().err
