"""Forward model: priors, batch ODE simulation, measurement noise and spike statistics.

Everything here takes and returns NumPy arrays; the work runs in the native core
(:mod:`fhn_inverse._core`) on all cores with the GIL released. Every random draw is a function of
``(seed, sample index)`` only, so results do not depend on the thread count or on chunking.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _core
from .._util.validation import as_float, as_float_array, as_int, as_seed

__all__ = ["DEFAULT_GRID", "STATUS", "METHODS", "SimulationError", "simulator_options", "model_and_theta", "simulate",
           "GaussianPrior", "UniformPrior", "default_prior", "prior_from_dict", "NOISE_LAWS", "STUDY_NOISE_MEAN",
           "STUDY_NOISE_STD", "AR1Noise", "GaussianNoise", "ar1_noise", "noise_from_dict", "SpikeStatistics",
           "spike_statistics"]

FitzHughNagumo = _core.FitzHughNagumo

#: The authors' observation grid: t_k = 0.2 k, k = 0..999 (t in [0, 199.8]).
DEFAULT_GRID = np.asarray(_core.SimulatorOptions.default_grid())
DEFAULT_GRID.setflags(write=False)

STATUS = {0: "ok", 1: "diverged", 2: "step_budget"}


class SimulationError(RuntimeError):
    """Some trajectories failed; ``indices`` and ``status`` say which and why.

    Parameters
    ----------
    indices : ndarray
        Indices of the failed trajectories.
    status : ndarray
        Status of every trajectory, coded as in :data:`STATUS`.
    """

    def __init__(self, indices: np.ndarray, status: np.ndarray):
        self.indices = indices
        self.status = status
        shown = ", ".join(f"{i} ({STATUS[int(status[i])]})" for i in indices[:10])
        more = f" and {len(indices) - 10} more" if len(indices) > 10 else ""
        super().__init__(
            f"{len(indices)} of {len(status)} trajectories failed: {shown}{more}; "
            "pass return_status=True to get the other rows and a status per sample"
        )


def simulator_options(
    t=None, *, t0: float = 0.0, rtol: float = 1e-9, atol: float = 1e-9, dt0: float = 1e-2,
    max_steps: int = 1_000_000, max_abs_state: float = 1e6, method: str = "rkf78",
) -> _core.SimulatorOptions:
    """Build the native simulator options (grid, tolerances, budgets), validating each value.

    Parameters
    ----------
    t : array_like, shape (L,), optional
        Observation grid, strictly increasing; default :data:`DEFAULT_GRID`.
    t0 : float, default 0.0
        Time of the initial state, at most ``t[0]``.
    rtol : float, default 1e-9
        Relative tolerance of the step-size control.
    atol : float, default 1e-9
        Absolute tolerance of the step-size control.
    dt0 : float, default 1e-2
        First trial step.
    max_steps : int, default 1_000_000
        Accepted-step budget per trajectory.
    max_abs_state : float, default 1e6
        Divergence bound on every state component.
    method : {"rkf78", "rkf78-simd"}, default "rkf78"
        The integrator (:data:`METHODS`).

    Returns
    -------
    _core.SimulatorOptions
        The validated options.
    """
    grid = DEFAULT_GRID if t is None else as_float_array(t, "t", 1)
    return _core.SimulatorOptions(
        grid, t0=as_float(t0, "t0"), rtol=as_float(rtol, "rtol"), atol=as_float(atol, "atol"),
        dt0=as_float(dt0, "dt0"), max_steps=as_int(max_steps, "max_steps", 1),
        max_abs_state=as_float(max_abs_state, "max_abs_state"), method=_check_method(method),
    )


#: The integrators: both Runge–Kutta–Fehlberg 7(8) with the same step-size control. "rkf78":
#: Boost.Odeint, one trajectory at a time (the default; every documented result was made with it).
#: "rkf78-simd": many trajectories at once in SIMD lanes, each with its own steps; several times
#: faster, equal to "rkf78" within the tolerances but not bitwise (docs/benchmarks.md).
METHODS = ("rkf78", "rkf78-simd")


def _check_method(method) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def model_and_theta(theta, model=None):
    """Validate parameter vectors and the model they are simulated with.

    Parameters
    ----------
    theta : array_like, shape (N, P) or (P,)
        Parameter vectors, one per row, or one vector θ.
    model : FitzHughNagumo, optional
        The model; default ``FitzHughNagumo()``.

    Returns
    -------
    theta : ndarray, shape (N, P)
        The validated ``theta`` as (N, P).
    single : bool
        Whether one θ of shape (P,) was given.
    model : FitzHughNagumo
        The validated model.

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`FitzHughNagumo`.
    ValueError
        If ``theta`` does not have one column per model parameter.
    """
    model = FitzHughNagumo() if model is None else model
    if not isinstance(model, FitzHughNagumo):
        raise TypeError(f"model must be a FitzHughNagumo, got {type(model).__name__}")
    theta = as_float_array(theta, "theta", (1, 2))
    single = theta.ndim == 1
    theta2 = theta.reshape(1, -1) if single else theta
    if theta2.shape[1] != len(FitzHughNagumo.param_names):
        raise ValueError(
            f"theta must have {len(FitzHughNagumo.param_names)} columns "
            f"({', '.join(FitzHughNagumo.param_names)}), got shape {theta.shape}"
        )
    return theta2, single, model


def simulate(
    theta, *, model: FitzHughNagumo | None = None, t=None, t0: float = 0.0, rtol: float = 1e-9,
    atol: float = 1e-9, max_steps: int = 1_000_000, max_abs_state: float = 1e6,
    n_threads: int = 0, return_status: bool = False, method: str = "rkf78",
):
    """Simulate the model at each parameter vector and observe u on the grid ``t``.

    Runge–Kutta–Fehlberg 7(8) with step-size control (Boost.Odeint, or the same scheme in SIMD
    lanes with ``method="rkf78-simd"``); the last step before each grid time is shortened to end
    on it.

    Parameters
    ----------
    theta : array_like, shape (N, P) or (P,)
        Parameter vectors, one per row; (P,) for one series.
    model : FitzHughNagumo, optional
        The model; default ``FitzHughNagumo()``.
    t : array_like, shape (L,), optional
        Observation grid; default :data:`DEFAULT_GRID`.
    t0 : float, default 0.0
        Time of the initial state.
    rtol : float, default 1e-9
        Relative tolerance of the step-size control.
    atol : float, default 1e-9
        Absolute tolerance of the step-size control.
    max_steps : int, default 1_000_000
        Steps a trajectory may take before it fails.
    max_abs_state : float, default 1e6
        A trajectory with ``|state| > max_abs_state`` has diverged.
    n_threads : int, default 0
        Threads to use (0: all cores).
    return_status : bool, default False
        Return ``(u, status)`` instead of raising :class:`SimulationError` for failed trajectories.
    method : {"rkf78", "rkf78-simd"}, default "rkf78"
        The integrator (:data:`METHODS`): "rkf78-simd" integrates many trajectories at once in
        SIMD lanes, several times faster, equal within the tolerances.

    Returns
    -------
    u : ndarray, shape (N, L), or (L,) for one θ of shape (P,)
        The observed series; with ``return_status=True``, failed rows are set to NaN.
    status : ndarray, shape (N,), or a scalar for one θ
        Only with ``return_status=True``: each trajectory's status, coded as in :data:`STATUS`.

    Raises
    ------
    SimulationError
        If a trajectory diverges (non-finite or ``|state| > max_abs_state``) or needs more than
        ``max_steps`` steps, unless ``return_status=True``.
    """
    theta2, single, model = model_and_theta(theta, model)
    options = simulator_options(t, t0=t0, rtol=rtol, atol=atol, max_steps=max_steps,
                                max_abs_state=max_abs_state, method=method)
    u, status = _core.simulate_batch(model, theta2, options, as_int(n_threads, "n_threads", 0))
    if single:
        u, status = u[0], status[0]
    if return_status:
        return u, status
    failed = np.flatnonzero(np.atleast_1d(status) != 0)
    if failed.size:
        raise SimulationError(failed, np.atleast_1d(status))
    return u


def _gaussian_prior(mean, covariance, lower, upper):
    return GaussianPrior(mean, covariance, lower=lower, upper=upper)


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
        bounds = [np.full(mean.shape, -np.inf if b is lower else np.inf) if b is None
                  else np.ascontiguousarray(b, dtype=np.float64) for b in (lower, upper)]
        self._native = _core.GaussianPrior(mean, covariance, bounds[0], bounds[1])

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
            Index of the first sample in the stream.

        Returns
        -------
        ndarray, shape (n, P)
            The samples, one per row.
        """
        return self._native.sample(as_int(n, "n", 1), as_seed(seed), as_int(start, "start", 0))

    def to_dict(self) -> dict:
        return {"kind": "gaussian", "mean": self.mean.tolist(), "covariance": self.covariance.tolist(),
                "lower": self.lower.tolist(), "upper": self.upper.tolist()}

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
            Index of the first sample in the stream.

        Returns
        -------
        ndarray, shape (n, P)
            The samples, one per row.
        """
        return self._native.sample(as_int(n, "n", 1), as_seed(seed), as_int(start, "start", 0))

    def to_dict(self) -> dict:
        return {"kind": "uniform", "lower": self.lower.tolist(), "upper": self.upper.tolist()}

    def __reduce__(self):  # pickling: rebuilt from its box
        return UniformPrior, (self.lower, self.upper)

    def __repr__(self) -> str:
        return f"UniformPrior(lower={self.lower.tolist()}, upper={self.upper.tolist()})"


def default_prior() -> GaussianPrior:
    """The study's prior: N((0.4, 0.4), diag(0.3², 0.4²)) truncated at ±2 std.

    That is, θ0 ∈ [−0.2, 1.0], θ1 ∈ [−0.4, 1.2]. Its samples have mean (0.40, 0.40) and std
    (0.264, 0.352), matching the authors' 10,000 samples (mean (0.40, 0.41), std (0.27, 0.35),
    ranges [−0.2, 1.0] and [−0.4, 1.2]).

    Returns
    -------
    GaussianPrior
        The prior.
    """
    return GaussianPrior([0.4, 0.4], std=[0.3, 0.4], lower=[-0.2, -0.4], upper=[1.0, 1.2])


def prior_from_dict(spec: dict):
    """Inverse of ``to_dict`` of :class:`GaussianPrior` and :class:`UniformPrior`.

    Parameters
    ----------
    spec : dict
        A prior's ``to_dict()``; its ``"kind"`` is ``"gaussian"`` or ``"uniform"``.

    Returns
    -------
    GaussianPrior or UniformPrior
        The prior ``spec`` describes.

    Raises
    ------
    ValueError
        If ``spec["kind"]`` is neither ``"gaussian"`` nor ``"uniform"``.
    """
    if spec.get("kind") == "gaussian":
        return GaussianPrior(spec["mean"], spec["covariance"], lower=spec["lower"], upper=spec["upper"])
    if spec.get("kind") == "uniform":
        return UniformPrior(spec["lower"], spec["upper"])
    raise ValueError(f"unknown prior kind {spec.get('kind')!r}; expected 'gaussian' or 'uniform'")


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
    """

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
            Index of the first sample.

        Returns
        -------
        ndarray, shape (n, 2)
            (σ, ρ) per sample.
        """
        n, seed, start = as_int(n, "n", 1), as_seed(seed), as_int(start, "start", 0)
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
            Index of the first sample.
        n_threads : int, default 0
            Threads to use (0: all cores).

        Returns
        -------
        eta : ndarray, shape (n, length)
            The noise series; their standard deviation is σ/dt.
        params : ndarray, shape (n, 2)
            (σ, ρ) per sample.
        """
        params = self.parameters(n, seed, start)
        eta = _core.ar1_noise(params[:, 0] / self.dt, params[:, 1].copy(), as_int(length, "length", 1),
                              as_seed(seed), as_int(start, "start", 0), as_int(n_threads, "n_threads", 0))
        return eta, params

    def to_dict(self) -> dict:
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
    """

    def __init__(self, sigma=0.07):
        super().__init__(sigma=sigma, rho=0.0, dt=1.0)

    def to_dict(self) -> dict:
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
        Index of the first sample.
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    ndarray, shape (N, length)
        The series, one per row.
    """
    sigma = as_float_array(sigma, "sigma", 1)
    rho = as_float_array(rho, "rho", 1)
    return _core.ar1_noise(sigma, rho, as_int(length, "length", 1), as_seed(seed),
                           as_int(start, "start", 0), as_int(n_threads, "n_threads", 0))


def noise_from_dict(spec: dict | None):
    if spec is None:
        return None
    if spec.get("kind") == "ar1":
        sig, rho = spec["sigma"], spec["rho"]
        law = {k: spec[k] for k in ("law", "mean", "std") if k in spec}
        return AR1Noise(tuple(sig) if isinstance(sig, list) else sig, tuple(rho) if isinstance(rho, list) else rho,
                        dt=spec.get("dt", 0.2), **law)
    if spec.get("kind") == "gaussian":
        sig = spec["sigma"]
        return GaussianNoise(tuple(sig) if isinstance(sig, list) else sig)
    raise ValueError(f"unknown noise kind {spec.get('kind')!r}; expected 'ar1' or 'gaussian'")


class SpikeStatistics(NamedTuple):
    count: np.ndarray     #: (N,) spikes per series
    rate: np.ndarray      #: (N,) spikes per second (time in ms)
    duration: np.ndarray  #: (N,) mean time above the threshold per spike


def spike_statistics(u, t=None, *, threshold: float = 0.5, min_points: int = 3,
                     time_units_per_second: float = 1000.0, n_threads: int = 0) -> SpikeStatistics:
    """Spike count, rate and mean duration of each series in ``u``.

    A spike is an upward crossing of ``threshold`` between two grid points after which u stays
    at or above it for ``min_points`` grid points; a single excursion that never returns is the
    excited steady state, not a spike (duration: the window). Duration: mean time above the
    threshold per spike, crossings interpolated linearly, cut at the window's end.

    Parameters
    ----------
    u : array_like, shape (N, L) or (L,)
        The series.
    t : array_like, shape (L,), optional
        Their grid; default :data:`DEFAULT_GRID`.
    threshold : float, default 0.5
        The level a spike crosses upward.
    min_points : int, default 3
        Grid points u must stay at or above ``threshold`` after a crossing for a spike; at least 1.
    time_units_per_second : float, default 1000.0
        Time units in a second, for the rate (default: time in ms).
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    SpikeStatistics
        ``count``, ``rate`` and ``duration``, each (N,), or scalars for a series of shape (L,).
    """
    u = as_float_array(u, "u", (1, 2))
    grid = DEFAULT_GRID if t is None else as_float_array(t, "t", 1)
    u2 = u.reshape(1, -1) if u.ndim == 1 else u
    count, rate, duration = _core.spike_statistics(
        u2, grid, as_float(threshold, "threshold"), as_int(min_points, "min_points", 1),
        as_float(time_units_per_second, "time_units_per_second"), as_int(n_threads, "n_threads", 0))
    if u.ndim == 1:
        return SpikeStatistics(count[0], rate[0], duration[0])
    return SpikeStatistics(count, rate, duration)
