"""Local Gaussians by the Laplace approximation: forward sensitivities, AR(1) whitening, covariances.

For a series d = u(θ) + η with stationary AR(1) noise η (covariance Γ) and a Gaussian prior
(covariance Γpr), the local Gaussian at θ̄ is N(θ̄, C) with

    C = H⁻¹,   H = Jᵀ Γ⁻¹ J + Γpr⁻¹,   J_{k,i} = ∂u(t_k)/∂θ_i

(the Gauss–Newton Hessian of φ(θ) = ½‖d − u(θ)‖²_{Γ⁻¹} + ½‖θ − θpr‖²_{Γpr⁻¹}; exact at θ̄ on
noise-free data). J comes from the forward-sensitivity system integrated in the native core
beside the state; Γ⁻¹ = WᵀW / s_ε² is applied in O(L) through the AR(1) whitening W
(:func:`ar1_whiten`). Everything runs in the core on all cores, the GIL released, and is
independent of the thread count. The convention (spec/paper.md, "Local Gaussians") evaluates C
at each sample's true θ with one noise level for every sample, :data:`REFERENCE_NOISE`.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _core
from .._util.validation import as_float_array, as_threads
from ..models.noise import AR1Noise
from ..models.priors import GaussianPrior, IndependentPrior, default_prior
from ..models.simulation import (FitzHughNagumo, SimulationError, channels, core_for, model_and_theta, model_grid,
                                 observed_count, simulator_options)

__all__ = ["REFERENCE_NOISE", "ar1_whiten", "laplace_covariance", "sensitivities"]

#: The reference noise level (σ, ρ) of the local-Gaussian targets, in the study's convention
#: (stationary standard deviation σ/Δt with Δt = 0.2, lag-1 correlation ρ).
REFERENCE_NOISE = (0.067, 0.79)

_DEFAULT = object()


def _check_status(status):
    failed = np.flatnonzero(status != 0)
    if failed.size:
        raise SimulationError(failed, status)


def sensitivities(theta, *, t=None, model: FitzHughNagumo | None = None, rtol: float = 1e-10,
                  atol: float = 1e-10, max_steps: int = 1_000_000, n_threads: int = 0,
                  return_status: bool = False):
    """The observed series and its forward sensitivities at each parameter vector.

    The augmented system (state and ∂(u, v)/∂θ, from the model's Jacobians) is integrated with
    the simulator's stepper under one error control, so J is as accurate as the tolerances; J
    reaches about 1e3 where spikes drift in phase, hence the tighter default tolerances.

    Parameters
    ----------
    theta : array_like, shape (N, P) or (P,)
        Parameter vectors, one per row, or one θ.
    t : array_like, shape (L,), optional
        Observation grid; default: the model's (:func:`~fhn_inverse.models.simulation.model_grid`).
    model : FitzHughNagumo, optional
        The model; default ``FitzHughNagumo()``.
    rtol : float, default 1e-10
        Relative tolerance of the step-size control.
    atol : float, default 1e-10
        Absolute tolerance of the step-size control.
    max_steps : int, default 1_000_000
        Accepted-step budget per trajectory.
    n_threads : int, default 0
        Threads to use (0: all cores).
    return_status : bool, default False
        Return ``(u, J, status)`` instead of raising :class:`SimulationError` for a failed
        trajectory.

    Returns
    -------
    u : ndarray, shape (N, L)
        The series, as :func:`simulate`; (L,) for one θ of shape (P,).
    J : ndarray, shape (N, L, P)
        ``J[n, k, i] = ∂u(t_k)/∂θ_i`` at ``theta[n]``, one column per quantity of ``model.free``
        (a free constant needs the model's constant Jacobian, a free initial state component
        starts from the unit vector); (L, P) for one θ of shape (P,). A model observing K > 1
        quantities gives u (N, K, L) and J (N, K, L, P).
    status : ndarray, shape (N,)
        Only with ``return_status=True``: each trajectory's status, coded as in
        :data:`~fhn_inverse.models.simulation.STATUS`; the rows of ``u`` and ``J`` are NaN where it failed.

    Raises
    ------
    SimulationError
        If a trajectory fails, unless ``return_status=True``.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> u, J = fi.sensitivities([0.4, 0.4])
    >>> u.shape, J.shape
    ((1000,), (1000, 2))
    """
    theta2, single, model = model_and_theta(theta, model)
    options = simulator_options(model_grid(model) if t is None else t, rtol=rtol, atol=atol, max_steps=max_steps)
    core, native = core_for(model)
    u, J, status = core.sensitivities_batch(native, theta2, options, as_threads(n_threads))
    u, J = channels(u, model), channels(J, model)
    if return_status:
        return (u[0], J[0], status[0]) if single else (u, J, status)
    _check_status(status)
    return (u[0], J[0]) if single else (u, J)


def ar1_whiten(x, rho, *, n_threads: int = 0) -> np.ndarray:
    """W x for series ``x`` and lag-1 correlation ``rho``.

    ``(Wx)_0 = √(1 − ρ²) x_0``, ``(Wx)_k = x_k − ρ x_{k−1}``.

    If x is stationary AR(1) noise with standard deviation s, W x has i.i.d. N(0, s²(1 − ρ²))
    entries, so ``‖W r‖² / (s²(1 − ρ²))`` is the generalised least-squares misfit of residuals r
    and Γ⁻¹ = WᵀW / (s²(1 − ρ²)).

    Parameters
    ----------
    x : array_like, shape (L,) or (N, L)
        The series.
    rho : float or array_like of shape (N,)
        The lag-1 correlation: a number, or one per row of ``x``.
    n_threads : int, default 0
        Threads to use (0: all cores).

    Returns
    -------
    ndarray, shape (L,) or (N, L)
        W x, of the shape of ``x``.

    Raises
    ------
    ValueError
        If ``rho`` is neither a number nor one value per series, or W x overflows (is beyond the
        largest double, about 1.8e308) in some row; the message names the rows.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> eta = fi.ar1_noise(np.full(1000, 0.1), np.full(1000, 0.8), 400, seed=3)
    >>> white = fi.ar1_whiten(eta, np.full(1000, 0.8))  # i.i.d. with sd 0.1·√(1 − 0.8²) = 0.06
    >>> round(float(white.std()), 3), abs(float(np.mean(white[:, 1:] * white[:, :-1]))) < 1e-4
    (0.06, True)
    """
    x = as_float_array(x, "x", (1, 2))
    single = x.ndim == 1
    x2 = x.reshape(1, -1) if single else x
    rho = np.asarray(rho, dtype=np.float64) if isinstance(rho, numbers.Real) else as_float_array(rho, "rho", (0, 1))
    rho = np.broadcast_to(rho, (x2.shape[0],)).copy() if rho.ndim == 0 else rho
    if rho.shape != (x2.shape[0],):
        raise ValueError(f"rho must be a number or hold one value per series ({x2.shape[0]}), got shape {rho.shape}")
    out = _core.ar1_whiten(x2, rho, as_threads(n_threads))
    overflow = np.flatnonzero(~np.isfinite(out).all(axis=1))  # x is finite: only an overflow makes inf
    if overflow.size:
        rows, more = overflow[:10].tolist(), " …" if overflow.size > 10 else ""
        raise ValueError(f"ar1_whiten: W x overflows double precision (beyond ±1.8e308) in row(s) {rows}{more} of "
                         f"{len(out)}, where |x| reaches {np.abs(x2[overflow[0]]).max():.3g}; scale the series down")
    return out[0] if single else out


def noise_arrays(noise, dt, n: int, channels: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Stationary standard deviations s = σ/Δt and correlations ρ, one per sample (and observed
    quantity: (n·K,), row-major (n, K), for a model observing K = ``channels`` quantities)."""
    K = channels
    if isinstance(noise, AR1Noise):
        if isinstance(noise.sigma, tuple) or isinstance(noise.rho, tuple):
            raise ValueError("noise must have fixed sigma and rho for a covariance (it draws them from ranges); "
                             "pass per-sample (sigma, rho) as an (N, 2) array instead")
        sigma, rho, dt = np.full(n * K, noise.sigma), np.full(n * K, noise.rho), noise.dt
    else:
        arr = as_float_array(noise, "noise", (1, 2, 3) if K > 1 else (1, 2))
        if arr.shape in ((2,), (n, 2)):
            arr = np.broadcast_to(arr.reshape(-1, 1, 2), (n, K, 2))
        if arr.shape != (n, K, 2):
            per_channel = f", an (N, {K}, 2) array (per observed quantity)" if K > 1 else ""
            raise ValueError(f"noise must be (sigma, rho), an (N, 2) array with N = {n}{per_channel}, or an "
                             f"AR1Noise; got shape {arr.shape}")
        sigma, rho = arr[..., 0].ravel(), arr[..., 1].ravel()
    dt = float(dt)
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0, got {dt}")
    bad = np.flatnonzero(~(sigma > 0))
    if bad.size:
        raise ValueError(f"sigma must be > 0, got {sigma[bad[0]]} (sample {bad[0]})")
    bad = np.flatnonzero(~((rho > -1) & (rho < 1)))
    if bad.size:
        raise ValueError(f"rho must be in (-1, 1), got {rho[bad[0]]} (sample {bad[0]})")
    return sigma / dt, rho


def _singular_message(singular, theta, info, s, rho, with_prior: bool) -> str:
    """Why C could not be formed at the samples ``singular``, true to whether a prior was given."""
    i = int(singular[0])
    where = (f"at {singular.size} sample(s), first {i} (theta {theta[i].tolist()}, noise standard deviation "
             f"{s[i]:.3g}, rho {rho[i]:.3g})")
    prior = ", with the prior given" if with_prior else ""
    if not np.isfinite(info[i]).all():  # a prior cannot help
        return (f"the information JᵀΓ⁻¹J overflows double precision {where}{prior}: {info[i].tolist()}; the noise "
                "standard deviation is too small (or the sensitivities too large) for a covariance")
    if not with_prior:
        return (f"the information matrix JᵀΓ⁻¹J is singular {where}: the series does not determine θ; pass a prior "
                "(its precision makes JᵀΓ⁻¹J + Γpr⁻¹ invertible)")
    return (f"the precision JᵀΓ⁻¹J + Γpr⁻¹ is not positive definite in double precision {where}{prior}: the "
            f"information {info[i].tolist()} swamps the prior's precision (a noise standard deviation too small)")


def laplace_covariance(theta, *, noise=REFERENCE_NOISE, dt: float = 0.2, prior=_DEFAULT, t=None,
                       model: FitzHughNagumo | None = None, rtol: float = 1e-10, atol: float = 1e-10,
                       max_steps: int = 1_000_000, n_threads: int = 0, return_information: bool = False,
                       return_status: bool = False):
    """Laplace covariances C = (Jᵀ Γ⁻¹ J + Γpr⁻¹)⁻¹ at each θ of ``theta``.

    J is integrated beside the state and never stored.

    Parameters
    ----------
    theta : array_like, shape (N, P) or (P,)
        Parameter vectors, one per row, or one θ.
    noise : (float, float), array_like of shape (N, 2) or AR1Noise, default REFERENCE_NOISE
        The AR(1) noise of the series: ``(σ, ρ)`` for every sample, an (N, 2) array of
        per-sample ``(σ, ρ)``, or an :class:`AR1Noise` with fixed σ and ρ — in the study's
        convention, stationary standard deviation σ/``dt`` (``AR1Noise.dt`` when an AR1Noise is
        given). A model observing K > 1 quantities takes the same for every channel, or an
        (N, K, 2) array, each channel's noise independent of the others'.
    dt : float, default 0.2
        The Δt of σ/``dt``.
    prior : GaussianPrior, IndependentPrior or None, optional
        A :class:`GaussianPrior` whose covariance gives Γpr (its truncation is ignored; an
        :class:`IndependentPrior` gives its normal marginals' variances and no term elsewhere),
        :func:`default_prior` by default, or ``None`` for the likelihood alone.
    t : array_like, shape (L,), optional
        Observation grid; default: the model's (:func:`~fhn_inverse.models.simulation.model_grid`).
    model : FitzHughNagumo, optional
        The model; default ``FitzHughNagumo()``.
    rtol : float, default 1e-10
        Relative tolerance of the step-size control.
    atol : float, default 1e-10
        Absolute tolerance of the step-size control.
    max_steps : int, default 1_000_000
        Accepted-step budget per trajectory.
    n_threads : int, default 0
        Threads to use (0: all cores).
    return_information : bool, default False
        Also return JᵀΓ⁻¹J, e.g. for the sandwich C·(JᵀΓ⁻¹J)·C, the covariance of MAP estimates
        under repeated noise.
    return_status : bool, default False
        Also return the status instead of raising :class:`SimulationError` for a failed
        trajectory.

    Returns
    -------
    C : ndarray, shape (N, P, P)
        The covariances; (P, P) for one θ of shape (P,); NaN where the trajectory failed.
    information : ndarray, shape (N, P, P)
        Only with ``return_information=True``: JᵀΓ⁻¹J; (P, P) for one θ.
    status : ndarray, shape (N,)
        Only with ``return_status=True``, the last returned item: each trajectory's status,
        coded as in :data:`~fhn_inverse.models.simulation.STATUS`.

    Raises
    ------
    SimulationError
        If a trajectory fails, unless ``return_status=True``.
    ValueError
        If ``noise`` is invalid, or, unless ``return_status=True``, the precision JᵀΓ⁻¹J + Γpr⁻¹
        is singular at a sample: without a prior, the data do not determine θ (then pass a
        prior); with one, JᵀΓ⁻¹J overflows or swamps Γpr⁻¹ (a noise level too small for double
        precision).
    TypeError
        If ``prior`` is neither a :class:`GaussianPrior` nor ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> import fhn_inverse as fi
    >>> C = fi.laplace_covariance([[0.4, 0.4], [0.7, 0.1]], noise=(0.05, 0.5))
    >>> C.shape
    (2, 2, 2)
    >>> bool(np.all(np.linalg.eigvalsh(C) > 0))  # positive definite
    True
    """
    theta2, single, model = model_and_theta(theta, model)
    K = observed_count(model)
    s, rho = noise_arrays(noise, dt, theta2.shape[0], K)
    if prior is _DEFAULT:  # the model's default prior where it is Gaussian (the study's for FitzHugh–Nagumo)
        prior = default_prior(model)
        prior = prior if isinstance(prior, (GaussianPrior, IndependentPrior)) else None
    if isinstance(prior, IndependentPrior):  # its normal marginals; flat elsewhere
        prior = prior.gaussian_part()
    if prior is None:
        precision = np.zeros((theta2.shape[1],) * 2)
    elif isinstance(prior, GaussianPrior):
        precision = np.linalg.inv(prior.covariance)
        precision = 0.5 * (precision + precision.T)
    else:
        raise TypeError(f"prior must be a GaussianPrior or None, got {type(prior).__name__}")
    options = simulator_options(model_grid(model) if t is None else t, rtol=rtol, atol=atol, max_steps=max_steps)
    core, native = core_for(model)
    cov, info, status = core.laplace_batch(native, theta2, options, s, rho, precision,
                                            as_threads(n_threads))
    if not return_status:
        _check_status(status)
        singular = np.flatnonzero(~np.isfinite(cov).all(axis=(1, 2)))
        if singular.size:
            raise ValueError(_singular_message(singular, theta2, info, s.reshape(-1, K)[:, 0],
                                               rho.reshape(-1, K)[:, 0], prior is not None))
    out = (cov[0], info[0]) if single else (cov, info)
    out = out if return_information else out[:1]
    if return_status:
        out = (*out, status[0] if single else status)
    return out[0] if len(out) == 1 else out
