"""User models: an ODE model written as equations, compiled to native code on first use.

An :class:`ODEModel` takes the equations as text (or SymPy expressions, read back as text), parses
them with the closed grammar of :mod:`~fhn_inverse.models.equations`, derives its Jacobians
symbolically, and compiles the model as C++ of the shape every built-in model has
(:mod:`~fhn_inverse.models.codegen`, :mod:`~fhn_inverse.models.compile`). The result runs where a
built-in model runs: :func:`~fhn_inverse.simulate` (both integrators), sensitivities, Laplace
covariances, data sets, maps, files.
"""

from __future__ import annotations

import keyword
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import codegen
from . import compile as native
from . import equations as eq
from .numpy_backend import NumpyBackend

__all__ = ["ODEModel", "ModelSpec", "BACKENDS", "SlowBackendWarning"]

#: The most states, and the most parameters or constants, a user model may have: bounds on what a
#: model file (whose record is parsed and compiled on load) can make the compiler do.
MAX_STATES, MAX_QUANTITIES, MAX_OBSERVED = 64, 256, 16

#: How a user model runs: "compiled" (generated C++, compiled on first use), "numpy" (evaluated
#: with NumPy, no compiler needed), or "auto" (compiled where a compiler and the headers are found).
BACKENDS = ("auto", "compiled", "numpy")


class SlowBackendWarning(UserWarning):
    """A user model runs on the NumPy backend because it could not be compiled here."""

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}\Z", re.ASCII)
# Names a model's struct may not take: C++'s keywords and a few of the names its code uses.
_CPP_RESERVED = frozenset("""alignas alignof and and_eq asm auto bitand bitor bool break case catch char char16_t
char32_t class compl const constexpr const_cast continue decltype default delete do double dynamic_cast else enum
explicit export extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
nullptr operator or or_eq private protected public register reinterpret_cast return short signed sizeof static
static_assert static_cast struct switch template this thread_local throw true try typedef typeid typename union
unsigned using virtual void volatile wchar_t while xor xor_eq Model State Constants vmath std""".split())


def _text(value, what: str) -> str:
    """An equation as text: a string, or a SymPy expression's text (never evaluated)."""
    if isinstance(value, str):
        return value
    if type(value).__module__.split(".")[0] == "sympy":
        return str(value)
    raise TypeError(f"{what} must be a string or a SymPy expression, got {type(value).__name__}")


def _name(value, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a name (str), got {type(value).__name__}")
    if not _IDENTIFIER.match(value) or keyword.iskeyword(value) or value in eq.FUNCTIONS:
        raise ValueError(f"{what} must be an ASCII identifier of at most 64 characters that starts with a letter and "
                         f"is not a keyword or a function's name, got {value[:80]!r}")
    return value


def _pair(value, what: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a (lower, upper) pair of numbers, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{what} must be finite with lower < upper, got ({lo}, {hi})")
    return lo, hi


@dataclass(frozen=True)
class ModelSpec:
    """A user model, checked: what :class:`ODEModel` compiles and what its records hold."""

    name: str
    states: tuple
    parameters: tuple
    constants: dict          # name -> default value, in order
    equations: dict          # state -> canonical text
    initial: dict            # state -> canonical text (of the constants)
    observe: str | tuple     # the observed quantity (canonical text), or a tuple of several
    units: dict = field(default_factory=dict)
    ranges: dict = field(default_factory=dict)
    grid_step: float = 0.1
    grid_points: int = 1000
    summary: str = ""

    @property
    def trees(self) -> dict:
        names = (*self.states, *self.parameters, *self.constants)
        return {s: eq.parse(self.equations[s], names) for s in self.states}

    @property
    def observed(self) -> tuple:
        """The observed quantities (canonical texts), in channel order: one unless several are."""
        return (self.observe,) if isinstance(self.observe, str) else tuple(self.observe)

    @property
    def observe_tree(self):
        """The (first) observed quantity as a tree (a state's name is a one-name tree)."""
        return eq.parse(self.observed[0], self.states)

    @property
    def observe_trees(self) -> list:
        """Every observed quantity as a tree, in channel order."""
        return [eq.parse(o, self.states) for o in self.observed]

    @property
    def initial_trees(self) -> dict:
        return {s: eq.parse(self.initial[s], tuple(self.constants)) for s in self.states}

    def quantity_units(self) -> dict:
        """{quantity: unit} of the parameters, constants, initial states (``"u0"``: its own unit, else
        the state's) and ``"t"``; "dimensionless" (time: "dimensionless (model time)") where none is
        given. What the compiled model's ``units`` hold."""
        out = {q: self.units.get(q, "dimensionless") for q in (*self.parameters, *self.constants)}
        out.update({f"{s}0": self.units.get(f"{s}0", self.units.get(s, "dimensionless")) for s in self.states})
        out["t"] = self.units.get("t", "dimensionless (model time)")
        return out

    def to_dict(self) -> dict:
        """The spec as a JSON-ready record (what a model file stores)."""
        return {"name": self.name, "states": list(self.states), "parameters": list(self.parameters),
                "constants": dict(self.constants), "equations": dict(self.equations),
                "initial": dict(self.initial),
                "observe": self.observe if isinstance(self.observe, str) else list(self.observe),
                "units": dict(self.units),
                "ranges": {k: list(v) for k, v in self.ranges.items()}, "grid": [self.grid_step, self.grid_points],
                "summary": self.summary}


def make_spec(equations, initial=None, parameters=(), constants=None, observe=None, *, name="UserModel",
              units=None, ranges=None, grid=(0.1, 1000), summary=None) -> ModelSpec:
    """The checked :class:`ModelSpec` of :class:`ODEModel`'s arguments (see there)."""
    if not isinstance(equations, Mapping) or not equations:
        raise TypeError("equations must be a non-empty mapping {state: right-hand side}, got "
                        f"{type(equations).__name__}")
    name = _name(name, "name")
    if name in _CPP_RESERVED:
        raise ValueError(f"name {name!r} is reserved; choose another model name")
    if len(equations) > MAX_STATES:
        raise ValueError(f"a model has at most {MAX_STATES} states, got {len(equations)}")
    states = tuple(_name(s, "a state's name") for s in equations)
    if isinstance(parameters, Mapping):
        ranges_p = {_name(p, "a parameter's name"): _pair(r, f"the range of {p}") for p, r in parameters.items()}
        parameters = tuple(ranges_p)
    elif isinstance(parameters, Sequence) and not isinstance(parameters, str):
        parameters = tuple(_name(p, "a parameter's name") for p in parameters)
        ranges_p = {}
    else:
        raise TypeError(f"parameters must be a sequence of names or a mapping {{name: (lower, upper)}}, got "
                        f"{type(parameters).__name__}")
    if not parameters:
        raise ValueError("parameters must name at least one parameter, got none")
    constants = dict(constants or {})
    for what, count in (("parameters", len(parameters)), ("constants", len(constants))):
        if count > MAX_QUANTITIES:
            raise ValueError(f"a model has at most {MAX_QUANTITIES} {what}, got {count}")
    for c, v in constants.items():
        _name(c, "a constant's name")
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not math.isfinite(float(v)):
            raise ValueError(f"constant {c} must be a finite number, got {v!r}")
        constants[c] = float(v)
    seen: dict = {}
    for kind, names in (("state", states), ("parameter", parameters), ("constant", constants)):
        for n in names:
            if n in seen:
                raise ValueError(f"{n!r} is both a {seen[n]} and a {kind}; names must be distinct")
            seen[n] = kind
    for s in states:
        if f"{s}0" in seen:
            raise ValueError(f"{s}0 names the initial {s} (a quantity of its own); rename the {seen[s + '0']} {s}0")
    names = (*states, *parameters, *constants)
    texts = {}
    for s in states:
        tree = eq.parse(_text(equations[s], f"the equation of {s}"), names, what=f"the equation of {s}")
        texts[s] = eq.to_text(tree)
    initial = {} if initial is None else initial
    if not isinstance(initial, Mapping):
        raise TypeError(f"initial must be a mapping {{state: value or expression}}, got {type(initial).__name__}")
    unknown = [k for k in initial if k not in states]
    if unknown:
        raise ValueError(f"initial names {unknown[0]!r}, which is not a state ({', '.join(states)})")
    init_texts = {}
    for s in states:
        v = initial.get(s, 0.0)
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
            if not math.isfinite(float(v)):
                raise ValueError(f"the initial {s} must be finite, got {v!r}")
            init_texts[s] = eq.to_text(("num", float(v)))
        else:
            tree = eq.parse(_text(v, f"the initial {s}"), None, what=f"the initial {s}")
            extra = eq.names_in(tree) - set(constants)
            if extra:
                raise ValueError(f"the initial {s} may use the constants only ({', '.join(constants) or 'none'}), "
                                 f"got {sorted(extra)[0]!r}")
            init_texts[s] = eq.to_text(tree)
    observe = _observed(observe, states)
    quantities = {*parameters, *constants, *(f"{s}0" for s in states)}
    ranges_all = dict(ranges_p)
    for q, r in dict(ranges or {}).items():
        if q not in quantities:
            raise ValueError(f"ranges names {q!r}, which is not a parameter, constant or initial state of {name}")
        ranges_all[q] = _pair(r, f"the range of {q}")
    units = dict(units or {})
    for q, u in units.items():
        if q not in {*quantities, *states, "t"} or not isinstance(u, str) or len(u) > 64:
            raise ValueError(f"units maps a quantity of {name} (or 't') to a unit of at most 64 characters, got "
                             f"{q!r}: {u!r}")
    try:
        step, points = float(grid[0]), int(grid[1])
    except (TypeError, ValueError, IndexError):
        raise TypeError(f"grid must be (step, points), got {grid!r}") from None
    if not (step > 0 and math.isfinite(step)) or not 2 <= points <= 10_000_000:
        raise ValueError(f"grid must have a finite step > 0 and 2 to 10,000,000 points, got ({step}, {points})")
    observed = ", ".join([observe] if isinstance(observe, str) else observe)
    summary = summary if summary is not None else (
        f"The user model {name}: " + "; ".join(f"d{s}/dt = {texts[s]}" for s in states) + f"; observed: {observed}.")
    if not isinstance(summary, str) or len(summary) > 2000:
        raise ValueError("summary must be a string of at most 2,000 characters")
    spec = ModelSpec(name, states, parameters, constants, texts, init_texts, observe, units, ranges_all, step, points,
                     summary)
    _check_finite_at_start(spec)
    return spec


def _observed(observe, states: tuple):
    """The canonical text of the observed quantity (a state or an expression of the states; default:
    the first state), or a tuple of several (at most MAX_OBSERVED, distinct)."""
    if observe is None:
        return states[0]
    several = isinstance(observe, Sequence) and not isinstance(observe, str)
    items = list(observe) if several else [observe]
    if not items or len(items) > MAX_OBSERVED:
        raise ValueError(f"observe must name 1 to {MAX_OBSERVED} quantities, got {len(items)}")
    out = []
    for item in items:
        text = _text(item, "observe")
        if text not in states:  # an expression of the states
            text = eq.to_text(eq.parse(text, states, what="observe (a state or an expression of the states)"))
        if text in out:
            raise ValueError(f"observe names {text!r} twice; each observed quantity once")
        out.append(text)
    return tuple(out) if several and len(out) > 1 else out[0]


def _check_finite_at_start(spec: ModelSpec) -> None:
    """ValueError naming the sub-expression where an equation is not finite at the initial state
    (θ at the middle of its ranges, or 0.5 where it has none), e.g. a division by zero."""
    values = {c: np.float64(v) for c, v in spec.constants.items()}
    for s, tree in spec.initial_trees.items():
        with np.errstate(all="ignore"):
            values[s] = np.float64(eq.evaluate(tree, values))
        if not np.isfinite(values[s]):
            raise ValueError(f"the initial {s} = {spec.initial[s]} is not finite ({values[s]})")
    for p in spec.parameters:
        lo, hi = spec.ranges.get(p, (0.0, 1.0))
        values[p] = np.float64(0.5 * (lo + hi))
    observed = [(f"observe:{o}", tree) for o, tree in zip(spec.observed, spec.observe_trees)]
    for s, tree in [*spec.trees.items(), *observed]:
        with np.errstate(all="ignore"):
            bad = _first_non_finite(tree, values)
        if bad is not None:
            what = "the observed quantity" if s.startswith("observe:") else f"the equation of {s}"
            raise ValueError(f"{what} is not finite at the initial state: {eq.to_text(bad)} gives "
                             f"{eq.evaluate(bad, values)} (a division by zero or a value outside a function's domain)")


def _first_non_finite(tree, values):
    """The innermost sub-expression whose value is not finite, or None."""
    if tree[0] in ("num", "var"):
        return None
    for sub in tree[1:] if tree[0] != "call" else tree[2:]:
        found = _first_non_finite(sub, values)
        if found is not None:
            return found
    return None if np.isfinite(eq.evaluate(tree, values)) else tree


def spec_from_dict(record: dict) -> ModelSpec:
    """The spec of a :meth:`ModelSpec.to_dict` record, checked again as the arguments are."""
    if not isinstance(record, Mapping):
        raise ValueError(f"a user model's record is a mapping, got {type(record).__name__}")
    try:
        return make_spec(record["equations"], record.get("initial"),
                         {p: record["ranges"][p] for p in record["parameters"]}
                         if all(p in record.get("ranges", {}) for p in record["parameters"]) else record["parameters"],
                         record.get("constants"), record.get("observe"), name=record.get("name", "UserModel"),
                         units=record.get("units"),
                         ranges={k: v for k, v in record.get("ranges", {}).items() if k not in record["parameters"]},
                         grid=record.get("grid", (0.1, 1000)), summary=record.get("summary"))
    except KeyError as e:
        raise ValueError(f"a user model's record lacks {e.args[0]!r}") from None


class ODEModel:
    """An ODE model written as equations, compiled to native code on first use.

    Parameters
    ----------
    equations : mapping of str to str
        The right-hand side of each state, ``{"u": "gamma*(u - u^3/3 + v + zeta)", ...}``, in the
        closed grammar of :mod:`~fhn_inverse.models.equations` (numbers, the model's names,
        ``+ - * / ^ **``, parentheses, and exp, log, sqrt, tanh, cosh, sinh, sin, cos, tan, abs, sign).
        SymPy expressions are accepted too (their text is parsed the same way). The order of the
        keys is the order of the states.
    initial : mapping of str to float or str, optional
        Each state's initial value: a number or an expression of the constants (default 0).
    parameters : sequence of str, or mapping of str to (float, float)
        The parameters θ, in order; a mapping gives each its default prior range (a uniform box,
        what :func:`~fhn_inverse.default_prior` draws from).
    constants : mapping of str to float, optional
        The fixed constants and their default values; an instance may set them by keyword, and a
        free set may free them.
    observe : str or sequence of str, optional
        The observed quantity: a state, or an expression of the states (``"S + I"``); default: the
        first state. Several (at most 16, ``["x", "y"]``) make a series of several channels:
        :func:`~fhn_inverse.simulate` then returns (N, K, L), the sensitivities (N, K, L, P), and
        noise applies to each channel independently.
    name : str, default "UserModel"
        The model's name (an identifier), in messages, records and its repr.
    units : mapping of str to str, optional
        Units of the states, parameters, constants and ``"t"`` (default "dimensionless").
    ranges : mapping of str to (float, float), optional
        Default prior ranges of parameters (when ``parameters`` is a sequence), constants and
        initial states (``"u0"``), for free sets.
    grid : (float, int), default (0.1, 1000)
        The default observation grid: ``points`` times ``step`` apart from 0.
    summary : str, optional
        One sentence on the model (default: its equations).
    free : sequence of str, optional
        The quantities a row of θ holds (parameters, constants, initial states ``"u0"``); default:
        the parameters.
    backend : {"auto", "compiled", "numpy"}, default "auto"
        "compiled": generated C++ compiled on first use (:class:`NativeBuildError` where that is
        impossible); "numpy": evaluated with NumPy, 20-40x slower than the compiled Odeint path
        and needing no compiler, equal within the tolerances; "auto": compiled where possible, else NumPy with a
        :class:`SlowBackendWarning` that names what is missing.
    **values
        Constants by name, and the values of parameters that are not free.

    Raises
    ------
    ValueError
        Naming the position or the name: an equation outside the grammar, an unknown name, a
        name used twice, an equation that is not finite at the initial state (e.g. a division by
        zero). Nothing is compiled or written then.
    NativeBuildError
        With ``backend="compiled"``, if compiling needs a tool or header this machine lacks (named
        in the message): a C++17 compiler, Python's headers, Eigen, Boost.

    Examples
    --------
    >>> import fhn_inverse as fi
    >>> osc = fi.ODEModel({"x": "y", "y": "-omega^2*x - 2*zeta*omega*y"}, initial={"x": "a"},
    ...                   parameters={"omega": (0.5, 2.0), "zeta": (0.05, 0.5)}, constants={"a": 1.0},
    ...                   name="Oscillator", grid=(0.1, 200))
    >>> osc.free, osc.constants
    (('omega', 'zeta'), {'a': 1.0})
    >>> fi.simulate([[1.0, 0.1]], model=osc).shape
    (1, 200)
    """

    def __init__(self, equations, initial=None, parameters=(), constants=None, observe=None, *, name="UserModel",
                 units=None, ranges=None, grid=(0.1, 1000), summary=None, free=None, backend="auto", **values):
        spec = make_spec(equations, initial, parameters, constants, observe, name=name, units=units, ranges=ranges,
                         grid=grid, summary=summary)
        self._setup(spec, dict(values, **({} if free is None else {"free": free})), backend)

    def _setup(self, spec: ModelSpec, kwargs: dict, backend: str = "auto") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        free = kwargs.get("free")
        if free is not None and not isinstance(free, str):
            unset = [p for p in spec.parameters if p not in free and p not in kwargs and p not in spec.ranges]
            if unset:
                raise ValueError(f"{spec.name}: {', '.join(unset)} is not free and has no range; give its value "
                                 f"({unset[0]}=...)")
        self.spec = spec
        self.key = native.module_key(codegen.model_source(spec, "MODULE", "NAMESPACE"))
        module_name, namespace = f"_ode_{self.key}", f"fhn_user_{self.key}"
        self.backend = "numpy" if backend == "numpy" else "compiled"
        if backend != "numpy":
            try:
                self._module = native.module_for(lambda _: codegen.model_source(spec, module_name, namespace),
                                                 module_name)
            except native.NativeBuildError as err:
                if backend == "compiled":
                    raise
                warnings.warn(f"{spec.name} runs on the NumPy backend, 20-40x slower than compiled: {err}",
                              SlowBackendWarning, stacklevel=3)
                self.backend = "numpy"
        if self.backend == "numpy":
            self._module = NumpyBackend(spec)
        self._native = self._module.MODEL(**kwargs)

    #: The keys of :meth:`from_config`'s mapping (the constructor's arguments).
    CONFIG_KEYS = ("equations", "initial", "parameters", "constants", "observe", "name", "units", "ranges", "grid",
                   "summary", "free", "backend", "values")

    @classmethod
    def from_config(cls, config) -> "ODEModel":
        """The model of a mapping of the constructor's arguments, as a TOML file writes them (a
        ``[model]`` table of a config, or a model file of its own for ``fhn-inverse simulate
        --model``); ``values`` holds constants or fixed parameters by name. ValueError naming an
        unknown key.

        Examples
        --------
        >>> import fhn_inverse as fi
        >>> osc = fi.ODEModel.from_config({"name": "Oscillator", "equations": {"x": "y", "y": "-omega^2*x"},
        ...                                "initial": {"x": 1.0}, "parameters": {"omega": [0.5, 2.0]},
        ...                                "grid": [0.1, 200]})
        >>> osc.free, fi.simulate([1.0], model=osc).shape
        (('omega',), (200,))
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"a model's configuration is a mapping (a TOML table), got {type(config).__name__}")
        unknown = [k for k in config if k not in cls.CONFIG_KEYS]
        if unknown:
            raise ValueError(f"a model's configuration takes {', '.join(cls.CONFIG_KEYS)}; unknown: {unknown[0]!r}")
        kwargs = {k: v for k, v in config.items() if k != "values"}
        values = config.get("values") or {}
        if not isinstance(values, Mapping):
            raise TypeError(f"values must be a table {{name: number}}, got {type(values).__name__}")
        if "equations" not in kwargs:
            raise ValueError("a model's configuration needs its equations (a table {state: right-hand side})")
        return cls(**kwargs, **values)

    @classmethod
    def from_dict(cls, record: dict) -> "ODEModel":
        """The model of a :func:`~fhn_inverse.models.model_to_dict` record of a user model."""
        spec = spec_from_dict(record.get("spec"))
        kwargs = {k: v for k, v in record.items() if k not in ("name", "spec", "hash")}
        if "initial" in kwargs:
            kwargs["initial"] = tuple(kwargs["initial"])
        model = cls.__new__(cls)
        try:
            model._setup(spec, kwargs)
        except TypeError as e:
            raise ValueError(f"invalid {spec.name} record ({e})") from None
        return model

    def to_dict(self) -> dict:
        """A JSON-ready record: the equations (and their hash), constants, initial state, free set."""
        record = {"name": "ODEModel", "spec": self.spec.to_dict(), "hash": self.key, **self.constants,
                  "initial": list(self.initial)}
        if not self.is_default_free:
            record.update(free=list(self.free), **self.fixed)
        return record

    def default(self) -> "ODEModel":
        """The same equations with the default constants, initial state and free set."""
        model = type(self).__new__(type(self))
        model._setup(self.spec, {}, self.backend)
        return model

    @property
    def observed(self) -> tuple:
        """The observed quantities, in channel order (one unless several were given)."""
        return self.spec.observed

    @property
    def observed_count(self) -> int:
        """K, the number of observed quantities: the series of this model are (K, L) when K > 1."""
        return len(self.spec.observed)

    @property
    def native(self):
        """The compiled model object (what the core's functions take)."""
        return self._native

    @property
    def module(self):
        """The compiled module (its ``simulate_batch``, ``sensitivities_batch``, ``laplace_batch``)."""
        return self._module

    def __getattr__(self, name):
        if name.startswith("_") or "_native" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self._native, name)

    def __reduce__(self):
        return (ODEModel.from_dict, (self.to_dict(),))

    def __repr__(self) -> str:
        return f"ODEModel {self._native!r}"
