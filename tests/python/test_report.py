"""Comparison tables with the study: the right cells, and the better side marked."""

import json

import pytest

from fhn_inverse import report


def _write(root, name, results):
    (root / name).mkdir(parents=True)
    (root / name / "results.json").write_text(json.dumps({"experiment": name, "results": results}))


def test_tables_set_ours_beside_the_study(tmp_path):
    cell = lambda ape, r2: {"median_ape_all": ape, "r2_mean": r2}  # noqa: E731
    _write(tmp_path, "train_size", {"table": {
        "clean/clean": {"1000": cell(0.010, 0.996)},
        "clean/noisy": {"1000": cell(0.300, 0.500)},
        "noisy/noisy": {"1000": cell(0.096, 0.938)}}})
    _write(tmp_path, "joint", {"table": {"1000": {"time": {"r2": {"theta0": 0.95, "theta1": 0.80, "sigma": 0.1,
                                                                   "rho": -0.5}}}}})
    text = report.compare(tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| 1000 |") and "0.996" in line)
    assert "**0.010** (**0.996**) | 0.014 (0.995)" in row  # better on both: bold
    assert "0.300 (0.500) | 0.174 (0.763)" in row           # worse on both: plain
    assert "**0.096** (**0.938**)" in row                   # ties count as matched
    joint = next(line for line in text.splitlines() if "| time |" in line)
    assert "**0.950** | 0.914" in joint and "| 0.800 | 0.812" in joint and "**-0.500** | -0.800" in joint
    assert "resimulation" not in text  # absent runs are left out
    assert "estimates" not in text     # a single map's run has no other estimates' tables


def test_train_size_tables_of_the_other_estimates(tmp_path):
    cell = lambda ape, r2: {"median_ape_all": ape, "r2_mean": r2}  # noqa: E731
    regimes = ("clean/clean", "clean/noisy", "noisy/noisy")
    _write(tmp_path, "train_size", {
        "table": {r: {"500": cell(0.01, 0.987)} for r in regimes},
        "best_fitting": {r: {"500": cell(0.009, 0.990)} for r in regimes},
        "fitted": {r: {"500": cell(0.0001, 0.999)} for r in regimes}})
    text = report.compare(tmp_path)
    sections = text.split("### ")[1:]
    assert [s.splitlines()[0] for s in sections] == [
        "train_size", "train_size, best-fitting estimates", "train_size, fitted estimates"]
    assert "| 500 | **0.010** (0.987) | 0.023 (0.990) |" in sections[0]
    assert "**0.009** (**0.990**) | 0.023 (0.990)" in sections[1]
    assert "**0.000** (**0.999**) | 0.023 (0.990)" in sections[2]
    with pytest.raises(ValueError, match="estimate must be"):
        report.train_size_table(json.loads((tmp_path / "train_size" / "results.json").read_text()), "refined")


def test_resimulation_table_rows_per_estimate(tmp_path):
    def row(bias, cmse, **extra):
        return {"squared_bias_mean": bias, "squared_bias_pooled": bias / 10, "squared_bias_median": bias / 100,
                "c_mse_mean": cmse, "c_mse_pooled": cmse, "c_mse_median": cmse / 2, **extra}
    floor = row(0.0, 0.0)
    _write(tmp_path, "resimulation", {"table": {
        "clean/clean": row(1e-5, 0.05, best_fitting=row(2e-6, 0.07), fitted=row(1e-9, 1e-6),
                           true_parameters=floor),
        "clean/noisy": {k: v for k, v in row(1e-2, 3.0).items() if "pooled" not in k},  # an older run
        "noisy/noisy": row(1e-3, 0.5, true_parameters=floor)}})
    lines = report.compare(tmp_path).splitlines()
    clean = [line for line in lines if line.startswith("| clean/clean |")]
    assert [line.split(" | ")[1] for line in clean] == ["map", "best-fitting", "fitted", "true parameters"]
    # mean above the study's 2.8e-06 (plain), pooled and median below (bold); C-MSE under 0.061
    assert "| 1e-05 | **1e-06** | **1e-07** | 2.8e-06 | **0.05** | **0.05** | **0.025** | 0.061 |" in clean[0]
    assert "| **2e-06** |" in clean[1] and "| 0.07 | 0.07 | **0.035** | 0.061 |" in clean[1]
    assert "| **1e-09** |" in clean[2]
    assert "**" not in clean[3]  # the floor is not a contender
    noisy_clean = next(line for line in lines if line.startswith("| clean/noisy |"))
    assert noisy_clean.count("–") == 2  # no pooled figures in an older run
