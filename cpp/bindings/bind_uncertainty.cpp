// Bindings for AR(1) whitening (the per-model sensitivities and Laplace covariances are bound by
// model_bindings.hpp). Arrays: x (N, L), rho (N) float64.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "fhn_inverse/uncertainty/laplace.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace py = pybind11;
using namespace fhn_inverse;
using simulate::RowMatrix;

void bind_uncertainty(py::module_& m) {
  m.def(
      "ar1_whiten",
      [](const RowMatrix& x, const Eigen::VectorXd& rho, long long n_threads) {
        const int threads = check_threads(n_threads);
        py::gil_scoped_release release;
        return uncertainty::ar1_whiten_rows(x, rho, threads);
      },
      py::arg("x"), py::arg("rho"), py::arg("n_threads") = 0);
}
