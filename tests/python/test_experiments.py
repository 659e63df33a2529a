"""The study's experiments at quick size: real properties of their results, and their files."""

import json

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse import experiments


@pytest.fixture(scope="module")
def train_size_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("train_size")
    return out, experiments.reproduce("train_size", out, quick=True, progress=False)


def test_train_size_learns_and_more_data_is_not_worse(train_size_run):
    out, result = train_size_run
    table = result["results"]["table"]
    small, large = (str(n) for n in experiments.Setup.quick().train_sizes)
    assert set(table) == set(experiments.REGIMES)
    assert table["clean/clean"][large]["r2"]["theta0"] > 0.9
    assert table["clean/clean"][large]["r2_mean"] >= table["clean/clean"][small]["r2_mean"] - 0.02
    # Noise the map never saw costs accuracy; training on noise wins it back.
    assert table["clean/noisy"][large]["median_ape_all"] > table["clean/clean"][large]["median_ape_all"]
    assert table["noisy/noisy"][large]["median_ape_all"] < table["clean/noisy"][large]["median_ape_all"]
    assert json.loads((out / "results.json").read_text())["results"] == result["results"]
    assert (out / "median_ape_vs_n.png").stat().st_size > 1000


def test_saved_models_reproduce_the_reported_scores(train_size_run):
    out, result = train_size_run
    large = max(experiments.Setup.quick().train_sizes)
    model = fi.InverseMap.load(out / "models" / f"cnn_train-clean_N{large}.safetensors")
    setup = experiments.Setup.quick()
    _, test = fi.study_data(setup.seed, noise=fi.AR1Noise(), train_size=large, test_size=setup.test_size,
                            progress=False)
    rep = fi.metrics.report(test.theta, model.predict(test.u), experiments.THETA_NAMES)
    assert rep["r2"]["theta0"] == pytest.approx(result["results"]["table"]["clean/clean"][str(large)]["r2"]["theta0"])


def test_resimulation_errors_split_and_order(tmp_path):
    result = experiments.reproduce("resimulation", tmp_path, quick=True, progress=False)["results"]["table"]
    for regime, row in result.items():
        assert row["squared_bias_mean"] + row["c_mse_mean"] == pytest.approx(row["mse_mean"])
        assert row["failed_simulations"] == 0
    # Data with noise of std >= 0.19 cannot be re-simulated better than its noise variance.
    assert result["noisy/noisy"]["c_mse_median"] > 0.19**2
    assert len(list(tmp_path.glob("resimulated_*.png"))) == 3


def test_joint_inference_recovers_ode_parameters(tmp_path):
    result = experiments.reproduce("joint", tmp_path, quick=True, progress=False)["results"]["table"]
    large = str(max(experiments.Setup.quick().train_sizes))
    assert set(result[large]) == {"time", "fourier", "time+fourier"}
    assert result[large]["time+fourier"]["r2"]["theta0"] > 0.7
    assert set(result[large]["time"]["r2"]) == {"theta0", "theta1", "sigma", "rho"}


def test_accuracy_search_records_every_trial(tmp_path):
    result = experiments.accuracy(tmp_path, experiments.Setup.quick(), trials=2, progress=False)["results"]
    assert len(result["trials"]) == 4 and {t["family"] for t in result["trials"]} == {"dense", "cnn"}
    assert result["trials"][2]["n_params"] > 0
    for family in ("dense", "cnn"):
        assert result["best"][family]["test"]["r2_mean"] > 0.5


def test_noise_experiment_has_three_regimes(tmp_path):
    result = experiments.reproduce("noise", tmp_path, quick=True, progress=False)["results"]
    assert set(result["table"]) == set(experiments.REGIMES)


def test_unknown_experiment():
    with pytest.raises(ValueError, match="experiment must be one of"):
        experiments.reproduce("everything", "/nonexistent")
