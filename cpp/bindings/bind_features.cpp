// Bindings for Fourier features. Arrays: x (N, L) float64 C order; output (N, L) or (N, L/2+1).
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "fhn_inverse/features/fourier.hpp"
#include "fhn_inverse/util/parallel.hpp"

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
  m.def(
      "fourier_features",
      [](const RowMatrixRef& x, Representation representation, Norm norm, long long n_threads) {
        const int threads = fhn_inverse::check_threads(n_threads);
        py::gil_scoped_release release;
        return fourier_features(x, representation, norm, threads);
      },
      py::arg("x"), py::arg("representation") = Representation::packed,
      py::arg("norm") = Norm::ortho, py::arg("n_threads") = 0);
}
