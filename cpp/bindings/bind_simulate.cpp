// Bindings for priors, simulator options, noise and spike statistics (batch simulation per model:
// model_bindings.hpp).
// Arrays at this boundary: float64, C order; theta (N, P), u (N, L), t (L), sigma/rho (N).
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "fhn_inverse/simulate/noise.hpp"
#include "fhn_inverse/util/parallel.hpp"
#include "fhn_inverse/simulate/prior.hpp"
#include "fhn_inverse/simulate/lanes.hpp"
#include "fhn_inverse/simulate/simulator.hpp"
#include "fhn_inverse/simulate/spikes.hpp"

namespace py = pybind11;
using namespace fhn_inverse;
using namespace fhn_inverse::simulate;

namespace {

// Random streams and simulator options.
void bind_simulator(py::module_& m) {
  py::enum_<Stream>(m, "Stream")
      .value("prior", Stream::prior)
      .value("noise_parameters", Stream::noise_parameters)
      .value("noise", Stream::noise)
      .value("shuffle", Stream::shuffle)
      .value("init", Stream::init)
      .value("dropout", Stream::dropout);

  py::class_<SimulatorOptions>(m, "SimulatorOptions")
      .def(py::init([](std::vector<double> t_obs, double t0, double rtol, double atol, double dt0,
                       long max_steps, double max_abs_state, const std::string& method) {
             SimulatorOptions o{std::move(t_obs),    t0, rtol, atol, dt0, max_steps, max_abs_state,
                                parse_method(method)};
             o.validate();
             return o;
           }),
           py::arg("t_obs"), py::arg("t0") = 0.0, py::arg("rtol") = 1e-9, py::arg("atol") = 1e-9,
           py::arg("dt0") = 1e-2, py::arg("max_steps") = 1000000, py::arg("max_abs_state") = 1e6,
           py::arg("method") = "rkf78")
      .def_readonly("t_obs", &SimulatorOptions::t_obs)
      .def_readonly("t0", &SimulatorOptions::t0)
      .def_readonly("rtol", &SimulatorOptions::rtol)
      .def_readonly("atol", &SimulatorOptions::atol)
      .def_readonly("dt0", &SimulatorOptions::dt0)
      .def_readonly("max_steps", &SimulatorOptions::max_steps)
      .def_readonly("max_abs_state", &SimulatorOptions::max_abs_state)
      .def_property_readonly("method",
                             [](const SimulatorOptions& o) { return method_name(o.method); })
      .def_static("default_grid", &SimulatorOptions::default_grid)
      .def_property_readonly_static(
          "lanes", [](py::object) { return kLanes; },
          "Trajectories per SIMD vector of method 'rkf78-simd' in this build.");
}

// Priors, AR(1) noise and spike statistics.
void bind_priors_noise_spikes(py::module_& m) {
  py::class_<GaussianPrior>(m, "GaussianPrior")
      .def(py::init<Eigen::VectorXd, Eigen::MatrixXd, Eigen::VectorXd, Eigen::VectorXd, long>(),
           py::arg("mean"), py::arg("covariance"), py::arg("lower") = Eigen::VectorXd(),
           py::arg("upper") = Eigen::VectorXd(), py::arg("max_tries") = 100000)
      .def("sample", &GaussianPrior::sample, py::arg("n"), py::arg("seed"),
           py::arg("first_index") = 0, py::arg("stream") = Stream::prior,
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("mean", &GaussianPrior::mean)
      .def_property_readonly("covariance", &GaussianPrior::covariance)
      .def_property_readonly("lower", &GaussianPrior::lower)
      .def_property_readonly("upper", &GaussianPrior::upper);

  py::class_<UniformPrior>(m, "UniformPrior")
      .def(py::init<Eigen::VectorXd, Eigen::VectorXd>(), py::arg("lower"), py::arg("upper"))
      .def("sample", &UniformPrior::sample, py::arg("n"), py::arg("seed"),
           py::arg("first_index") = 0, py::arg("stream") = Stream::prior,
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("lower", &UniformPrior::lower)
      .def_property_readonly("upper", &UniformPrior::upper);

  py::class_<IndependentPrior>(m, "IndependentPrior")
      .def(py::init([](const std::vector<int>& kind, Eigen::VectorXd a, Eigen::VectorXd b,
                       Eigen::VectorXd lower, Eigen::VectorXd upper, long max_tries) {
             std::vector<IndependentPrior::Kind> k;
             for (int v : kind) {
               if (v < 0 || v > 2)
                 throw py::value_error(
                     "kind must be 0 (uniform), 1 (normal) or 2 (log-normal), got " +
                     std::to_string(v));
               k.push_back(static_cast<IndependentPrior::Kind>(v));
             }
             return IndependentPrior(k, std::move(a), std::move(b), std::move(lower),
                                     std::move(upper), max_tries);
           }),
           py::arg("kind"), py::arg("a"), py::arg("b"), py::arg("lower"), py::arg("upper"),
           py::arg("max_tries") = 100000)
      .def("sample", &IndependentPrior::sample, py::arg("n"), py::arg("seed"),
           py::arg("first_index") = 0, py::arg("stream") = Stream::prior,
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("lower", &IndependentPrior::lower)
      .def_property_readonly("upper", &IndependentPrior::upper);

  m.def(
      "ar1_noise",
      [](const Eigen::VectorXd& sigma, const Eigen::VectorXd& rho, long length, std::uint64_t seed,
         std::uint64_t first_index, long long n_threads) {
        const int threads = check_threads(n_threads);
        py::gil_scoped_release release;
        return ar1_noise(sigma, rho, length, seed, first_index, threads);
      },
      py::arg("sigma"), py::arg("rho"), py::arg("length"), py::arg("seed"),
      py::arg("first_index") = 0, py::arg("n_threads") = 0);

  m.def(
      "spike_statistics",
      [](const RowMatrixRef& u, const std::vector<double>& t, double threshold, int min_points,
         double time_units_per_second, long long n_threads) {
        const int threads = check_threads(n_threads);
        SpikeStatistics s;
        {
          py::gil_scoped_release release;
          s = spike_statistics(u, t, threshold, min_points, time_units_per_second, threads);
        }
        return py::make_tuple(py::cast(std::move(s.count)), py::cast(std::move(s.rate)),
                              py::cast(std::move(s.duration)));
      },
      py::arg("u"), py::arg("t"), py::arg("threshold") = 0.5, py::arg("min_points") = 3,
      py::arg("time_units_per_second") = 1000.0, py::arg("n_threads") = 0);
}

}  // namespace

void bind_simulate(py::module_& m) {
  bind_simulator(m);
  bind_priors_noise_spikes(m);
}
