// The bindings of one model, as templates: the model's class (what its header declares, its
// constructor, free set, pickling) and its batch functions (simulate_batch, sensitivities_batch,
// laplace_batch; pybind11 overloads on the model's type). bind_models.cpp, bind_simulate.cpp and
// bind_uncertainty.cpp instantiate them for models/list.hpp; a model compiled on first use (a user
// model, fhn_inverse.models.ODEModel) includes this header and binds itself into its own module.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "configured_model.hpp"
#include "fhn_inverse/simulate/free_set.hpp"
#include "fhn_inverse/simulate/sensitivities.hpp"
#include "fhn_inverse/simulate/simulator.hpp"
#include "fhn_inverse/uncertainty/laplace.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::bindings {

namespace py = pybind11;

template <std::size_t N>
std::vector<std::string> names(const std::array<const char*, N>& a) {
  return std::vector<std::string>(a.begin(), a.end());
}

template <std::size_t N>
std::vector<double> values(const std::array<double, N>& a) {
  return std::vector<double>(a.begin(), a.end());
}

template <class Model>
using State = typename Model::State;
using fhn_inverse::simulate::FreeSet;

template <class M, class = void>
struct declares_constant_ranges : std::false_type {};
template <class M>
struct declares_constant_ranges<M,
                                std::void_t<decltype(M::constant_lower), decltype(M::state_lower)>>
    : std::true_type {};

// {name: (lower, upper)} of the model's default prior ranges: θ's box, and its constants' and
// initial state's where the header declares them (the default prior of a free set draws from it).
template <class Model>
py::dict ranges() {
  py::dict out;
  for (std::size_t i = 0; i < Model::param_size; ++i)
    out[Model::param_names[i]] = py::make_tuple(Model::prior_lower[i], Model::prior_upper[i]);
  if constexpr (declares_constant_ranges<Model>::value) {
    for (std::size_t i = 0; i < Model::constant_names.size(); ++i)
      out[Model::constant_names[i]] =
          py::make_tuple(Model::constant_lower[i], Model::constant_upper[i]);
    for (std::size_t i = 0; i < Model::state_size; ++i)
      out[py::str(std::string(Model::state_names[i]) + "0")] =
          py::make_tuple(Model::state_lower[i], Model::state_upper[i]);
  }
  return out;
}

// {quantity name: unit} for θ, the constants, the initial state and time ("t").
template <class Model>
py::dict units() {
  py::dict out;
  for (std::size_t i = 0; i < Model::param_size; ++i)
    out[Model::param_names[i]] = Model::param_units[i];
  for (std::size_t i = 0; i < Model::constant_names.size(); ++i)
    out[Model::constant_names[i]] = Model::constant_units[i];
  for (std::size_t i = 0; i < Model::state_size; ++i)
    out[py::str(std::string(Model::state_names[i]) + "0")] = Model::state_units[i];
  out["t"] = Model::time_unit;
  return out;
}

template <class Model>
std::vector<std::string> free_names(const FreeSet& free) {
  const auto known = fhn_inverse::simulate::quantity_names<Model>();
  constexpr std::size_t P = Model::param_size, C = Model::constant_names.size();
  std::vector<std::string> out;
  for (const auto& e : free.entries)
    out.push_back(known[e.kind == FreeSet::Kind::param      ? e.index
                        : e.kind == FreeSet::Kind::constant ? P + e.index
                                                            : P + C + e.index]);
  return out;
}

// The values of the parameters θ that are not free, by name.
template <class Model>
py::dict fixed_params(const FreeSet& free) {
  py::dict out;
  for (std::size_t i = 0; i < Model::param_size; ++i) {
    const bool is_free = std::any_of(free.entries.begin(), free.entries.end(), [i](const auto& e) {
      return e.kind == FreeSet::Kind::param && e.index == i;
    });
    if (!is_free) out[Model::param_names[i]] = free.theta_fixed[i];
  }
  return out;
}

// The free set of `free` (None: the model's θ) with fixed θ values from `fixed` (name → value;
// the middle of the prior box for the rest).
template <class Model>
FreeSet free_set(const py::object& free, const std::map<std::string, double>& fixed) {
  FreeSet base = fhn_inverse::simulate::default_free_set<Model>();
  std::vector<double> theta = base.theta_fixed;
  for (const auto& [name, value] : fixed)
    for (std::size_t i = 0; i < Model::param_size; ++i)
      if (name == Model::param_names[i]) theta[i] = value;
  if (free.is_none()) {
    if (!fixed.empty())
      throw py::value_error(std::string(Model::name) + ": '" + fixed.begin()->first +
                            "' is free in the default free set; a fixed value for it needs a "
                            "free set without it (free=...)");
    return base;
  }
  if (py::isinstance<py::str>(free))
    throw py::type_error("free must be a sequence of quantity names, got the string '" +
                         free.cast<std::string>() + "'");
  std::vector<std::string> names;
  for (auto item : free) {
    if (!py::isinstance<py::str>(item))
      throw py::type_error("free must hold quantity names (str), got " +
                           py::repr(item).cast<std::string>());
    names.push_back(item.cast<std::string>());
  }
  FreeSet out;
  try {
    out = fhn_inverse::simulate::make_free_set<Model>(names, theta);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  for (const auto& [name, value] : fixed)
    if (std::find(names.begin(), names.end(), name) != names.end())
      throw py::value_error(std::string(Model::name) + ": '" + name +
                            "' is free; it takes no fixed value");
  return out;
}

// Model(constant=value, ..., initial=None, free=None, <θ name>=value, ...): constants by keyword
// (or position, in constant_names' order), each defaulting to the default model's; initial None:
// the model's default initial state for those constants; free: the quantities a row of θ holds
// (None: the model's θ); a parameter that is not free takes its value by keyword.
template <class Model>
Configured<Model> make_model(const py::args& args, const py::kwargs& kwargs) {
  constexpr std::size_t C = Model::constant_names.size();
  std::array<double, C> c = Model{}.constant_values();
  py::object initial = py::none(), free = py::none();
  std::map<std::string, double> fixed;
  if (args.size() > C + 1)
    throw py::type_error(std::string(Model::name) + " takes at most " + std::to_string(C + 1) +
                         " positional arguments, got " + std::to_string(args.size()));
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i < C)
      c[i] = args[i].cast<double>();
    else
      initial = args[i];
  }
  for (auto item : kwargs) {
    const auto key = item.first.cast<std::string>();
    if (key == "initial" || key == "free") {
      (key == "initial" ? initial : free) = py::reinterpret_borrow<py::object>(item.second);
      continue;
    }
    if (std::find(Model::param_names.begin(), Model::param_names.end(), key) !=
        Model::param_names.end()) {
      fixed[key] = item.second.cast<double>();
      continue;
    }
    std::size_t i = 0;
    while (i < C && key != Model::constant_names[i]) ++i;
    if (i == C) {
      std::string known;
      for (const char* n : Model::constant_names)
        known += std::string(known.empty() ? "" : ", ") + n;
      throw py::type_error(std::string(Model::name) + " got an unknown keyword '" + key +
                           "'; it takes its constants (" + known +
                           "), initial, free and the values of parameters that are not free");
    }
    c[i] = item.second.cast<double>();
  }
  const auto x0 = initial.is_none() ? Model::default_initial(c) : initial.cast<State<Model>>();
  return {Model(c, x0), free_set<Model>(free, fixed)};
}

// Model(constants..., initial=(...)[, free=(...), fixed θ...]): what the constructor takes.
template <class Model>
std::string model_repr(const Configured<Model>& b) {
  constexpr std::size_t C = Model::constant_names.size();
  const auto r = [](double v) { return py::repr(py::float_(v)).cast<std::string>(); };
  std::string out = std::string(Model::name) + "(";
  const auto v = b.model.constant_values();
  for (std::size_t i = 0; i < C; ++i)
    out += std::string(Model::constant_names[i]) + "=" + r(v[i]) + ", ";
  out += "initial=(";
  const auto& x0 = b.model.initial();
  for (std::size_t i = 0; i < x0.size(); ++i) out += (i ? ", " : "") + r(x0[i]);
  out += ")";
  if (!b.free.is_default(Model::param_size)) {
    out += ", free=(";
    const auto f = free_names<Model>(b.free);
    for (std::size_t i = 0; i < f.size(); ++i) out += (i ? ", '" : "'") + f[i] + "'";
    out += f.size() == 1 ? ",)" : ")";
    for (auto item : fixed_params<Model>(b.free))
      out += ", " + py::str(item.first).cast<std::string>() + "=" +
             r(py::float_(py::reinterpret_borrow<py::object>(item.second)).cast<double>());
  }
  return out + ")";
}

// What the model's header declares, as read-only class attributes.
template <class Model>
void bind_declarations(py::class_<Configured<Model>>& cls) {
  cls.def_property_readonly_static("param_names",
                                   [](py::object) { return names(Model::param_names); })
      .def_property_readonly_static("param_units",
                                    [](py::object) { return names(Model::param_units); })
      .def_property_readonly_static("constant_names",
                                    [](py::object) { return names(Model::constant_names); })
      .def_property_readonly_static("state_names",
                                    [](py::object) { return names(Model::state_names); })
      .def_property_readonly_static(
          "quantity_names",
          [](py::object) { return fhn_inverse::simulate::quantity_names<Model>(); })
      .def_property_readonly_static("units", [](py::object) { return units<Model>(); })
      .def_property_readonly_static("ranges", [](py::object) { return ranges<Model>(); })
      .def_property_readonly_static("prior_lower",
                                    [](py::object) { return values(Model::prior_lower); })
      .def_property_readonly_static("prior_upper",
                                    [](py::object) { return values(Model::prior_upper); })
      .def_property_readonly_static("grid_step", [](py::object) { return Model::grid_step; })
      .def_property_readonly_static("grid_points", [](py::object) { return Model::grid_points; });
}

// The class's docstring: the model's summary, how it is made, and an example that runs (a doctest).
template <class Model>
std::string model_doc() {
  const std::string name = Model::name;
  std::string free = "(";  // the tuple's repr
  for (std::size_t j = 0; j < Model::param_size; ++j)
    free += (j ? ", '" : "'") + std::string(Model::param_names[j]) + "'";
  free += Model::param_size == 1 ? ",)" : ")";
  return std::string(Model::summary) + "\n\n``" + name +
         "(*constants, initial=None, free=None, **values)``: constants by name or position "
         "(default: "
         "the "
         "published ones), the initial state (default: the model's for those constants), and the "
         "free "
         "set, the quantities a row of theta holds (its parameters, constants or initial state; "
         "default: "
         "the parameters); a parameter that is not free takes its value by keyword. Constants, "
         "units, "
         "default priors and sources: docs/models.md.\n\nExamples\n--------\n>>> import "
         "fhn_inverse as fi\n"
         ">>> m = fi.models." +
         name + "()\n>>> m.free\n" + free +
         "\n>>> theta = fi.default_prior(m).sample(2, seed=0)\n"
         ">>> fi.simulate(theta, model=m).shape\n(2, " +
         std::to_string(Model::grid_points) + ")\n";
}

template <class Model>
void bind_model(py::module_& m) {
  constexpr std::size_t C = Model::constant_names.size();
  using Bound = Configured<Model>;
  static const std::string doc = model_doc<Model>();
  const std::string example =
      "\n\nExamples\n--------\n>>> import fhn_inverse as fi\n>>> m = fi.models." +
      std::string(Model::name) + "()\n>>> theta = m.prior_lower  # the full θ\n";
  const std::string S = std::to_string(Model::state_size);
  static const std::string rhs_doc =
      "dx/dt at the state and the model's full θ (all its parameters, free or not)." + example +
      ">>> len(m.rhs(m.initial, theta))\n" + S + "\n";
  static const std::string jacobians_doc =
      "(∂f/∂x row-major (S·S,), ∂f/∂θ row-major (S·P,)) at the state and the full θ." + example +
      ">>> jx, jt = m.jacobians(m.initial, theta)\n>>> len(jx), len(jt)\n(" +
      std::to_string(Model::state_size * Model::state_size) + ", " +
      std::to_string(Model::state_size * Model::param_size) + ")\n";
  py::class_<Bound> cls(m, Model::name, doc.c_str());
  bind_declarations<Model>(cls);
  cls.def(py::init(&make_model<Model>))
      .def_property_readonly("initial", [](const Bound& b) { return b.model.initial(); })
      .def_property_readonly("constants",
                             [](const Bound& b) {
                               py::dict out;
                               const auto v = b.model.constant_values();
                               for (std::size_t i = 0; i < C; ++i)
                                 out[Model::constant_names[i]] = v[i];
                               return out;
                             })
      .def_property_readonly(
          "free", [](const Bound& b) { return py::tuple(py::cast(free_names<Model>(b.free))); },
          "The quantities a row of theta holds, in order (the model's parameters by default).")
      .def_property_readonly(
          "fixed", [](const Bound& b) { return fixed_params<Model>(b.free); },
          "The values of the parameters that are not free, by name.")
      .def_property_readonly("is_default_free",
                             [](const Bound& b) { return b.free.is_default(Model::param_size); })
      .def(
          "rhs",
          [](const Bound& b, State<Model> x, std::array<double, Model::param_size> theta) {
            State<Model> dxdt;
            b.model.rhs(x, dxdt, theta.data());
            return dxdt;
          },
          py::arg("state"), py::arg("theta"), rhs_doc.c_str())
      .def(
          "jacobians",
          [](const Bound& b, State<Model> x, std::array<double, Model::param_size> theta) {
            std::array<double, Model::state_size * Model::state_size> jx;
            std::array<double, Model::state_size * Model::param_size> jt;
            b.model.jacobians(x, theta.data(), jx.data(), jt.data());
            return py::make_tuple(jx, jt);
          },
          py::arg("state"), py::arg("theta"), jacobians_doc.c_str())
      .def(py::pickle(  // (constants, initial, free names, fixed θ): all a model is
          [](const Bound& b) {
            return py::make_tuple(b.model.constant_values(), b.model.initial(),
                                  free_names<Model>(b.free), b.free.theta_fixed);
          },
          [](const py::tuple& state) {
            if (state.size() == C + 1) {  // (constant, ..., initial): pickles of earlier versions
              std::array<double, C> c;
              for (std::size_t i = 0; i < C; ++i) c[i] = state[i].cast<double>();
              return Bound{Model(c, state[C].cast<State<Model>>())};
            }
            if (state.size() != 2 && state.size() != 4)
              throw std::runtime_error(std::string(Model::name) +
                                       " state must be (constants, initial, free, fixed)");
            Bound b{Model(state[0].cast<std::array<double, C>>(), state[1].cast<State<Model>>())};
            if (state.size() == 4)
              b.free = fhn_inverse::simulate::make_free_set<Model>(
                  state[2].cast<std::vector<std::string>>(), state[3].cast<std::vector<double>>());
            return b;
          }))
      .def("__repr__", &model_repr<Model>);
  for (std::size_t i = 0; i < C; ++i)  // each constant as a read-only attribute
    cls.def_property_readonly(Model::constant_names[i],
                              [i](const Bound& b) { return b.model.constant_values()[i]; });
}

inline py::array_t<std::int8_t> status_array(const std::vector<std::int8_t>& status) {
  py::array_t<std::int8_t> out(static_cast<py::ssize_t>(status.size()));
  std::copy(status.begin(), status.end(), out.mutable_data());
  return out;
}

// (N, K·P) row-major → a NumPy (N, K, P) array owning a copy.
inline py::array_t<double> as_3d(const simulate::RowMatrix& m, py::ssize_t k, py::ssize_t p) {
  py::array_t<double> out({static_cast<py::ssize_t>(m.rows()), k, p});
  std::copy(m.data(), m.data() + m.size(), out.mutable_data());
  return out;
}

// simulate_batch, sensitivities_batch and laplace_batch for one model (pybind11 overloads on the
// model's type), in the model's free quantities (P of them below). Arrays: float64, C order;
// theta (N, P), u (N, L), J (N, L, P), s/rho (N), prior_precision (P, P), cov (N, P, P),
// status (N) int8.
template <class Model>
void bind_model_functions(py::module_& m) {
  using simulate::RowMatrix;
  m.def(
      "simulate_batch",
      [](const Configured<Model>& model, const RowMatrix& theta,
         const simulate::SimulatorOptions& options, long long n_threads) {
        const int threads = check_threads(n_threads);
        simulate::BatchResult r;
        {
          py::gil_scoped_release release;
          r = simulate::simulate_free(model.model, model.free, theta, options, threads);
        }
        return py::make_tuple(py::cast(std::move(r.u)), status_array(r.status));
      },
      py::arg("model"), py::arg("theta"), py::arg("options"), py::arg("n_threads") = 0);
  m.def(
      "sensitivities_batch",
      [](const Configured<Model>& model, const RowMatrix& theta,
         const simulate::SimulatorOptions& options, long long n_threads) {
        const int threads = check_threads(n_threads);
        const auto P = static_cast<py::ssize_t>(model.free.size());
        simulate::SensitivityResult r;
        {
          py::gil_scoped_release release;
          r = simulate::sensitivities_free(model.model, model.free, theta, options, threads);
        }
        return py::make_tuple(py::cast(std::move(r.u)), as_3d(r.J, r.J.cols() / P, P),
                              status_array(r.status));
      },
      py::arg("model"), py::arg("theta"), py::arg("options"), py::arg("n_threads") = 0);
  m.def(
      "laplace_batch",
      [](const Configured<Model>& model, const RowMatrix& theta,
         const simulate::SimulatorOptions& options, const Eigen::VectorXd& s,
         const Eigen::VectorXd& rho, const Eigen::MatrixXd& prior_precision, long long n_threads) {
        const int threads = check_threads(n_threads);
        const auto P = static_cast<py::ssize_t>(model.free.size());
        uncertainty::LaplaceResult r;
        {
          py::gil_scoped_release release;
          r = uncertainty::laplace_free(model.model, model.free, theta, options, s, rho,
                                        prior_precision, threads);
        }
        return py::make_tuple(as_3d(r.cov, P, P), as_3d(r.information, P, P),
                              status_array(r.status));
      },
      py::arg("model"), py::arg("theta"), py::arg("options"), py::arg("s"), py::arg("rho"),
      py::arg("prior_precision"), py::arg("n_threads") = 0);
}

}  // namespace fhn_inverse::bindings
