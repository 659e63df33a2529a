"""Training and test data: parameters from a prior, clean series, noisy series, as NumPy arrays.

Sample i of a data set is drawn from the random streams ``(seed, start + i)`` alone, so a data set
of 10,000 samples holds the one of 1,000 as its first rows, independent of threads and chunking.
The study's split: nested training sets N ∈ {500, 1000, 4000, 8000} (the first N of a pool of
8,000) and a fixed disjoint test set of M = 2,000 samples (the next 2,000 stream indices).
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .._version import __version__
from .._util.io import atomic_savez
from .._util.paths import open_regular
from .._util.signals import interrupts_held
from .._util.validation import as_float_array, as_int, as_seed, as_start, as_threads
from ..models.noise import AR1Noise, noise_from_dict
from ..models.observation import ChannelNoise, observe
from ..models.priors import as_prior, default_prior
from ..models.simulation import (FitzHughNagumo, SimulationError, model_grid, model_to_dict, observed_count,
                                 simulate, simulator_options)

__all__ = ["TRAIN_SIZES", "TEST_SIZE", "TEST_START", "Dataset", "test_set", "study_data", "training_sets"]

TRAIN_SIZES = (500, 1000, 4000, 8000)
TEST_SIZE = 2000
#: First stream index of the fixed test set (:func:`test_set`): beyond any training pool,
#: calibration split or other draw an experiment makes, so disjoint from all of them.
TEST_START = 1_000_000_000
_ARRAYS = ("t", "theta", "u", "d", "noise", "index")
_NDIM = {"t": 1, "theta": 2, "u": (2, 3), "d": (2, 3), "noise": 2, "index": 1}
_SHAPES = {"t": "(L,)", "theta": "(N, P)", "u": "(N, L) or (N, K, L)", "d": "(N, L) or (N, K, L)", "noise": "(N, M)",
           "index": "(N,)"}
_MAX_EXPANSION = 64  # uncompressed bytes per file byte a data set may declare (real data: about 1–3)
_EXPANSION_ALLOWANCE = 64 << 20  # … plus this, for small files


@dataclass
class Dataset:
    """Arrays of one data set (N samples, L grid points).

    The constructor makes the checks :meth:`load` makes (one function, ``_checked``), so every
    Dataset saves to a file that loads. Arrays may be given as any array_like (lists too); they
    are kept as float64 arrays (``index`` as int64), without a copy where they already are.

    Parameters
    ----------
    t : array_like, shape (L,)
        The grid, strictly increasing.
    theta : array_like, shape (N, P)
        The parameters.
    u : array_like, shape (N, L) or (N, K, L)
        Clean series; (N, K, L) for a model that observes K quantities (channel ``c`` its
        ``observed[c]``).
    d : array_like, shape of u
        Observed series (u plus noise; equal to u without noise).
    noise : array_like, shape (N, M)
        The parameters of each sample's observation law (``param_names`` of the noise: AR(1)'s
        (σ, ρ); zeros (N, 2) without noise).
    index : array_like of int, shape (N,)
        Each sample's stream index, in [0, 2**63).
    seed : int, default 0
        The seed of the random streams the samples were drawn from, in [0, 2**64).
    config : dict, optional
        How it was made; JSON-serialisable (it is saved as JSON). Its ``"noise"``, where present,
        is ``None`` or a noise's ``to_dict()``, as :meth:`generate` writes.

    Raises
    ------
    TypeError
        If an array is not real numeric (float or integer; ``index`` integer), ``seed`` is not an
        integer, or ``config`` is not a JSON-serialisable dict.
    ValueError
        If an array has the wrong number of dimensions or a shape that does not match N and L of
        ``u``, holds a NaN or an infinity, ``t`` is not strictly increasing, an index or the seed
        is out of range, or ``config["noise"]`` is not of the form above.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> ds = fi.Dataset(t=[0.0, 0.2, 0.4], theta=[[0.4, 0.4]], u=[[0.0, 0.1, 0.2]], d=[[0.0, 0.1, 0.2]],
    ...                 noise=[[0.0, 0.0]], index=[7])
    >>> ds
    Dataset(n=1, length=3, seed=0, noise=None)
    >>> ds.u.dtype, ds.index.dtype
    (dtype('float64'), dtype('int64'))
    >>> data = fi.Dataset.generate(3, seed=0, progress=False)
    >>> len(data), data[1:].index.tolist()     # rows select like an array's
    (3, [1, 2])
    """

    t: np.ndarray
    theta: np.ndarray
    u: np.ndarray
    d: np.ndarray
    noise: np.ndarray
    index: np.ndarray
    seed: int = 0
    config: dict = field(default_factory=dict)

    def __post_init__(self):
        arrays, self.seed, self.config = _checked({name: getattr(self, name) for name in _ARRAYS}, self.seed,
                                                  self.config)
        for name, arr in arrays.items():
            setattr(self, name, arr)

    def __len__(self) -> int:
        return self.u.shape[0]

    def __getitem__(self, key) -> "Dataset":
        """Rows selected by a slice, an index array or a boolean mask; an integer selects one row
        (IndexError outside [-N, N))."""
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            n = len(self)
            if not -n <= int(key) < n:
                raise IndexError(f"index {int(key)} is out of range for a Dataset of {n} samples")
            i = int(key) % n
            key = slice(i, i + 1)
        return Dataset(self.t, self.theta[key], self.u[key], self.d[key], self.noise[key],
                       self.index[key], self.seed, self.config)

    def __repr__(self) -> str:
        channels = f", channels={self.u.shape[1]}" if self.u.ndim == 3 else ""
        return (f"Dataset(n={len(self)}{channels}, length={self.u.shape[-1]}, seed={self.seed}, "
                f"noise={self.config.get('noise')})")

    @classmethod
    def generate(cls, n: int, seed: int = 0, *, prior=None, noise=None, model: FitzHughNagumo | None = None,
                 t=None, start: int = 0, rtol: float = 1e-9, atol: float = 1e-9, n_threads: int = 0,
                 chunk: int = 2000, progress: bool = True, method: str = "rkf78") -> "Dataset":
        """Draw θ from ``prior``, simulate, add ``noise``.

        Parameters
        ----------
        n : int
            Number of samples, at least 1.
        seed : int, default 0
            The random streams' seed, an integer in [0, 2**64).
        prior : GaussianPrior, UniformPrior or array_like of shape (P, 2), optional
            The prior of θ; P ``(low, high)`` bounds stand for the uniform prior on that box
            (:func:`~fhn_inverse.models.priors.as_prior`); default: the study's
            (:func:`~fhn_inverse.models.priors.default_prior`).
        noise : observation law, optional
            An :class:`AR1Noise` (a :class:`GaussianNoise` is one) or another observation law
            (:mod:`~fhn_inverse.models.observation`), or ``None`` for clean data. For a model that
            observes several quantities, a :class:`~fhn_inverse.models.ChannelNoise` (one law per
            channel) or one law for every channel.
        model : FitzHughNagumo, optional
            The model; default ``FitzHughNagumo()``.
        t : array_like, shape (L,), optional
            Observation grid; default :data:`~fhn_inverse.models.simulation.DEFAULT_GRID`.
        start : int, default 0
            Stream index of the first sample; the indices ``start … start + n − 1`` are kept as
            int64, so ``start`` is at most 2**63 − n.
        rtol : float, default 1e-9
            Relative tolerance of the simulator's step-size control.
        atol : float, default 1e-9
            Absolute tolerance of the simulator's step-size control.
        n_threads : int, default 0
            Threads to use, in [0, 1024] (0: all cores).
        chunk : int, default 2000
            Series simulated per call of the simulator, at least 1.
        progress : bool, default True
            Show a progress bar.
        method : {"rkf78", "rkf78-simd"}, default "rkf78"
            The integrator (:data:`~fhn_inverse.models.simulation.METHODS`); "rkf78-simd" is several
            times faster and equal within the tolerances, not bitwise.

        Returns
        -------
        Dataset
            The data set; its ``config`` records how it was made.

        Raises
        ------
        SimulationError
            If a trajectory fails (the prior reaches a region the simulator cannot handle).
        TypeError
            If ``noise`` is neither an :class:`AR1Noise` nor ``None``, or ``prior`` is neither a
            prior, (low, high) bounds nor ``None``.
        ValueError
            If a number is out of its range (``n``, ``seed``, ``start``, ``n_threads``, ``chunk``)
            or the bounds of ``prior`` do not have shape (P, 2) with low < high.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> ds = fi.Dataset.generate(8, seed=0, noise=fi.AR1Noise(), progress=False)
        >>> ds.theta.shape, ds.d.shape, ds.noise.shape
        ((8, 2), (8, 1000), (8, 2))
        """
        n, seed = as_int(n, "n", 1), as_seed(seed)
        start = as_start(start, n, bits=63, why="a data set keeps its stream indices as int64")
        chunk, n_threads = as_int(chunk, "chunk", 1), as_threads(n_threads)
        model = FitzHughNagumo() if model is None else model
        prior = default_prior(model) if prior is None else as_prior(prior)
        names = getattr(prior, "names", None)
        if names is not None and list(names) != list(model.free):
            raise ValueError(f"the prior's marginals are for ({', '.join(names)}); the model's free quantities are "
                             f"({', '.join(model.free)}), in that order")
        if noise is not None and not isinstance(noise, AR1Noise) and not hasattr(noise, "observe"):
            raise TypeError(f"noise must be an observation law (AR1Noise, GaussianNoise, LogNormalNoise, PoissonNoise, "
                            f"BinomialNoise, FunctionNoise) or None, got {type(noise).__name__}")
        options = simulator_options(model_grid(model) if t is None else t, rtol=rtol, atol=atol, method=method)
        grid = np.asarray(options.t_obs)
        theta = prior.sample(n, seed, start)
        K = observed_count(model)
        if K > 1 and noise is not None and not isinstance(noise, ChannelNoise):  # the same law on each channel
            noise = ChannelNoise([noise] * K, names=model.observed)
        if isinstance(noise, ChannelNoise) and len(noise.laws) != K:
            raise ValueError(f"noise has {len(noise.laws)} laws, one per observed quantity; the model observes {K}")
        sim = {"model": model, "t": grid, "rtol": rtol, "atol": atol, "n_threads": n_threads, "return_status": True,
               "method": method}
        with tqdm(total=n, desc="simulate", unit="series", disable=not progress, leave=False) as bar:
            if n <= chunk:  # one call: its arrays are the data set's (no copy)
                u, status = simulate(theta, **sim)
            else:
                u = np.empty((n, grid.size) if K == 1 else (n, K, grid.size))
                status = np.empty(n, dtype=np.int8)
                for lo in range(0, n, chunk):
                    hi = min(n, lo + chunk)
                    u[lo:hi], status[lo:hi] = simulate(theta[lo:hi], **sim)
                    with interrupts_held():  # (a Ctrl-C raised inside tqdm's locks would leave one held)
                        bar.update(hi - lo)
            with interrupts_held():
                bar.update(n - bar.n)
        failed = np.flatnonzero(status)
        if failed.size:
            raise SimulationError(failed, status)
        d, params = observe(noise, u, seed, start, n_threads)
        config = {
            "model": model_to_dict(model),
            "simulator": {"method": options.method, "rtol": rtol, "atol": atol},
            "prior": prior.to_dict(),
            "noise": None if noise is None else noise.to_dict(),
            "start": start,
            "version": __version__,
        }
        return cls(grid, theta, u, d, params, np.arange(start, start + n, dtype=np.int64), seed, config)

    def save(self, path) -> Path:
        """Write a compressed ``.npz`` file atomically (a temporary file beside it, then a rename).

        Parameters
        ----------
        path : str or os.PathLike
            The file; ".npz" is appended to a path without it. Missing parent folders are created.

        Returns
        -------
        Path
            The path written.

        Examples
        --------
        >>> import tempfile, os
        >>> import fhn_inverse as fi
        >>> data = fi.Dataset.generate(2, seed=0, progress=False)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = data.save(os.path.join(tmp, "train"))
        ...     path.name, path.exists()
        ('train.npz', True)
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_savez(path, compressed=True, **{name: getattr(self, name) for name in _ARRAYS},
                     seed=np.uint64(self.seed), config=np.array(json.dumps(self.config)))
        return path

    @classmethod
    def load(cls, path) -> "Dataset":
        """Read a file written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
            The file.

        Returns
        -------
        Dataset
            The data set it holds.

        Raises
        ------
        ValueError
            Naming the file, for any file that is not a valid data set: a broken or hostile
            archive, arrays of the wrong kind, shape or values, more uncompressed data than
            ``_MAX_EXPANSION`` times the file's size.

        Examples
        --------
        >>> import tempfile, os
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> data = fi.Dataset.generate(2, seed=0, noise=fi.AR1Noise(), progress=False)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     back = fi.Dataset.load(data.save(os.path.join(tmp, "train.npz")))
        >>> back.d.shape, bool(np.array_equal(back.d, data.d)), back.config == data.config
        ((2, 1000), True, True)
        """
        path = Path(path)
        try:
            return cls._load(path)
        except ValueError as err:
            if str(path) in str(err):
                raise
            raise ValueError(f"cannot read data set {path}: {err}") from None
        except Exception as err:  # noqa: BLE001 - hostile content reaches zipfile's, zlib's and numpy's parsers
            # (BadZipFile, zlib.error, EOFError, NotImplementedError, tokenize.TokenError, RecursionError, …)
            hint = ""
            if isinstance(err, zipfile.BadZipFile) and _looks_like_model(path):
                hint = " — it looks like a model file (.safetensors); a data set is the .npz of 'simulate'"
            raise ValueError(f"cannot read data set {path}: {type(err).__name__}: {err}{hint}") from None

    @classmethod
    def _load(cls, path: Path) -> "Dataset":
        with open_regular(path) as fh:
            file_size = os.fstat(fh.fileno()).st_size
            with zipfile.ZipFile(fh) as archive:
                members = {info.filename: info for info in archive.infolist()}
                missing = [k for k in (*_ARRAYS, "seed", "config") if f"{k}.npy" not in members]
                if missing:
                    raise ValueError(f"{path} is not a fhn_inverse data set: missing {missing}")
                wanted = [members[f"{k}.npy"] for k in (*_ARRAYS, "seed", "config")]
                declared = sum(info.file_size for info in wanted)
                allowed = _MAX_EXPANSION * file_size + _EXPANSION_ALLOWANCE
                if declared > allowed:
                    raise ValueError(f"{path}: the archive declares {declared} bytes of arrays, more than "
                                     f"{_MAX_EXPANSION} × its {file_size} bytes (+{_EXPANSION_ALLOWANCE}); "
                                     "not a data set")
                raw = {info.filename[:-4]: _read_member(archive, info, path) for info in wanted}
        seed = raw["seed"]
        if seed.shape != () or seed.dtype.kind not in "iu":
            raise ValueError(f"{path}: seed must be an integer in [0, 2**64), got {seed!r}")
        config = raw["config"]
        if config.shape != () or config.dtype.kind != "U":
            raise ValueError(f"{path}: config must be a JSON string, got dtype {config.dtype} shape {config.shape}")
        try:  # the constructor's checks are the file's: one function, _checked
            return cls(**{name: raw[name] for name in _ARRAYS}, seed=int(seed), config=json.loads(str(config)))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: {err}") from None


def _checked(arrays: dict, seed, config) -> tuple[dict, int, dict]:
    """The arrays, seed and config of a data set, checked and converted, for the constructor and
    :meth:`Dataset.load` alike.

    t, theta, u, d and noise: real numeric arrays (float or integer, not bool) of 1, 2, 2 or 3, 2 or 3
    and 2 dimensions, finite, as float64; index: integers in [0, 2**63), as int64; shapes (L,), (N, P),
    (N, L), (N, L), (N, M), (N,) with N and L those of u (u and d (N, K, L) for a model observing K
    quantities); t strictly increasing; seed an integer in
    [0, 2**64); config a JSON-serialisable dict whose "noise", where present, is None or a noise's
    ``to_dict()``. TypeError for a wrong type, ValueError for a wrong value, naming the attribute.
    """
    out = {}
    for name in _ARRAYS:
        label = f"Dataset.{name}"
        try:
            arr = np.asarray(arrays[name])
        except ValueError as err:  # ragged lists
            raise ValueError(f"{label} must be an array of shape {_SHAPES[name]}: {err}") from None
        if name == "index":
            if arr.dtype.kind not in "iu":
                raise TypeError(f"{label} must be an integer array, got dtype {arr.dtype}")
            if arr.ndim != 1:
                raise ValueError(f"{label} must have 1 dimension, got shape {arr.shape}")
            low, high = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
            if low < 0 or high >= 2**63:
                raise ValueError(f"{label} must hold integers in [0, 2**63), got {low if low < 0 else high}")
            out[name] = arr.astype(np.int64, copy=False)
            continue
        if arr.dtype.kind not in "fiu" or arr.dtype.names is not None:
            raise TypeError(f"{label} must be a real numeric array (float or integer), got dtype {arr.dtype}")
        out[name] = as_float_array(arr, label, _NDIM[name], allow_empty=True)
    n, length = out["u"].shape[0], out["u"].shape[-1]
    expected = {"t": (length,), "theta": (n, out["theta"].shape[1]), "u": out["u"].shape, "d": out["u"].shape,
                "noise": (n, out["noise"].shape[1]), "index": (n,)}
    for name, shape in expected.items():
        if out[name].shape != shape:
            raise ValueError(f"Dataset.{name} must have shape {shape}, got {out[name].shape}")
    t = out["t"]
    if length > 1 and not (np.diff(t) > 0).all():
        k = int(np.argmin(np.diff(t) > 0))
        raise ValueError(f"Dataset.t must be strictly increasing, got t[{k}] = {t[k]} and t[{k + 1}] = {t[k + 1]}")
    seed = as_seed(seed)
    if not isinstance(config, dict):
        raise TypeError(f"Dataset.config must be a dict, got {type(config).__name__}")
    try:
        json.dumps(config)
    except (TypeError, ValueError, RecursionError) as err:
        raise TypeError(f"Dataset.config must be JSON-serialisable (it is saved as JSON): {err}") from None
    if "noise" in config:
        try:
            noise_from_dict(config["noise"])
        except ValueError as err:
            raise ValueError(f"Dataset.config['noise'] must be None or a noise's to_dict(), as Dataset.generate "
                             f"writes: {err}") from None
    return out, seed, config


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> np.ndarray:
    """One .npy member; its header's shape and dtype are checked against the member's declared
    size before anything is allocated (the archive's sizes bound what zipfile decompresses)."""
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise ValueError(f"{path}: {info.filename} has .npy format version {version}, expected 1.0 or 2.0")
        if dtype.hasobject:
            raise ValueError(f"{path}: {info.filename} holds Python objects")
        count = math.prod(shape)
        if count * dtype.itemsize > info.file_size:
            raise ValueError(f"{path}: {info.filename} declares shape {shape} of {dtype}, more than its "
                             f"{info.file_size} bytes")
    with archive.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _looks_like_model(path) -> bool:
    """True if ``path`` starts like a safetensors file: an 8-byte header length, then JSON."""
    try:
        with open_regular(path) as f:
            head = f.read(9)
    except (OSError, ValueError):
        return False
    return len(head) == 9 and head[8:9] == b"{" and 2 <= int.from_bytes(head[:8], "little") < 1 << 30


def test_set(seed: int = 0, *, noise=None, size: int = TEST_SIZE, **kwargs) -> Dataset:
    """The fixed test set: ``size`` samples of the stream ``seed`` from index :data:`TEST_START` on.

    The same series for every experiment and training size, disjoint from every training pool
    (indices below it).

    Parameters
    ----------
    seed : int, default 0
        The random streams' seed.
    noise : AR1Noise, optional
        The measurement noise, or ``None`` for clean data (as in :meth:`Dataset.generate`).
    size : int, default TEST_SIZE
        Number of samples, at least 1.
    **kwargs
        Go to :meth:`Dataset.generate`.

    Returns
    -------
    Dataset
        The test set.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> test = fi.test_set(0, size=3, progress=False)
    >>> len(test), test.index.tolist()     # stream indices from TEST_START on
    (3, [1000000000, 1000000001, 1000000002])
    """
    return Dataset.generate(as_int(size, "size", 1), seed, noise=noise, start=TEST_START, **kwargs)


def study_data(seed: int = 0, *, noise=None, train_size: int = max(TRAIN_SIZES),
               test_size: int = TEST_SIZE, fixed_test: bool = False, **kwargs) -> tuple[Dataset, Dataset]:
    """The study's training pool and test set, disjoint.

    ``pool[:N]`` is the nested training set of size N (stream indices 0 … N − 1). The test set
    follows the pool in the stream (indices ``train_size`` …), so it depends on the pool's size;
    with ``fixed_test`` it is :func:`test_set`, the same for every pool.

    Parameters
    ----------
    seed : int, default 0
        The random streams' seed.
    noise : AR1Noise, optional
        The measurement noise, or ``None`` for clean data (as in :meth:`Dataset.generate`).
    train_size : int, default max(TRAIN_SIZES)
        Samples in the pool, at least 1.
    test_size : int, default TEST_SIZE
        Samples in the test set, at least 1.
    fixed_test : bool, default False
        Use :func:`test_set` as the test set.
    **kwargs
        Go to :meth:`Dataset.generate`.

    Returns
    -------
    pool : Dataset
        ``train_size`` samples.
    test : Dataset
        ``test_size`` samples.

    Raises
    ------
    ValueError
        With ``fixed_test``, if ``train_size`` exceeds :data:`TEST_START`.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> pool, test = fi.study_data(0, train_size=50, test_size=20, noise=fi.AR1Noise(), progress=False)
    >>> len(pool), len(test), pool.d.shape
    (50, 20, (50, 1000))
    """
    train_size, test_size = as_int(train_size, "train_size", 1), as_int(test_size, "test_size", 1)
    if fixed_test:
        if train_size > TEST_START:
            raise ValueError(f"train_size must be at most {TEST_START:,} beside the fixed test set, got {train_size:,}")
        return Dataset.generate(train_size, seed, noise=noise, **kwargs), test_set(seed, noise=noise, size=test_size,
                                                                                 **kwargs)
    data = Dataset.generate(train_size + test_size, seed, noise=noise, **kwargs)
    return data[:train_size], data[train_size:]


def training_sets(pool: Dataset, sizes=TRAIN_SIZES) -> dict[int, Dataset]:
    """Nested training sets ``{N: pool[:N]}``.

    Parameters
    ----------
    pool : Dataset
        The training pool.
    sizes : iterable of int, default TRAIN_SIZES
        The sizes N.

    Returns
    -------
    dict of int to Dataset
        ``pool[:N]`` for each N.

    Raises
    ------
    ValueError
        If the pool is too small.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> pool = fi.Dataset.generate(6, seed=0, progress=False)
    >>> sets = fi.training_sets(pool, sizes=(2, 4, 6))
    >>> {n: len(ds) for n, ds in sets.items()}
    {2: 2, 4: 4, 6: 6}
    >>> sets[4].index.tolist()     # nested: the first N of the pool
    [0, 1, 2, 3]
    """
    out = {}
    for size in sizes:
        size = as_int(size, "size", 1)
        if size > len(pool):
            raise ValueError(f"training size must be <= the pool's {len(pool)} samples, got {size}")
        out[size] = pool[:size]
    return out
