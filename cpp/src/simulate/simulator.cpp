// Runge–Kutta–Fehlberg 7(8) integration of one trajectory per sample; see simulator.hpp.
#include "fhn_inverse/simulate/simulator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/simulate/simulator_impl.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::simulate {

std::vector<double> SimulatorOptions::default_grid() {
  std::vector<double> t(1000);
  for (std::size_t k = 0; k < t.size(); ++k) t[k] = 0.2 * static_cast<double>(k);
  return t;
}

void SimulatorOptions::validate() const {
  if (t_obs.empty()) throw std::invalid_argument("t_obs must hold at least 1 time, got 0");
  for (std::size_t k = 0; k < t_obs.size(); ++k) {
    if (!std::isfinite(t_obs[k]))
      throw std::invalid_argument("t_obs[" + std::to_string(k) + "] must be finite, got " +
                                  std::to_string(t_obs[k]));
    if (k > 0 && !(t_obs[k] > t_obs[k - 1]))
      throw std::invalid_argument("t_obs must be strictly increasing, but t_obs[" +
                                  std::to_string(k) + "] = " + std::to_string(t_obs[k]) +
                                  " <= t_obs[" + std::to_string(k - 1) +
                                  "] = " + std::to_string(t_obs[k - 1]));
  }
  if (!std::isfinite(t0) || t_obs[0] < t0)
    throw std::invalid_argument("t0 must be finite and <= t_obs[0] = " + std::to_string(t_obs[0]) +
                                ", got " + std::to_string(t0));
  if (!(rtol > 0.0 && rtol < 1.0))
    throw std::invalid_argument("rtol must be in (0, 1), got " + std::to_string(rtol));
  if (!(atol > 0.0 && std::isfinite(atol)))
    throw std::invalid_argument("atol must be finite and > 0, got " + std::to_string(atol));
  if (!(dt0 > 0.0 && std::isfinite(dt0)))
    throw std::invalid_argument("dt0 must be finite and > 0, got " + std::to_string(dt0));
  if (max_steps < 1)
    throw std::invalid_argument("max_steps must be >= 1, got " + std::to_string(max_steps));
  if (!(max_abs_state > 0.0))
    throw std::invalid_argument("max_abs_state must be > 0, got " + std::to_string(max_abs_state));
}

Method parse_method(const std::string& name) {
  if (name == "rkf78") return Method::rkf78;
  if (name == "rkf78-simd") return Method::rkf78_simd;
  throw std::invalid_argument("method must be 'rkf78' or 'rkf78-simd', got '" + name + "'");
}

std::string method_name(Method method) {
  return method == Method::rkf78_simd ? "rkf78-simd" : "rkf78";
}

void validate_theta(const RowMatrix& theta, std::size_t param_size) {
  if (theta.rows() < 1) throw std::invalid_argument("theta must hold at least 1 sample, got 0");
  if (static_cast<std::size_t>(theta.cols()) != param_size)
    throw std::invalid_argument("theta must have " + std::to_string(param_size) + " columns, got " +
                                std::to_string(theta.cols()));
  for (Eigen::Index i = 0; i < theta.rows(); ++i)
    for (Eigen::Index j = 0; j < theta.cols(); ++j)
      if (!std::isfinite(theta(i, j)))
        throw std::invalid_argument("theta[" + std::to_string(i) + ", " + std::to_string(j) +
                                    "] must be finite, got " + std::to_string(theta(i, j)));
}

// Every model of models/list.hpp.
#define FHN_SIMULATOR_INSTANCES(M)                                                        \
  template Status simulate_one(const M&, const double*, const SimulatorOptions&, double*, \
                               InterruptPoll*);                                           \
  template BatchResult simulate_batch(const M&, const RowMatrix&, const SimulatorOptions&, int);
FHN_FOR_EACH_MODEL(FHN_SIMULATOR_INSTANCES)
#undef FHN_SIMULATOR_INSTANCES

}  // namespace fhn_inverse::simulate
