// Bindings for forward sensitivities, AR(1) whitening and Laplace covariances.
// Arrays at this boundary: float64, C order; theta (N, P), u (N, L), J (N, L, P), x (N, L),
// s/rho (N), prior_precision (P, P), information/cov (N, P, P), status (N) int8.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "fhn_inverse/util/parallel.hpp"
#include "fhn_inverse/simulate/sensitivities.hpp"
#include "fhn_inverse/uncertainty/laplace.hpp"
#include "configured_model.hpp"

namespace py = pybind11;
using namespace fhn_inverse;
using simulate::RowMatrix;

namespace {

py::array_t<std::int8_t> status_array(const std::vector<std::int8_t>& status) {
  py::array_t<std::int8_t> out(static_cast<py::ssize_t>(status.size()));
  std::copy(status.begin(), status.end(), out.mutable_data());
  return out;
}

// (N, K·P) row-major → a NumPy (N, K, P) array owning a copy.
py::array_t<double> as_3d(const RowMatrix& m, py::ssize_t k, py::ssize_t p) {
  py::array_t<double> out({static_cast<py::ssize_t>(m.rows()), k, p});
  std::copy(m.data(), m.data() + m.size(), out.mutable_data());
  return out;
}

// sensitivities_batch and laplace_batch for one model of models/list.hpp (pybind11 overloads on
// the model's type), in the model's free quantities (P of them below).
template <class Model>
void bind_model_uncertainty(py::module_& m) {
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

}  // namespace

void bind_uncertainty(py::module_& m) {
  models::for_each(models::All{}, [&](auto* model) {
    bind_model_uncertainty<std::remove_pointer_t<decltype(model)>>(m);
  });
  m.def(
      "ar1_whiten",
      [](const RowMatrix& x, const Eigen::VectorXd& rho, long long n_threads) {
        const int threads = check_threads(n_threads);
        py::gil_scoped_release release;
        return uncertainty::ar1_whiten_rows(x, rho, threads);
      },
      py::arg("x"), py::arg("rho"), py::arg("n_threads") = 0);
}
