// Forward sensitivities of the observed component: J_{k,i} = ∂u(t_k)/∂θ_i, from the augmented
// system (state x and S_i = ∂x/∂θ_i, all S_i(t0) = 0 since the initial state does not depend on θ):
//   x' = f(x, θ),   S_i' = J_f_x(x, θ) S_i + J_f_theta(x, θ)_{:, i}
// integrated with the simulator's stepper on the observation grid (spec/paper.md, "Local
// Gaussians"). Error control covers the sensitivities too, so J is as accurate as the tolerances.
// Shapes: theta (N, P) row-major; u (N, L); J (N, L·P) row-major, i.e. (N, L, P); status (N).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "fhn_inverse/models/list.hpp"
#include "fhn_inverse/simulate/simulator.hpp"

namespace fhn_inverse::simulate {

// The augmented right-hand side for a model; state layout (x, S_0, …, S_{P−1}), each of size S.
template <class Model>
struct SensitivitySystem {
  static constexpr std::size_t S = Model::state_size, P = Model::param_size;
  static constexpr std::size_t size = S * (1 + P);
  using State = std::array<double, size>;

  const Model& model;
  const double* theta;

  void operator()(const State& y, State& dydt, double /*t*/) const {
    typename Model::State x, fx;
    for (std::size_t a = 0; a < S; ++a) x[a] = y[a];
    model.rhs(x, fx, theta);
    double J_f_x[S * S], J_f_theta[S * P];
    model.jacobians(x, theta, J_f_x, J_f_theta);
    for (std::size_t a = 0; a < S; ++a) dydt[a] = fx[a];
    for (std::size_t i = 0; i < P; ++i) {
      const double* s = &y[S * (1 + i)];
      for (std::size_t a = 0; a < S; ++a) {
        double d = J_f_theta[a * P + i];
        for (std::size_t b = 0; b < S; ++b) d += J_f_x[a * S + b] * s[b];
        dydt[S * (1 + i) + a] = d;
      }
    }
  }

  State initial() const {
    State y{};
    for (std::size_t a = 0; a < S; ++a) y[a] = model.initial()[a];
    return y;
  }
};

struct SensitivityResult {
  RowMatrix u;  // (N, L) observed component; NaN rows where status != ok
  RowMatrix J;  // (N, L·P): ∂u(t_k)/∂θ_i at column k·P + i; NaN where failed
  std::vector<std::int8_t> status;  // (N) Status per sample
};

// One trajectory with its sensitivities: u_out (L), J_out (L·P). Never throws for numerical
// failure.
// Templates on the model (any with jacobians()), instantiated for every model of models/list.hpp.
template <class Model>
Status sensitivities_one(const Model& model, const double* theta, const SimulatorOptions& options,
                         double* u_out, double* J_out);

// All samples of theta (N, P) on n_threads threads (0 = all cores). Thread-count independent.
template <class Model>
SensitivityResult sensitivities_batch(const Model& model, const RowMatrix& theta,
                                      const SimulatorOptions& options, int n_threads = 0);

}  // namespace fhn_inverse::simulate
