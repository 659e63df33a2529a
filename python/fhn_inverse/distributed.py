"""Data sets generated on a Dask cluster, into a Zarr store.

:func:`generate` splits ``n`` samples into chunks, simulates each chunk on a worker
(:meth:`Dataset.generate` with ``start`` at the chunk's first stream index, one thread per
task) and writes it into its own chunks of the store. Sample i is drawn from the random streams
``(seed, start + i)`` alone, so the store holds the same bytes as the single-process
``Dataset.generate(n, seed, ...)`` for any number of workers and any chunk size; a task lost with
its worker is run again by Dask and writes the same rows. Needs the optional ``scale`` extra
(``pip install fhn-inverse[scale]``).
"""

from __future__ import annotations

from pathlib import Path

from ._validation import as_int, as_seed
from .dataset import Dataset
from .store import create_zarr, mark_complete, open_zarr, write_rows

__all__ = ["generate"]


def _chunk_task(path: str, lo: int, size: int, seed: int, start: int, kwargs: dict) -> int:
    data = Dataset.generate(size, seed, start=start + lo, n_threads=1, progress=False, **kwargs)
    write_rows(path, lo, data)
    return lo


def generate(n: int, seed: int, path, *, chunk: int = 1000, start: int = 0, client=None, workers: int = 2,
             prior=None, noise=None, model=None, t=None, rtol: float = 1e-9, atol: float = 1e-9,
             dtype: str = "float64"):
    """Simulate ``n`` samples of the stream ``seed`` on a Dask cluster into the Zarr store ``path``.

    Parameters
    ----------
    n, seed : int
        Samples and the seed of their random streams.
    path : str or os.PathLike
        The store (replaced if it exists); a folder every worker can write.
    chunk : int
        Samples per task and per store chunk (default 1000).
    start : int
        First stream index (as ``Dataset.generate``).
    client : dask.distributed.Client, optional
        The cluster to run on; None starts a ``LocalCluster`` of ``workers`` processes with one
        thread each for this call.
    prior, noise, model, t, rtol, atol
        As :meth:`Dataset.generate`.
    dtype : {"float64", "float32"}
        How the series are stored (:func:`~fhn_inverse.store.create_zarr`).

    Returns
    -------
    ZarrDataset
        The store, opened lazily.
    """
    n, seed, start = as_int(n, "n", 1), as_seed(seed), as_int(start, "start", 0)
    chunk, workers = as_int(chunk, "chunk", 1), as_int(workers, "workers", 1)
    kwargs = {"prior": prior, "noise": noise, "model": model, "t": t, "rtol": rtol, "atol": atol}
    head = Dataset.generate(1, seed, start=start, n_threads=1, progress=False, **kwargs)  # the grid, the config
    config = dict(head.config, start=start)
    path = str(Path(path).resolve())
    create_zarr(path, n, head.u.shape[1], head.theta.shape[1], t=head.t, seed=seed, config=config, chunk=chunk,
                dtype=dtype)
    own = client is None
    if own:
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0")
        client = Client(cluster)
    try:
        futures = [client.submit(_chunk_task, path, lo, min(chunk, n - lo), seed, start, kwargs, pure=False,
                                 key=f"fhn_inverse-chunk-{seed}-{start + lo}")
                   for lo in range(0, n, chunk)]
        client.gather(futures)
        mark_complete(path)
    finally:
        if own:
            client.close()
            cluster.close()
    return open_zarr(path)
