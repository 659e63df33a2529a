"""Comparison tables with the study: the right cells, and the better side marked."""

import json

import numpy as np
import pytest

from fhn_inverse.study import report


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
    # a run without the per-sample reading cannot beat a Median-APE cell: a tie at best
    assert "*0.010 / –* (**0.996**) | 0.014 (0.995)" in row
    assert "0.300 / – (0.500) | 0.174 (0.763)" in row       # worse: plain
    assert "*0.096 / –* (*0.938*)" in row                   # equal: a tie, not a win
    joint = next(line for line in text.splitlines() if "| time |" in line)
    assert "**0.950** | 0.914" in joint and "| 0.800 | 0.812" in joint and "**-0.500** | -0.800" in joint
    assert "resimulation" not in text  # absent runs are left out
    assert "### train_size, " not in text  # a single map's run has no other estimates' tables


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
    assert "| 500 | *0.010 / –* (0.987) | 0.023 (0.990) |" in sections[0]
    assert "*0.009 / –* (*0.990*) | 0.023 (0.990)" in sections[1]
    assert "*0.000 / –* (**0.999**) | 0.023 (0.990)" in sections[2]
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


# ------------------------------------------------------------------------------ the strict rules
def test_verdict_on_values_and_seed_ranges():
    assert report.verdict(0.010, 0.014, False) == "win"
    assert report.verdict(0.014, 0.014, False) == "tie"
    assert report.verdict(0.020, 0.014, False) == "loss"
    assert report.verdict([0.010, 0.012, 0.013], 0.014, False) == "win"
    assert report.verdict([0.010, 0.015, 0.013], 0.014, False) == "tie"    # the study's value inside our range
    assert report.verdict([0.015, 0.016], 0.014, False) == "loss"
    assert report.verdict([0.991, 0.996], 0.990, True) == "win"
    assert report.verdict([0.989, 0.996], 0.990, True) == "tie"
    assert report.both("win", "win") == "win" and report.both("win", "tie") == "tie"
    assert report.both("win", "loss") == "loss" and report.both("tie", "tie") == "tie"
    with pytest.raises(ValueError, match="one per seed"):
        report.verdict([], 0.1, False)
    with pytest.raises(ValueError, match="one per seed"):
        report.verdict([0.1, float("nan")], 0.1, False)


def test_bold_rule_on_a_constructed_table_with_both_readings_and_seeds(tmp_path):
    def cell(comp, sample, r2):
        return {"median_ape_all": comp, "median_ape_sample": sample, "r2_mean": r2}
    _write(tmp_path, "train_size", {"table": {
        # N = 1000, study 0.014 (0.995) / 0.174 (0.763) / 0.096 (0.938)
        "clean/clean": {"1000": cell([0.010, 0.012], [0.011, 0.013], [0.996, 0.997])},  # wins under both
        "clean/noisy": {"1000": cell(0.168, 0.178, 0.80)},      # one reading worse: not beaten
        "noisy/noisy": {"1000": cell(0.090, [0.093, 0.097], [0.93, 0.94])}}})  # a range holding the study's
    text = report.compare(tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| 1000 |"))
    assert "**0.011 [0.010–0.012] / 0.012 [0.011–0.013]** (**0.996 [0.996–0.997]**) | 0.014 (0.995)" in row
    assert "| 0.168 / 0.178 (**0.800**) | 0.174 (0.763)" in row
    assert "*0.090 / 0.095 [0.093–0.097]* (*0.935 [0.930–0.940]*) | 0.096 (0.938)" in row
    assert text.splitlines()[0].startswith("Cells of the study's tables: 3 beaten (bold), 2 tied")
    assert "1 not beaten, of 6" in text.splitlines()[0]


def test_noise_table_alone_is_reported(tmp_path):
    row = {"median_ape_all": 0.012, "median_ape_sample": 0.013, "r2": {"theta0": 0.994, "theta1": 0.995},
           "r2_mean": 0.994}
    _write(tmp_path, "noise", {"n": 1000, "table": {"clean/clean": row}})
    text = report.compare(tmp_path)
    assert "### noise" in text
    # Median-APE below the study's 0.014 in both readings: bold; R² mean 0.994 below 0.995: plain
    assert "| clean/clean | **0.012 / 0.013** | 0.014 | 0.994 | 0.995 | 0.994 | 0.995 |" in text


def _two_runs(tmp_path):
    cell = lambda ape, sample, r2: {"median_ape_all": ape, "median_ape_sample": sample, "r2_mean": r2}  # noqa: E731
    for name, ape in (("a", [0.010, 0.012]), ("b", [0.013, 0.016])):
        _write(tmp_path / name, "train_size", {"table": {
            "clean/clean": {"1000": cell(ape, ape, [0.996, 0.997])},
            "clean/noisy": {"1000": cell(0.300, 0.31, 0.500)},
            "noisy/noisy": {"1000": cell(0.05, 0.06, 0.950)}}})
    return tmp_path / "a", tmp_path / "b"


def test_differences_list_the_cells_whose_verdict_differs(tmp_path):
    a, b = _two_runs(tmp_path)
    labels = [c[0] for c in report.cells(a)]
    assert len(labels) == len(set(labels)) == 6  # every counted cell has its own label
    text = report.differences(a, b, ("study law", "uniform law"))
    # clean/clean Median-APE: both readings below 0.014 in a (beaten), the range holds it in b (tied)
    assert "| train_size N = 1000, clean/clean: Median-APE | 0.011 [0.010–0.012] / 0.011 [0.010–0.012] (beaten) " \
           "| 0.014 [0.013–0.016] / 0.014 [0.013–0.016] (tied) |" in text
    assert text.count("| train_size") == 1  # the other cells agree
    assert text.startswith("study law: Cells of the study's tables: 4 beaten")


def test_refresh_remakes_generated_blocks_and_check_reports_stale_ones(tmp_path):
    a, b = _two_runs(tmp_path)
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    page.write_text("# Title\n\nprose 1\n<!-- generated by: fhn-inverse report a -->\nold\n"
                    "<!-- end of generated block -->\nprose 2\n"
                    "<!-- generated by: fhn-inverse report a --against b --names A B -->\n"
                    "<!-- end of generated block -->\n")
    assert report.refresh(page, check=True) == ["fhn-inverse report a", "fhn-inverse report a --against b --names A B"]
    assert "old" in page.read_text()  # check leaves it
    assert len(report.refresh(page)) == 2
    text = page.read_text()
    assert report.compare(a).rstrip("\n") in text and "prose 1" in text and "prose 2" in text
    assert report.refresh(page) == []  # fresh now
    page.write_text("<!-- generated by: rm -rf / -->\n<!-- end of generated block -->\n")
    with pytest.raises(ValueError, match="must be 'fhn-inverse report ROOT"):
        report.refresh(page)


def test_fit_start_table_sets_the_two_starts_side_by_side(tmp_path):
    row = lambda ape, secs, restarted: {"median_ape_sample": ape, "median_ape_component": ape, "r2": [0.99, 0.98],  # noqa: E731
                                        "misfit_mean": 0.12, "seconds": secs, "restarted": restarted}
    _write(tmp_path, "fit_start", {"n": 200, "train": 8000, "seed": 0, "noise_law": "study", "prior_mean": [0.4, 0.4],
                                   "table": {"noisy/noisy": {"network alone": row(0.06, None, None),
                                                             "fit from the network": row(0.021, 7.5, 16),
                                                             "fit from the prior mean": row(0.021, 41.5, 135)}}})
    text = report.compare(tmp_path)
    assert "| noisy/noisy | fit from the prior mean | 0.0210 / 0.0210 | 0.9900 | 0.9800 | 0.12 | 135 | 41.5 |" in text
    assert "| noisy/noisy | network alone | 0.0600 / 0.0600 | 0.9900 | 0.9800 | 0.12 | – | – |" in text
    assert "Cells of the study's tables" not in text  # not the study's table: nothing counted


def test_the_results_page_is_fresh():
    """docs/results.md's generated blocks are report's output on the runs kept in docs/runs."""
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "results.md"
    if not page.exists():
        pytest.skip("needs the source tree")
    assert report.refresh(page, check=True) == []


def test_the_models_page_is_fresh_and_its_tables_come_from_the_kept_run(tmp_path, capsys):
    """docs/models.md's results are report's output on docs/runs/model_results.json; the command
    line prints the same tables, and a file that is no such run is named."""
    import json
    from pathlib import Path

    from fhn_inverse.cli import main

    root = Path(__file__).resolve().parents[2]
    page, kept = root / "docs" / "models.md", root / "docs" / "runs" / "model_results.json"
    if not page.exists():
        pytest.skip("needs the source tree")
    assert report.refresh(page, check=True) == []
    text = page.read_text()
    runs = json.loads(kept.read_text())
    first = next(iter(runs["settings"]))
    r2 = [r["r2"][0] for r in runs["settings"][first]["runs"]]
    assert f"| {runs['settings'][first]['runs'][0]['names'][0]} | {np.mean(r2):.3f} [{min(r2):.3f}, {max(r2):.3f}]" \
        in text
    assert main(["report", str(kept)]) == 0
    assert capsys.readouterr().out.strip() in text
    bad = tmp_path / "x.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="not a kept run of the per-model results"):
        report.refresh(_page_with(tmp_path, f"fhn-inverse report {bad.name}"), base=tmp_path)


def _page_with(folder, command):
    page = folder / "page.md"
    page.write_text(f"text\n<!-- generated by: {command} -->\n<!-- end of generated block -->\n")
    return page
