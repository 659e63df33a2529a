// The simulator's definitions (simulator.hpp), generic in the model; simulator.cpp instantiates
// them for the package's models.
#pragma once

#include <algorithm>
#include <limits>

#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/simulate/lanes.hpp"
#include "fhn_inverse/simulate/observation.hpp"
#include "fhn_inverse/simulate/simulator.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::simulate {

namespace detail {

// One trajectory; with a poll, integrate_on_grid also asks it every kPollSteps accepted steps and
// stops early once it says so: the batch then throws Interrupted and discards this row.
template <class Model>
Status integrate(const Model& model, const double* theta, const SimulatorOptions& options,
                 double* u_out, InterruptPoll* poll) {
  using State = typename Model::State;
  constexpr std::size_t K = observed_count<Model>();
  const std::size_t L = options.t_obs.size();
  auto system = [&](const State& x, State& dxdt, double /*t*/) { model.rhs(x, dxdt, theta); };
  const Status status = integrate_on_grid<State>(
      system, model.initial(), options, Model::state_size,
      [&](std::size_t k, const State& x) {
        if constexpr (K == 1)
          u_out[k] = Model::observe(x);
        else
          for (std::size_t c = 0; c < K; ++c) u_out[c * L + k] = Model::observe_channel(x, c);
      },
      poll);
  if (status != Status::ok)
    std::fill(u_out, u_out + K * L, std::numeric_limits<double>::quiet_NaN());
  return status;
}

}  // namespace detail

template <class Model>
Status simulate_one(const Model& model, const double* theta, const SimulatorOptions& options,
                    double* u_out, InterruptPoll* poll) {
  return detail::integrate(model, theta, options, u_out, poll);
}

template <class Model>
BatchResult simulate_batch(const Model& model, const RowMatrix& theta,
                           const SimulatorOptions& options, int n_threads) {
  options.validate();
  validate_theta(theta, Model::param_size);
  const Eigen::Index N = theta.rows();
  const int threads = team_size(resolve_threads(n_threads), N);
  BatchResult result{
      RowMatrix(N, static_cast<Eigen::Index>(observed_count<Model>() * options.t_obs.size())),
      std::vector<std::int8_t>(static_cast<std::size_t>(N))};
  InterruptPoll poll;
  if constexpr (has_lanes<Model>) {
    if (options.method == Method::rkf78_simd) {
      // ranges of samples per task, each run through the lanes; a sample's result does not
      // depend on its range, so the range size is free
      const long block = std::clamp<long>(static_cast<long>(N) / (8L * threads), 4L * kLanes, 512L);
      const long blocks = (static_cast<long>(N) + block - 1) / block;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
      for (long b = 0; b < blocks; ++b) {
        if (poll.stop()) continue;
        integrate_lanes(model, theta.data(), b * block, std::min<long>(N, (b + 1) * block), options,
                        result.u.data(), result.status.data(), &poll);
      }
      poll.check();
      return result;
    }
  }
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
  for (Eigen::Index i = 0; i < N; ++i) {
    if (poll.stop()) continue;
    result.status[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(
        detail::integrate(model, theta.row(i).data(), options, result.u.row(i).data(), &poll));
  }
  poll.check();
  return result;
}

}  // namespace fhn_inverse::simulate
