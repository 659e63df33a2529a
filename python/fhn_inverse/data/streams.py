"""Training data that stream: fresh simulations for every epoch, or a chunked store read in shuffled
blocks, so that a map trains on more series than memory holds.

A stream hands :meth:`InverseMap.fit <fhn_inverse.InverseMap.fit>` its data one block at a time:
each block is a pair (series (B, L), labels (B, D)); the map makes its input from the series
(``features``), trains one shuffled pass over the block and drops it. Two streams:

- :class:`Simulations` draws θ from the prior, simulates and adds noise while the map trains
  (on a thread of its own, one block ahead): every epoch sees ``per_epoch`` new series, the
  rows ``[epoch · per_epoch, (epoch + 1) · per_epoch)`` of the random streams of ``seed``.
- :class:`StoreStream` reads a Zarr store (:mod:`fhn_inverse.data.store`) in blocks of ``window``
  chunks taken in a shuffled order every epoch, read one block ahead. Memory stays near
  ``(prefetch + 2) · window · chunk`` rows, whatever the store's size.

Both are deterministic for their seeds: the blocks, their contents and the training order do not
depend on the thread count or on how fast the reader runs.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterator

import numpy as np

from .._util.validation import as_int, as_seed, as_threads
from .dataset import Dataset

__all__ = ["SERIES", "LABELS", "Simulations", "StoreStream", "prefetch", "is_stream"]

#: Which series a stream hands out: the noisy observations ``d`` or the clean ``u``.
SERIES = ("observed", "clean")
#: Which labels: θ, or θ with the noise's (σ, ρ) (the study's joint estimation).
LABELS = ("theta", "theta+noise")

#: Stream rows from which :meth:`Simulations.validation_set` draws: no epoch of training reaches them.
VALIDATION_START = 2**48
#: Stream rows from which :meth:`Simulations.calibration_set` draws: neither training nor validation
#: reaches them.
CALIBRATION_START = 3 * 2**47


def _check_choice(value, name: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def _labels(theta: np.ndarray, noise: np.ndarray, labels: str) -> np.ndarray:
    return theta if labels == "theta" else np.concatenate([theta, noise], axis=1)


def is_stream(obj) -> bool:
    """Whether ``obj`` is a stream of blocks (``blocks``, ``block_sizes`` and ``describe``), as
    :class:`Simulations` and :class:`StoreStream` are, rather than an array.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> from fhn_inverse.data.streams import is_stream
    >>> is_stream(fi.Simulations(4, block=2, seed=0)), is_stream(np.zeros((4, 1000)))
    (True, False)
    """
    return hasattr(obj, "blocks") and hasattr(obj, "block_sizes") and hasattr(obj, "describe")


class Simulations:
    """Fresh simulated series for every epoch, drawn while the map trains.

    Parameters
    ----------
    per_epoch : int
        Series per epoch, at least 1.
    block : int, default 10_000
        Series per block: simulated together, trained on in one shuffled pass. Larger blocks shuffle
        more widely and take more memory.
    seed : int, default 0
        Seed of the random streams (θ, noise); epoch e uses rows ``[e · per_epoch, (e + 1) · per_epoch)``.
    prior, noise, model, t, rtol, atol
        As :meth:`Dataset.generate`; ``noise`` defaults to the study's law (``AR1Noise.study()``),
        ``None`` gives clean series.
    series : {"observed", "clean"}, default "observed"
        Hand out the noisy series or the clean ones.
    labels : {"theta", "theta+noise"}, default "theta"
        θ, or θ and the noise's (σ, ρ).
    n_threads : int, default 0
        Simulator threads (0: all cores).
    method : {"rkf78", "rkf78-simd"}, default "rkf78-simd"
        The integrator (:data:`~fhn_inverse.models.simulation.METHODS`): by default the SIMD-lane one,
        several times faster than "rkf78" and equal to it within the tolerances.
    reuse : int, default 1
        Passes over each simulated block, each in a new shuffled order (a replay of the block):
        1 trains on every series once; r > 1 divides the simulation cost per trained sample by r,
        for maps that train faster than the simulator draws (docs/scale.md).

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> src = fi.Simulations(400, block=200, seed=0)     # 400 fresh series per epoch, in blocks of 200
    >>> src.block_sizes()
    [200, 200]
    >>> x, y = next(src.blocks(0))
    >>> x.shape, y.shape
    ((200, 1000), (200, 2))
    """

    def __init__(self, per_epoch: int, *, block: int = 10_000, seed: int = 0, prior=None, noise="study",
                 model=None, t=None, rtol: float = 1e-9, atol: float = 1e-9, series: str = "observed",
                 labels: str = "theta", n_threads: int = 0, method: str = "rkf78-simd", reuse: int = 1):
        from ..models.noise import AR1Noise

        self.per_epoch = as_int(per_epoch, "per_epoch", 1)
        self.block = min(as_int(block, "block", 1), self.per_epoch)
        self.seed = as_seed(seed)
        self.series = _check_choice(series, "series", SERIES)
        self.labels = _check_choice(labels, "labels", LABELS)
        if isinstance(noise, str):
            if noise != "study":
                raise ValueError(f"noise must be an AR1Noise, None or 'study', got {noise!r}")
            noise = AR1Noise.study()
        if labels == "theta+noise" and noise is None:
            raise ValueError("labels='theta+noise' needs noise (the series are clean with noise=None)")
        self._kwargs = {"prior": prior, "noise": noise, "model": model, "t": t, "rtol": rtol, "atol": atol,
                        "method": method}
        self.n_threads = as_threads(n_threads)
        self.reuse = as_int(reuse, "reuse", 1)
        head = Dataset.generate(1, self.seed, n_threads=1, progress=False, **self._kwargs)  # checks the settings
        self.t = head.t
        self._config = head.config

    def _draw(self, n: int, start: int) -> Dataset:
        return Dataset.generate(n, self.seed, start=start, n_threads=self.n_threads, progress=False,
                                chunk=n, **self._kwargs)

    def _pair(self, data: Dataset):
        return (data.u if self.series == "clean" else data.d), _labels(data.theta, data.noise, self.labels)

    def _sizes(self) -> list[int]:
        full, rest = divmod(self.per_epoch, self.block)
        return [self.block] * full + ([rest] if rest else [])

    def block_sizes(self) -> list[int]:
        """The sizes of one epoch's blocks (each simulated block ``reuse`` times).

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.Simulations(5, block=2, seed=0).block_sizes()
        [2, 2, 1]
        >>> fi.Simulations(5, block=2, seed=0, reuse=2).block_sizes()     # each block twice
        [2, 2, 2, 2, 1, 1]
        """
        return [size for size in self._sizes() for _ in range(self.reuse)]

    def blocks(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Epoch ``epoch``'s blocks: (series (B, L), labels (B, D)), simulated on demand, each
        handed out ``reuse`` times in a row.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> src = fi.Simulations(5, block=2, seed=0, labels="theta+noise")
        >>> [(x.shape, y.shape) for x, y in src.blocks(0)]     # labels: θ and the noise's (σ, ρ)
        [((2, 1000), (2, 4)), ((2, 1000), (2, 4)), ((1, 1000), (1, 4))]
        >>> x0, _ = next(src.blocks(0))
        >>> x1, _ = next(src.blocks(1))     # every epoch draws new series
        >>> bool((x0 != x1).any())
        True
        """
        lo = as_int(epoch, "epoch", 0) * self.per_epoch
        for size in self._sizes():
            pair = self._pair(self._draw(size, lo))
            for _ in range(self.reuse):
                yield pair
            lo += size

    def validation_set(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` series with their labels from rows no epoch reaches (from :data:`VALIDATION_START` on).

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> x, y = fi.Simulations(4, block=2, seed=0).validation_set(3)
        >>> x.shape, y.shape
        ((3, 1000), (3, 2))
        """
        return self._pair(self._draw(as_int(n, "n", 1, CALIBRATION_START - VALIDATION_START), VALIDATION_START))

    def calibration_set(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` series with their labels from rows neither training nor validation reaches (from
        :data:`CALIBRATION_START` on): those a Gaussian-NLL head trained on the stream calibrates
        itself on (``TrainingConfig.calibration_split``).

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> x, y = fi.Simulations(4, block=2, seed=0).calibration_set(3)
        >>> x.shape, y.shape
        ((3, 1000), (3, 2))
        """
        return self._pair(self._draw(as_int(n, "n", 1), CALIBRATION_START))

    def describe(self) -> dict:
        """What the stream draws: the data config, series, labels and the series per epoch.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> info = fi.Simulations(4, block=2, seed=0).describe()
        >>> {k: info[k] for k in ("stream", "per_epoch", "block", "reuse", "series", "labels")}
        {'stream': 'simulations', 'per_epoch': 4, 'block': 2, 'reuse': 1, 'series': 'observed', 'labels': 'theta'}
        >>> info["noise"]["kind"]     # the study's noise by default
        'ar1'
        """
        return {**self._config, "stream": "simulations", "per_epoch": self.per_epoch, "block": self.block,
                "reuse": self.reuse, "series": self.series, "labels": self.labels}

    def __repr__(self) -> str:
        return (f"Simulations(per_epoch={self.per_epoch}, block={self.block}, reuse={self.reuse}, seed={self.seed}, "
                f"series={self.series!r}, labels={self.labels!r})")


class StoreStream:
    """A Zarr store read in blocks of ``window`` chunks, in a shuffled order every epoch.

    Parameters
    ----------
    store : ZarrDataset or str or os.PathLike
        An open store (:func:`~fhn_inverse.data.store.open_zarr`) or its path.
    window : int, default 8
        Chunks per block, at least 1: a block gathers ``window`` chunks drawn without replacement
        and the map trains one shuffled pass over their rows.
    seed : int, default 0
        Seed of the chunk order (epoch e: a permutation from ``(seed, e)``).
    series : {"observed", "clean"}, default "observed"
        The noisy series ``d`` or the clean ``u``.
    labels : {"theta", "theta+noise"}, default "theta"
        θ, or θ and the noise's (σ, ρ).
    rows : int, optional
        Use the first ``rows`` samples only (a whole number of chunks, or all).

    Examples
    --------
    >>> import tempfile, os
    >>> import fhn_inverse as fi
    >>> from fhn_inverse.data.store import save_zarr
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_zarr(fi.Dataset.generate(6, seed=0, progress=False), os.path.join(tmp, "d.zarr"), chunk=2)
    ...     stream = fi.StoreStream(path, window=2, seed=0)     # blocks of 2 chunks of 2 rows
    ...     stream.block_sizes(), [x.shape for x, y in stream.blocks(0)]
    ([4, 2], [(4, 1000), (2, 1000)])
    """

    def __init__(self, store, *, window: int = 8, seed: int = 0, series: str = "observed", labels: str = "theta",
                 rows: int | None = None):
        from .store import ZarrDataset, open_zarr

        self.store = store if isinstance(store, ZarrDataset) else open_zarr(store)
        self.window = as_int(window, "window", 1)
        self.seed = as_seed(seed)
        self.series = _check_choice(series, "series", SERIES)
        self.labels = _check_choice(labels, "labels", LABELS)
        n = len(self.store)
        self.rows = n if rows is None else as_int(rows, "rows", 1)
        if self.rows > n:
            raise ValueError(f"rows must be in [1, {n}] (the store's samples), got {self.rows}")
        if self.rows != n and self.rows % self.store.chunk:
            raise ValueError(f"rows must be a multiple of the store's chunk ({self.store.chunk}) or all {n}, "
                             f"got {self.rows}")
        self.t = self.store.t

    @property
    def _chunks(self) -> list[tuple[int, int]]:
        c = self.store.chunk
        return [(lo, min(lo + c, self.rows)) for lo in range(0, self.rows, c)]

    def _order(self, epoch: int) -> list[list[tuple[int, int]]]:
        chunks = self._chunks
        perm = np.random.default_rng([self.seed, as_int(epoch, "epoch", 0)]).permutation(len(chunks))
        return [[chunks[i] for i in perm[k: k + self.window]] for k in range(0, len(chunks), self.window)]

    def block_sizes(self) -> list[int]:
        """The sizes of one epoch's blocks (the same every epoch up to order when chunks are equal).

        Examples
        --------
        >>> import tempfile, os
        >>> import fhn_inverse as fi
        >>> from fhn_inverse.data.store import save_zarr
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = save_zarr(fi.Dataset.generate(6, seed=0, progress=False), os.path.join(tmp, "d.zarr"), chunk=2)
        ...     fi.StoreStream(path, window=2).block_sizes(), fi.StoreStream(path, window=1, rows=4).block_sizes()
        ([4, 2], [2, 2])
        """
        return [sum(hi - lo for lo, hi in group) for group in self._order(0)]

    def blocks(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Epoch ``epoch``'s blocks: (series (B, L), labels (B, D)), read on demand.

        Examples
        --------
        >>> import tempfile, os
        >>> import fhn_inverse as fi
        >>> from fhn_inverse.data.store import save_zarr
        >>> data = fi.Dataset.generate(4, seed=0, noise=fi.AR1Noise(), progress=False)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = save_zarr(data, os.path.join(tmp, "d.zarr"), chunk=2)
        ...     stream = fi.StoreStream(path, window=1, labels="theta+noise")
        ...     blocks = list(stream.blocks(0))
        >>> [(x.shape, y.shape) for x, y in blocks]     # labels: θ and the noise's (σ, ρ)
        [((2, 1000), (2, 4)), ((2, 1000), (2, 4))]
        """
        name = "u" if self.series == "clean" else "d"
        names = (name, "theta") + (("noise",) if self.labels == "theta+noise" else ())
        for group in self._order(epoch):
            size = sum(hi - lo for lo, hi in group)
            series = np.empty((size, self.t.size), dtype=self.store.dtype)
            parts = {"theta": [], "noise": []}
            at = 0
            for lo, hi in group:
                cols = self.store.columns(lo, hi, names)
                series[at: at + hi - lo] = cols[name]
                for k in parts:
                    if k in cols:
                        parts[k].append(cols[k])
                at += hi - lo
            theta = np.concatenate(parts["theta"])
            noise = np.concatenate(parts["noise"]) if parts["noise"] else None
            yield series, _labels(theta, noise, self.labels)

    def describe(self) -> dict:
        """The store's data config, path, rows, series and labels.

        Examples
        --------
        >>> import tempfile, os
        >>> import fhn_inverse as fi
        >>> from fhn_inverse.data.store import save_zarr
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = save_zarr(fi.Dataset.generate(4, seed=0, progress=False), os.path.join(tmp, "d.zarr"), chunk=2)
        ...     info = fi.StoreStream(path, series="clean").describe()
        >>> {k: info[k] for k in ("stream", "size", "series", "labels", "noise")}
        {'stream': 'store', 'size': 4, 'series': 'clean', 'labels': 'theta', 'noise': None}
        >>> info["path"].endswith("d.zarr")
        True
        """
        return {**self.store.config, "stream": "store", "path": str(self.store.path), "size": self.rows,
                "series": self.series, "labels": self.labels}

    def __repr__(self) -> str:
        return (f"StoreStream({str(self.store.path)!r}, rows={self.rows}, window={self.window}, seed={self.seed}, "
                f"series={self.series!r}, labels={self.labels!r})")


def prefetch(blocks: Iterator, depth: int = 1, transform=None) -> Iterator:
    """Iterate over ``blocks`` produced on a thread of its own, ``depth`` blocks ahead (each passed
    through ``transform`` there). The producer's errors are raised here; closing the iterator (or
    an error in the consumer) stops the producer and waits for it.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> from fhn_inverse.data.streams import prefetch
    >>> list(prefetch(iter(range(4)), depth=2, transform=lambda b: 10 * b))
    [0, 10, 20, 30]
    >>> src = fi.Simulations(4, block=2, seed=0)
    >>> [x.shape for x, y in prefetch(src.blocks(0))]     # the next block is simulated while this one is used
    [(2, 1000), (2, 1000)]
    """
    depth = as_int(depth, "depth", 1)
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop, started, finished = threading.Event(), threading.Event(), threading.Event()
    done = object()

    def hand(message) -> bool:  # put, unless the consumer has stopped
        while not stop.is_set():
            try:
                q.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        started.set()
        try:
            if stop.is_set():  # the consumer stopped while this thread was being started
                return
            for item in blocks:
                if not hand(("item", item if transform is None else transform(item))):
                    return
            hand(("item", done))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            hand(("error", e))
        finally:
            finished.set()

    worker = threading.Thread(target=produce, name="fhn_inverse-prefetch", daemon=True)
    try:
        worker.start()  # inside the try: Ctrl-C while the thread starts still stops it
        while True:
            kind, item = q.get()
            if kind == "error":
                raise item
            if item is done:
                return
            yield item
    finally:
        stop.set()
        # a thread that has not come up yet sees the stop and ends at once; one that has is waited for
        while (started.is_set() or worker.is_alive()) and not finished.wait(0.05):
            try:  # let a blocked put() see the stop
                q.get_nowait()
            except queue.Empty:
                pass
        if worker.is_alive():
            worker.join()
