"""Shared fixtures: the reference data from the authors (../shared/reference) when present, and a
check that no test leaves a stream reader thread running."""

from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


@pytest.fixture(scope="session")
def reference():
    if not (REFERENCE / "fhn_T200_samplePrior_theta_first5000.npy").exists():
        pytest.skip(f"reference data not found in {REFERENCE}")
    load = lambda name: np.load(REFERENCE / f"fhn_T200_samplePrior_{name}.npy")  # noqa: E731
    return {"theta": load("theta_first5000"), "rate": load("spikeRate_first5000"),
            "duration": load("spikeDuration_first5000"), "time": load("time")}


@pytest.fixture(autouse=True)
def no_reader_left_running():
    """Every test leaves no stream reader thread behind (a stopped stream joins its reader)."""
    import threading

    def readers():
        return {t for t in threading.enumerate() if t.name == "fhn_inverse-prefetch"}

    before = readers()
    yield
    left = readers() - before
    assert not left, f"a stream reader thread is still running after the test: {left}"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A user-model cache folder of the test module's own (FHN_INVERSE_CACHE), so that compiled
    models are shared by the module's tests and by the processes they start."""
    folder = tmp_path_factory.mktemp("fhn_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FHN_INVERSE_CACHE", str(folder))
        yield folder
