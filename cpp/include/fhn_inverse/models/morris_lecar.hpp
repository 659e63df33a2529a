// Morris–Lecar model of the barnacle muscle fibre (Morris & Lecar 1981, Biophys. J. 35:193–213),
// in the form and with the constants of Rinzel & Ermentrout 1998 ("Analysis of neural
// excitability and oscillations", in Koch & Segev, Methods in Neuronal Modeling, 2nd ed., ch. 7,
// table 7.1) and Ermentrout & Terman 2010 (Mathematical Foundations of Neuroscience, §3.1):
//   C dV/dt = I_app − g_L (V − V_L) − g_Ca m∞(V) (V − V_Ca) − g_K w (V − V_K)
//   dw/dt   = φ cosh((V − V3) / (2 V4)) (w∞(V) − w)
//   m∞(V) = ½ (1 + tanh((V − V1) / V2)),   w∞(V) = ½ (1 + tanh((V − V3) / V4)).
// V in mV, t in ms, conductances in mS/cm², currents in μA/cm², C in μF/cm².
// Free parameters θ = (I_app, g_Ca, g_K, φ); the constants are those of a parameter set:
//   Hopf (the default): C = 20, g_L = 2, V_L = −60, V_Ca = 120, V_K = −84, V1 = −1.2, V2 = 18,
//     V3 = 2, V4 = 30 (with g_Ca = 4.4, g_K = 8, φ = 0.04: rest below I_app ≈ 90, then
//     oscillations born in a Hopf bifurcation, class II);
//   SNIC: V3 = 12, V4 = 17.4 (with g_Ca = 4, g_K = 8, φ = 1/15: oscillations of arbitrarily low
//     frequency born on an invariant circle above I_app ≈ 40, class I).
// The initial state is the resting potential V_L with the K⁺ gate at its steady state there.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "fhn_inverse/util/vector_math.hpp"

namespace fhn_inverse::models {

struct MorrisLecar {
  static constexpr const char* name = "MorrisLecar";
  static constexpr const char* summary =
      "The Morris–Lecar model of the barnacle muscle fibre (Rinzel & Ermentrout's Hopf and SNIC "
      "parameter sets), V in mV and t in ms; θ = (I_app, g_Ca, g_K, φ) free by default.";
  static constexpr std::size_t state_size = 2;  // (V, w)
  static constexpr std::size_t param_size = 4;  // θ = (I_app, g_Ca, g_K, φ)
  static constexpr std::array<const char*, param_size> param_names{"I_app", "g_Ca", "g_K", "phi"};
  static constexpr std::array<const char*, param_size> param_units{"uA/cm^2", "mS/cm^2", "mS/cm^2",
                                                                   "1/ms"};
  using State = std::array<double, state_size>;

  // The constants of a parameter set (the Hopf set by default).
  struct Constants {
    double capacitance = 20.0;  // C, μF/cm²
    double g_l = 2.0;           // leak conductance, mS/cm²
    double v_l = -60.0;         // reversal potentials, mV
    double v_ca = 120.0;
    double v_k = -84.0;
    double v1 = -1.2;  // m∞: half-activation and slope, mV
    double v2 = 18.0;
    double v3 = 2.0;  // w∞: half-activation and slope, mV
    double v4 = 30.0;
  };

  static constexpr std::array<const char*, 9> constant_names{
      "capacitance", "g_l", "v_l", "v_ca", "v_k", "v1", "v2", "v3", "v4"};
  static constexpr std::array<const char*, 9> constant_units{"uF/cm^2", "mS/cm^2", "mV", "mV", "mV",
                                                             "mV",      "mV",      "mV", "mV"};
  static constexpr std::array<const char*, state_size> state_names{"V", "w"};
  static constexpr std::array<const char*, state_size> state_units{"mV", "dimensionless"};
  // The default prior's box: rest and repetitive firing of both sets (docs/models.md).
  static constexpr std::array<double, param_size> prior_lower{0.0, 3.5, 6.0, 0.02};
  static constexpr std::array<double, param_size> prior_upper{150.0, 5.5, 10.0, 0.12};
  static constexpr const char* time_unit = "ms";  // of t, the grid and the rates
  static constexpr double grid_step = 1.0;        // ms
  static constexpr std::size_t grid_points = 1000;

  static Constants from_values(const std::array<double, 9>& v) {
    return {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]};
  }
  MorrisLecar(const std::array<double, 9>& values, State initial)
      : MorrisLecar(from_values(values), initial) {}
  std::array<double, 9> constant_values() const {
    return {c_.capacitance, c_.g_l, c_.v_l, c_.v_ca, c_.v_k, c_.v1, c_.v2, c_.v3, c_.v4};
  }
  static State default_initial(const std::array<double, 9>& values) {
    return resting_state(from_values(values));
  }

  static Constants hopf() { return Constants{}; }
  static Constants snic() {
    Constants c;
    c.v3 = 12.0;
    c.v4 = 17.4;
    return c;
  }

  MorrisLecar() : MorrisLecar(Constants{}) {}
  explicit MorrisLecar(const Constants& c) : MorrisLecar(c, resting_state(c)) {}
  // All constants finite; C, V2 and V4 > 0.
  MorrisLecar(const Constants& c, State initial)
      : c_(c), inv_c_(1.0 / c.capacitance), initial_(initial) {
    const double all[] = {c.capacitance, c.g_l, c.v_l, c.v_ca, c.v_k, c.v1, c.v2, c.v3, c.v4};
    for (double v : all)
      if (!std::isfinite(v))
        throw std::invalid_argument("Morris-Lecar constants must be finite, got " +
                                    std::to_string(v));
    if (!(c.capacitance > 0.0) || !(c.v2 > 0.0) || !(c.v4 > 0.0))
      throw std::invalid_argument("Morris-Lecar capacitance, V2 and V4 must be > 0");
    for (double x : initial)
      if (!std::isfinite(x))
        throw std::invalid_argument("initial state must be finite, got " + std::to_string(x));
  }

  const Constants& constants() const { return c_; }
  const State& initial() const { return initial_; }

  // The steady state of the K⁺ gate at the leak reversal potential: (V_L, w∞(V_L)).
  static State resting_state(const Constants& c) {
    return {c.v_l, 0.5 * (1.0 + std::tanh((c.v_l - c.v3) / c.v4))};
  }

  // dx/dt at state x for parameters theta[0..param_size).
  void rhs(const State& x, State& dxdt, const double* theta) const {
    const double v = x[0], w = x[1];
    // the arguments as the lanes compute them: multiplied by reciprocals of the constants
    const double m_inf = 0.5 * (1.0 + std::tanh((v - c_.v1) * (1.0 / c_.v2)));
    const double w_inf = 0.5 * (1.0 + std::tanh((v - c_.v3) * (1.0 / c_.v4)));
    const double rate = theta[3] * std::cosh((v - c_.v3) * (0.5 / c_.v4));
    dxdt[0] = (theta[0] - c_.g_l * (v - c_.v_l) - theta[1] * m_inf * (v - c_.v_ca) -
               theta[2] * w * (v - c_.v_k)) *
              inv_c_;
    dxdt[1] = rate * (w_inf - w);
  }

  // The same right-hand side on vectors of lanes, one trajectory per lane (simulate/lanes.hpp),
  // with tanh and cosh of util/vector_math.hpp (within a few ulp of the standard library's).
  template <class V>
  void rhs_lanes(const V* x, V* dxdt, const V* theta) const {
    const V v = x[0], w = x[1];
    const V m_inf = 0.5 * (1.0 + vmath::tanh((v - c_.v1) * (1.0 / c_.v2)));
    const V w_inf = 0.5 * (1.0 + vmath::tanh((v - c_.v3) * (1.0 / c_.v4)));
    const V rate = theta[3] * vmath::cosh((v - c_.v3) * (0.5 / c_.v4));
    dxdt[0] = (theta[0] - c_.g_l * (v - c_.v_l) - theta[1] * m_inf * (v - c_.v_ca) -
               theta[2] * w * (v - c_.v_k)) *
              inv_c_;
    dxdt[1] = rate * (w_inf - w);
  }

  // Jacobians of the right-hand side at (x, θ), row-major: J_f_x (S × S) = ∂f/∂x and
  // J_f_theta (S × P) = ∂f/∂θ.
  void jacobians(const State& x, const double* theta, double* J_f_x, double* J_f_theta) const {
    const double v = x[0], w = x[1];
    const double tm = std::tanh((v - c_.v1) / c_.v2);
    const double tw = std::tanh((v - c_.v3) / c_.v4);
    const double m_inf = 0.5 * (1.0 + tm), w_inf = 0.5 * (1.0 + tw);
    const double dm_inf = 0.5 * (1.0 - tm * tm) / c_.v2;  // dm∞/dV
    const double dw_inf = 0.5 * (1.0 - tw * tw) / c_.v4;  // dw∞/dV
    const double arg = (v - c_.v3) / (2.0 * c_.v4);
    const double ch = std::cosh(arg), sh = std::sinh(arg);
    J_f_x[0] = -(c_.g_l + theta[1] * (dm_inf * (v - c_.v_ca) + m_inf) + theta[2] * w) * inv_c_;
    J_f_x[1] = -theta[2] * (v - c_.v_k) * inv_c_;
    J_f_x[2] = theta[3] * (sh / (2.0 * c_.v4) * (w_inf - w) + ch * dw_inf);
    J_f_x[3] = -theta[3] * ch;
    J_f_theta[0] = inv_c_;                           // ∂f_V/∂I_app
    J_f_theta[1] = -m_inf * (v - c_.v_ca) * inv_c_;  // ∂f_V/∂g_Ca
    J_f_theta[2] = -w * (v - c_.v_k) * inv_c_;       // ∂f_V/∂g_K
    J_f_theta[3] = 0.0;                              // f_V does not depend on φ
    J_f_theta[4] = 0.0;
    J_f_theta[5] = 0.0;
    J_f_theta[6] = 0.0;
    J_f_theta[7] = ch * (w_inf - w);  // ∂f_w/∂φ
  }

  static double observe(const State& x) { return x[0]; }  // the membrane potential V
  static constexpr std::size_t observed_component = 0;    // observe(x) = x[observed_component]

 private:
  Constants c_;
  double inv_c_ = 1.0 / 20.0;
  State initial_{-60.0, 0.0};
};

}  // namespace fhn_inverse::models
