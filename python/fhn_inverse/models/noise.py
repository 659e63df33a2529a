"""Measurement noise: stationary AR(1) noise in the study's convention and i.i.d. Gaussian noise.

The series are drawn in the native core on all cores; every draw is a function of
``(seed, sample index)`` only, so results do not depend on the thread count or on chunking.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from .._util.validation import as_float, as_float_array, as_int, as_seed, as_start, as_threads

__all__ = ["NOISE_LAWS", "STUDY_NOISE_MEAN", "STUDY_NOISE_STD", "AR1Noise", "GaussianNoise", "ar1_noise",
           "noise_from_dict"]


def _fixed_or_range(value, name: str, low: float, high: float, low_open: bool):
    """A noise parameter is a number (fixed) or a (low, high) range (uniform per sample)."""
    def check(x):
        x = as_float(x, name)
        ok = (low < x if low_open else low <= x) and x < high
        if not ok:
            lo = "(" if low_open else "["
            raise ValueError(f"{name} must be in {lo}{low}, {high}), got {x}")
        return x
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} range must be (low, high), got {value!r}")
        lo, hi = check(value[0]), check(value[1])
        if not lo < hi:
            raise ValueError(f"{name} range must have low < high, got {value!r}")
        return (lo, hi)
    return check(value)


#: How AR1Noise draws a ranged σ or ρ.
NOISE_LAWS = ("uniform", "normal")
#: The normal law of the study's (σ, ρ) before truncation to the study's ranges: chosen so that the
#: truncated law has the mean and standard deviation of the authors' arrays (spec/paper.md,
#: reference/noise_*.npy: σ 0.0698 ± 0.0097, ρ 0.8014 ± 0.0564).
STUDY_NOISE_MEAN = (0.06991, 0.8046)
STUDY_NOISE_STD = (0.00990, 0.06413)


class AR1Noise:
    """Stationary AR(1) measurement noise, d = u + η, in the study's convention η ~ N(0, σ²/Δt²).

    The convention (spec/paper.md):

        s = σ / Δt,   η_0 = s z_0,   η_k = ρ η_{k−1} + s √(1 − ρ²) z_k,   z_k ~ N(0, 1),

    so s = σ/Δt is the stationary standard deviation of η and ρ its lag-1 correlation. With the
    grid spacing Δt = ``dt`` = 0.2 (the default) the study's σ ∈ [0.038, 0.096] gives a noise
    standard deviation in [0.19, 0.48]; pass ``dt=1`` to make σ the standard deviation itself.
    :meth:`study` is the normal law fitted to the authors' own (σ, ρ) arrays.

    Parameters
    ----------
    sigma : float or (float, float), default (0.038, 0.096)
        σ: a number (fixed) or a ``(low, high)`` range, drawn per sample; the default is the
        study's range.
    rho : float or (float, float), default (0.66, 0.92)
        ρ: a number (fixed) or a ``(low, high)`` range, drawn per sample; the default is the
        study's range, ρ ∈ [0.66, 0.92].
    dt : float, default 0.2
        The grid spacing Δt; finite and > 0.
    law : {"uniform", "normal"}, default "uniform"
        How a range is drawn: ``"uniform"`` over it, or ``"normal"``: N(``mean``, ``std``²)
        truncated to it.
    mean, std : (float, float), optional
        With ``law="normal"`` only: (σ, ρ) pairs; the entry of a fixed parameter is ignored.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> noise = fi.AR1Noise()                       # the study's law: σ and ρ drawn per series
    >>> noise.sigma, noise.rho
    ((0.038, 0.096), (0.66, 0.92))
    >>> fi.AR1Noise(sigma=0.5, rho=0.8, dt=1.0).sigma  # fixed: a standard deviation of 0.5 (σ/Δt)
    0.5
    """

    #: the law's parameters, as a data set's ``noise`` columns and a joint map's last targets
    param_names = ("sigma", "rho")
    #: their units: σ is in the unit of the observed series, ρ is per observation step
    param_units = {"sigma": "unit of the series", "rho": "dimensionless (per observation step)"}

    def __init__(self, sigma=(0.038, 0.096), rho=(0.66, 0.92), dt: float = 0.2, *, law: str = "uniform",
                 mean=None, std=None):
        self.sigma = _fixed_or_range(sigma, "sigma", 0.0, np.inf, low_open=False)
        self.rho = _fixed_or_range(rho, "rho", -1.0, 1.0, low_open=True)
        self.dt = as_float(dt, "dt")
        if not (self.dt > 0 and np.isfinite(self.dt)):
            raise ValueError(f"dt must be finite and > 0, got {dt}")
        if law not in NOISE_LAWS:
            raise ValueError(f"law must be one of {NOISE_LAWS}, got {law!r}")
        self.law, self.mean, self.std = law, None, None
        if law == "uniform":
            if mean is not None or std is not None:
                raise ValueError("mean and std belong to law='normal'")
            return
        mean, std = as_float_array(mean, "mean", 1), as_float_array(std, "std", 1)
        if mean.shape != (2,) or std.shape != (2,):
            raise ValueError(f"mean and std must be (sigma, rho) pairs, got shapes {mean.shape} and {std.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std > 0)):
            raise ValueError(f"mean must be finite and std finite and > 0, got mean {mean.tolist()}, "
                             f"std {std.tolist()}")
        self.mean, self.std = tuple(map(float, mean)), tuple(map(float, std))

    @classmethod
    def study(cls, dt: float = 0.2) -> AR1Noise:
        """The study's noise distribution: independent truncated normal laws of σ and ρ.

        σ ~ N(0.06991, 0.00990²) truncated to [0.038, 0.096] and ρ ~ N(0.8046, 0.06413²)
        truncated to [0.66, 0.92], independent. The authors' 10,000 (σ, ρ) pairs are consistent
        with normal draws, not uniform ones, σ and ρ uncorrelated, all within 0.0004 of the
        study's ranges (spec/paper.md); these truncated normals have their mean and standard
        deviation (σ 0.0698 ± 0.0097, ρ 0.8014 ± 0.0564; Kolmogorov–Smirnov p = 0.54 and 0.79 on
        the 100 distinct pairs, against 5e-7 and 8e-4 for the uniform law).

        Parameters
        ----------
        dt : float, default 0.2
            The grid spacing Δt.

        Returns
        -------
        AR1Noise
            The noise, with ``law="normal"``.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> noise = fi.AR1Noise.study()
        >>> noise.law, noise.mean, noise.std
        ('normal', (0.06991, 0.8046), (0.0099, 0.06413))
        """
        return cls(dt=dt, law="normal", mean=STUDY_NOISE_MEAN, std=STUDY_NOISE_STD)

    def parameters(self, n: int, seed: int = 0, start: int = 0) -> np.ndarray:
        """(σ, ρ) of samples ``start … start + n − 1``.

        Parameters
        ----------
        n : int
            Number of samples, at least 1.
        seed : int, default 0
            The random streams' seed, an integer in [0, 2**64).
        start : int, default 0
            Index of the first sample; the indices ``start … start + n − 1`` are below 2**64.

        Returns
        -------
        ndarray, shape (n, 2)
            (σ, ρ) per sample.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> params = fi.AR1Noise(sigma=0.05).parameters(4, seed=0)  # σ fixed, ρ drawn in [0.66, 0.92]
        >>> params.shape, params[:, 0].tolist()
        ((4, 2), [0.05, 0.05, 0.05, 0.05])
        >>> bool(((params[:, 1] >= 0.66) & (params[:, 1] <= 0.92)).all())
        True
        """
        n, seed = as_int(n, "n", 1), as_seed(seed)
        start = as_start(start, n)
        out = np.empty((n, 2))
        ranged = [j for j, v in enumerate((self.sigma, self.rho)) if isinstance(v, tuple)]
        if ranged:
            bounds = np.array([(self.sigma, self.rho)[j] for j in ranged], dtype=np.float64)
            if self.law == "uniform":
                native = _core.UniformPrior(bounds[:, 0].copy(), bounds[:, 1].copy())
            else:
                native = _core.GaussianPrior(np.asarray(self.mean)[ranged], np.diag(np.asarray(self.std)[ranged] ** 2),
                                             bounds[:, 0].copy(), bounds[:, 1].copy())
            out[:, ranged] = native.sample(n, seed, start, _core.Stream.noise_parameters)
        for j, v in enumerate((self.sigma, self.rho)):
            if not isinstance(v, tuple):
                out[:, j] = v
        return out

    def sample(self, n: int, length: int, seed: int = 0, start: int = 0, n_threads: int = 0):
        """Noise series and their parameters.

        Parameters
        ----------
        n : int
            Number of series, at least 1.
        length : int
            Points per series, at least 1.
        seed : int, default 0
            The random streams' seed, an integer in [0, 2**64).
        start : int, default 0
            Index of the first sample; the indices ``start … start + n − 1`` are below 2**64.
        n_threads : int, default 0
            Threads to use (0: all cores).

        Returns
        -------
        eta : ndarray, shape (n, length)
            The noise series; their standard deviation is σ/dt.
        params : ndarray, shape (n, 2)
            (σ, ρ) per sample.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> noise = fi.AR1Noise.study()
        >>> eta, params = noise.sample(4, 50, seed=1)
        >>> eta.shape, params.shape
        ((4, 50), (4, 2))
        >>> bool(np.array_equal(params, noise.parameters(4, seed=1)))  # the same (σ, ρ) per sample
        True
        """
        length, n_threads = as_int(length, "length", 1), as_threads(n_threads)
        params = self.parameters(n, seed, start)
        eta = _core.ar1_noise(params[:, 0] / self.dt, params[:, 1].copy(), length, as_seed(seed),
                              as_start(start, len(params)), n_threads)
        return eta, params

    def observe(self, u, seed: int = 0, start: int = 0, n_threads: int = 0):
        """The series ``u`` (N, L) observed with this noise, d = u + η, and the noise's parameters
        (the observation laws' common method; :meth:`sample` gives η itself).

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> u = np.zeros((2, 5))
        >>> d, params = fi.AR1Noise(sigma=0.1, rho=0.5, dt=1.0).observe(u, seed=3)
        >>> bool(np.array_equal(d, fi.AR1Noise(sigma=0.1, rho=0.5, dt=1.0).sample(2, 5, seed=3)[0]))
        True
        """
        u = np.asarray(u, dtype=np.float64)
        d, params = self.sample(u.shape[0], u.shape[1], seed, start, n_threads)
        d += u  # the noise's array becomes the observed series: eta + u, the same sums as u + eta
        return d, params

    def to_dict(self) -> dict:
        """The noise as a JSON-ready record; :func:`noise_from_dict` inverts it.

        Returns
        -------
        dict
            ``"kind"`` (``"ar1"``), ``"sigma"``, ``"rho"`` and ``"dt"`` (a range as a list), and
            ``"law"``, ``"mean"`` and ``"std"`` unless the law is uniform.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.AR1Noise().to_dict()
        {'kind': 'ar1', 'sigma': [0.038, 0.096], 'rho': [0.66, 0.92], 'dt': 0.2}
        >>> sorted(fi.AR1Noise.study().to_dict())
        ['dt', 'kind', 'law', 'mean', 'rho', 'sigma', 'std']
        """
        as_json = lambda v: list(v) if isinstance(v, tuple) else v  # noqa: E731
        out = {"kind": "ar1", "sigma": as_json(self.sigma), "rho": as_json(self.rho), "dt": self.dt}
        if self.law != "uniform":  # uniform noise keeps the dict it always had
            out.update(law=self.law, mean=list(self.mean), std=list(self.std))
        return out

    def __repr__(self) -> str:
        law = "" if self.law == "uniform" else f", law={self.law!r}, mean={self.mean!r}, std={self.std!r}"
        return f"{type(self).__name__}(sigma={self.sigma!r}, rho={self.rho!r}, dt={self.dt!r}{law})"


class GaussianNoise(AR1Noise):
    """I.i.d. Gaussian measurement noise N(0, σ²): AR(1) with ρ = 0 and σ the standard deviation.

    Parameters
    ----------
    sigma : float or (float, float), default 0.07
        σ: a number (fixed) or a ``(low, high)`` range, drawn per sample, as in :class:`AR1Noise`.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> noise = fi.GaussianNoise(0.1)
    >>> noise, noise.rho, noise.dt
    (GaussianNoise(sigma=0.1), 0.0, 1.0)
    >>> eta, params = noise.sample(3, 100, seed=0)
    >>> eta.shape, params.tolist()
    ((3, 100), [[0.1, 0.0], [0.1, 0.0], [0.1, 0.0]])
    """

    def __init__(self, sigma=0.07):
        super().__init__(sigma=sigma, rho=0.0, dt=1.0)

    def to_dict(self) -> dict:
        """The noise as a JSON-ready record (``"kind"``: ``"gaussian"``); :func:`noise_from_dict`
        inverts it.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.GaussianNoise(0.1).to_dict()
        {'kind': 'gaussian', 'sigma': 0.1, 'rho': 0.0, 'dt': 1.0}
        """
        return {**super().to_dict(), "kind": "gaussian"}

    def __repr__(self) -> str:
        return f"GaussianNoise(sigma={self.sigma!r})"


def ar1_noise(sigma, rho, length: int, seed: int = 0, start: int = 0, n_threads: int = 0) -> np.ndarray:
    """AR(1) series with per-sample σ and ρ; see :class:`AR1Noise`.

    Parameters
    ----------
    sigma : array_like, shape (N,)
        σ of each series: its stationary standard deviation.
    rho : array_like, shape (N,)
        ρ of each series: its lag-1 correlation.
    length : int
        Points per series, at least 1.
    seed : int, default 0
        The random streams' seed, an integer in [0, 2**64).
    start : int, default 0
        Index of the first sample; the indices ``start … start + N − 1`` are below 2**64.
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    ndarray, shape (N, length)
        The series, one per row.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> eta = fi.ar1_noise(np.full(2000, 0.1), np.full(2000, 0.8), 500, seed=1)
    >>> eta.shape
    (2000, 500)
    >>> round(float(eta.std()), 2), round(float(np.mean(eta[:, 1:] * eta[:, :-1]) / eta.var()), 2)
    (0.1, 0.8)
    """
    sigma = as_float_array(sigma, "sigma", 1)
    rho = as_float_array(rho, "rho", 1)
    return _core.ar1_noise(sigma, rho, as_int(length, "length", 1), as_seed(seed), as_start(start, len(sigma)),
                           as_threads(n_threads))


# The form of a noise's record (``to_dict``) that noise_from_dict reads, for its messages.
#: The record kinds other modules add (kind -> function of the record), e.g. the observation laws
#: of :mod:`~fhn_inverse.models.observation`.
_KINDS: dict = {}


def register_kind(kind: str, from_record) -> None:
    """Let :func:`noise_from_dict` read records of ``kind`` with ``from_record(spec)``."""
    _KINDS[kind] = from_record


_RECORD = ("None or a dict such as AR1Noise().to_dict() ({'kind': 'ar1', 'sigma': ..., 'rho': ..., "
           "'dt': ...}) or GaussianNoise().to_dict() ({'kind': 'gaussian', 'sigma': ...})")


def noise_from_dict(spec: dict | None):
    """Inverse of ``to_dict`` of :class:`AR1Noise` and :class:`GaussianNoise`; ``None`` (clean
    data) stays ``None``.

    Parameters
    ----------
    spec : dict or None
        A noise's ``to_dict()``: ``"kind"`` is ``"ar1"`` (with ``"sigma"``, ``"rho"``, optionally
        ``"dt"``, ``"law"``, ``"mean"``, ``"std"``) or ``"gaussian"`` (with ``"sigma"``).

    Returns
    -------
    AR1Noise, GaussianNoise or None
        The noise ``spec`` describes.

    Raises
    ------
    ValueError
        If ``spec`` is not of that form (a string such as ``"ar1"``, an unknown kind, a missing
        or invalid entry).

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> from fhn_inverse.models import noise_from_dict
    >>> noise_from_dict({"kind": "ar1", "sigma": 0.05, "rho": 0.8})
    AR1Noise(sigma=0.05, rho=0.8, dt=0.2)
    >>> noise_from_dict(fi.GaussianNoise(0.1).to_dict()), noise_from_dict(None)
    (GaussianNoise(sigma=0.1), None)
    >>> noise_from_dict(fi.AR1Noise().to_dict()).sigma  # a range comes back as a tuple
    (0.038, 0.096)
    """
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ValueError(f"noise must be {_RECORD}, got {spec!r}")
    kind = spec.get("kind")
    if kind in _KINDS:
        try:
            return _KINDS[kind](spec)
        except (KeyError, TypeError) as err:
            raise ValueError(f"noise {spec!r}: {err}") from None
    if kind not in ("ar1", "gaussian"):
        raise ValueError(f"unknown noise kind {kind!r}; expected one of {', '.join(('ar1', 'gaussian', *_KINDS))}")
    for key in ("sigma", "rho") if kind == "ar1" else ("sigma",):
        if key not in spec:
            raise ValueError(f"noise {spec!r} lacks {key!r}; expected {_RECORD}")
    as_range = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731 - JSON keeps a range as a list
    try:
        if kind == "gaussian":
            return GaussianNoise(as_range(spec["sigma"]))
        law = {k: spec[k] for k in ("law", "mean", "std") if k in spec}
        return AR1Noise(as_range(spec["sigma"]), as_range(spec["rho"]), dt=spec.get("dt", 0.2), **law)
    except TypeError as err:  # a value of the wrong type is a bad record, as a bad value is
        raise ValueError(f"noise {spec!r}: {err}") from None
