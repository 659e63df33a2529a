// The sensitivity templates (sensitivities.hpp), generic in the model: sensitivities.cpp
// instantiates them for the package's models; a model compiled elsewhere includes this header.
#pragma once

#include <algorithm>
#include <limits>

#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/simulate/observation.hpp"
#include "fhn_inverse/simulate/sensitivities.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::simulate {

namespace sensitivity_detail {

template <class Model>
Status integrate(const Model& model, const double* theta, const SimulatorOptions& options,
                 double* u_out, double* J_out, InterruptPoll* poll) {
  using System = SensitivitySystem<Model>;
  constexpr std::size_t S = System::S, P = System::P, K = observed_count<Model>();
  const std::size_t L = options.t_obs.size();
  const System system{model, theta};
  const Status status = integrate_on_grid<typename System::State>(
      system, system.initial(), options, S,
      [&](std::size_t k, const typename System::State& y) {
        for (std::size_t c = 0; c < K; ++c) {
          u_out[c * L + k] = observed_value<Model>(y, c);
          for (std::size_t i = 0; i < P; ++i)
            J_out[(c * L + k) * P + i] = observed_sensitivity<Model>(y, i, c);
        }
      },
      poll);
  if (status != Status::ok) {
    std::fill(u_out, u_out + K * L, std::numeric_limits<double>::quiet_NaN());
    std::fill(J_out, J_out + K * L * P, std::numeric_limits<double>::quiet_NaN());
  }
  return status;
}

}  // namespace sensitivity_detail

template <class Model>
Status sensitivities_one(const Model& model, const double* theta, const SimulatorOptions& options,
                         double* u_out, double* J_out) {
  return sensitivity_detail::integrate(model, theta, options, u_out, J_out, nullptr);
}

template <class Model>
SensitivityResult sensitivities_batch(const Model& model, const RowMatrix& theta,
                                      const SimulatorOptions& options, int n_threads) {
  options.validate();
  validate_theta(theta, Model::param_size);
  const Eigen::Index N = theta.rows();
  const int threads = team_size(resolve_threads(n_threads), N);
  const auto L = static_cast<Eigen::Index>(observed_count<Model>() * options.t_obs.size());
  SensitivityResult r{RowMatrix(N, L),
                      RowMatrix(N, L * static_cast<Eigen::Index>(Model::param_size)),
                      std::vector<std::int8_t>(static_cast<std::size_t>(N))};
  InterruptPoll poll;
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
  for (Eigen::Index i = 0; i < N; ++i) {
    if (poll.stop()) continue;
    r.status[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(sensitivity_detail::integrate(
        model, theta.row(i).data(), options, r.u.row(i).data(), r.J.row(i).data(), &poll));
  }
  poll.check();
  return r;
}

}  // namespace fhn_inverse::simulate
