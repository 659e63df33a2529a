"""Observation laws beyond additive Gaussian noise: how the observed series d follows from the
model's clean series u.

- :class:`~fhn_inverse.AR1Noise` (and :class:`~fhn_inverse.GaussianNoise`, white): d = u + η.
- :class:`LogNormalNoise`: multiplicative, d = u · exp(η) with η AR(1) (white with ρ = 0); u > 0.
- :class:`PoissonNoise`: counts, d ~ Poisson(scale · u); u ≥ 0.
- :class:`BinomialNoise`: counts, d ~ Binomial(trials, scale · u); 0 ≤ scale · u ≤ 1.
- :class:`FunctionNoise`: any vectorised NumPy function ``f(u, rng) -> d``, the open fallback.

Every law has ``observe(u, seed, start, n_threads) -> (d, params)`` (params: the per-series
parameters, a data set's ``noise`` columns, named by ``param_names``), ``to_dict`` and a record
:func:`~fhn_inverse.models.noise_from_dict` reads back. The draws of series ``i`` depend on
``(seed, start + i)`` only, so data sets do not depend on chunking or the thread count —
except :class:`FunctionNoise`'s, whose generator is seeded per call by ``(seed, start)``.
"""

from __future__ import annotations

import numpy as np

from .._util.validation import as_float, as_int, as_seed, as_start
from . import noise as _noise
from .noise import AR1Noise, _fixed_or_range

__all__ = ["LogNormalNoise", "PoissonNoise", "BinomialNoise", "FunctionNoise", "observe"]

# Streams of the count laws (numpy's SeedSequence((seed, index, stream)) per series).
_POISSON, _BINOMIAL, _FUNCTION = 101, 102, 103


def observe(noise, u: np.ndarray, seed: int = 0, start: int = 0, n_threads: int = 0):
    """``(d, params)``: the series ``u`` (N, L) observed under ``noise`` (None: d = u, no
    parameters).

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> from fhn_inverse.models.observation import observe
    >>> d, params = observe(fi.models.PoissonNoise(scale=10.0), np.full((2, 5), 3.0), seed=1)
    >>> d.shape, params.tolist(), bool((d == np.round(d)).all())
    ((2, 5), [[10.0], [10.0]], True)
    """
    if noise is None:
        return u.copy(), np.zeros((u.shape[0], 2))
    return noise.observe(u, seed, start, n_threads)


def _rows(u, what: str, low: float | None, high: float | None = None, strict: bool = False):
    """ValueError naming the first row whose clean series leaves the law's domain (above ``low``,
    strictly with ``strict``; at most ``high``)."""
    v = u
    bad = np.zeros(u.shape[0], dtype=bool)
    if low is not None:
        bad |= ~(v > low).all(axis=1) if strict else ~(v >= low).all(axis=1)
    if high is not None:
        bad |= ~(v <= high).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{what}: series {i} leaves the law's domain (its values span [{v[i].min():.4g}, "
                         f"{v[i].max():.4g}]); observe a quantity that stays inside it")


def _generators(seed: int, start: int, n: int, stream: int):
    return [np.random.Generator(np.random.PCG64(np.random.SeedSequence((seed, start + i, stream))))
            for i in range(n)]


class LogNormalNoise:
    """Multiplicative log-normal noise, d = u · exp(η), η the AR(1) series of
    :class:`~fhn_inverse.AR1Noise` (σ the standard deviation of η with the default ``dt=1``;
    ``rho=0`` for independent errors). The observed quantity must stay positive.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> noise = fi.models.LogNormalNoise(sigma=0.1, rho=0.0)
    >>> d, params = noise.observe(np.full((3, 400), 2.0), seed=0)
    >>> bool(abs(np.log(d / 2.0).std() - 0.1) < 0.01), params.shape
    (True, (3, 2))
    """

    param_names = ("sigma", "rho")
    param_units = {"sigma": "dimensionless (of log u)", "rho": "dimensionless (per observation step)"}

    def __init__(self, sigma=(0.05, 0.2), rho=0.0, dt: float = 1.0):
        self._ar1 = AR1Noise(sigma, rho, dt)
        self.sigma, self.rho, self.dt = self._ar1.sigma, self._ar1.rho, self._ar1.dt

    def observe(self, u, seed: int = 0, start: int = 0, n_threads: int = 0):
        _rows(u, "log-normal noise needs a positive observed quantity", 0.0, strict=True)
        eta, params = self._ar1.sample(u.shape[0], u.shape[1], seed, start, n_threads)
        return u * np.exp(eta), params

    def to_dict(self) -> dict:
        as_json = lambda v: list(v) if isinstance(v, tuple) else v  # noqa: E731
        return {"kind": "lognormal", "sigma": as_json(self.sigma), "rho": as_json(self.rho), "dt": self.dt}

    def __repr__(self) -> str:
        return f"LogNormalNoise(sigma={self.sigma!r}, rho={self.rho!r}, dt={self.dt!r})"


class PoissonNoise:
    """Counts, d ~ Poisson(scale · u) independently at each time: the observed quantity is a rate
    (u ≥ 0), ``scale`` the exposure (a number, or a ``(low, high)`` range drawn per series).

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> d, _ = fi.models.PoissonNoise(scale=100.0).observe(np.full((1, 2000), 0.5), seed=0)
    >>> bool(abs(d.mean() - 50.0) < 1.0)
    True
    """

    param_names = ("scale",)
    param_units = {"scale": "exposure (1 / unit of the series)"}

    def __init__(self, scale=1.0):
        self.scale = _fixed_or_range(scale, "scale", 0.0, np.inf, low_open=True)

    def _scales(self, n, seed, start):
        if not isinstance(self.scale, tuple):
            return np.full(n, float(self.scale))
        rng = _generators(seed, start, n, _POISSON + 1000)
        return np.array([g.uniform(*self.scale) for g in rng])

    def observe(self, u, seed: int = 0, start: int = 0, n_threads: int = 0):
        seed, start = as_seed(seed), as_start(start, u.shape[0])
        scales = self._scales(u.shape[0], seed, start)
        _rows(u * scales[:, None], "Poisson noise needs a rate >= 0", 0.0)
        d = np.empty_like(u, dtype=np.float64)
        for i, g in enumerate(_generators(seed, start, u.shape[0], _POISSON)):
            d[i] = g.poisson(scales[i] * u[i])
        return d, scales[:, None]

    def to_dict(self) -> dict:
        return {"kind": "poisson", "scale": list(self.scale) if isinstance(self.scale, tuple) else self.scale}

    def __repr__(self) -> str:
        return f"PoissonNoise(scale={self.scale!r})"


class BinomialNoise:
    """Counts, d ~ Binomial(trials, scale · u) independently at each time: the observed quantity
    times ``scale`` is a probability (e.g. a prevalence, observed as the positives among
    ``trials`` people tested). ``trials``: an integer ≥ 1.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> d, params = fi.models.BinomialNoise(trials=50).observe(np.full((2, 1000), 0.2), seed=0)
    >>> bool(abs(d.mean() - 10.0) < 0.5), bool(d.max() <= 50), params[0].tolist()
    (True, True, [50.0])
    """

    param_names = ("trials",)
    param_units = {"trials": "count"}

    def __init__(self, trials: int = 100, scale: float = 1.0):
        self.trials = as_int(trials, "trials", 1)
        self.scale = as_float(scale, "scale")
        if not (self.scale > 0 and np.isfinite(self.scale)):
            raise ValueError(f"scale must be finite and > 0, got {scale}")

    def observe(self, u, seed: int = 0, start: int = 0, n_threads: int = 0):
        seed, start = as_seed(seed), as_start(start, u.shape[0])
        p = self.scale * u
        _rows(p, "binomial noise needs a probability scale * u in [0, 1]", 0.0, 1.0)
        d = np.empty_like(u, dtype=np.float64)
        for i, g in enumerate(_generators(seed, start, u.shape[0], _BINOMIAL)):
            d[i] = g.binomial(self.trials, p[i])
        return d, np.full((u.shape[0], 1), float(self.trials))

    def to_dict(self) -> dict:
        return {"kind": "binomial", "trials": self.trials, "scale": self.scale}

    def __repr__(self) -> str:
        return f"BinomialNoise(trials={self.trials!r}, scale={self.scale!r})"


class FunctionNoise:
    """Any observation law as a vectorised NumPy function ``fn(u, rng) -> d``: ``u`` the clean
    series (N, L), ``rng`` a ``numpy.random.Generator`` seeded by ``(seed, start)`` of the
    call. The open fallback: its records name the function but cannot rebuild it (pass it again),
    and its draws depend on how a data set is split into calls.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> noise = fi.models.FunctionNoise(lambda u, rng: u + rng.standard_t(3, size=u.shape) * 0.1)
    >>> d, params = noise.observe(np.zeros((2, 4)), seed=0)
    >>> d.shape, params.shape
    ((2, 4), (2, 0))
    """

    param_names = ()
    param_units: dict = {}

    def __init__(self, fn, name: str | None = None):
        if not callable(fn):
            raise TypeError(f"fn must be callable as fn(u, rng) -> d, got {type(fn).__name__}")
        self.fn, self.name = fn, name or getattr(fn, "__qualname__", type(fn).__name__)

    def observe(self, u, seed: int = 0, start: int = 0, n_threads: int = 0):
        rng = _generators(as_seed(seed), as_start(start, u.shape[0]), 1, _FUNCTION)[0]
        d = np.asarray(self.fn(u.copy(), rng), dtype=np.float64)
        if d.shape != u.shape:
            raise ValueError(f"FunctionNoise {self.name}: fn must return an array of the series' shape {u.shape}, "
                             f"got {d.shape}")
        if not np.isfinite(d).all():
            raise ValueError(f"FunctionNoise {self.name}: fn returned values that are not finite")
        return d, np.zeros((u.shape[0], 0))

    def to_dict(self) -> dict:
        return {"kind": "function", "name": self.name}

    def __repr__(self) -> str:
        return f"FunctionNoise({self.name})"


def _from_record(spec: dict):
    kind = spec["kind"]
    as_range = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731
    if kind == "lognormal":
        return LogNormalNoise(as_range(spec["sigma"]), as_range(spec.get("rho", 0.0)), spec.get("dt", 1.0))
    if kind == "poisson":
        return PoissonNoise(as_range(spec.get("scale", 1.0)))
    if kind == "binomial":
        return BinomialNoise(spec.get("trials", 100), spec.get("scale", 1.0))
    return FunctionNoise(_unrestorable(spec.get("name", "?")), name=spec.get("name"))


def _unrestorable(name):
    def fn(u, rng):
        raise ValueError(f"the observation function {name} of this record cannot be restored; pass it again as "
                         "FunctionNoise(fn)")
    return fn


for _kind in ("lognormal", "poisson", "binomial", "function"):
    _noise.register_kind(_kind, _from_record)
