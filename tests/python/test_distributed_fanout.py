"""Ensembles, hyperparameter searches and the study's experiments fanned out over Dask workers:
the same members, scores and results as one process."""

import functools
import json
from dataclasses import replace

import numpy as np
import pytest

distributed = pytest.importorskip("dask.distributed")

import fhn_inverse as fi  # noqa: E402
from fhn_inverse import distributed as fid  # noqa: E402
from fhn_inverse import metrics  # noqa: E402
from fhn_inverse.nn import files  # noqa: E402
from fhn_inverse.study import experiments  # noqa: E402
from fhn_inverse.cli import main  # noqa: E402

# dask.distributed's servers leave sockets for the collector when a cluster closes
pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

# what results.json records of the machine and the clock, not of the experiment
RUN_FIELDS = ("elapsed_s", "machine", "load_average")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def data():
    return fi.Dataset.generate(300, 1, noise=fi.AR1Noise.study(), progress=False)


def untrained(members=3, seed=0):
    return fi.Ensemble.like(fi.InverseMap.dense((16,), seed=seed), members)


def test_fit_ensemble_gives_the_members_of_one_process(client, data):
    ens = untrained()
    first = ens.members[0]
    assert fid.fit_ensemble(ens, data.d, data.theta, client=client, epochs=2) is ens
    assert ens.members[0] is first and first.built  # trained in place, as Ensemble.fit trains them
    local = untrained().fit(data.d, data.theta, epochs=2, progress=False)  # all threads here, one there
    for a, b in zip(ens.members, local.members):
        assert a.network.params.tobytes() == b.network.params.tobytes()
        assert a.history["loss"] == b.history["loss"] and a.describe()["training"]["n_threads"] == 1
    assert np.array_equal(ens.predict(data.d), local.predict(data.d))
    # with the thread count recorded the same, the model files are the same bytes
    one_thread = untrained().fit(data.d, data.theta, epochs=2, progress=False, n_threads=1)
    assert [files.file_bytes(m) for m in ens.members] == [files.file_bytes(m) for m in one_thread.members]


def test_fit_ensemble_on_a_stream_gives_the_members_of_one_process(client):
    src = fi.Simulations(300, block=150, seed=3)
    local = fi.Ensemble.like(fi.InverseMap.dense((16,), seed=0), 2).fit(src, epochs=2, progress=False)
    remote = fid.fit_ensemble(fi.Ensemble.like(fi.InverseMap.dense((16,), seed=0), 2), src, None, epochs=2,
                              prefetch=2, client=client)
    for a, b in zip(local.members, remote.members):
        assert a.network.params.tobytes() == b.network.params.tobytes()
    assert src.n_threads == 0  # the caller's stream is left as it was
    with pytest.raises(ValueError, match="a stream brings its own labels"):
        fid.fit_ensemble(fi.Ensemble.like(fi.InverseMap.dense((16,), seed=0), 2), src, np.zeros((300, 2)),
                         client=client)


def test_fit_ensemble_seeds_and_config_as_ensemble_fit(client, data, tmp_path):
    config = fi.TrainingConfig(epochs=2, batch_size=64, seed=7, n_threads=2)
    ens = fid.fit_ensemble(untrained(2), data.d, data.theta, config, client=client, lr=3e-3)
    local = untrained(2).fit(data.d, data.theta, config, progress=False, lr=3e-3)
    assert [m.describe()["training"]["seed"] for m in ens.members] == [7, 8]
    ens.save(tmp_path / "a")
    local.save(tmp_path / "b")  # n_threads=2 in both: identical files
    for i in range(2):
        assert (tmp_path / "a" / f"member_{i}.safetensors").read_bytes() == \
            (tmp_path / "b" / f"member_{i}.safetensors").read_bytes()
    seeded = fid.fit_ensemble(untrained(2), data.d, data.theta, client=client, epochs=2, seed=40)
    assert [m.describe()["training"]["seed"] for m in seeded.members] == [40, 41]
    local = untrained(2).fit(data.d, data.theta, epochs=2, seed=40, progress=False)
    assert np.array_equal(seeded.predict(data.d), local.predict(data.d))


def test_fit_ensemble_calibrates_a_gaussian_mixture_as_ensemble_fit(client, data):
    def gaussian(k):
        return fi.Ensemble.like(fi.InverseMap.dense(units=[8], output_activation=None, seed=0), k)

    ens = fid.fit_ensemble(gaussian(2), data.d, data.theta, client=client, epochs=2, loss="gaussian_nll")
    local = gaussian(2).fit(data.d, data.theta, epochs=2, loss="gaussian_nll", n_threads=1, progress=False)
    assert ens.calibration is not None and ens.calibration == local.calibration
    assert ens.calibration.n == round(0.1 * len(data.theta))


def test_map_fits_scores_every_candidate_as_one_process(client, data):
    x, y, xv, yv = data.d[:240], data.theta[:240], data.d[240:], data.theta[240:]
    candidates = [{"units": [16]}, {"lr": 3e-3, "batch_size": 64}, {"units": [8, 8], "seed": 3}]
    rows = fid.map_fits(fi.InverseMap.dense, x, y, candidates, client=client, validation=(xv, yv), epochs=2)
    assert [r["params"] for r in rows] == candidates  # in input order
    for cand, row in zip(candidates, rows):
        arch = {k: v for k, v in cand.items() if k == "units"}
        train = {k: v for k, v in cand.items() if k != "units"}
        model = fi.InverseMap.dense(**arch).fit(x, y, epochs=2, progress=False, **train)
        pred = model.predict(xv)
        report = metrics.report(yv, pred)
        assert row == {"params": cand, "n_params": model.n_params, "epochs": 2,
                       "val_mse": float(np.mean((pred - yv) ** 2)), "val_r2_mean": report["r2_mean"],
                       "val_median_ape": report["median_ape_all"], "val": report}
    # a fraction holds out the end of X and Y: the same split, the same numbers
    assert fid.map_fits(fi.InverseMap.dense, data.d, data.theta, candidates, client=client, validation=0.2,
                        epochs=2) == rows


def test_map_fits_gives_the_accuracy_searchs_numbers(client, tmp_path):
    setup = experiments.Setup.quick()
    run = experiments.accuracy(tmp_path, setup, trials=2, progress=False)
    n = run["results"]["n"]
    pool, _ = experiments._data(replace(setup, train_sizes=(n,)), False)
    x, y, n_val = pool.d[:n], pool.theta[:n], max(1, n // 5)
    search = replace(setup.training, validation=None, early_stopping=None)
    for family, make in (("dense", fi.InverseMap.dense), ("cnn", fi.InverseMap.cnn)):
        trials = [t for t in run["results"]["trials"] if t["family"] == family]
        rows = fid.map_fits(functools.partial(make, seed=search.seed), x[:-n_val], y[:-n_val],
                            [t["params"] for t in trials], search, validation=(x[-n_val:], y[-n_val:]),
                            client=client)
        assert [(r["n_params"], r["val_r2_mean"], r["val_median_ape"]) for r in rows] == \
            [(t["n_params"], t["val_r2_mean"], t["val_median_ape"]) for t in trials]


@pytest.mark.parametrize("candidates, error, match", [
    ([{"lr": 1e-3}, {"foo": 1}], ValueError, r"candidate 1 .*unknown setting\(s\) \['foo'\]"),
    ([{"lr": -1.0}], ValueError, r"candidate 0 .*lr must be a finite number > 0"),
    ([{"units": [0]}], ValueError, r"candidate 0 .*units must be >= 1"),
    ([3], TypeError, "candidate 0 must be a dict"),
    ({"lr": 1e-3}, TypeError, "candidates must be a list of dicts"),
    ([], ValueError, "at least one"),
])
def test_map_fits_refuses_a_bad_candidate_before_training(client, data, candidates, error, match):
    with pytest.raises(error, match=match):
        fid.map_fits(fi.InverseMap.dense, data.d, data.theta, candidates, client=client, validation=0.2)


def strip(result: dict) -> dict:
    """results.json without what it records of the machine and the clock, and of the thread count."""
    out = {k: v for k, v in result.items() if k not in RUN_FIELDS}
    out["setup"] = {**out["setup"], "training": {**out["setup"]["training"], "n_threads": None}}
    return out


def test_reproduce_writes_every_run_folder_as_one_process(client, tmp_path):
    names = ["train_size", "noise"]
    results = fid.reproduce(names, tmp_path / "fanout", client=client, quick=True)
    assert [r["experiment"] for r in results] == names
    for name, result in zip(names, results):
        written = json.loads((tmp_path / "fanout" / name / "results.json").read_text())
        assert written == result and result["setup"]["training"]["n_threads"] == 1
        local = experiments.reproduce(name, tmp_path / "local" / name, quick=True, progress=False)
        assert strip(result) == strip(local)
        assert sorted(p.name for p in (tmp_path / "fanout" / name).iterdir()) == \
            sorted(p.name for p in (tmp_path / "local" / name).iterdir())


def test_cli_reproduce_on_a_cluster(client, tmp_path, capsys):
    assert main(["reproduce", "noise", "--quick", "--quiet", "--out", str(tmp_path),
                 "--scheduler", client.scheduler.address]) == 0
    assert "wrote" in capsys.readouterr().out
    local = experiments.reproduce("noise", tmp_path / "local", quick=True, progress=False)
    assert strip(json.loads((tmp_path / "noise" / "results.json").read_text())) == strip(local)
    with pytest.raises(SystemExit) as exit_:
        main(["reproduce", "noise", "--quick", "--out", str(tmp_path), "--workers", "0"])
    assert exit_.value.code == 2 and "workers must be >= 1, got 0" in capsys.readouterr().err


def test_errors_name_the_value_and_its_range(data, tmp_path):
    # checked before any cluster starts
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        fid.fit_ensemble(untrained(), data.d, data.theta, workers=0)
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        fid.map_fits(fi.InverseMap.dense, data.d, data.theta, [{}], validation=0.2, workers=0)
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        fid.reproduce("noise", tmp_path, workers=0)
    with pytest.raises(TypeError, match="ensemble must be an Ensemble"):
        fid.fit_ensemble(fi.InverseMap.dense(), data.d, data.theta, workers=1)
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['epoch'\]"):
        fid.fit_ensemble(untrained(), data.d, data.theta, workers=1, epoch=2)
    with pytest.raises(ValueError, match="experiment must be one of"):
        fid.reproduce(["noise", "nois"], tmp_path)
    with pytest.raises(ValueError, match="each experiment may come once"):
        fid.reproduce(["noise", "noise"], tmp_path)
    with pytest.raises(ValueError, match="validation must be"):
        fid.map_fits(fi.InverseMap.dense, data.d, data.theta, [{}], validation=1.5)
