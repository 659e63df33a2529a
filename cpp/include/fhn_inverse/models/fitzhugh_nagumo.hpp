// FitzHugh–Nagumo neuron model (spec/paper.md, Rudi et al. 2021, eq. 1):
//   du/dt = γ (u − u³/3 + v + ζ)
//   dv/dt = −(1/γ) (u − θ0 + θ1 v)
// A model is a small struct: state size, parameter names, initial state, right-hand side and
// the observed component. The simulator is templated on it and knows nothing else about it.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace fhn_inverse::models {

struct FitzHughNagumo {
  static constexpr std::size_t state_size = 2;   // (u, v)
  static constexpr std::size_t param_size = 2;   // θ = (θ0, θ1)
  static constexpr std::array<const char*, param_size> param_names{"theta0", "theta1"};
  using State = std::array<double, state_size>;

  double gamma = 3.0;   // damping γ (> 0)
  double zeta = -0.4;   // stimulus ζ
  State initial{0.0, 0.0};  // (u(t0), v(t0))

  FitzHughNagumo() = default;
  FitzHughNagumo(double gamma_, double zeta_, State initial_)
      : gamma(gamma_), zeta(zeta_), initial(initial_) {
    if (!(gamma > 0.0) || !std::isfinite(gamma))
      throw std::invalid_argument("gamma must be finite and > 0, got " + std::to_string(gamma));
    if (!std::isfinite(zeta))
      throw std::invalid_argument("zeta must be finite, got " + std::to_string(zeta));
    for (double x : initial)
      if (!std::isfinite(x))
        throw std::invalid_argument("initial state must be finite, got " + std::to_string(x));
  }

  // dx/dt at state x for parameters theta[0..param_size).
  void rhs(const State& x, State& dxdt, const double* theta) const {
    const double u = x[0], v = x[1];
    dxdt[0] = gamma * (u - u * u * u / 3.0 + v + zeta);
    dxdt[1] = -(u - theta[0] + theta[1] * v) / gamma;
  }

  static double observe(const State& x) { return x[0]; }  // the membrane potential u
};

}  // namespace fhn_inverse::models
