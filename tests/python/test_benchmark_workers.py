"""The benchmarks' process helpers: a warm worker keeps its state between calls and reports
failures; a one-shot isolated call returns its result with the child's peak RSS."""

import sys
from pathlib import Path

import pytest

import fhn_inverse as fi

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_nn  # noqa: E402
from _isolated import Worker, isolated  # noqa: E402


def test_worker_keeps_state_between_calls_and_survives_errors():
    with Worker() as w:
        w.call(bench_nn.prepare, 2, "ours", 1, True)  # the study's dense map, quick data
        rate = w.call(bench_nn.train_burst, 0.01)
        assert rate > 0
        with pytest.raises(RuntimeError, match="IndexError"):
            w.call(bench_nn.prepare, len(bench_nn.ROWS), "ours", 1, True)
        # the worker still answers, with the state of the first prepare
        assert w.call(bench_nn.train_burst, 0.01) > 0


def test_fresh_worker_has_no_state():
    with Worker() as w:
        with pytest.raises(RuntimeError, match="KeyError"):
            w.call(bench_nn.train_burst, 0.01)


def test_isolated_returns_result_and_peak_rss():
    got, rss = isolated(bench_nn.measure, 2, "ours", 1, True)
    assert got["train"] > 0 and got["infer"] > 0
    assert 1 <= got["train_threads"] <= (__import__("os").cpu_count() or 1)
    assert rss > 10  # MiB: an interpreter with NumPy and the engine loaded


def test_isolated_reports_a_failing_call():
    with pytest.raises(RuntimeError, match="bench_nn.prepare failed"):
        isolated(bench_nn.prepare, len(bench_nn.ROWS), "ours", 1, True)


def test_training_flops_of_the_bound():
    """3 · 2 · multiply-adds per sample: the study's CNN (conv 1→8 over 499, 8→16 over 124, 16→32
    over 30 positions; dense 960→32→32→2) and a dense map, counted by hand."""
    import _bound

    cnn = 8 * 1 * 3 * 499 + 16 * 8 * 3 * 124 + 32 * 16 * 3 * 30 + 960 * 32 + 32 * 32 + 32 * 2
    assert _bound.training_flops(fi.InverseMap.cnn().layers, (1, 1000)) == 6 * cnn == 824_880
    assert _bound.training_flops(fi.InverseMap.dense(units=[32] * 4).layers, (1000,)) == 6 * (
        1000 * 32 + 3 * 32 * 32 + 32 * 2)
    same = fi.InverseMap.cnn(filters=(4,), padding="same", pool=0, dense=()).layers
    assert _bound.training_flops(same, (2, 100)) == 6 * (4 * 2 * 3 * 50 + 4 * 50 * 2)
    even = fi.InverseMap.cnn(filters=(2,), kernel=4, stride=1, padding="same", pool=0, dense=()).layers
    assert _bound.training_flops(even, (1, 100)) == 6 * (2 * 1 * 4 * 100 + 2 * 100 * 2)  # "same": L out


def test_tuning_sweep_worker_measures_every_candidate():
    """benchmarks/tuning_levels.py's worker: one map per candidate value, each timed in every
    round, the default among them."""
    import tuning_levels

    res = tuning_levels.run_case(sys.executable, "cnn32", None, rounds=2, burst=0.01)
    assert res["field"] == "min_chunk" and res["default"] == 16
    assert sorted(res["rates"]) == ["16", "32", "8"]
    for rates in res["rates"].values():
        assert len(rates) == 2 and all(r > 0 for r in rates)
