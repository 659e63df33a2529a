// Bindings for ODE models. Arrays: state (S,), theta (P,) float64.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "fhn_inverse/models/fitzhugh_nagumo.hpp"

namespace py = pybind11;
using fhn_inverse::models::FitzHughNagumo;

void bind_models(py::module_& m) {
  py::class_<FitzHughNagumo>(m, "FitzHughNagumo")
      .def(py::init<double, double, FitzHughNagumo::State>(), py::arg("gamma") = 3.0,
           py::arg("zeta") = -0.4, py::arg("initial") = FitzHughNagumo::State{0.0, 0.0})
      .def_property_readonly("gamma", &FitzHughNagumo::gamma)
      .def_property_readonly("zeta", &FitzHughNagumo::zeta)
      .def_property_readonly("initial", &FitzHughNagumo::initial)
      .def(py::pickle(  // (gamma, zeta, initial): all a model is
          [](const FitzHughNagumo& model) {
            return py::make_tuple(model.gamma(), model.zeta(), model.initial());
          },
          [](const py::tuple& state) {
            if (state.size() != 3)
              throw std::runtime_error("FitzHughNagumo state must be (gamma, zeta, initial)");
            return FitzHughNagumo(state[0].cast<double>(), state[1].cast<double>(),
                                  state[2].cast<FitzHughNagumo::State>());
          }))
      .def_property_readonly_static("param_names",
                                    [](py::object) {
                                      return std::vector<std::string>(
                                          FitzHughNagumo::param_names.begin(),
                                          FitzHughNagumo::param_names.end());
                                    })
      .def_property_readonly_static("param_units",
                                    [](py::object) {
                                      return std::vector<std::string>(
                                          FitzHughNagumo::param_units.begin(),
                                          FitzHughNagumo::param_units.end());
                                    })
      .def(
          "rhs",
          [](const FitzHughNagumo& model, FitzHughNagumo::State x,
             std::array<double, FitzHughNagumo::param_size> theta) {
            FitzHughNagumo::State dxdt;
            model.rhs(x, dxdt, theta.data());
            return dxdt;
          },
          py::arg("state"), py::arg("theta"))
      .def("__repr__", [](const FitzHughNagumo& model) {
        return "FitzHughNagumo(gamma=" + py::repr(py::float_(model.gamma())).cast<std::string>() +
               ", zeta=" + py::repr(py::float_(model.zeta())).cast<std::string>() + ", initial=(" +
               py::repr(py::float_(model.initial()[0])).cast<std::string>() + ", " +
               py::repr(py::float_(model.initial()[1])).cast<std::string>() + "))";
      });
}
