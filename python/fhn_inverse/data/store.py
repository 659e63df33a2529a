"""Data sets in a chunked, compressed on-disk store (Zarr): written chunk by chunk, opened lazily.

A store holds the arrays of a :class:`~fhn_inverse.Dataset` (``t``, ``theta``, ``u``, ``d``,
``noise``, ``index``), chunked along the samples, and its seed and config as attributes.
:func:`open_zarr` reads nothing but the attributes until rows are asked for, so a data set larger
than memory can be opened and read a block of rows at a time. Needs the optional ``scale`` extra
(``pip install fhn-inverse[scale]``: zarr; dask for :mod:`fhn_inverse.distributed`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._version import __version__
from .._util.validation import as_int
from .dataset import _ARRAYS, Dataset

__all__ = ["FORMAT", "SERIES_DTYPES", "create_zarr", "write_rows", "mark_complete", "save_zarr", "open_zarr",
           "ZarrDataset"]

FORMAT = "fhn_inverse.Dataset"


def _zarr():
    try:
        import zarr
    except ImportError as err:  # pragma: no cover - the message is the point
        raise ImportError("Zarr stores need zarr: pip install 'fhn-inverse[scale]'") from err
    return zarr


SERIES_DTYPES = ("float64", "float32")


def _series_dtype(dtype) -> str:
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in SERIES_DTYPES:
        raise ValueError(f"dtype must be one of {SERIES_DTYPES}, got {dtype!r}")
    return name


def create_zarr(path, n: int, length: int, n_params: int, *, t, seed: int, config: dict, chunk: int = 1000,
                dtype: str = "float64"):
    """Create an empty store for ``n`` samples of ``length`` points (rows written later by
    :func:`write_rows`); ``t`` is written now. Returns the Zarr group.

    Parameters
    ----------
    path : str or os.PathLike
        The store's folder (replaced if it exists).
    n, length, n_params : int
        Samples, grid points per series, parameters per sample.
    t : array_like, shape (length,)
        The observation grid.
    seed : int
        The seed of the samples' random streams.
    config : dict
        How the data are made (``Dataset.config``), JSON-serialisable.
    chunk : int
        Samples per chunk (default 1000). Rows written concurrently must cover whole chunks.
    dtype : {"float64", "float32"}
        How the series ``u`` and ``d`` are stored: float32 halves the store (the networks train in
        float32); θ and the noise parameters stay float64.
    """
    zarr = _zarr()
    dtype = _series_dtype(dtype)
    n, length, chunk = as_int(n, "n", 1), as_int(length, "length", 1), as_int(chunk, "chunk", 1)
    group = zarr.open_group(str(path), mode="w")
    shapes = {"theta": (n, n_params), "u": (n, length), "d": (n, length), "noise": (n, 2), "index": (n,)}
    for name, shape in shapes.items():
        group.create_array(name, shape=shape, chunks=(min(chunk, n),) + shape[1:],
                           dtype="int64" if name == "index" else dtype if name in ("u", "d") else "float64")
    grid = group.create_array("t", shape=(length,), chunks=(length,), dtype="float64")
    grid[:] = np.asarray(t, dtype=np.float64)
    group.attrs.update({"format": FORMAT, "seed": int(seed), "config": json.dumps(config), "chunk": chunk,
                        "version": __version__, "complete": False})
    return group


def mark_complete(path) -> None:
    """Mark the store at ``path`` as holding every row (:func:`open_zarr` refuses one that does
    not: a writer killed mid-run leaves rows unwritten)."""
    _zarr().open_group(str(path), mode="r+").attrs["complete"] = True


def write_rows(path, lo: int, data: Dataset) -> None:
    """Write the rows of ``data`` into the store at ``path`` from row ``lo`` on."""
    zarr = _zarr()
    group = zarr.open_group(str(path), mode="r+")
    hi = lo + len(data)
    for name in ("theta", "u", "d", "noise", "index"):
        group[name][lo:hi] = getattr(data, name)


def save_zarr(data: Dataset, path, chunk: int = 1000, dtype: str = "float64") -> Path:
    """Write ``data`` to a Zarr store at ``path`` (chunks of ``chunk`` samples, series as
    ``dtype``: float64 or float32); returns the path."""
    create_zarr(path, len(data), data.u.shape[1], data.theta.shape[1], t=data.t, seed=data.seed,
                config=data.config, chunk=chunk, dtype=dtype)
    write_rows(path, 0, data)
    mark_complete(path)
    return Path(path)


class ZarrDataset:
    """A data set in a Zarr store, read lazily: ``len``, the grid ``t``, ``seed`` and ``config``
    at once; rows only when asked for (``data[lo:hi]`` or :meth:`blocks`, each an in-memory
    :class:`~fhn_inverse.Dataset`)."""

    def __init__(self, path):
        zarr = _zarr()
        self.path = Path(path)
        try:
            self._group = zarr.open_group(str(path), mode="r")
        except Exception as e:  # noqa: BLE001 - zarr's errors differ by version and store
            raise ValueError(f"{path}: not a Zarr store ({type(e).__name__}: {e})") from None
        attrs = dict(self._group.attrs)
        if attrs.get("format") != FORMAT or set(_ARRAYS) - set(self._group.array_keys()):
            raise ValueError(f"{path}: not a data set store (format {attrs.get('format')!r}, arrays "
                             f"{sorted(self._group.array_keys())}; expected {FORMAT!r} with {list(_ARRAYS)})")
        if attrs.get("complete") is False:
            raise ValueError(f"{path}: an incomplete store (its writer stopped before every row was written)")
        self.seed = int(attrs["seed"])
        self.config = json.loads(attrs["config"])
        self.chunk = int(attrs.get("chunk", 1000))
        self.t = np.asarray(self._group["t"][:])

    def __len__(self) -> int:
        return int(self._group["u"].shape[0])

    def __getitem__(self, key) -> Dataset:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError(f"a ZarrDataset is read by contiguous row slices, got {key!r}")
        lo, hi, _ = key.indices(len(self))
        arrays = self.columns(lo, hi, ("theta", "u", "d", "noise", "index"))
        arrays["u"], arrays["d"] = (arrays[k].astype(np.float64, copy=False) for k in ("u", "d"))
        return Dataset(self.t, seed=self.seed, config=self.config, **arrays)

    def columns(self, lo: int, hi: int, names) -> dict[str, np.ndarray]:
        """Rows ``lo:hi`` of the named arrays only (of "theta", "u", "d", "noise", "index"), as
        stored; reads nothing else."""
        unknown = set(names) - {"theta", "u", "d", "noise", "index"}
        if unknown:
            raise ValueError(f"unknown arrays {sorted(unknown)}; a store holds theta, u, d, noise, index")
        return {name: np.asarray(self._group[name][lo:hi]) for name in names}

    @property
    def dtype(self) -> str:
        """How the series are stored: "float64" or "float32"."""
        return str(self._group["d"].dtype)

    def blocks(self, rows: int | None = None):
        """The data set in blocks of ``rows`` samples (default: the store's chunk), in order."""
        rows = self.chunk if rows is None else as_int(rows, "rows", 1)
        for lo in range(0, len(self), rows):
            yield self[lo: lo + rows]

    def load(self) -> Dataset:
        """All rows in memory."""
        return self[:]

    def __repr__(self) -> str:
        return f"ZarrDataset({str(self.path)!r}, n={len(self)}, length={self.t.size}, chunk={self.chunk})"


def open_zarr(path) -> ZarrDataset:
    """Open a store written by :func:`save_zarr` or :func:`fhn_inverse.distributed.generate`,
    lazily; ValueError naming the path if it is not one."""
    return ZarrDataset(path)
