"""The fixed test set (the same series for every experiment, disjoint from every training pool),
the study's noise law in the experiments, and experiments over several training seeds."""

import json

import numpy as np
import pytest

import fhn_inverse as fi
from fhn_inverse.study import experiments, report


def test_fixed_test_set_is_one_set_disjoint_from_every_pool():
    noise = fi.AR1Noise()
    fixed = fi.test_set(0, noise=noise, size=300, progress=False)
    for n in (500, 8000):
        pool, test = fi.study_data(0, noise=noise, train_size=n, test_size=300, fixed_test=True, progress=False)
        np.testing.assert_array_equal(test.d, fixed.d)
        np.testing.assert_array_equal(test.theta, fixed.theta)
        shared = set(map(tuple, pool.theta)) & set(map(tuple, fixed.theta))
        assert not shared
    # the stream test set moves with the pool's size: the fault the fixed one removes
    _, a = fi.study_data(0, noise=noise, train_size=500, test_size=300, progress=False)
    _, b = fi.study_data(0, noise=noise, train_size=1000, test_size=300, progress=False)
    assert not np.array_equal(a.theta, b.theta)
    pool_1000, _ = fi.study_data(0, noise=noise, train_size=1000, test_size=300, progress=False)
    assert set(map(tuple, a.theta)) & set(map(tuple, pool_1000.theta))  # N = 500's test rows train N = 1000


def test_experiments_share_the_fixed_test_set_and_say_so(tmp_path):
    a = experiments.reproduce("noise", tmp_path / "noise", quick=True, progress=False, test_set="fixed",
                              noise_law="study")
    b = experiments.reproduce("accuracy", tmp_path / "accuracy", quick=True, progress=False, test_set="fixed",
                              noise_law="study")
    assert a["test_set"] == b["test_set"] == {"kind": "fixed", "seed": 0, "start": fi.TEST_START, "size": 300,
                                              "noise_law": "study"}
    assert json.loads((tmp_path / "noise" / "results.json").read_text())["setup"]["noise_law"] == "study"
    with pytest.raises(ValueError, match="test_set must be one of"):
        experiments.reproduce("noise", tmp_path / "x", quick=True, progress=False, test_set="random")
    with pytest.raises(ValueError, match="noise_law must be one of"):
        experiments.reproduce("noise", tmp_path / "x", quick=True, progress=False, noise_law="beta")


def test_several_seeds_give_one_number_per_seed_and_a_range_in_the_report(tmp_path):
    result = experiments.reproduce("noise", tmp_path / "noise", quick=True, progress=False, seeds=2)
    assert result["results"]["seeds"] == [0, 1]
    cell = result["results"]["table"]["noisy/noisy"]
    assert isinstance(cell["r2_mean"], list) and len(cell["r2_mean"]) == 2
    assert result["results"]["n"] == 500  # equal in every seed: kept as it is
    single = experiments.reproduce("noise", tmp_path / "single", quick=True, progress=False)
    assert single["results"]["table"]["noisy/noisy"]["r2_mean"] == cell["r2_mean"][0]  # seed 0 is the one-seed run
    for k in (0, 1):
        assert (tmp_path / "noise" / f"seed-{k}" / "results.json").exists()
    text = report.compare(tmp_path / "noise" / "..")
    assert "[" in text and "–" in text  # median [min–max]
    assert experiments.merge_seeds([{"a": 1, "b": [1, 2]}, {"a": 2, "b": [1, 2]}]) == {"a": [1, 2], "b": [1, 2]}


def test_accuracy_table_with_a_search_per_seed():
    result = {"results": {"best": {"cnn": {
        "params": {"filters": [[8, 16, 32], [4, 16]], "dense": [[32, 32], [32, 32]]}, "n_params": [33874, 64866],
        "test": {"r2": {"theta0": [0.96, 0.95], "theta1": [0.93, 0.92]}, "median_ape_all": [0.08, 0.09],
                 "median_ape_sample": [0.09, 0.10]}}}}}
    text = report.accuracy_table(result)
    assert "per seed: {'filters': [8, 16, 32], 'dense': [32, 32]}; {'filters': [4, 16], 'dense': [32, 32]}" in text
    assert "33,874, 64,866" in text and "0.955 [0.950–0.960]" in text
