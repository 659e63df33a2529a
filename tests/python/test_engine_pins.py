"""The engine's arithmetic is pinned: trained weights and predictions of the study's CNN, the
4 × 32 and the 8 × 512 dense maps are bit for bit those recorded for this machine's signature
(tests/data/engine_pins.json, written by ``python tests/python/engine_pins.py --write``). A
restructuring of the engine must keep them; a deliberate change of the arithmetic re-records
them and says why in its commit. Machines with another signature (vector extensions, BLAS)
take other code paths and are skipped; the thread-count independence holds everywhere."""

import json

import pytest

import engine_pins


@pytest.fixture(scope="module")
def prints():
    return engine_pins.fingerprints()


def test_thread_count_does_not_change_a_bit(prints):
    for name in [*engine_pins.CASES, "simulate"]:
        assert prints[f"{name} threads=1"] == prints[f"{name} threads=2"], name


def test_engine_matches_the_recorded_fingerprints(prints):
    record = json.loads(engine_pins.RECORD.read_text())
    sig = engine_pins.signature()
    if sig not in record:
        pytest.skip(f"no fingerprints recorded for this machine's signature {sig!r}")
    assert prints == record[sig]
