// A damped harmonic oscillator, x'' + 2ζω x' + ω² x = 0: the least a model of the list needs, kept
// as the example of adding one (docs/architecture.md) and checked end to end against its closed
// form by tests/python/test_models.py. State (x, y = x'), free θ = (ω, ζ); its constant is the
// starting amplitude, so that x(0) = amplitude, y(0) = 0 by default.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace fhn_inverse::models {

struct DampedOscillator {
  static constexpr const char* name = "DampedOscillator";
  static constexpr const char* summary =
      "A damped harmonic oscillator, x'' + 2ζω x' + ω² x = 0, observed in x: the least a model "
      "needs; θ = (ω, ζ) free by default.";
  static constexpr std::size_t state_size = 2;  // (x, y = dx/dt)
  static constexpr std::size_t param_size = 2;  // θ = (ω, ζ)
  static constexpr std::array<const char*, param_size> param_names{"omega", "zeta_damping"};
  static constexpr std::array<const char*, param_size> param_units{"1/time", "dimensionless"};
  static constexpr std::array<const char*, 1> constant_names{"amplitude"};
  static constexpr std::array<const char*, 1> constant_units{"dimensionless"};
  static constexpr std::array<const char*, state_size> state_names{"x", "y"};
  static constexpr std::array<const char*, state_size> state_units{"dimensionless", "1/time"};
  static constexpr std::array<double, param_size> prior_lower{0.5, 0.05};
  static constexpr std::array<double, param_size> prior_upper{2.0, 0.5};
  static constexpr const char* time_unit =
      "dimensionless (model time)";  // of t, the grid and the rates
  static constexpr double grid_step = 0.1;
  static constexpr std::size_t grid_points = 200;
  using State = std::array<double, state_size>;

  DampedOscillator() = default;
  DampedOscillator(const std::array<double, 1>& constants, State initial)
      : amplitude_(constants[0]), initial_(initial) {
    if (!std::isfinite(amplitude_))
      throw std::invalid_argument("amplitude must be finite, got " + std::to_string(amplitude_));
    for (double x : initial)
      if (!std::isfinite(x))
        throw std::invalid_argument("initial state must be finite, got " + std::to_string(x));
  }
  std::array<double, 1> constant_values() const { return {amplitude_}; }
  static State default_initial(const std::array<double, 1>& constants) {
    return {constants[0], 0.0};
  }
  const State& initial() const { return initial_; }

  void rhs(const State& x, State& dxdt, const double* theta) const {
    dxdt[0] = x[1];
    dxdt[1] = -2.0 * theta[1] * theta[0] * x[1] - theta[0] * theta[0] * x[0];
  }

  template <class V>
  void rhs_lanes(const V* x, V* dxdt, const V* theta) const {
    dxdt[0] = x[1];
    dxdt[1] = -2.0 * theta[1] * theta[0] * x[1] - theta[0] * theta[0] * x[0];
  }

  void jacobians(const State& x, const double* theta, double* J_f_x, double* J_f_theta) const {
    J_f_x[0] = 0.0;
    J_f_x[1] = 1.0;
    J_f_x[2] = -theta[0] * theta[0];
    J_f_x[3] = -2.0 * theta[1] * theta[0];
    J_f_theta[0] = 0.0;
    J_f_theta[1] = 0.0;
    J_f_theta[2] = -2.0 * theta[1] * x[1] - 2.0 * theta[0] * x[0];  // ∂f_y/∂ω
    J_f_theta[3] = -2.0 * theta[0] * x[1];                          // ∂f_y/∂ζ
  }

  static double observe(const State& x) { return x[0]; }
  static constexpr std::size_t observed_component = 0;

 private:
  double amplitude_ = 1.0;
  State initial_{1.0, 0.0};
};

}  // namespace fhn_inverse::models
