"""Observation laws beyond additive Gaussian noise: how the observed series d follows from the
model's clean series u.

- :class:`~fhn_inverse.AR1Noise` (and :class:`~fhn_inverse.GaussianNoise`, white): d = u + η.
- :class:`LogNormalNoise`: multiplicative, d = u · exp(η) with η AR(1) (white with ρ = 0); u > 0.
- :class:`PoissonNoise`: counts, d ~ Poisson(scale · u); u ≥ 0.
- :class:`BinomialNoise`: counts, d ~ Binomial(trials, scale · u); 0 ≤ scale · u ≤ 1.
- :class:`FunctionNoise`: any vectorised NumPy function ``f(u, rng) -> d``, the open fallback.
- :class:`ChannelNoise`: one law per observed quantity of a model that observes several (series
  (N, K, L)); each channel's noise independent of the others'.

Every law has ``observe(u, seed, start, n_threads) -> (d, params)`` (params: the per-series
parameters, a data set's ``noise`` columns, named by ``param_names``), ``to_dict`` and a record
:func:`~fhn_inverse.models.noise_from_dict` reads back. The draws of series ``i`` depend on
``(seed, start + i)`` only, so data sets do not depend on chunking or the thread count (a
:class:`FunctionNoise` with ``batch=True`` trades this for one call per chunk).
"""

from __future__ import annotations

import numpy as np

from .._util.validation import as_float, as_int, as_seed, as_start
from . import noise as _noise
from .noise import AR1Noise, _fixed_or_range

__all__ = ["LogNormalNoise", "PoissonNoise", "BinomialNoise", "FunctionNoise", "ChannelNoise", "observe"]

# Streams of the count laws (numpy's SeedSequence((seed, index, stream)) per series).
_POISSON, _BINOMIAL, _FUNCTION, _CHANNELS = 101, 102, 103, 104


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
    if u.ndim == 3 and not isinstance(noise, ChannelNoise):  # several observed quantities: one law for each
        noise = ChannelNoise([noise] * u.shape[1])
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
    """Any observation law as a NumPy function ``fn(u, rng) -> d``: ``u`` clean series (M, L),
    ``rng`` a ``numpy.random.Generator``; the open fallback. By default ``fn`` sees one series at
    a time, with the generator of ``(seed, start + i)``, so its draws depend on the seed and the
    series' index only, as every other law's (a data set does not depend on chunking or threads).
    ``batch=True`` calls ``fn`` once per call on all its series with one generator seeded by
    ``(seed, start)``: faster for a vectorised ``fn``, but then the draws depend on how a data set
    is split into calls. Its records name the function but cannot rebuild it (pass it again).

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> noise = fi.models.FunctionNoise(lambda u, rng: u + rng.standard_t(3, size=u.shape) * 0.1)
    >>> d, params = noise.observe(np.zeros((2, 4)), seed=0)
    >>> d.shape, params.shape
    ((2, 4), (2, 0))
    >>> bool(np.array_equal(noise.observe(np.zeros((1, 4)), seed=0, start=1)[0][0], d[1]))  # series 1 alone
    True
    """

    param_names = ()
    param_units: dict = {}

    def __init__(self, fn, name: str | None = None, *, batch: bool = False):
        if not callable(fn):
            raise TypeError(f"fn must be callable as fn(u, rng) -> d, got {type(fn).__name__}")
        if not isinstance(batch, bool):
            raise TypeError(f"batch must be True or False, got {batch!r}")
        self.fn, self.name, self.batch = fn, name or getattr(fn, "__qualname__", type(fn).__name__), batch

    def _call(self, u, rng):
        d = np.asarray(self.fn(u.copy(), rng), dtype=np.float64)
        if d.shape != u.shape:
            raise ValueError(f"FunctionNoise {self.name}: fn must return an array of the series' shape {u.shape}, "
                             f"got {d.shape}")
        return d

    def observe(self, u, seed: int = 0, start: int = 0, n_threads: int = 0):
        seed, start = as_seed(seed), as_start(start, u.shape[0])
        if self.batch:
            d = self._call(u, _generators(seed, start, 1, _FUNCTION)[0])
        else:
            d = np.empty_like(u, dtype=np.float64)
            for i, rng in enumerate(_generators(seed, start, u.shape[0], _FUNCTION)):
                d[i] = self._call(u[i:i + 1], rng)[0]
        if not np.isfinite(d).all():
            raise ValueError(f"FunctionNoise {self.name}: fn returned values that are not finite")
        return d, np.zeros((u.shape[0], 0))

    def to_dict(self) -> dict:
        return {"kind": "function", "name": self.name, "batch": self.batch}

    def __repr__(self) -> str:
        return f"FunctionNoise({self.name}{', batch=True' if self.batch else ''})"


class ChannelNoise:
    """The observation of a model that observes K quantities (series (N, K, L)): ``laws[c]``
    observes channel ``c`` (``None``: exactly), independently of the others. Channel ``c`` of
    series ``i`` draws from ``(seed, c, start + i)`` only, so a data set does not depend on
    chunking or the thread count (as each law alone). Its parameters are the channels' in turn,
    named ``"sigma[x]"`` for the parameter ``sigma`` of the channel named ``x``.

    Parameters
    ----------
    laws : sequence of observation laws or None
        One per observed quantity, in channel order.
    names : sequence of str, optional
        The channels' names (a model's ``observed``); default ``"0"``, ``"1"``, ...

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> noise = fi.models.ChannelNoise([fi.GaussianNoise(0.1), fi.models.PoissonNoise(10.0)], names=("x", "y"))
    >>> d, params = noise.observe(np.ones((3, 2, 50)), seed=0)
    >>> d.shape, noise.param_names, params.shape
    ((3, 2, 50), ('sigma[x]', 'rho[x]', 'scale[y]'), (3, 3))
    """

    def __init__(self, laws, names=None):
        if isinstance(laws, (str, bytes)) or not hasattr(laws, "__len__") or not 1 <= len(laws) <= 16:
            raise TypeError(f"laws must be a sequence of 1 to 16 observation laws (or None), one per observed "
                            f"quantity, got {laws!r}")
        for law in laws:
            if law is not None and not (hasattr(law, "observe") and hasattr(law, "to_dict")):
                raise TypeError(f"each of laws must be an observation law or None, got {type(law).__name__}")
            if isinstance(law, ChannelNoise):
                raise TypeError("a ChannelNoise cannot observe one channel of another")
        self.laws = tuple(laws)
        names = tuple(str(c) for c in range(len(self.laws))) if names is None else tuple(names)
        if len(names) != len(self.laws) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"names must be {len(self.laws)} strings, one per law, got {names!r}")
        self.names = names

    @property
    def param_names(self) -> tuple:
        return tuple(f"{p}[{name}]" for law, name in zip(self.laws, self.names)
                     for p in (law.param_names if law is not None else ()))

    @property
    def param_units(self) -> dict:
        return {f"{p}[{name}]": unit for law, name in zip(self.laws, self.names) if law is not None
                for p, unit in law.param_units.items()}

    @staticmethod
    def channel_seed(seed: int, c: int) -> int:
        """The seed of channel ``c``'s law: a hash of ``(seed, c)``."""
        state = np.random.SeedSequence((as_seed(seed), c, _CHANNELS)).generate_state(2, np.uint32)
        return int(state[0]) << 32 | int(state[1])

    def observe(self, u, seed: int = 0, start: int = 0, n_threads: int = 0):
        u = np.asarray(u, dtype=np.float64)
        if u.ndim != 3 or u.shape[1] != len(self.laws):
            raise ValueError(f"ChannelNoise of {len(self.laws)} laws observes series (N, {len(self.laws)}, L), "
                             f"got shape {u.shape}")
        d, params = np.empty_like(u), []
        for c, law in enumerate(self.laws):
            if law is None:
                d[:, c] = u[:, c]
                continue
            try:
                d[:, c], p = law.observe(np.ascontiguousarray(u[:, c]), self.channel_seed(seed, c), start, n_threads)
            except ValueError as err:
                raise ValueError(f"channel {self.names[c]}: {err}") from None
            params.append(p)
        return d, np.concatenate(params, axis=1) if params else np.zeros((u.shape[0], 0))

    def to_dict(self) -> dict:
        return {"kind": "channels", "laws": [None if law is None else law.to_dict() for law in self.laws],
                "names": list(self.names)}

    def __repr__(self) -> str:
        return f"ChannelNoise({list(self.laws)!r}, names={self.names!r})"


def _from_record(spec: dict):
    kind = spec["kind"]
    if kind == "channels":
        return ChannelNoise([_noise.noise_from_dict(r) for r in spec["laws"]], spec.get("names"))
    as_range = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731
    if kind == "lognormal":
        return LogNormalNoise(as_range(spec["sigma"]), as_range(spec.get("rho", 0.0)), spec.get("dt", 1.0))
    if kind == "poisson":
        return PoissonNoise(as_range(spec.get("scale", 1.0)))
    if kind == "binomial":
        return BinomialNoise(spec.get("trials", 100), spec.get("scale", 1.0))
    return FunctionNoise(_unrestorable(spec.get("name", "?")), name=spec.get("name"), batch=bool(spec.get("batch")))


def _unrestorable(name):
    def fn(u, rng):
        raise ValueError(f"the observation function {name} of this record cannot be restored; pass it again as "
                         "FunctionNoise(fn)")
    return fn


for _kind in ("lognormal", "poisson", "binomial", "function", "channels"):
    _noise.register_kind(_kind, _from_record)
