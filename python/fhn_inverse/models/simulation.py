"""Forward models: batch ODE simulation of the core's models (FitzHugh–Nagumo, Morris–Lecar)
observed on a grid.

Everything here takes and returns NumPy arrays; the work runs in the native core
(:mod:`fhn_inverse._core`) on all cores with the GIL released. Priors are in
:mod:`~fhn_inverse.models.priors`, noise in :mod:`~fhn_inverse.models.noise`.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from .._util.validation import as_float, as_float_array, as_int, as_threads
from .ode import ODEModel

__all__ = ["FitzHughNagumo", "MorrisLecar", "HodgkinHuxley", "DampedOscillator",
           "MODELS", "model_grid", "model_to_dict", "model_from_dict", "core_for",
           "DEFAULT_GRID", "STATUS", "METHODS", "SimulationError", "simulator_options",
           "model_and_theta", "simulate", "observed_count", "channels"]

FitzHughNagumo = _core.FitzHughNagumo
#: Morris–Lecar (cpp/include/fhn_inverse/models/morris_lecar.hpp): θ = (I_app, g_Ca, g_K, φ); its
#: constants as keywords, the Hopf set of Rinzel & Ermentrout by default (``v3=12, v4=17.4``: the
#: SNIC set); V in mV, t in ms.
MorrisLecar = _core.MorrisLecar
#: Hodgkin–Huxley (cpp/include/fhn_inverse/models/hodgkin_huxley.hpp): θ = (g_Na, g_K, g_L,
#: I_app); the squid axon's constants with a rest at −65 mV (Dayan & Abbott); V in mV, t in ms.
HodgkinHuxley = _core.HodgkinHuxley
#: A damped harmonic oscillator (cpp/include/fhn_inverse/models/damped_oscillator.hpp): θ = (ω, ζ),
#: observed in x; the least a model of the core needs, and a check with a closed form.
DampedOscillator = _core.DampedOscillator

#: The models the native core is built for (cpp/include/fhn_inverse/models/list.hpp), in its
#: order: each class carries its ``param_names`` and ``param_units``, its ``constant_names``, its
#: default prior's box (``prior_lower``, ``prior_upper``) and grid (``grid_step``,
#: ``grid_points``), which the rest of the package reads; a model added to the list appears here.
MODELS = tuple(getattr(_core, name) for name in _core.MODEL_NAMES)

#: The authors' observation grid: t_k = 0.2 k, k = 0..999 (t in [0, 199.8]).
DEFAULT_GRID = np.asarray(_core.SimulatorOptions.default_grid())
DEFAULT_GRID.setflags(write=False)

STATUS = {0: "ok", 1: "diverged", 2: "step_budget"}




def core_for(model):
    """``(module, model object)`` that the core's batch functions of ``model`` take: the package's
    core for a built-in model, the compiled module of a user model (:class:`ODEModel`)."""
    if isinstance(model, ODEModel):
        return model.module, model.native
    return _core, model


def observed_count(model) -> int:
    """K, the number of quantities ``model`` observes (1 for the built-in models; a user model's
    ``observe`` may name several)."""
    return model.observed_count if isinstance(model, ODEModel) else 1


def channels(a: np.ndarray, model) -> np.ndarray:
    """A batch result of the core, (N, K·L, ...) with the K channels one after another, as
    (N, K, L, ...) where ``model`` observes K > 1 quantities (a view); unchanged for one."""
    K = observed_count(model)
    return a if K == 1 else a.reshape(a.shape[0], K, a.shape[1] // K, *a.shape[2:])


def model_to_dict(model) -> dict:
    """A model as a JSON-ready record: its ``name``, its constants and its initial state (what a
    data set's ``config["model"]`` holds), and, unless it is the model's own θ, its free set with
    the values of the parameters that are not free; :func:`model_from_dict` inverts it.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fi.models.model_to_dict(fi.FitzHughNagumo())
    {'name': 'FitzHughNagumo', 'gamma': 3.0, 'zeta': -0.4, 'initial': [0.0, 0.0]}
    >>> record = fi.models.model_to_dict(fi.FitzHughNagumo(free=("theta0", "gamma")))
    >>> record["free"], round(record["theta1"], 6)  # θ1 is not free: its value is kept
    (['theta0', 'gamma'], 0.4)
    """
    if isinstance(model, ODEModel):
        return model.to_dict()
    if isinstance(model, MODELS):
        record = {"name": type(model).__name__, **model.constants, "initial": list(model.initial)}
        if not model.is_default_free:
            record.update(free=list(model.free), **model.fixed)
        return record
    raise TypeError(f"model must be one of the core's models ({', '.join(m.__name__ for m in MODELS)}) or an "
                    f"ODEModel, got {type(model).__name__}")


def model_from_dict(record: dict):
    """The model of a :func:`model_to_dict` record; ValueError naming an unknown model or entry.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fi.models.model_from_dict({"name": "FitzHughNagumo", "gamma": 2.5}).constants
    {'gamma': 2.5, 'zeta': -0.4}
    >>> fi.models.model_from_dict(fi.models.model_to_dict(fi.FitzHughNagumo(free=("theta0", "gamma")))).free
    ('theta0', 'gamma')
    """
    if isinstance(record, dict) and record.get("name") == "ODEModel":
        return ODEModel.from_dict(record)
    if isinstance(record, dict) and "equations" in record:  # a user model as a TOML table writes it
        return ODEModel.from_config(record)
    if not isinstance(record, dict) or record.get("name") not in {m.__name__ for m in MODELS}:
        raise ValueError(f"a model record names one of {[m.__name__ for m in MODELS]}, got {str(record)[:80]!r}")
    kwargs = {k: v for k, v in record.items() if k != "name"}
    try:
        return {m.__name__: m for m in MODELS}[record["name"]](**kwargs)
    except TypeError as e:
        raise ValueError(f"invalid {record['name']} record ({e})") from None


def model_grid(model=None) -> np.ndarray:
    """The default observation grid of ``model``: ``grid_points`` times ``grid_step`` apart from 0,
    as its header declares (FitzHugh–Nagumo's is the study's, :data:`DEFAULT_GRID`; None: that).

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> t = fi.models.model_grid()
    >>> t.shape, t[[0, 1, -1]].tolist()
    ((1000,), [0.0, 0.2, 199.8])
    >>> fi.models.model_grid(fi.models.MorrisLecar())[[0, 1, -1]].tolist()  # t in ms
    [0.0, 1.0, 999.0]
    """
    cls = FitzHughNagumo if model is None else model if isinstance(model, ODEModel) else type(model)
    if cls is FitzHughNagumo:
        return DEFAULT_GRID.copy()
    return cls.grid_step * np.arange(cls.grid_points)


class SimulationError(RuntimeError):
    """Some trajectories failed; ``indices`` and ``status`` say which and why.

    Parameters
    ----------
    indices : ndarray
        Indices of the failed trajectories.
    status : ndarray
        Status of every trajectory, coded as in :data:`STATUS`.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> try:
    ...     fi.simulate([[0.4, 0.4], [0.6, 0.2]], max_steps=10)  # too few steps to reach t = 199.8
    ... except fi.SimulationError as err:
    ...     print(err.indices.tolist(), err.status.tolist(), fi.models.STATUS[int(err.status[0])])
    [0, 1] [2, 2] step_budget
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

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> options = fi.models.simulator_options(rtol=1e-6)
    >>> options.rtol, options.method, len(options.t_obs)
    (1e-06, 'rkf78', 1000)
    >>> fi.models.simulator_options([0.0, 1.0, 2.0], method="rkf78-simd").t_obs
    [0.0, 1.0, 2.0]
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

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> theta, single, model = fi.models.model_and_theta([0.4, 0.4])
    >>> theta.shape, single, model
    ((1, 2), True, FitzHughNagumo(gamma=3.0, zeta=-0.4, initial=(0.0, 0.0)))
    >>> fi.models.model_and_theta([0.4, 0.4, 3.0])
    Traceback (most recent call last):
        ...
    ValueError: theta must have 2 columns (theta0, theta1), got shape (3,)
    """
    model = FitzHughNagumo() if model is None else model
    if not isinstance(model, (*MODELS, ODEModel)):
        raise TypeError(f"model must be one of the core's models ({', '.join(m.__name__ for m in MODELS)}) or an "
                        f"ODEModel, got {type(model).__name__}")
    theta = as_float_array(theta, "theta", (1, 2))
    single = theta.ndim == 1
    theta2 = theta.reshape(1, -1) if single else theta
    names = list(model.free)
    if theta2.shape[1] != len(names):
        raise ValueError(f"theta must have {len(names)} columns ({', '.join(names)}), got shape {theta.shape}")
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
        Parameter vectors, one per row, one column per quantity of ``model.free`` (the model's
        parameters unless a free set says otherwise); (P,) for one series.
    model : FitzHughNagumo, optional
        The model; default ``FitzHughNagumo()``. A free set that frees a constant or the initial
        state integrates a model per row with "rkf78" (Boost.Odeint) whatever ``method`` says.
    t : array_like, shape (L,), optional
        Observation grid; default: the model's (:func:`model_grid`; the study's for FitzHugh–Nagumo).
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
        The observed series; with ``return_status=True``, failed rows are set to NaN. A user model
        that observes K > 1 quantities gives (N, K, L) (or (K, L)), channel c its ``observed[c]``.
    status : ndarray, shape (N,), or a scalar for one θ
        Only with ``return_status=True``: each trajectory's status, coded as in :data:`STATUS`.

    Raises
    ------
    SimulationError
        If a trajectory diverges (non-finite or ``|state| > max_abs_state``) or needs more than
        ``max_steps`` steps, unless ``return_status=True``.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> fi.simulate([[0.4, 0.4], [0.6, 0.2]]).shape
    (2, 1000)
    >>> fhn = fi.FitzHughNagumo(free=("theta0", "theta1", "gamma"))  # γ is a column of θ too
    >>> fi.simulate([0.4, 0.4, 3.0], model=fhn).shape
    (1000,)
    """
    theta2, single, model = model_and_theta(theta, model)
    options = simulator_options(model_grid(model) if t is None else t, t0=t0, rtol=rtol, atol=atol, max_steps=max_steps,
                                max_abs_state=max_abs_state, method=method)
    core, native = core_for(model)
    u, status = core.simulate_batch(native, theta2, options, as_threads(n_threads))
    u = channels(u, model)
    if single:
        u, status = u[0], status[0]
    if return_status:
        return u, status
    failed = np.flatnonzero(np.atleast_1d(status) != 0)
    if failed.size:
        raise SimulationError(failed, np.atleast_1d(status))
    return u
