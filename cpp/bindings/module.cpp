// The private extension module fhn_inverse._core; the package re-exports its public parts.
// Each area binds itself in bind_<area>.cpp: conversions and GIL handling only, no numerics.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_models(py::module_& m);
void bind_simulate(py::module_& m);
void bind_features(py::module_& m);
void bind_nn(py::module_& m);
void bind_runtime(py::module_& m);
void bind_uncertainty(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "Native core of fhn_inverse: ODE simulation, noise, features, neural networks.";
  // the package's version as the extension was built (fhn_inverse checks it equals its own)
  m.attr("__version__") = FHN_INVERSE_VERSION;
  bind_models(m);
  bind_simulate(m);
  bind_features(m);
  bind_nn(m);
  bind_runtime(m);
  bind_uncertainty(m);
}
