"""Data sets in Zarr stores, and generated on a Dask cluster: the same bytes as one process, for
any number of workers and chunks, also when a worker dies mid-run."""

import os
import signal
import threading
import time

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")
distributed = pytest.importorskip("dask.distributed")

import fhn_inverse as fi  # noqa: E402
from fhn_inverse import distributed as fid  # noqa: E402
from fhn_inverse.data import store  # noqa: E402

ARRAYS = ("t", "theta", "u", "d", "noise", "index")
# dask.distributed's servers leave sockets for the collector when a cluster closes
pytestmark = [pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]


def assert_same(a, b):
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), name
    assert a.seed == b.seed and a.config == b.config


def test_store_round_trip_is_lazy_and_exact(tmp_path):
    ref = fi.Dataset.generate(130, 4, noise=fi.AR1Noise.study(), start=11, progress=False)
    store.save_zarr(ref, tmp_path / "a.zarr", chunk=32)
    z = store.open_zarr(tmp_path / "a.zarr")
    assert len(z) == 130 and z.chunk == 32 and z.t.shape == (1000,)
    assert_same(z.load(), ref)
    blocks = list(z.blocks())
    assert [len(b) for b in blocks] == [32, 32, 32, 32, 2]
    np.testing.assert_array_equal(np.concatenate([b.d for b in blocks]), ref.d)
    assert_same(z[40:70], ref[40:70])
    with pytest.raises(TypeError, match="contiguous row slices"):
        z[[1, 2]]
    store.create_zarr(tmp_path / "half.zarr", 10, 1000, 2, t=ref.t, seed=4, config=ref.config)
    with pytest.raises(ValueError, match="incomplete store"):  # its writer never finished
        store.open_zarr(tmp_path / "half.zarr")
    ref.save(tmp_path / "b.npz")
    with pytest.raises(ValueError, match="not a"):
        store.open_zarr(tmp_path / "b.npz")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as c, distributed.Client(c) as client:
        yield client


def test_a_cluster_writes_the_single_process_bytes(cluster, tmp_path):
    ref = fi.Dataset.generate(230, 9, noise=fi.AR1Noise(), start=5, progress=False)
    for chunk in (37, 230, 1000):  # uneven chunks, one chunk, a chunk larger than the data
        got = fid.generate(230, 9, tmp_path / f"c{chunk}.zarr", chunk=chunk, start=5, noise=fi.AR1Noise(),
                           client=cluster)
        assert_same(got.load(), ref)


def test_a_worker_killed_mid_run_changes_nothing(cluster, tmp_path):
    n, chunk = 3000, 100
    path = tmp_path / "k.zarr"
    out = {}
    job = threading.Thread(target=lambda: out.update(z=fid.generate(n, 2, path, chunk=chunk, client=cluster)))
    job.start()

    def written():  # chunks in the folder the store is built in, beside the path
        return sum(len(os.listdir(b / "u" / "c")) for b in tmp_path.glob(".k.zarr.*.building")
                   if (b / "u" / "c").exists())

    deadline = time.time() + 60
    while written() == 0 and time.time() < deadline:
        time.sleep(0.02)
    pids = cluster.run(os.getpid)
    killed_early = written() < n // chunk
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    job.join(300)
    assert not job.is_alive() and killed_early
    assert_same(out["z"].load(), fi.Dataset.generate(n, 2, progress=False))


def test_cli_writes_a_store_with_or_without_a_cluster(tmp_path, capsys):
    from fhn_inverse.cli import main

    ref = fi.Dataset.generate(70, 3, noise=fi.AR1Noise(), progress=False)
    assert main(["simulate", str(tmp_path / "a.zarr"), "-n", "70", "--seed", "3", "--chunk", "32", "--quiet"]) == 0
    assert main(["simulate", str(tmp_path / "b.zarr"), "-n", "70", "--seed", "3", "--chunk", "32", "--workers", "2",
                 "--quiet"]) == 0
    assert "wrote 70 series" in capsys.readouterr().out
    assert_same(store.open_zarr(tmp_path / "a.zarr").load(), ref)
    assert_same(store.open_zarr(tmp_path / "b.zarr").load(), ref)
