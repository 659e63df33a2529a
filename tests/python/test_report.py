"""Comparison tables with the study: the right cells, and the better side marked."""

import json

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
