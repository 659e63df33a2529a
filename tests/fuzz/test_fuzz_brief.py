"""A brief run of every fuzz target (fixed seed, a few hundred inputs each): no exception type
other than the documented ones, no crash, hang, memory blow-up or accepted invalid file. The
long runs are ``bash scripts/fuzz.sh TARGET 600`` (docs/reliability.md)."""

from __future__ import annotations

import pytest

from fuzz_run import fuzz_random
from fuzz_targets import SELFTEST_INPUTS, TARGETS

BRIEF_INPUTS = 400
BRIEF_SECONDS = 8.0


def _report(record) -> str:
    texts = [p.with_suffix(".txt").read_text() for p in record.saved.values() if p.with_suffix(".txt").exists()]
    return record.summary("random") + "\n\n" + "\n".join(texts)


@pytest.mark.parametrize("target", sorted(t for t in TARGETS if t != "selftest"))
def test_brief_fuzz_run_finds_nothing(target, tmp_path):
    record = fuzz_random(target, BRIEF_SECONDS, seed=19, findings=tmp_path / "findings", max_inputs=BRIEF_INPUTS)
    assert record.inputs >= 100, record.summary("random")
    assert record.outcomes["ok"] >= 1, "no input loaded: the seeds are not reaching the loader"
    assert not record.findings, _report(record)


def test_runner_reports_every_kind_of_finding(tmp_path):
    """The harness itself: a loader that raises an undocumented type, names no file, crashes,
    hangs, uses too much memory or returns garbage gives one finding each, with its input saved."""
    # timeout: a busy machine takes seconds to touch the 256 MiB of the memory case
    record = fuzz_random("selftest", 60.0, seed=0, findings=tmp_path, max_inputs=0, timeout=15.0, max_rss_mb=200)
    kinds = {(kind, kind_type) for kind, kind_type, _ in record.findings}
    assert kinds == {("unnamed-error", "ValueError"), ("exception", "TypeError"), ("crash", "SIGSEGV"),
                     ("hang", "hang"), ("memory", "memory"), ("accepted-invalid", "accepted-invalid")}
    assert record.inputs == 1 + len(SELFTEST_INPUTS)
    assert record.outcomes["ValueError"] == 2  # "V", documented and named, and "N"
    for saved in record.saved.values():
        assert saved.read_bytes()[:1] in b"NTSHMI"
