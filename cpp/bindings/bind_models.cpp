// Bindings for the ODE models: one class per model of models/list.hpp, all bound by one template
// from what every model header declares (its name, constants, parameters, units, default prior box
// and grid, initial state, right-hand side and Jacobians). Arrays: state (S,), theta (P,) float64.
#include <pybind11/pybind11.h>

#include <type_traits>

#include "fhn_inverse/models/list.hpp"
#include "model_bindings.hpp"

namespace py = pybind11;
namespace models = fhn_inverse::models;

void bind_models(py::module_& m) {
  py::list model_names;
  models::for_each(models::All{}, [&](auto* tag) {
    using Model = std::remove_pointer_t<decltype(tag)>;
    fhn_inverse::bindings::bind_model<Model>(m);
    fhn_inverse::bindings::bind_model_functions<Model>(m);
    model_names.append(Model::name);
  });
  m.attr("MODEL_NAMES") = model_names;
}
