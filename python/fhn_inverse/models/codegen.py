"""A user model (:class:`~fhn_inverse.models.ODEModel`) as C++: a model header of the shape every
built-in model has (``cpp/include/fhn_inverse/models/damped_oscillator.hpp``) and a pybind11 module
that binds it with the core's own templates, so that both integrators, the sensitivities and the
Laplace covariances run the user's equations as compiled code.

Everything emitted comes from parsed trees (:mod:`~fhn_inverse.models.equations`) and from names
checked to be ASCII identifiers: no text of the user's reaches the compiler unparsed.
"""

from __future__ import annotations

import json

from . import equations as eq

__all__ = ["model_source"]

# The functions that have a vector version for the SIMD lanes (util/vector_math.hpp); the others
# run lane by lane (vmath::lanewise).
_LANE_FUNCTIONS = {"exp": "vmath::exp", "tanh": "vmath::tanh", "cosh": "vmath::cosh", "sign": "vmath::sign"}


def _lanes_cpp(tree, symbols: dict, lane_names: set) -> str:
    """``tree`` as C++ on lane vectors: subtrees that use no lane name (state or parameter) stay
    scalar doubles; the rest are vectors, with vector functions where they exist."""
    if not (eq.names_in(tree) & lane_names):
        return eq.to_cpp(tree, symbols)
    kind = tree[0]
    if kind == "var":
        return symbols[tree[1]]
    if kind == "neg":
        return f"(-{_lanes_cpp(tree[1], symbols, lane_names)})"
    if kind == "call":
        arg = _lanes_cpp(tree[2], symbols, lane_names)
        if tree[1] in _LANE_FUNCTIONS:
            return f"{_LANE_FUNCTIONS[tree[1]]}({arg})"
        return f"vmath::lanewise({arg}, [](double a) {{ return std::{tree[1]}(a); }})"
    a, b = tree[1], tree[2]
    if kind == "pow":
        if b[0] == "num" and b[1] == int(b[1]) and 2 <= b[1] <= 4:
            base = _lanes_cpp(a, symbols, lane_names)
            return "(" + " * ".join([base] * int(b[1])) + ")"
        return f"vmath::pow({_lanes_cpp(a, symbols, lane_names)}, {_lanes_cpp(b, symbols, lane_names)})"
    op = {"add": "+", "sub": "-", "mul": "*", "div": "/"}[kind]
    return f"({_lanes_cpp(a, symbols, lane_names)} {op} {_lanes_cpp(b, symbols, lane_names)})"


class _Hoisted:
    """Sub-expressions of the constants alone, computed once per model (in its constructor) rather
    than at every right-hand side: each becomes a member ``k_[i]``, and a division by one becomes a
    multiplication by its reciprocal (as the built-in models keep 1/γ)."""

    def __init__(self, constants):
        self.constants = set(constants)
        self.trees: list = []

    def _member(self, tree):
        if tree not in self.trees:
            self.trees.append(tree)
        return ("var", f"__k{self.trees.index(tree)}")

    def _fixed(self, tree) -> bool:
        return tree[0] != "num" and not (eq.names_in(tree) - self.constants)

    def __call__(self, tree):
        kind = tree[0]
        if kind in ("num", "var"):
            return tree
        if self._fixed(tree):
            return self._member(tree)
        if kind == "neg":
            return ("neg", self(tree[1]))
        if kind == "call":
            return ("call", tree[1], self(tree[2]))
        a, b = tree[1], tree[2]
        if kind == "div" and (b[0] == "num" or self._fixed(b)):
            return ("mul", self(a), self._member(("div", ("num", 1.0), b)))
        return (kind, self(a), self(b))


def _string(text: str) -> str:
    """A C++ string literal of ``text`` (JSON's escapes are C++'s for these characters)."""
    return json.dumps(text, ensure_ascii=True)


def _names(values) -> str:
    return "{" + ", ".join(_string(v) for v in values) + "}"


def _doubles(values) -> str:
    """A C++ braced list of doubles (NaN for a missing value)."""
    out = [repr(float(v)) if v == v else "std::numeric_limits<double>::quiet_NaN()" for v in values]
    return "{" + ", ".join(out) + "}"


def _channels_source(spec) -> str:
    """The observation of a model that observes several quantities (simulate/observation.hpp):
    observed_count, observe_channel(x, c) and observe_gradient_channel(x, c, gradient)."""
    xs = {s: f"x[{i}]" for i, s in enumerate(spec.states)}
    values, gradients = [], []
    for c, tree in enumerate(spec.observe_trees):
        values.append(f"      case {c}: return {eq.to_cpp(tree, xs)};")
        body = " ".join(f"gradient[{i}] = {eq.to_cpp(eq.derivative(tree, s), xs)};"
                        for i, s in enumerate(spec.states))
        gradients.append(f"      case {c}: {body} return;")
    nan = "std::numeric_limits<double>::quiet_NaN()"
    return (f"  static constexpr std::size_t observed_count = {len(spec.observed)};\n"
            "  static double observe_channel([[maybe_unused]] const State& x, std::size_t c) {\n"
            "    switch (c) {\n" + "\n".join(values) + "\n    }\n"
            f"    return {nan};\n  }}\n"
            "  static double observe(const State& x) { return observe_channel(x, 0); }\n"
            "  static void observe_gradient_channel([[maybe_unused]] const State& x, std::size_t c,\n"
            "                                       double* gradient) {\n"
            "    switch (c) {\n" + "\n".join(gradients) + "\n    }\n"
            f"    for (std::size_t a = 0; a < S; ++a) gradient[a] = {nan};\n  }}\n")


def model_source(spec, module: str, namespace: str) -> str:
    """The C++ source of the module ``module`` that defines and binds the model of ``spec``.

    ``spec`` is a checked :class:`~fhn_inverse.models.ode.ModelSpec` (its trees parsed, its names
    identifiers); the model's struct lives in the namespace ``namespace`` (unique per model, so
    that two user models of one name can live in one process).
    """
    S, P, C = len(spec.states), len(spec.parameters), len(spec.constants)
    symbols = {s: f"x[{i}]" for i, s in enumerate(spec.states)}
    symbols.update({p: f"theta[{j}]" for j, p in enumerate(spec.parameters)})
    symbols.update({c: f"c_[{k}]" for k, c in enumerate(spec.constants)})
    lane_names = set(spec.states) | set(spec.parameters)
    hoist = _Hoisted(spec.constants)
    trees = {s: hoist(spec.trees[s]) for s in spec.states}
    d_x = [[hoist(eq.derivative(spec.trees[s], y)) for y in spec.states] for s in spec.states]
    d_theta = [[hoist(eq.derivative(spec.trees[s], p)) for p in spec.parameters] for s in spec.states]
    d_c = [[hoist(eq.derivative(spec.trees[s], c)) for c in spec.constants] for s in spec.states]
    K = len(hoist.trees)
    symbols.update({f"__k{i}": f"k_[{i}]" for i in range(K)})
    rhs = [f"    dxdt[{i}] = {eq.to_cpp(trees[s], symbols)};" for i, s in enumerate(spec.states)]
    lanes = [f"    dxdt[{i}] = {_lanes_cpp(trees[s], symbols, lane_names)};" for i, s in enumerate(spec.states)]
    jx = [f"    J_f_x[{a * S + b}] = {eq.to_cpp(d, symbols)};" for a in range(S) for b, d in enumerate(d_x[a])]
    jt = [f"    J_f_theta[{a * P + j}] = {eq.to_cpp(d, symbols)};" for a in range(S) for j, d in enumerate(d_theta[a])]
    jc = [f"    J_f_c[{a * C + k}] = {eq.to_cpp(d, symbols)};" for a in range(S) for k, d in enumerate(d_c[a])]
    members = [f"    k_[{i}] = {eq.to_cpp(tree, {c: f'c_[{k}]' for k, c in enumerate(spec.constants)})};"
               for i, tree in enumerate(hoist.trees)]
    init_symbols = {c: f"c[{k}]" for k, c in enumerate(spec.constants)}
    initial = ", ".join(eq.to_cpp(spec.initial_trees[s], init_symbols) for s in spec.states)
    lower = [spec.ranges.get(p, (float("nan"), float("nan")))[0] for p in spec.parameters]
    upper = [spec.ranges.get(p, (float("nan"), float("nan")))[1] for p in spec.parameters]
    has_ranges = all(c in spec.ranges for c in spec.constants) and all(f"{s}0" in spec.ranges for s in spec.states)
    ranges = ""
    if has_ranges:
        bounds = {"constant_lower": [spec.ranges[c][0] for c in spec.constants],
                  "constant_upper": [spec.ranges[c][1] for c in spec.constants],
                  "state_lower": [spec.ranges[s + "0"][0] for s in spec.states],
                  "state_upper": [spec.ranges[s + "0"][1] for s in spec.states]}
        ranges = "".join(f"  static constexpr std::array<double, {len(v)}> {k}{_doubles(v)};\n"
                         for k, v in bounds.items())
    unit = spec.quantity_units()
    comment = "\n".join(f"//   d{s}/dt = {eq.to_text(spec.trees[s])}" for s in spec.states)
    unused = "(void)x; (void)theta;"
    if len(spec.observed) > 1:
        observation = _channels_source(spec)
    elif spec.observe in spec.states:
        i = spec.states.index(spec.observe)
        observation = (f"  static double observe(const State& x) {{ return x[{i}]; }}\n"
                       f"  static constexpr std::size_t observed_component = {i};\n")
    else:  # an expression of the states, with its gradient for the sensitivities (simulate/observation.hpp)
        tree, xs = spec.observe_tree, {s: f"x[{i}]" for i, s in enumerate(spec.states)}
        gradient = "\n".join(f"    gradient[{i}] = {eq.to_cpp(eq.derivative(tree, s), xs)};"
                             for i, s in enumerate(spec.states))
        observation = (f"  static double observe(const State& x) {{ return {eq.to_cpp(tree, xs)}; }}\n"
                       f"  static void observe_gradient([[maybe_unused]] const State& x, double* gradient) {{\n"
                       f"{gradient}\n  }}\n")
    return f"""// Generated by fhn_inverse.models.codegen for the user model {spec.name}; do not edit.
{comment}
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>

#include "bindings/interrupt_hook.hpp"
#include "bindings/model_bindings.hpp"
#include "fhn_inverse/simulate/free_set_impl.hpp"
#include "fhn_inverse/simulate/sensitivities_impl.hpp"
#include "fhn_inverse/simulate/simulator_impl.hpp"
#include "fhn_inverse/uncertainty/laplace_impl.hpp"
#include "fhn_inverse/util/vector_math.hpp"

namespace {namespace} {{

namespace vmath = fhn_inverse::vmath;

struct {spec.name} {{
  static constexpr const char* name = {_string(spec.name)};
  static constexpr const char* summary = {_string(spec.summary)};
  static constexpr std::size_t state_size = {S};
  static constexpr std::size_t param_size = {P};
  static constexpr std::size_t S = state_size;
  static constexpr std::array<const char*, {P}> param_names{_names(spec.parameters)};
  static constexpr std::array<const char*, {P}> param_units{_names(unit[p] for p in spec.parameters)};
  static constexpr std::array<const char*, {C}> constant_names{_names(spec.constants)};
  static constexpr std::array<const char*, {C}> constant_units{_names(unit[c] for c in spec.constants)};
  static constexpr std::array<const char*, S> state_names{_names(spec.states)};
  static constexpr std::array<const char*, S> state_units{_names(unit[s + "0"] for s in spec.states)};
  static constexpr std::array<double, {P}> prior_lower{_doubles(lower)};
  static constexpr std::array<double, {P}> prior_upper{_doubles(upper)};
{ranges}  static constexpr const char* time_unit = {_string(unit["t"])};
  static constexpr double grid_step = {float(spec.grid_step)!r};
  static constexpr std::size_t grid_points = {int(spec.grid_points)};
  using State = std::array<double, S>;
  using Constants = std::array<double, {C}>;

  {spec.name}() : {spec.name}(Constants{_doubles(spec.constants.values())}) {{}}
  explicit {spec.name}(const Constants& c) : {spec.name}(c, default_initial(c)) {{}}
  {spec.name}(const Constants& c, State initial) : c_(c), initial_(initial) {{
    for (std::size_t k = 0; k < c.size(); ++k)
      if (!std::isfinite(c[k]))
        throw std::invalid_argument(std::string(constant_names[k]) + " must be finite, got " +
                                    std::to_string(c[k]));
    for (std::size_t i = 0; i < S; ++i)
      if (!std::isfinite(initial[i]))
        throw std::invalid_argument("the initial " + std::string(state_names[i]) +
                                    " must be finite, got " + std::to_string(initial[i]));
{chr(10).join(members)}
  }}
  Constants constant_values() const {{ return c_; }}
  static State default_initial([[maybe_unused]] const Constants& c) {{ return {{{initial}}}; }}
  const State& initial() const {{ return initial_; }}

  void rhs(const State& x, State& dxdt, const double* theta) const {{
    {unused}
{chr(10).join(rhs)}
  }}

  template <class V>
  void rhs_lanes(const V* x, V* dxdt, const V* theta) const {{
    {unused}
{chr(10).join(lanes)}
  }}

  void jacobians(const State& x, const double* theta, double* J_f_x, double* J_f_theta) const {{
    {unused}
{chr(10).join(jx)}
{chr(10).join(jt)}
  }}

  void constant_jacobian(const State& x, const double* theta, [[maybe_unused]] double* J_f_c) const {{
    {unused}
{chr(10).join(jc)}
  }}

{observation}
 private:
  Constants c_{{}};
  std::array<double, {K}> k_{{}};  // the hoisted sub-expressions of the constants
  State initial_{{}};
}};

}}  // namespace {namespace}

PYBIND11_MODULE({module}, m) {{
  using Model = {namespace}::{spec.name};
  m.doc() = {_string("The compiled user model " + spec.name + " (fhn_inverse.models.ODEModel).")};
  fhn_inverse::bindings::install_interrupt_hook();
  fhn_inverse::bindings::bind_model<Model>(m);
  fhn_inverse::bindings::bind_model_functions<Model>(m);
  m.attr("MODEL") = m.attr(Model::name);
}}
"""
