"""The benchmarks' process helpers: a warm worker keeps its state between calls and reports
failures; a one-shot isolated call returns its result with the child's peak RSS."""

import sys
from pathlib import Path

import pytest

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
