"""The study's experiments at quick size: real properties of their results, and their files."""

import json

import pytest

import fhn_inverse as fi
from fhn_inverse.study import experiments, speed


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
    test = fi.test_set(setup.seed, noise=fi.AR1Noise.study(), size=setup.test_size, progress=False)  # the defaults
    rep = fi.metrics.report(test.theta, model.predict(test.u), experiments.THETA_NAMES)
    assert rep["r2"]["theta0"] == pytest.approx(result["results"]["table"]["clean/clean"][str(large)]["r2"]["theta0"])


def test_resimulation_errors_split_and_order(tmp_path):
    result = experiments.reproduce("resimulation", tmp_path, quick=True, progress=False)["results"]["table"]
    for row in result.values():
        assert row["squared_bias_mean"] + row["c_mse_mean"] == pytest.approx(row["mse_mean"])
        assert row["failed_simulations"] == 0
        # the pooled bias is the mean of the per-series biases: its square is at most their
        # squares' mean; the pooled split adds up to the mean MSE
        for r in (row, row["true_parameters"]):
            assert r["squared_bias_pooled"] <= r["squared_bias_mean"] * (1 + 1e-12)
            assert r["squared_bias_pooled"] + r["c_mse_pooled"] == pytest.approx(r["mse_mean"])
    # the true parameters re-simulate noise-free test series exactly
    for regime in ("clean/clean",):
        floor = result[regime]["true_parameters"]
        assert floor["mse_mean"] == 0.0 and floor["squared_bias_pooled"] == 0.0
    # Data with noise of std >= 0.19 cannot be re-simulated better than its noise variance, and
    # the true parameters leave exactly the noise
    assert result["noisy/noisy"]["c_mse_median"] > 0.19**2
    assert result["noisy/noisy"]["true_parameters"]["c_mse_median"] > 0.19**2
    # the least-squares fit started from the map's estimates: never a worse fit than those, and
    # on noise-free series a fit to rounding for most of them
    for row in result.values():
        fitted = row["fitted"]
        assert fitted["failed_simulations"] == 0
        assert fitted["mse_mean"] <= row["mse_mean"] * (1 + 1e-9)
        assert set(fitted["r2"]) == {"theta0", "theta1"}
    assert result["clean/clean"]["fitted"]["mse_median"] < 1e-10 < result["clean/clean"]["mse_median"]
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


def test_ensemble_members_in_experiments(tmp_path):
    setup = experiments.Setup.quick()
    setup = experiments.replace(setup, train_sizes=(250,), training=experiments.replace(setup.training, members=2))
    result = experiments.joint(tmp_path, setup, kinds=("time",), progress=False)["results"]["table"]
    assert result["250"]["time"]["r2"]["theta0"] > 0.5
    members = sorted((tmp_path / "models" / "cnn_time_N250").glob("member_*.safetensors"))
    assert [p.name for p in members] == ["member_0.safetensors", "member_1.safetensors"]
    with pytest.raises(ValueError, match="members must be >= 1"):
        experiments.reproduce("joint", tmp_path, quick=True, progress=False, members=0)


def test_resimulation_best_fitting_member(tmp_path):
    setup = experiments.Setup.quick()
    setup = experiments.replace(setup, training=experiments.replace(setup.training, members=2))
    table = experiments.resimulation(tmp_path, setup, progress=False)["results"]["table"]
    for row in table.values():
        best = row["best_fitting"]
        # the ensemble mean is one of the candidates: the chosen fit is never worse per series
        assert best["mse_mean"] <= row["mse_mean"] + 1e-12
        assert best["mse_median"] <= row["mse_median"] + 1e-12
        assert sum(best["chosen"]) == setup.test_size
        assert len(best["chosen"]) == 3  # two members and their mean
        # the fit starts from the best-fitting candidate and never ends worse
        assert row["fitted"]["mse_mean"] <= best["mse_mean"] * (1 + 1e-9)
        assert 0 <= row["fitted"]["restarted"] <= setup.test_size


def test_train_size_best_fitting_table_for_ensembles(tmp_path):
    setup = experiments.Setup.quick()
    setup = experiments.replace(setup, train_sizes=(250,),
                                training=experiments.replace(setup.training, members=2, epochs=4))
    results = experiments.train_size(tmp_path, setup, progress=False)["results"]
    for name in ("best_fitting", "fitted"):
        assert sorted(results[name]) == sorted(experiments.REGIMES)
        for regime, cells in results[name].items():
            row = cells["250"]
            assert 0 <= row["median_ape_all"] < 1 and row["r2_mean"] <= 1
            assert row != results["table"][regime]["250"]  # a different estimate
    # on noise-free series the least-squares fit recovers the parameters far better than the network
    assert results["fitted"]["clean/clean"]["250"]["median_ape_all"] < \
        0.1 * results["table"]["clean/clean"]["250"]["median_ape_all"]


def test_speed_table_quick(tmp_path):
    result = experiments.reproduce("speed", tmp_path, quick=True, progress=False)["results"]
    rows = {r["width"]: r for r in result["rows"]}
    assert sorted(rows) == [32, 128, 512, 2048]
    assert rows[2048]["n_params"] == speed.STUDY[2048]["n_params"] == 31_428_610
    for r in rows.values():
        assert r["extrapolated"] and r["samples_per_s"] > 0
        assert r["train_s_1M"] == pytest.approx(1e6 / r["samples_per_s"])
        assert 0 < r["fraction_of_sgemm"] < 2
    # the work per sample grows with the width: the widest map trains the fewest samples/s
    assert rows[2048]["samples_per_s"] < rows[128]["samples_per_s"]
    assert (tmp_path / "speed.png").stat().st_size > 1000
    assert "Cerebras" in speed.table(result)
