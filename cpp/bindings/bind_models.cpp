// Bindings for the ODE models: one class per model of models/list.hpp, all bound by one template
// from what every model header declares (its name, constants, parameters, units, default prior box
// and grid, initial state, right-hand side and Jacobians). Arrays: state (S,), theta (P,) float64.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "fhn_inverse/models/list.hpp"

namespace py = pybind11;
namespace models = fhn_inverse::models;

namespace {

template <std::size_t N>
std::vector<std::string> names(const std::array<const char*, N>& a) {
  return std::vector<std::string>(a.begin(), a.end());
}

template <std::size_t N>
std::vector<double> values(const std::array<double, N>& a) {
  return std::vector<double>(a.begin(), a.end());
}

// Model(constant=value, ..., initial=None): constants by keyword (or position, in
// constant_names' order), each defaulting to the default model's; initial None: the model's
// default initial state for those constants.
template <class Model>
Model make_model(const py::args& args, const py::kwargs& kwargs) {
  constexpr std::size_t C = Model::constant_names.size();
  std::array<double, C> c = Model{}.constant_values();
  py::object initial = py::none();
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
    if (key == "initial") {
      initial = py::reinterpret_borrow<py::object>(item.second);
      continue;
    }
    std::size_t i = 0;
    while (i < C && key != Model::constant_names[i]) ++i;
    if (i == C) {
      std::string known;
      for (const char* n : Model::constant_names)
        known += std::string(known.empty() ? "" : ", ") + n;
      throw py::type_error(std::string(Model::name) + " got an unknown constant '" + key +
                           "'; its constants are " + known + " and initial");
    }
    c[i] = item.second.cast<double>();
  }
  const auto x0 =
      initial.is_none() ? Model::default_initial(c) : initial.cast<typename Model::State>();
  return Model(c, x0);
}

template <class Model>
void bind_model(py::module_& m) {
  constexpr std::size_t C = Model::constant_names.size();
  py::class_<Model> cls(m, Model::name);
  cls.def(py::init(&make_model<Model>))
      .def_property_readonly_static("param_names",
                                    [](py::object) { return names(Model::param_names); })
      .def_property_readonly_static("param_units",
                                    [](py::object) { return names(Model::param_units); })
      .def_property_readonly_static("constant_names",
                                    [](py::object) { return names(Model::constant_names); })
      .def_property_readonly_static("prior_lower",
                                    [](py::object) { return values(Model::prior_lower); })
      .def_property_readonly_static("prior_upper",
                                    [](py::object) { return values(Model::prior_upper); })
      .def_property_readonly_static("grid_step", [](py::object) { return Model::grid_step; })
      .def_property_readonly_static("grid_points", [](py::object) { return Model::grid_points; })
      .def_property_readonly("initial", &Model::initial)
      .def_property_readonly("constants",
                             [](const Model& model) {
                               py::dict out;
                               const auto v = model.constant_values();
                               for (std::size_t i = 0; i < C; ++i)
                                 out[Model::constant_names[i]] = v[i];
                               return out;
                             })
      .def(
          "rhs",
          [](const Model& model, typename Model::State x,
             std::array<double, Model::param_size> theta) {
            typename Model::State dxdt;
            model.rhs(x, dxdt, theta.data());
            return dxdt;
          },
          py::arg("state"), py::arg("theta"))
      .def(
          "jacobians",
          [](const Model& model, typename Model::State x,
             std::array<double, Model::param_size> theta) {
            std::array<double, Model::state_size * Model::state_size> jx;
            std::array<double, Model::state_size * Model::param_size> jt;
            model.jacobians(x, theta.data(), jx.data(), jt.data());
            return py::make_tuple(jx, jt);
          },
          py::arg("state"), py::arg("theta"),
          "(∂f/∂x row-major (S·S,), ∂f/∂θ row-major (S·P,)) at the state and θ.")
      .def(py::pickle(  // (constants, initial): all a model is
          [](const Model& model) {
            return py::make_tuple(model.constant_values(), model.initial());
          },
          [](const py::tuple& state) {
            if (state.size() == C + 1) {  // (constant, ..., initial): pickles of earlier versions
              std::array<double, C> c;
              for (std::size_t i = 0; i < C; ++i) c[i] = state[i].cast<double>();
              return Model(c, state[C].cast<typename Model::State>());
            }
            if (state.size() != 2)
              throw std::runtime_error(std::string(Model::name) +
                                       " state must be (constants, initial)");
            return Model(state[0].cast<std::array<double, C>>(),
                         state[1].cast<typename Model::State>());
          }))
      .def("__repr__", [](const Model& model) {
        std::string out = std::string(Model::name) + "(";
        const auto v = model.constant_values();
        for (std::size_t i = 0; i < C; ++i)
          out += std::string(Model::constant_names[i]) + "=" +
                 py::repr(py::float_(v[i])).cast<std::string>() + ", ";
        out += "initial=(";
        const auto& x0 = model.initial();
        for (std::size_t i = 0; i < x0.size(); ++i)
          out += (i ? ", " : "") + py::repr(py::float_(x0[i])).cast<std::string>();
        return out + "))";
      });
  for (std::size_t i = 0; i < C; ++i)  // each constant as a read-only attribute
    cls.def_property_readonly(Model::constant_names[i],
                              [i](const Model& model) { return model.constant_values()[i]; });
}

}  // namespace

void bind_models(py::module_& m) {
  py::list model_names;
  models::for_each(models::All{}, [&](auto* tag) {
    using Model = std::remove_pointer_t<decltype(tag)>;
    bind_model<Model>(m);
    model_names.append(Model::name);
  });
  m.attr("MODEL_NAMES") = model_names;
}
