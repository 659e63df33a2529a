"""Priors of the parameters θ: Gaussian (optionally truncated to a box), uniform on a box, and
independent marginals per parameter (uniform, normal, log-normal, each optionally truncated).

Samples are drawn in the native core; every draw is a function of ``(seed, sample index)``
only, so results do not depend on the thread count or on chunking.
"""

from __future__ import annotations

import math

import numpy as np

from dataclasses import asdict, dataclass

from .. import _core
from .._util.validation import as_float_array, as_int, as_seed, as_start

__all__ = ["GaussianPrior", "UniformPrior", "IndependentPrior", "Uniform", "Normal", "LogNormal", "default_prior",
           "prior_from_dict", "as_prior"]


def _gaussian_prior(mean, covariance, lower, upper):
    return GaussianPrior(mean, covariance, lower=lower, upper=upper)


def _bound_record(values) -> list:
    """Bounds as a record keeps them: JSON has no infinity, so an unbounded side is None."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def _bounds_of(record, unbounded: float):
    """The bounds of a record (None: ``unbounded``; records of earlier versions hold ±inf)."""
    return None if record is None else [unbounded if v is None else v for v in record]


class GaussianPrior:
    """Gaussian prior N(mean, covariance), optionally truncated to a box by rejection.

    Parameters
    ----------
    mean : array_like, shape (P,)
        Mean of the Gaussian.
    covariance : array_like, shape (P, P), optional
        Covariance of the Gaussian. Give either ``covariance`` or ``std``.
    std : array_like, shape (P,), optional
        Positive standard deviations of independent components (covariance diag(std²)).
    lower, upper : array_like, shape (P,), optional
        The truncation box; a bound not given is −∞ (``lower``) or +∞ (``upper``).

    Raises
    ------
    ValueError
        If not exactly one of ``covariance`` and ``std`` is given, or ``std`` is not positive with
        the shape of ``mean``.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> prior = fi.GaussianPrior([0.4, 0.4], std=[0.3, 0.4], lower=[-0.2, -0.4], upper=[1.0, 1.2])
    >>> theta = prior.sample(5000, seed=2)
    >>> theta.shape, bool((theta >= prior.lower).all() and (theta <= prior.upper).all())
    ((5000, 2), True)
    """

    def __init__(self, mean, covariance=None, *, std=None, lower=None, upper=None):
        mean = as_float_array(mean, "mean", 1)
        if (covariance is None) == (std is None):
            raise ValueError("give exactly one of covariance and std")
        if std is not None:
            std = as_float_array(std, "std", 1)
            if std.shape != mean.shape or np.any(std <= 0):
                raise ValueError(f"std must be positive with shape {mean.shape}, got {std}")
            covariance = np.diag(std**2)
        covariance = as_float_array(covariance, "covariance", 2)
        lower = np.full(mean.shape, -np.inf) if lower is None else np.ascontiguousarray(lower, dtype=np.float64)
        upper = np.full(mean.shape, np.inf) if upper is None else np.ascontiguousarray(upper, dtype=np.float64)
        self._native = _core.GaussianPrior(mean, covariance, lower, upper)

    mean = property(lambda self: np.asarray(self._native.mean))
    covariance = property(lambda self: np.asarray(self._native.covariance))
    lower = property(lambda self: np.asarray(self._native.lower))
    upper = property(lambda self: np.asarray(self._native.upper))

    def sample(self, n: int, seed: int = 0, start: int = 0) -> np.ndarray:
        """Draw samples ``start, …, start + n − 1`` of the stream ``seed``.

        Parameters
        ----------
        n : int
            Number of samples, at least 1.
        seed : int, default 0
            The stream, an integer in [0, 2**64).
        start : int, default 0
            Index of the first sample in the stream; the indices ``start … start + n − 1`` are
            below 2**64.

        Returns
        -------
        ndarray, shape (n, P)
            The samples, one per row.

        Examples
        --------
        >>> import numpy as np
        >>> import fhn_inverse as fi
        >>> prior = fi.GaussianPrior([0.4, 0.4], std=[0.3, 0.4])
        >>> prior.sample(3, seed=1).shape
        (3, 2)
        >>> bool(np.array_equal(prior.sample(3, seed=1, start=2), prior.sample(5, seed=1)[2:]))  # sample 2 on
        True
        """
        n = as_int(n, "n", 1)
        return self._native.sample(n, as_seed(seed), as_start(start, n))

    def to_dict(self) -> dict:
        """The prior as a JSON-ready record; :func:`prior_from_dict` inverts it.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> record = fi.GaussianPrior([0.4, 0.4], std=[0.3, 0.4], upper=[1.0, 1.2]).to_dict()
        >>> record["kind"], record["mean"], record["lower"], record["upper"]  # None: unbounded (JSON has no inf)
        ('gaussian', [0.4, 0.4], [None, None], [1.0, 1.2])
        """
        return {"kind": "gaussian", "mean": self.mean.tolist(), "covariance": self.covariance.tolist(),
                "lower": _bound_record(self.lower), "upper": _bound_record(self.upper)}

    def __reduce__(self):  # pickling: rebuilt from its numbers (the native object is not picklable)
        return _gaussian_prior, (self.mean, self.covariance, self.lower, self.upper)

    def __repr__(self) -> str:
        return (f"GaussianPrior(mean={self.mean.tolist()}, std={np.sqrt(np.diag(self.covariance)).tolist()}, "
                f"lower={self.lower.tolist()}, upper={self.upper.tolist()})")


class UniformPrior:
    """Uniform prior on the box [lower, upper].

    Parameters
    ----------
    lower, upper : array_like, shape (P,)
        The box's bounds.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fi.UniformPrior([0.0, 1.0], [1.0, 5.0]).sample(4, seed=0).shape
    (4, 2)
    """

    def __init__(self, lower, upper):
        self._native = _core.UniformPrior(as_float_array(lower, "lower", 1),
                                          as_float_array(upper, "upper", 1))

    lower = property(lambda self: np.asarray(self._native.lower))
    upper = property(lambda self: np.asarray(self._native.upper))

    def sample(self, n: int, seed: int = 0, start: int = 0) -> np.ndarray:
        """Draw samples ``start, …, start + n − 1`` of the stream ``seed``.

        Parameters
        ----------
        n : int
            Number of samples, at least 1.
        seed : int, default 0
            The stream, an integer in [0, 2**64).
        start : int, default 0
            Index of the first sample in the stream; the indices ``start … start + n − 1`` are
            below 2**64.

        Returns
        -------
        ndarray, shape (n, P)
            The samples, one per row.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> x = fi.UniformPrior([0.0, 1.0], [1.0, 5.0]).sample(100, seed=3)
        >>> x.shape, bool((x[:, 1] >= 1.0).all() and (x[:, 1] <= 5.0).all())
        ((100, 2), True)
        """
        n = as_int(n, "n", 1)
        return self._native.sample(n, as_seed(seed), as_start(start, n))

    def to_dict(self) -> dict:
        """The prior as a JSON-ready record; :func:`prior_from_dict` inverts it.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> fi.UniformPrior([0.0, 1.0], [1.0, 5.0]).to_dict()
        {'kind': 'uniform', 'lower': [0.0, 1.0], 'upper': [1.0, 5.0]}
        """
        return {"kind": "uniform", "lower": self.lower.tolist(), "upper": self.upper.tolist()}

    def __reduce__(self):  # pickling: rebuilt from its box
        return UniformPrior, (self.lower, self.upper)

    def __repr__(self) -> str:
        return f"UniformPrior(lower={self.lower.tolist()}, upper={self.upper.tolist()})"


def default_prior(model=None):
    """The default prior of ``model``'s free parameters; for FitzHugh–Nagumo (and None) the
    study's: N((0.4, 0.4), diag(0.3², 0.4²)) truncated at ±2 std.

    That is, θ0 ∈ [−0.2, 1.0], θ1 ∈ [−0.4, 1.2]. Its samples have mean (0.40, 0.40) and std
    (0.264, 0.352), matching the authors' 10,000 samples (mean (0.40, 0.41), std (0.27, 0.35),
    ranges [−0.2, 1.0] and [−0.4, 1.2]). Other models: the uniform prior on the box their header
    declares (``prior_lower``, ``prior_upper``; the ranges and their reasons are in docs/models.md).
    A model with a free set other than its θ: independent marginals, its parameters' from its own
    default prior (FitzHugh–Nagumo's θ0 and θ1: the study's truncated normals, which are
    independent) and uniform ones on the ranges its header declares for free constants and
    initial-state components (``ranges``).

    Returns
    -------
    GaussianPrior or UniformPrior
        The prior.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fi.default_prior().sample(3, seed=0).shape
    (3, 2)
    >>> fi.default_prior(fi.FitzHughNagumo(free=("theta0", "gamma"))).names
    ['theta0', 'gamma']
    """
    name = "FitzHughNagumo" if model is None else getattr(getattr(model, "spec", None), "name", type(model).__name__)
    user = hasattr(model, "spec")  # an ODEModel: its declarations are the instance's
    if model is not None and getattr(model, "is_default_free", True) is False:
        ranges = model.ranges if user else type(model).ranges
        missing = [q for q in model.free if q not in ranges]
        if missing:
            raise ValueError(f"{name} declares no default range for {', '.join(missing)}; give prior=")
        own = {}  # the model's parameters keep the marginals of its own default prior
        base = default_prior(model.default() if user else type(model)())
        for i, q in enumerate(model.param_names):
            if isinstance(base, GaussianPrior):
                own[q] = Normal(base.mean[i], math.sqrt(base.covariance[i, i]), base.lower[i], base.upper[i])
            else:
                own[q] = Uniform(base.lower[i], base.upper[i])
        return IndependentPrior({q: own.get(q) or Uniform(*ranges[q]) for q in model.free})
    if user:
        missing = [p for p, lo in zip(model.param_names, model.prior_lower) if lo != lo]
        if missing:
            raise ValueError(f"{name} declares no default range for {', '.join(missing)} (give parameters= as "
                             "{name: (lower, upper)}, or prior=)")
        return UniformPrior(model.prior_lower, model.prior_upper)
    if name != "FitzHughNagumo":
        if not hasattr(type(model), "prior_lower"):
            raise ValueError(f"no default prior for a {name}; give prior=")
        return UniformPrior(type(model).prior_lower, type(model).prior_upper)
    return GaussianPrior([0.4, 0.4], std=[0.3, 0.4], lower=[-0.2, -0.4], upper=[1.0, 1.2])


@dataclass(frozen=True)
class Uniform:
    """Uniform marginal on [lower, upper] (finite).

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> from fhn_inverse.models import Uniform
    >>> fi.IndependentPrior([Uniform(1.0, 5.0)]).sample(2, seed=0).shape
    (2, 1)
    """

    lower: float
    upper: float


@dataclass(frozen=True)
class Normal:
    """Normal marginal N(mean, std²), truncated to [lower, upper] when bounds are given.

    Examples
    --------
    >>> from fhn_inverse.models import Normal
    >>> Normal(0.4, 0.3)
    Normal(mean=0.4, std=0.3, lower=-inf, upper=inf)
    >>> Normal(0.4, 0.3, lower=-0.2, upper=1.0).upper
    1.0
    """

    mean: float
    std: float
    lower: float = -math.inf
    upper: float = math.inf


@dataclass(frozen=True)
class LogNormal:
    """Log-normal marginal exp(N(mu, sigma²)) (mu and sigma of the logarithm; median e^mu),
    truncated to [lower, upper] when bounds are given; its support is positive.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> from fhn_inverse.models import LogNormal
    >>> LogNormal(1.1, 0.2)
    LogNormal(mu=1.1, sigma=0.2, lower=0.0, upper=inf)
    >>> bool((fi.IndependentPrior([LogNormal(1.1, 0.2, upper=4.0)]).sample(500, seed=0) <= 4.0).all())
    True
    """

    mu: float
    sigma: float
    lower: float = 0.0
    upper: float = math.inf


_FAMILIES = {"uniform": Uniform, "normal": Normal, "lognormal": LogNormal}
_KIND = {Uniform: 0, Normal: 1, LogNormal: 2}


class IndependentPrior:
    """Independent marginals, one per parameter: :class:`Uniform`, :class:`Normal` or
    :class:`LogNormal` (each optionally truncated, by rejection of that component alone).

    Parameters
    ----------
    marginals : dict of str to marginal, or sequence of marginals
        The marginals in θ's column order; by name (a model's ``free`` names) or by position.

    Raises
    ------
    TypeError
        If a marginal is not a Uniform, Normal or LogNormal.
    ValueError
        If a marginal's numbers are invalid (named in the message) or there is none.

    Notes
    -----
    Draws are functions of ``(seed, sample index)`` alone, as for the other priors. In MAP fits
    and Laplace covariances the normal marginals are Gaussian terms; uniform and log-normal ones
    add none (flat within the bounds).

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> from fhn_inverse.models import LogNormal, Normal
    >>> prior = fi.IndependentPrior({"theta0": Normal(0.4, 0.3, lower=-0.2, upper=1.0),
    ...                              "gamma": LogNormal(1.1, 0.2)})
    >>> x = prior.sample(1000, seed=1)
    >>> bool((x[:, 0] >= -0.2).all() and (x[:, 0] <= 1.0).all() and (x[:, 1] > 0).all())
    True
    """

    def __init__(self, marginals):
        if isinstance(marginals, dict):
            names, marginals = [str(k) for k in marginals], list(marginals.values())
        else:
            names, marginals = None, list(marginals)
        if not marginals:
            raise ValueError("an independent prior needs at least one marginal")
        for j, m in enumerate(marginals):
            if type(m) not in _KIND:
                raise TypeError(f"marginal {j} must be a Uniform, Normal or LogNormal, got {type(m).__name__}")
        try:  # plain floats, whatever number types came in
            marginals = [type(m)(**{k: float(v) for k, v in asdict(m).items()}) for m in marginals]
        except (TypeError, ValueError) as err:
            raise ValueError(f"a marginal's numbers must be real numbers ({err})") from None
        self.names, self.marginals = names, tuple(marginals)
        a = [m.lower if isinstance(m, Uniform) else (m.mean if isinstance(m, Normal) else m.mu) for m in marginals]
        b = [m.upper if isinstance(m, Uniform) else (m.std if isinstance(m, Normal) else m.sigma) for m in marginals]
        try:
            self._native = _core.IndependentPrior([_KIND[type(m)] for m in marginals], np.asarray(a, float),
                                                  np.asarray(b, float), np.asarray([m.lower for m in marginals], float),
                                                  np.asarray([m.upper for m in marginals], float))
        except (ValueError, TypeError) as err:
            label = "" if names is None else f" (marginals: {', '.join(names)})"
            raise ValueError(f"{err}{label}") from None

    lower = property(lambda self: np.asarray(self._native.lower))
    upper = property(lambda self: np.asarray(self._native.upper))

    def sample(self, n: int, seed: int = 0, start: int = 0) -> np.ndarray:
        """Draw samples ``start, …, start + n − 1`` of the stream ``seed``, shape (n, P); see
        :meth:`GaussianPrior.sample`.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> from fhn_inverse.models import Normal, Uniform
        >>> x = fi.IndependentPrior({"theta0": Normal(0.4, 0.3), "gamma": Uniform(1.0, 5.0)}).sample(200, seed=0)
        >>> x.shape, bool(((x[:, 1] >= 1.0) & (x[:, 1] <= 5.0)).all())
        ((200, 2), True)
        """
        n = as_int(n, "n", 1)
        return self._native.sample(n, as_seed(seed), as_start(start, n))

    def gaussian_part(self) -> GaussianPrior:
        """The Gaussian term MAP fits and Laplace covariances use: the normal marginals' mean and
        std, and a flat term (a standard deviation 10⁸ times the parameter's scale) elsewhere.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> from fhn_inverse.models import Normal, Uniform
        >>> fi.IndependentPrior({"theta0": Normal(0.4, 0.3), "gamma": Uniform(1.0, 5.0)}).gaussian_part()
        GaussianPrior(mean=[0.4, 3.0], std=[0.3, 400000000.0], lower=[-inf, -inf], upper=[inf, inf])
        """
        mean, std = [], []
        for m, lo, hi in zip(self.marginals, self.lower, self.upper):
            if isinstance(m, Normal):
                mean.append(m.mean), std.append(m.std)
            else:
                scale = (hi - lo) if np.isfinite(hi - lo) else max(1.0, abs(lo))
                mean.append(0.5 * (lo + hi) if np.isfinite(hi) else lo), std.append(1e8 * scale)
        return GaussianPrior(mean, std=std)

    def to_dict(self) -> dict:
        """The prior as a JSON-ready record: its marginals, each with its ``"family"`` and, when
        named, its ``"name"``; :func:`prior_from_dict` inverts it.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> from fhn_inverse.models import Uniform
        >>> fi.IndependentPrior({"gamma": Uniform(1.0, 5.0)}).to_dict()
        {'kind': 'independent', 'marginals': [{'family': 'uniform', 'lower': 1.0, 'upper': 5.0, 'name': 'gamma'}]}
        """
        marginals = [{"family": next(k for k, v in _FAMILIES.items() if v is type(m)),
                      **{k: (v if math.isfinite(v) else None) for k, v in asdict(m).items()}}  # None: unbounded
                     for m in self.marginals]
        if self.names is not None:
            for rec, name in zip(marginals, self.names):
                rec["name"] = name
        return {"kind": "independent", "marginals": marginals}

    def __reduce__(self):  # pickling: rebuilt from its marginals
        return IndependentPrior, (dict(zip(self.names, self.marginals)) if self.names else self.marginals,)

    def __repr__(self) -> str:
        inner = (", ".join(f"{n!r}: {m!r}" for n, m in zip(self.names, self.marginals)) if self.names
                 else ", ".join(map(repr, self.marginals)))
        return f"IndependentPrior({{{inner}}})" if self.names else f"IndependentPrior([{inner}])"


def _marginal_from_dict(rec: dict, where: str):
    """A marginal of its record {"family": ..., its fields}; ValueError naming what is wrong."""
    if not isinstance(rec, dict) or rec.get("family") not in _FAMILIES:
        raise ValueError(f"{where}: a marginal names its family ({', '.join(_FAMILIES)}), got {str(rec)[:80]!r}")
    cls = _FAMILIES[rec["family"]]
    fields = {k: v for k, v in rec.items() if k not in ("family", "name") and v is not None}  # None: unbounded
    try:
        return cls(**{k: float(v) for k, v in fields.items()})
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: invalid {rec['family']} marginal {fields} ({err})") from None

def prior_from_dict(spec: dict):
    """Inverse of ``to_dict`` of :class:`GaussianPrior`, :class:`UniformPrior` and
    :class:`IndependentPrior`.

    Parameters
    ----------
    spec : dict
        A prior's ``to_dict()``; its ``"kind"`` is ``"gaussian"``, ``"uniform"`` or ``"independent"``.

    Returns
    -------
    GaussianPrior, UniformPrior or IndependentPrior
        The prior ``spec`` describes.

    Raises
    ------
    ValueError
        If ``spec["kind"]`` is neither ``"gaussian"`` nor ``"uniform"``.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> from fhn_inverse.models import prior_from_dict
    >>> prior_from_dict({"kind": "uniform", "lower": [0, 1], "upper": [1, 5]})
    UniformPrior(lower=[0.0, 1.0], upper=[1.0, 5.0])
    >>> prior_from_dict(fi.default_prior().to_dict())
    GaussianPrior(mean=[0.4, 0.4], std=[0.3, 0.4], lower=[-0.2, -0.4], upper=[1.0, 1.2])
    """
    if spec.get("kind") == "gaussian":
        return GaussianPrior(spec["mean"], spec["covariance"], lower=_bounds_of(spec["lower"], -math.inf),
                             upper=_bounds_of(spec["upper"], math.inf))
    if spec.get("kind") == "uniform":
        return UniformPrior(spec["lower"], spec["upper"])
    if spec.get("kind") == "independent":
        recs = spec.get("marginals")
        if not isinstance(recs, list) or not recs:
            raise ValueError("an independent prior's record holds a non-empty list of marginals")
        marginals = [_marginal_from_dict(r, f"marginal {j}") for j, r in enumerate(recs)]
        names = [r.get("name") for r in recs]
        return IndependentPrior(dict(zip(names, marginals)) if all(isinstance(n, str) for n in names) else marginals)
    raise ValueError(f"unknown prior kind {spec.get('kind')!r}; expected 'gaussian', 'uniform' or 'independent'")


def as_prior(prior):
    """The prior a ``prior=`` argument stands for.

    Parameters
    ----------
    prior : GaussianPrior, UniformPrior, IndependentPrior, array_like of shape (P, 2), or None
        A prior; P ``(low, high)`` bounds, the uniform prior on that box (as a noise parameter's
        ``(low, high)`` range is drawn uniformly); or ``None`` for :func:`default_prior`.

    Returns
    -------
    GaussianPrior or UniformPrior
        The prior.

    Raises
    ------
    TypeError
        If ``prior`` is of another type (a string, a dict, a number, …).
    ValueError
        If the bounds do not have shape (P, 2) or a low end is not below its high end.

    Examples
    --------
    >>> from fhn_inverse.models import as_prior
    >>> as_prior([(0.0, 1.0), (2.0, 3.0)])  # (low, high) bounds: the uniform prior on the box
    UniformPrior(lower=[0.0, 2.0], upper=[1.0, 3.0])
    >>> as_prior(None)  # the default prior
    GaussianPrior(mean=[0.4, 0.4], std=[0.3, 0.4], lower=[-0.2, -0.4], upper=[1.0, 1.2])
    """
    if prior is None:
        return default_prior()
    if isinstance(prior, (GaussianPrior, UniformPrior, IndependentPrior)):
        return prior
    if not isinstance(prior, (list, tuple, np.ndarray)):
        raise TypeError("prior must be a GaussianPrior, a UniformPrior, an IndependentPrior, a sequence of (low, "
                        f"high) bounds (the uniform prior on that box) or None, got {type(prior).__name__}")
    bounds = as_float_array(prior, "prior", (1, 2))
    if bounds.ndim != 2 or bounds.shape[1] != 2:
        raise ValueError(f"prior bounds must have shape (P, 2), one (low, high) pair per parameter, got shape "
                         f"{bounds.shape}")
    return UniformPrior(bounds[:, 0].copy(), bounds[:, 1].copy())
