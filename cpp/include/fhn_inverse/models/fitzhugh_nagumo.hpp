// FitzHugh–Nagumo neuron model (spec/paper.md, Rudi et al. 2021, eq. 1):
//   du/dt = γ (u − u³/3 + v + ζ)
//   dv/dt = −(1/γ) (u − θ0 + θ1 v)
// A model is a small struct: state size, parameter names, initial state, right-hand side, its
// Jacobians (for forward sensitivities) and the observed component. The simulator is templated
// on it and knows nothing else about it.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace fhn_inverse::models {

struct FitzHughNagumo {
  static constexpr const char* name = "FitzHughNagumo";
  static constexpr const char* summary =
      "The FitzHugh–Nagumo neuron model, du/dt = γ (u − u³/3 + v + ζ), dv/dt = −(u − θ0 + θ1 v)/γ; "
      "the study's model, with θ = (θ0, θ1) free and γ = 3, ζ = −0.4 by default.";
  static constexpr std::size_t state_size = 2;  // (u, v)
  static constexpr std::size_t param_size = 2;  // θ = (θ0, θ1)
  static constexpr std::array<const char*, param_size> param_names{"theta0", "theta1"};
  // The study writes the model nondimensionally (spec/paper.md).
  static constexpr std::array<const char*, param_size> param_units{"dimensionless",
                                                                   "dimensionless"};
  using State = std::array<double, state_size>;
  // The constants a model is made of (besides its initial state), by name, for the bindings.
  static constexpr std::array<const char*, 2> constant_names{"gamma", "zeta"};
  static constexpr std::array<const char*, 2> constant_units{"dimensionless", "dimensionless"};
  static constexpr std::array<const char*, state_size> state_names{"u", "v"};
  static constexpr std::array<const char*, state_size> state_units{"dimensionless",
                                                                   "dimensionless"};
  // Default prior ranges of the constants and the initial state when they are free (free sets,
  // simulate/free_set.hpp): γ and ζ around the study's 3 and −0.4 (γ > 0 keeps the time-scale
  // separation's sign), the initial state within the cubic nullcline's range.
  static constexpr std::array<double, 2> constant_lower{1.0, -0.8};
  static constexpr std::array<double, 2> constant_upper{5.0, 0.0};
  static constexpr std::array<double, state_size> state_lower{-2.0, -1.0};
  static constexpr std::array<double, state_size> state_upper{2.0, 1.0};
  // The default prior's box of θ (the study's truncated Gaussian lives in Python) and the default
  // observation grid: grid_points times, grid_step apart, from 0.
  static constexpr std::array<double, param_size> prior_lower{-0.2, -0.4};
  static constexpr std::array<double, param_size> prior_upper{1.0, 1.2};
  static constexpr const char* time_unit =
      "dimensionless (model time)";  // of t, the grid and the rates
  static constexpr double grid_step = 0.2;
  static constexpr std::size_t grid_points = 1000;

  FitzHughNagumo() = default;
  FitzHughNagumo(const std::array<double, 2>& constants, State initial)
      : FitzHughNagumo(constants[0], constants[1], initial) {}
  std::array<double, 2> constant_values() const { return {gamma_, zeta_}; }
  static State default_initial(const std::array<double, 2>&) { return {0.0, 0.0}; }
  // gamma > 0 (damping γ), zeta (stimulus ζ), initial = (u(t0), v(t0)); all finite.
  FitzHughNagumo(double gamma, double zeta, State initial)
      : gamma_(gamma), zeta_(zeta), inv_gamma_(1.0 / gamma), initial_(initial) {
    if (!(gamma > 0.0) || !std::isfinite(gamma))
      throw std::invalid_argument("gamma must be finite and > 0, got " + std::to_string(gamma));
    if (!std::isfinite(zeta))
      throw std::invalid_argument("zeta must be finite, got " + std::to_string(zeta));
    for (double x : initial)
      if (!std::isfinite(x))
        throw std::invalid_argument("initial state must be finite, got " + std::to_string(x));
  }

  double gamma() const { return gamma_; }
  double zeta() const { return zeta_; }
  const State& initial() const { return initial_; }

  // dx/dt at state x for parameters theta[0..param_size).
  void rhs(const State& x, State& dxdt, const double* theta) const {
    const double u = x[0], v = x[1];
    constexpr double third = 1.0 / 3.0;
    dxdt[0] = gamma_ * (u - third * (u * u * u) + v + zeta_);
    dxdt[1] = (theta[0] - u - theta[1] * v) * inv_gamma_;
  }

  // The same right-hand side on vectors of lanes, one trajectory per lane (simulate/lanes.hpp).
  template <class V>
  void rhs_lanes(const V* x, V* dxdt, const V* theta) const {
    const V u = x[0], v = x[1];
    constexpr double third = 1.0 / 3.0;
    dxdt[0] = gamma_ * (u - third * (u * u * u) + v + zeta_);
    dxdt[1] = (theta[0] - u - theta[1] * v) * inv_gamma_;
  }

  // Jacobians of the right-hand side at (x, θ), row-major: J_f_x (S × S) = ∂f/∂x and
  // J_f_theta (S × P) = ∂f/∂θ. Forward sensitivities integrate d(∂x/∂θ)/dt = J_f_x ∂x/∂θ +
  // J_f_theta.
  void jacobians(const State& x, const double* theta, double* J_f_x, double* J_f_theta) const {
    const double u = x[0], v = x[1];
    J_f_x[0] = gamma_ * (1.0 - u * u);  // ∂f_u/∂u
    J_f_x[1] = gamma_;                  // ∂f_u/∂v
    J_f_x[2] = -inv_gamma_;             // ∂f_v/∂u
    J_f_x[3] = -theta[1] * inv_gamma_;  // ∂f_v/∂v
    J_f_theta[0] = 0.0;                 // f_u does not depend on θ
    J_f_theta[1] = 0.0;
    J_f_theta[2] = inv_gamma_;       // ∂f_v/∂θ0
    J_f_theta[3] = -v * inv_gamma_;  // ∂f_v/∂θ1
  }

  // ∂f/∂(γ, ζ) at (x, θ), row-major S × C: for sensitivities to free constants.
  void constant_jacobian(const State& x, const double* theta, double* J_f_c) const {
    const double u = x[0], v = x[1];
    J_f_c[0] = u - u * u * u / 3.0 + v + zeta_;                           // ∂f_u/∂γ
    J_f_c[1] = gamma_;                                                    // ∂f_u/∂ζ
    J_f_c[2] = -(theta[0] - u - theta[1] * v) * inv_gamma_ * inv_gamma_;  // ∂f_v/∂γ
    J_f_c[3] = 0.0;                                                       // ∂f_v/∂ζ
  }

  static double observe(const State& x) { return x[0]; }  // the membrane potential u
  static constexpr std::size_t observed_component = 0;    // observe(x) = x[observed_component]

 private:
  double gamma_ = 3.0;
  double zeta_ = -0.4;
  double inv_gamma_ = 1.0 / 3.0;  // multiplying beats dividing in the hot right-hand side
  State initial_{0.0, 0.0};
};

}  // namespace fhn_inverse::models
