"""Data sets in a chunked, compressed on-disk store (Zarr): written chunk by chunk, opened lazily.

A store holds the arrays of a :class:`~fhn_inverse.Dataset` (``t``, ``theta``, ``u``, ``d``,
``noise``, ``index``), chunked along the samples, and its seed and config as attributes.
:func:`open_zarr` reads nothing but the attributes until rows are asked for, so a data set larger
than memory can be opened and read a block of rows at a time. Needs the optional ``scale`` extra
(``pip install fhn-inverse[scale]``: zarr; dask for :mod:`fhn_inverse.distributed`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import os
import secrets
import shutil
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

from .._version import __version__
from .._util.io import fsync_dir, pid_alive
from .._util.locks import exclusive
from .._util.validation import as_int
from .dataset import _ARRAYS, Dataset

__all__ = ["FORMAT", "SERIES_DTYPES", "building", "create_zarr", "write_rows", "mark_complete", "save_zarr",
           "open_zarr", "ZarrDataset"]

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


_ROWS = ("theta", "u", "d", "noise", "index")  # the arrays chunked along the samples
_DIGESTS = "sha256"  # the array of per-chunk digests: (chunks, len(_ROWS), 32) bytes
_MAX_HEADER_READ = 64 << 20  # bytes a store's header may make the reader allocate beyond its size


def create_zarr(path, n: int, length: int, n_params: int, *, t, seed: int, config: dict, chunk: int = 1000,
                dtype: str = "float64", n_noise: int = 2, channels: int = 1):
    """Create an empty store for ``n`` samples of ``length`` points at ``path`` (rows written later
    by :func:`write_rows`, the store finished by :func:`mark_complete`); ``t`` is written now.
    Returns the Zarr group. ``path`` is written in place: to replace a store safely, create it in
    the folder that :func:`building` gives.

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
        Samples per chunk (default 1000). Every write covers whole chunks (the last may be short).
    dtype : {"float64", "float32"}
        How the series ``u`` and ``d`` are stored: float32 halves the store (the networks train in
        float32); θ and the noise parameters stay float64.
    n_noise : int, default 2
        The noise parameters per sample (the observation law's ``param_names``; AR(1): σ, ρ).
    channels : int, default 1
        The observed quantities per sample: series (n, length), or (n, channels, length) for more.
    """
    zarr = _zarr()
    dtype = _series_dtype(dtype)
    n, length, chunk = as_int(n, "n", 1), as_int(length, "length", 1), as_int(chunk, "chunk", 1)
    n_params, n_noise = as_int(n_params, "n_params", 1), as_int(n_noise, "n_noise", 0)
    series = (n, length) if as_int(channels, "channels", 1, 16) == 1 else (n, channels, length)
    group = zarr.open_group(str(path), mode="w")
    shapes = {"theta": (n, n_params), "u": series, "d": series, "noise": (n, n_noise), "index": (n,)}
    for name, shape in shapes.items():
        group.create_array(name, shape=shape, chunks=(min(chunk, n),) + shape[1:], dtype=_stored_dtype(name, dtype))
    n_chunks = -(-n // chunk)
    group.create_array(_DIGESTS, shape=(n_chunks, len(_ROWS), 32), chunks=(min(n_chunks, 4096), len(_ROWS), 32),
                       dtype="uint8")
    grid = group.create_array("t", shape=(length,), chunks=(length,), dtype="float64")
    grid[:] = np.asarray(t, dtype=np.float64)
    group.attrs.update({"format": FORMAT, "seed": int(seed), "config": json.dumps(config), "chunk": chunk,
                        "version": __version__, "complete": False})
    return group


def _stored_dtype(name: str, series_dtype: str) -> str:
    return "int64" if name == "index" else series_dtype if name in ("u", "d") else "float64"


def _chunk_digest(arrays: dict, lo: int, hi: int) -> bytes:
    """SHA-256 of rows ``lo:hi`` of each of ``_ROWS`` (as stored: C order, little-endian), one
    after the other: (len(_ROWS) × 32) bytes."""
    out = b""
    for name in _ROWS:
        block = np.ascontiguousarray(arrays[name][lo:hi])
        out += hashlib.sha256(block.astype(block.dtype.newbyteorder("<"), copy=False).tobytes()).digest()
    return out


def write_rows(path, lo: int, data: Dataset) -> dict[int, bytes]:
    """Write the rows of ``data`` into the store at ``path`` from row ``lo`` on; ``lo`` starts a
    chunk and the rows end one (or the store). Returns the written chunks' digests, by chunk
    index, for :func:`mark_complete`."""
    zarr = _zarr()
    group = zarr.open_group(str(path), mode="r+")
    n, chunk = group["u"].shape[0], int(group.attrs["chunk"])
    lo = as_int(lo, "lo", 0)
    hi = lo + len(data)
    if lo % chunk or (hi % chunk and hi != n) or hi > n:
        raise ValueError(f"{path}: rows {lo}:{hi} do not cover whole chunks of {chunk} of the store's {n} rows")
    series = str(group["d"].dtype)
    stored = {name: np.asarray(getattr(data, name), dtype=_stored_dtype(name, series)) for name in _ROWS}
    for name in _ROWS:
        group[name][lo:hi] = stored[name]
    return {(lo + at) // chunk: _chunk_digest(stored, at, min(at + chunk, hi - lo)) for at in range(0, hi - lo, chunk)}


def _header_digest(attrs: dict, shapes: dict, t: np.ndarray, digests: np.ndarray) -> str:
    """SHA-256 of what a store says about itself: its attributes (but the digest and the
    completion flag), its arrays' shapes and dtypes, the grid and the per-chunk digests."""
    head = {k: v for k, v in attrs.items() if k not in ("header_sha256", "complete")}
    head["arrays"] = shapes
    head["t"] = hashlib.sha256(np.ascontiguousarray(t, dtype="<f8").tobytes()).hexdigest()
    head["chunks"] = hashlib.sha256(np.ascontiguousarray(digests, dtype=np.uint8).tobytes()).hexdigest()
    return hashlib.sha256(json.dumps(head, sort_keys=True).encode()).hexdigest()


def _shapes(group) -> dict:
    return {name: [list(group[name].shape), str(group[name].dtype)] for name in (*_ROWS, "t", _DIGESTS)}


def mark_complete(path, digests: dict[int, bytes]) -> None:
    """Mark the store at ``path`` as holding every row, with ``digests`` (the union of what
    :func:`write_rows` returned) as its per-chunk checksums; ValueError naming the first chunk
    without one. :func:`open_zarr` refuses a store that is not complete (a writer killed mid-run
    leaves rows unwritten)."""
    group = _zarr().open_group(str(path), mode="r+")
    n_chunks = group[_DIGESTS].shape[0]
    missing = [i for i in range(n_chunks) if i not in digests]
    if missing:
        raise ValueError(f"{path}: chunk {missing[0]} (of {n_chunks}) was not written")
    table = np.frombuffer(b"".join(digests[i] for i in range(n_chunks)), dtype=np.uint8)
    table = table.reshape(n_chunks, len(_ROWS), 32)
    group[_DIGESTS][:] = table
    attrs = dict(group.attrs)
    group.attrs["header_sha256"] = _header_digest(attrs, _shapes(group), np.asarray(group["t"][:]), table)
    group.attrs["complete"] = True


def _is_store(path: Path) -> bool:
    """Whether ``path`` is a data set store (complete or not) by its own attributes."""
    try:
        return _zarr().open_group(str(path), mode="r").attrs.get("format") == FORMAT
    except Exception:  # noqa: BLE001 - anything zarr cannot open is not a store
        return False


def _stale(folder: Path, name: str, suffix: str):
    """The ``.{name}.{pid}.{random}{suffix}`` entries of ``folder`` whose process is gone, newest first."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if not (entry.name.startswith(f".{name}.") and entry.name.endswith(suffix)):
                continue
            parts = entry.name[len(name) + 2: -len(suffix)].split(".")
            if len(parts) == 2 and parts[0].isdigit() and not pid_alive(int(parts[0])):
                found.append(Path(entry.path))
    return sorted(found, key=lambda p: p.stat().st_mtime if p.exists() else 0, reverse=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False
    where the system or the file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(build: Path, path: Path) -> None:
    """Put the finished store ``build`` at ``path`` in one step where the system allows (the old
    store, if any, is removed after): a reader sees the old store or the new one."""
    folder = path.parent
    if not os.path.lexists(path):
        os.rename(build, path)
    elif _exchange(build, path):
        shutil.rmtree(build, ignore_errors=True)  # now the old store
    else:  # two renames; a writer killed between them leaves the old store to _recover
        old = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.old"
        os.rename(path, old)
        os.rename(build, path)
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(folder)


def _recover(path: Path) -> None:
    """Put back the old store that a writer killed between its two renames left aside."""
    if os.path.lexists(path):
        return
    for old in _stale(path.parent, path.name, ".old"):
        with contextlib.suppress(OSError):
            os.rename(old, path)
            return


def _check_replaceable(path: Path) -> None:
    """ValueError unless ``path`` is free, an empty folder or a data set store: a simulation never
    deletes anything else."""
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        raise ValueError(f"{path} exists and is not a data set store (a {'link' if path.is_symlink() else 'file'}); "
                         "it is left as it is: remove it or choose another path")
    entries = sorted(os.listdir(path))
    if entries and not _is_store(path):
        raise ValueError(f"{path} exists and is not a data set store (it holds {len(entries)} entries, e.g. "
                         f"{entries[0]!r}); it is left as it is: remove it or choose another path")


@contextlib.contextmanager
def building(path) -> Iterator[Path]:
    """Write a store to replace ``path``, as every file of the package is written.

    Yields a fresh folder beside ``path`` to create the store in (:func:`create_zarr`,
    :func:`write_rows`, :func:`mark_complete`); when the block ends normally the finished store is
    put at ``path`` in one step, replacing the old store. Until then ``path`` is untouched, and a
    writer killed (kill -9 included) leaves the old store, or nothing if there was none; its
    partial folder is removed by the next write. ``path`` must be free, an empty folder or a store:
    anything else is left as it is (ValueError). One writer at a time: a second gets an OSError
    naming ``path`` at once.
    """
    path = Path(os.path.abspath(path))
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, "its folder does not exist", str(path))
    with exclusive(folder / f".{path.name}.lock", path):
        _recover(path)
        _check_replaceable(path)
        for stale in _stale(folder, path.name, ".building"):
            shutil.rmtree(stale, ignore_errors=True)
        build = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.building"
        try:
            yield build
            ZarrDataset(build)  # complete and consistent, or ValueError: never swapped in
            _swap_in(build, path)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise


def save_zarr(data: Dataset, path, chunk: int = 1000, dtype: str = "float64") -> Path:
    """Write ``data`` to a Zarr store at ``path`` (chunks of ``chunk`` samples, series as
    ``dtype``: float64 or float32) as :func:`building` writes; returns the path."""
    chunk = as_int(chunk, "chunk", 1)
    with building(path) as build:
        create_zarr(build, len(data), data.u.shape[-1], data.theta.shape[1], t=data.t, seed=data.seed,
                    config=data.config, chunk=chunk, dtype=dtype, n_noise=data.noise.shape[1],
                    channels=data.u.shape[1] if data.u.ndim == 3 else 1)
        digests = {}
        for lo in range(0, len(data), chunk):
            digests.update(write_rows(build, lo, data[lo: lo + chunk]))
        mark_complete(build, digests)
    return Path(path)


class ZarrDataset:
    """A data set in a Zarr store, read lazily: ``len``, the grid ``t``, ``seed`` and ``config``
    at once; rows only when asked for (``data[lo:hi]`` or :meth:`blocks`, each an in-memory
    :class:`~fhn_inverse.Dataset`).

    Opening checks the store's attributes, shapes and grid against its header digest; every chunk
    read is checked against its SHA-256 (a changed, truncated or deleted chunk is a ValueError
    naming the store and the rows). Stores written before the package kept digests are checked
    for their structure and finite values only.
    """

    def __init__(self, path):
        zarr = _zarr()
        self.path = Path(path)
        if not self.path.is_dir():
            if os.path.lexists(self.path):
                raise ValueError(f"{path}: not a Zarr store (not a folder)")
            _recover(Path(os.path.abspath(path)))
        try:
            self._group = zarr.open_group(str(path), mode="r")
            attrs = dict(self._group.attrs)
            keys = set(self._group.array_keys())
        except Exception as e:  # noqa: BLE001 - zarr's errors differ by version and store
            raise ValueError(f"{path}: not a Zarr store ({type(e).__name__}: {_short(e)})") from None
        if attrs.get("format") != FORMAT or set(_ARRAYS) - keys:
            raise ValueError(f"{path}: not a data set store (format {attrs.get('format')!r}, arrays "
                             f"{sorted(keys)}; expected {FORMAT!r} with {list(_ARRAYS)})")
        if attrs.get("complete") is not True:
            raise ValueError(f"{path}: an incomplete store (its writer stopped before every row was written)")
        self.seed, self.config, self.chunk = _check_attrs(path, attrs)
        shapes = _check_shapes(path, self._group, keys)
        self._series_dtype = shapes["d"][1]
        self.t = self._read_small(path, "t")
        if "header_sha256" in attrs:
            if _DIGESTS not in keys:
                raise ValueError(f"{path}: the per-chunk digests ({_DIGESTS}) are missing")
            # (the declared shape checked before reading: a header that declares a larger digest
            # array would otherwise have it read first, chunk by absent chunk, for seconds)
            expected = -(-len(self) // self.chunk)
            declared = tuple(int(v) for v in self._group[_DIGESTS].shape)
            if declared != (expected, len(_ROWS), 32):
                raise ValueError(f"{path}: {_DIGESTS} has shape {declared}, expected "
                                 f"({expected}, {len(_ROWS)}, 32)")
            self._digests = self._read_small(path, _DIGESTS)
            if _header_digest(attrs, shapes, self.t, self._digests) != attrs["header_sha256"]:
                raise ValueError(f"{path}: header SHA-256 differs (attributes, shapes, grid or digests changed "
                                 "since the store was written)")
        else:
            self._digests = None
        if not (np.all(np.isfinite(self.t)) and np.all(np.diff(self.t) > 0)):
            raise ValueError(f"{path}: the grid t must be finite and increasing")

    def _read_small(self, path, name: str) -> np.ndarray:
        """Array ``name`` whole, once its size is bounded by the bytes of its folder: a header
        cannot make the reader allocate much more than the store holds."""
        nbytes = int(np.prod(self._group[name].shape, dtype=np.float64)) * self._group[name].dtype.itemsize
        if nbytes > _MAX_HEADER_READ + 64 * _folder_bytes(Path(path) / name):
            raise ValueError(f"{path}: {name} declares {nbytes:,} bytes, more than its files can hold")
        try:
            return np.asarray(self._group[name][...])
        except Exception as e:  # noqa: BLE001 - a truncated or garbage chunk: zarr's errors vary
            raise ValueError(f"{path}: {name} does not read ({type(e).__name__}: {_short(e)})") from None

    def __len__(self) -> int:
        return int(self._group["u"].shape[0])

    def __getitem__(self, key) -> Dataset:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError(f"a ZarrDataset is read by contiguous row slices, got {key!r}")
        lo, hi, _ = key.indices(len(self))
        arrays = self.columns(lo, hi, ("theta", "u", "d", "noise", "index"))
        arrays["u"], arrays["d"] = (arrays[k].astype(np.float64, copy=False) for k in ("u", "d"))
        try:
            return Dataset(self.t, seed=self.seed, config=self.config, **arrays)
        except (TypeError, ValueError) as e:  # rows that break the data set's contract
            raise ValueError(f"{self.path}: rows {lo}:{hi} do not form a data set ({e})") from None

    def columns(self, lo: int, hi: int, names) -> dict[str, np.ndarray]:
        """Rows ``lo:hi`` of the named arrays only (of "theta", "u", "d", "noise", "index"), as
        stored; reads nothing else (but the rest of the chunks they lie in, to check them)."""
        unknown = set(names) - set(_ROWS)
        if unknown:
            raise ValueError(f"unknown arrays {sorted(unknown)}; a store holds theta, u, d, noise, index")
        n = len(self)
        lo, hi = max(0, min(lo, n)), max(0, min(hi, n))
        if hi <= lo:
            return {name: np.asarray(self._group[name][0:0]) for name in names}
        c = self.chunk
        first, last = lo // c, -(-hi // c)
        out = {}
        for name in names:
            try:
                block = np.asarray(self._group[name][first * c: min(last * c, n)])
            except Exception as e:  # noqa: BLE001 - a truncated or garbage chunk: zarr's errors vary
                raise ValueError(f"{self.path}: {name} rows {first * c}:{min(last * c, n)} do not read "
                                 f"({type(e).__name__}: {_short(e)})") from None
            if self._digests is not None:
                k = _ROWS.index(name)
                for i in range(first, last):
                    rows = np.ascontiguousarray(block[(i - first) * c: (i - first + 1) * c])
                    digest = hashlib.sha256(rows.astype(rows.dtype.newbyteorder("<"), copy=False).tobytes()).digest()
                    if digest != self._digests[i, k].tobytes():
                        raise ValueError(f"{self.path}: {name} rows {i * c}:{min((i + 1) * c, n)} differ from their "
                                         "SHA-256 (a changed, truncated or missing chunk)")
            elif block.dtype.kind == "f" and not np.all(np.isfinite(block)):
                raise ValueError(f"{self.path}: {name} rows {first * c}:{min(last * c, n)} hold non-finite values")
            out[name] = block[lo - first * c: hi - first * c]
        return out

    @property
    def dtype(self) -> str:
        """How the series are stored: "float64" or "float32"."""
        return self._series_dtype

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


def _short(e: BaseException) -> str:
    text = str(e).splitlines()[0] if str(e) else ""
    return text if len(text) <= 200 else text[:200] + "…"


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.path.getsize(os.path.join(root, name))
    return total


def _check_attrs(path, attrs: dict) -> tuple[int, dict, int]:
    """The store's seed, config and chunk, checked: ValueError naming ``path`` otherwise."""
    seed, config, chunk = attrs.get("seed"), attrs.get("config"), attrs.get("chunk", 1000)
    if type(seed) is not int or not 0 <= seed < 2**64:
        raise ValueError(f"{path}: seed must be an integer in [0, 2**64), got {seed!r:.60}")
    if type(chunk) is not int or chunk < 1:
        raise ValueError(f"{path}: chunk must be a positive integer, got {chunk!r:.60}")
    if not isinstance(config, str) or len(config) > _MAX_HEADER_READ:
        raise ValueError(f"{path}: config must be a JSON text, got {type(config).__name__}")
    try:
        config = json.loads(config)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{path}: config is not valid JSON ({type(e).__name__})") from None
    if not isinstance(config, dict) or _depth(config) > 32:
        raise ValueError(f"{path}: config must be a JSON object nested at most 32 deep")
    return seed, config, chunk


def _depth(value, limit: int = 33) -> int:
    """How deeply ``value`` nests (stops counting past ``limit``), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > limit:
            break
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _check_shapes(path, group, keys) -> dict:
    """The arrays' shapes and dtypes, checked against each other: ValueError naming ``path``."""
    try:
        shapes = {name: [list(group[name].shape), str(group[name].dtype)] for name in (*_ROWS, "t")}
        if _DIGESTS in keys:
            shapes[_DIGESTS] = [list(group[_DIGESTS].shape), str(group[_DIGESTS].dtype)]
    except Exception as e:  # noqa: BLE001 - zarr's errors differ by version and store
        raise ValueError(f"{path}: the arrays' metadata do not read ({type(e).__name__}: {_short(e)})") from None
    if len(shapes["u"][0]) not in (2, 3):
        raise ValueError(f"{path}: arrays of shapes {shapes} do not form a data set")
    (n, *channels), length = shapes["u"][0][:-1], shapes["t"][0]  # u: (n, L) or (n, K, L)
    series = [n] + channels + length
    expected = {"theta": ([n, shapes["theta"][0][-1]], "float64"), "u": (series, shapes["u"][1]),
                "d": (series, shapes["u"][1]), "noise": ([n, shapes["noise"][0][-1]], "float64"),
                "index": ([n], "int64")}
    if (len(length) != 1 or length[0] < 1 or len(shapes["theta"][0]) != 2 or shapes["u"][1] not in SERIES_DTYPES
            or (channels and not 2 <= channels[0] <= 16)):
        raise ValueError(f"{path}: arrays of shapes {shapes} do not form a data set")
    for name, (shape, dtype) in expected.items():
        if shapes[name] != [shape, dtype]:
            raise ValueError(f"{path}: {name} has shape {tuple(shapes[name][0])} and dtype {shapes[name][1]}, "
                             f"expected {tuple(shape)} and {dtype}")
    if _DIGESTS in shapes and shapes[_DIGESTS][1] != "uint8":
        raise ValueError(f"{path}: {_DIGESTS} must be uint8")
    return shapes
