// Bindings for Fourier features. Arrays: x (N, L) float64 C order; output (N, L) or (N, L/2+1).
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "fhn_inverse/features/fourier.hpp"

namespace py = pybind11;
using namespace fhn_inverse::features;

void bind_features(py::module_& m) {
  py::enum_<Norm>(m, "Norm")
      .value("backward", Norm::backward)
      .value("ortho", Norm::ortho)
      .value("forward", Norm::forward);
  py::enum_<Representation>(m, "Representation")
      .value("packed", Representation::packed)
      .value("magnitude", Representation::magnitude);
  m.def("fourier_features", &fourier_features, py::arg("x"),
        py::arg("representation") = Representation::packed, py::arg("norm") = Norm::ortho,
        py::arg("n_threads") = 0, py::call_guard<py::gil_scoped_release>());
}
