"""Training and test data: parameters from a prior, clean series, noisy series, as NumPy arrays.

Sample i of a data set is drawn from the random streams ``(seed, start + i)`` alone, so a data set
of 10,000 samples holds the one of 1,000 as its first rows, independent of threads and chunking.
The study's split: nested training sets N ∈ {500, 1000, 4000, 8000} (the first N of a pool of
8,000) and a fixed disjoint test set of M = 2,000 samples (the next 2,000 stream indices).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from . import _core, __version__
from ._validation import as_int, as_seed
from .simulation import (AR1Noise, FitzHughNagumo, SimulationError, default_prior, simulate,
                         simulator_options)

TRAIN_SIZES = (500, 1000, 4000, 8000)
TEST_SIZE = 2000
_ARRAYS = ("t", "theta", "u", "d", "noise", "index")


@dataclass
class Dataset:
    """Arrays of one data set (N samples, L grid points).

    t (L,) grid; theta (N, P) parameters; u (N, L) clean series; d (N, L) observed series
    (u plus noise; equal to u without noise); noise (N, 2) the (σ, ρ) of each sample's noise
    (zeros without noise); index (N,) each sample's stream index; config: how it was made.
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
        n, L = self.u.shape
        expected = {"t": (L,), "theta": (n, self.theta.shape[-1]), "u": (n, L), "d": (n, L),
                    "noise": (n, 2), "index": (n,)}
        for name, shape in expected.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"Dataset.{name} must have shape {shape}, got {getattr(self, name).shape}")

    def __len__(self) -> int:
        return self.u.shape[0]

    def __getitem__(self, key) -> "Dataset":
        """Rows selected by a slice, an index array or a boolean mask."""
        if isinstance(key, (int, np.integer)):
            key = slice(int(key), int(key) + 1 if int(key) != -1 else None)
        return Dataset(self.t, self.theta[key], self.u[key], self.d[key], self.noise[key],
                       self.index[key], self.seed, self.config)

    def __repr__(self) -> str:
        return f"Dataset(n={len(self)}, length={self.u.shape[1]}, seed={self.seed}, noise={self.config.get('noise')})"

    @classmethod
    def generate(cls, n: int, seed: int = 0, *, prior=None, noise=None, model: FitzHughNagumo | None = None,
                 t=None, start: int = 0, rtol: float = 1e-9, atol: float = 1e-9, n_threads: int = 0,
                 chunk: int = 2000, progress: bool = True) -> "Dataset":
        """Draw θ from ``prior`` (default: the study's), simulate, add ``noise`` (an
        :class:`AR1Noise` or ``None`` for clean data). Raises :class:`SimulationError` if a
        trajectory fails (the prior reaches a region the simulator cannot handle)."""
        n, seed, start = as_int(n, "n", 1), as_seed(seed), as_int(start, "start", 0)
        chunk = as_int(chunk, "chunk", 1)
        prior = default_prior() if prior is None else prior
        model = FitzHughNagumo() if model is None else model
        if noise is not None and not isinstance(noise, AR1Noise):
            raise TypeError(f"noise must be an AR1Noise, GaussianNoise or None, got {type(noise).__name__}")
        options = simulator_options(t, rtol=rtol, atol=atol)
        grid = np.asarray(options.t_obs)
        theta = prior.sample(n, seed, start)
        u = np.empty((n, grid.size))
        status = np.empty(n, dtype=np.int8)
        with tqdm(total=n, desc="simulate", unit="series", disable=not progress, leave=False) as bar:
            for lo in range(0, n, chunk):
                hi = min(n, lo + chunk)
                u[lo:hi], status[lo:hi] = simulate(theta[lo:hi], model=model, t=grid, rtol=rtol, atol=atol,
                                                   n_threads=n_threads, return_status=True)
                bar.update(hi - lo)
        failed = np.flatnonzero(status)
        if failed.size:
            raise SimulationError(failed, status)
        if noise is None:
            d, params = u.copy(), np.zeros((n, 2))
        else:
            eta, params = noise.sample(n, grid.size, seed, start, n_threads)
            d = u + eta
        config = {
            "model": {"name": "FitzHughNagumo", "gamma": model.gamma, "zeta": model.zeta,
                      "initial": list(model.initial)},
            "simulator": {"method": "rkf78", "rtol": rtol, "atol": atol},
            "prior": prior.to_dict(),
            "noise": None if noise is None else noise.to_dict(),
            "start": start,
            "version": __version__,
        }
        return cls(grid, theta, u, d, params, np.arange(start, start + n, dtype=np.int64), seed, config)

    def save(self, path) -> Path:
        """Write a ``.npz`` file atomically (a temporary file beside it, then a rename)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **{name: getattr(self, name) for name in _ARRAYS},
                         seed=np.uint64(self.seed), config=np.array(json.dumps(self.config)))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path) -> "Dataset":
        """Read a file written by :meth:`save`; ValueError if it is not one."""
        path = Path(path)
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                missing = [k for k in (*_ARRAYS, "seed", "config") if k not in z.files]
                if missing:
                    raise ValueError(f"{path} is not a fhn_inverse data set: missing {missing}")
                arrays = {k: z[k] for k in _ARRAYS}
                seed, config = int(z["seed"]), json.loads(str(z["config"]))
        except (OSError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as err:
            raise ValueError(f"cannot read data set {path}: {err}") from err
        return cls(**arrays, seed=seed, config=config)


def study_data(seed: int = 0, *, noise=None, train_size: int = max(TRAIN_SIZES),
               test_size: int = TEST_SIZE, **kwargs) -> tuple[Dataset, Dataset]:
    """The study's training pool and test set: ``(pool, test)`` of ``train_size`` and
    ``test_size`` samples from one stream, disjoint; ``pool[:N]`` is the nested training set
    of size N. Keyword arguments go to :meth:`Dataset.generate`."""
    train_size, test_size = as_int(train_size, "train_size", 1), as_int(test_size, "test_size", 1)
    data = Dataset.generate(train_size + test_size, seed, noise=noise, **kwargs)
    return data[:train_size], data[train_size:]


def training_sets(pool: Dataset, sizes=TRAIN_SIZES) -> dict[int, Dataset]:
    """Nested training sets ``{N: pool[:N]}``; ValueError if the pool is too small."""
    out = {}
    for size in sizes:
        size = as_int(size, "size", 1)
        if size > len(pool):
            raise ValueError(f"training size must be <= the pool's {len(pool)} samples, got {size}")
        out[size] = pool[:size]
    return out
