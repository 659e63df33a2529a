// Hodgkin–Huxley model of the squid giant axon (Hodgkin & Huxley 1952, J. Physiol. 117:500–544),
// with voltages shifted to a resting potential near −65 mV; equations and constants as in Dayan &
// Abbott 2001 (Theoretical Neuroscience, §5.6, eqs. 5.22–5.24), converted from per mm² to per cm²:
//   C dV/dt = I_app − g_Na m³ h (V − E_Na) − g_K n⁴ (V − E_K) − g_L (V − E_L)
//   dx/dt   = α_x(V) (1 − x) − β_x(V) x,   x ∈ {m, h, n}
//   α_m = 0.1 (V + 40) / (1 − e^{−(V+40)/10}),    β_m = 4 e^{−(V+65)/18}
//   α_h = 0.07 e^{−(V+65)/20},                    β_h = 1 / (1 + e^{−(V+35)/10})
//   α_n = 0.01 (V + 55) / (1 − e^{−(V+55)/10}),   β_n = 0.125 e^{−(V+65)/80}
// (Dayan & Abbott print 1/18 as 0.0556; this is 1/18 exactly.) V in mV, t in ms, rates in 1/ms,
// conductances in mS/cm², currents in μA/cm², C in μF/cm². The removable singularities of α_m
// at V = −40 and α_n at V = −55 are evaluated by a series near them, so the right-hand side and
// its Jacobians are finite and smooth for every finite state.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "fhn_inverse/util/vector_math.hpp"

namespace fhn_inverse::models {

// Free parameters θ = (g_Na, g_K, g_L, I_app); the classical values are g_Na = 120, g_K = 36,
// g_L = 0.3, and I_app = 10 gives repetitive firing (I_app = 0 leaves the cell at rest near
// −65 mV). The constants C = 1, E_Na = 50, E_K = −77 and E_L = −54.387 (chosen by Dayan & Abbott
// so that the rest is −65 mV at the classical conductances) are fixed per model. The default
// initial state is the resting state (−65, m∞, h∞, n∞) with x∞ = α_x/(α_x + β_x) at −65 mV, the
// constants below rounded to the nearest double.
struct HodgkinHuxley {
  static constexpr const char* name = "HodgkinHuxley";
  static constexpr const char* summary =
      "The Hodgkin–Huxley model of the squid giant axon (Dayan & Abbott's constants, rest near −65 "
      "mV), V in mV and t in ms; θ = (g_Na, g_K, g_L, I_app) free by default.";
  static constexpr std::size_t state_size = 4;  // (V, m, h, n)
  static constexpr std::size_t param_size = 4;  // θ = (g_Na, g_K, g_L, I_app)
  static constexpr std::array<const char*, param_size> param_names{"g_Na", "g_K", "g_L", "I_app"};
  static constexpr std::array<const char*, param_size> param_units{"mS/cm^2", "mS/cm^2", "mS/cm^2",
                                                                   "uA/cm^2"};
  using State = std::array<double, state_size>;

  // The gates' steady states at V = −65 mV: α/(α + β) with the rates above.
  static constexpr double m_rest = 0.05293248525724958;
  static constexpr double h_rest = 0.5961207535084603;
  static constexpr double n_rest = 0.31767691406069737;

  static constexpr std::array<const char*, 4> constant_names{"capacitance", "e_na", "e_k", "e_l"};
  static constexpr std::array<const char*, 4> constant_units{"uF/cm^2", "mV", "mV", "mV"};
  static constexpr std::array<const char*, state_size> state_names{"V", "m", "h", "n"};
  static constexpr std::array<const char*, state_size> state_units{
      "mV", "dimensionless", "dimensionless", "dimensionless"};
  // The default prior's box around the classical (120, 36, 0.3): rest and repetitive firing.
  static constexpr std::array<double, param_size> prior_lower{60.0, 18.0, 0.1, 0.0};
  static constexpr std::array<double, param_size> prior_upper{180.0, 54.0, 0.5, 20.0};
  static constexpr const char* time_unit = "ms";  // of t, the grid and the rates
  static constexpr double grid_step = 0.1;        // ms
  static constexpr std::size_t grid_points = 1000;

  HodgkinHuxley() = default;
  HodgkinHuxley(const std::array<double, 4>& c, State initial)
      : HodgkinHuxley(c[0], c[1], c[2], c[3], initial) {}
  std::array<double, 4> constant_values() const { return {capacitance_, e_na_, e_k_, e_l_}; }
  static State default_initial(const std::array<double, 4>&) {
    return {-65.0, m_rest, h_rest, n_rest};
  }
  // capacitance > 0 (C, μF/cm²), e_na, e_k, e_l (reversal potentials, mV), initial =
  // (V, m, h, n) at t0 with every gate in [0, 1]; all finite.
  HodgkinHuxley(double capacitance, double e_na, double e_k, double e_l, State initial)
      : capacitance_(capacitance),
        e_na_(e_na),
        e_k_(e_k),
        e_l_(e_l),
        inv_capacitance_(1.0 / capacitance),
        initial_(initial) {
    if (!(capacitance > 0.0) || !std::isfinite(capacitance))
      throw std::invalid_argument("capacitance must be finite and > 0, got " +
                                  std::to_string(capacitance));
    const double potentials[] = {e_na, e_k, e_l};
    for (double e : potentials)
      if (!std::isfinite(e))
        throw std::invalid_argument("reversal potentials must be finite, got " + std::to_string(e));
    for (double x : initial)
      if (!std::isfinite(x))
        throw std::invalid_argument("initial state must be finite, got " + std::to_string(x));
    for (std::size_t j = 1; j < state_size; ++j)
      if (!(initial[j] >= 0.0 && initial[j] <= 1.0))
        throw std::invalid_argument("initial gates (m, h, n) must be in [0, 1], got " +
                                    std::to_string(initial[j]));
  }

  double capacitance() const { return capacitance_; }
  double e_na() const { return e_na_; }
  double e_k() const { return e_k_; }
  double e_l() const { return e_l_; }
  const State& initial() const { return initial_; }

  // dx/dt at state x for parameters theta[0..param_size).
  void rhs(const State& x, State& dxdt, const double* theta) const {
    const double v = x[0], m = x[1], h = x[2], n = x[3];
    const Rates r = rates(v);
    const double m3h = m * m * m * h, n2 = n * n;
    const double i_ion =
        theta[0] * m3h * (v - e_na_) + theta[1] * (n2 * n2) * (v - e_k_) + theta[2] * (v - e_l_);
    dxdt[0] = (theta[3] - i_ion) * inv_capacitance_;
    // α (1 − x) − β x, not α − (α + β) x: that form cancels when x is near 1 and α large
    dxdt[1] = r.alpha_m * (1.0 - m) - r.beta_m * m;
    dxdt[2] = r.alpha_h * (1.0 - h) - r.beta_h * h;
    dxdt[3] = r.alpha_n * (1.0 - n) - r.beta_n * n;
  }

  // The same right-hand side on vectors of lanes, one trajectory per lane (simulate/lanes.hpp):
  // the rates from util/vector_math.hpp's exp (α_h from its own exponential rather than the
  // square root of e^{−(V+65)/10}), g by its series where |z| < kSeriesRadius, both branches
  // computed and the lane's one selected.
  template <class V>
  void rhs_lanes(const V* x, V* dxdt, const V* theta) const {
    const V v = x[0], m = x[1], h = x[2], n = x[3];
    const V w = v + 65.0;
    const V e10 = vmath::exp(w * -0.1);  // e^{−(V+65)/10}
    const V alpha_m = lin_exp_lanes(0.1 * (v + 40.0), e10 * kE2_5);
    const V beta_m = 4.0 * vmath::exp(w * (-1.0 / 18.0));
    const V alpha_h = 0.07 * vmath::exp(w * -0.05);
    const V beta_h = 1.0 / (1.0 + e10 * kE3);
    const V alpha_n = 0.1 * lin_exp_lanes(0.1 * (v + 55.0), e10 * kE1);
    const V beta_n = 0.125 * vmath::exp(w * (-1.0 / 80.0));
    const V m3h = m * m * m * h, n2 = n * n;
    const V i_ion =
        theta[0] * m3h * (v - e_na_) + theta[1] * (n2 * n2) * (v - e_k_) + theta[2] * (v - e_l_);
    dxdt[0] = (theta[3] - i_ion) * inv_capacitance_;
    dxdt[1] = alpha_m * (1.0 - m) - beta_m * m;
    dxdt[2] = alpha_h * (1.0 - h) - beta_h * h;
    dxdt[3] = alpha_n * (1.0 - n) - beta_n * n;
  }

  // Jacobians of the right-hand side at (x, θ), row-major: J_f_x (S × S) = ∂f/∂x and
  // J_f_theta (S × P) = ∂f/∂θ. Forward sensitivities integrate d(∂x/∂θ)/dt = J_f_x ∂x/∂θ +
  // J_f_theta.
  void jacobians(const State& x, const double* theta, double* J_f_x, double* J_f_theta) const {
    const double v = x[0], m = x[1], h = x[2], n = x[3];
    const Rates r = rates(v);
    // dα/dV, dβ/dV: α_m = g(z_m), α_n = 0.1 g(z_n) with z = (V + 40)/10, (V + 55)/10
    const double dalpha_m = 0.1 * dlin_exp(r.z_m, r.e_m, r.g_m);
    const double dbeta_m = r.beta_m * (-1.0 / 18.0);
    const double dalpha_h = r.alpha_h * (-1.0 / 20.0);
    const double dbeta_h = 0.1 * r.beta_h * (r.e_h * r.beta_h);  // β_h² e^{−(V+35)/10} / 10
    const double dalpha_n = 0.01 * dlin_exp(r.z_n, r.e_n, r.g_n);
    const double dbeta_n = r.beta_n * (-1.0 / 80.0);
    const double m2 = m * m, n3 = n * n * n;
    const double c = inv_capacitance_;
    const double vna = v - e_na_, vk = v - e_k_, vl = v - e_l_;
    J_f_x[0] = -(theta[0] * m2 * m * h + theta[1] * n3 * n + theta[2]) * c;  // ∂f_V/∂V
    J_f_x[1] = -3.0 * theta[0] * m2 * h * vna * c;                           // ∂f_V/∂m
    J_f_x[2] = -theta[0] * m2 * m * vna * c;                                 // ∂f_V/∂h
    J_f_x[3] = -4.0 * theta[1] * n3 * vk * c;                                // ∂f_V/∂n
    J_f_x[4] = dalpha_m * (1.0 - m) - dbeta_m * m;                           // ∂f_m/∂V
    J_f_x[5] = -(r.alpha_m + r.beta_m);                                      // ∂f_m/∂m
    J_f_x[6] = 0.0;
    J_f_x[7] = 0.0;
    J_f_x[8] = dalpha_h * (1.0 - h) - dbeta_h * h;  // ∂f_h/∂V
    J_f_x[9] = 0.0;
    J_f_x[10] = -(r.alpha_h + r.beta_h);  // ∂f_h/∂h
    J_f_x[11] = 0.0;
    J_f_x[12] = dalpha_n * (1.0 - n) - dbeta_n * n;  // ∂f_n/∂V
    J_f_x[13] = 0.0;
    J_f_x[14] = 0.0;
    J_f_x[15] = -(r.alpha_n + r.beta_n);   // ∂f_n/∂n
    J_f_theta[0] = -m2 * m * h * vna * c;  // ∂f_V/∂g_Na
    J_f_theta[1] = -n3 * n * vk * c;       // ∂f_V/∂g_K
    J_f_theta[2] = -vl * c;                // ∂f_V/∂g_L
    J_f_theta[3] = c;                      // ∂f_V/∂I_app
    for (std::size_t k = 4; k < state_size * param_size; ++k)
      J_f_theta[k] = 0.0;  // the gates do not depend on θ
  }

  static double observe(const State& x) { return x[0]; }  // the membrane potential V
  static constexpr std::size_t observed_component = 0;    // observe(x) = x[observed_component]

 private:
  // The six rates at V, with what the Jacobian reuses: z_m, z_n (the arguments of g), g_m =
  // g(z_m), g_n = g(z_n) and the exponentials e_m = e^{−z_m}, e_h = e^{−(V+35)/10}, e_n = e^{−z_n}.
  struct Rates {
    double alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n;
    double z_m, z_n, g_m, g_n, e_m, e_h, e_n;
  };

  // Exponent arguments are capped here, so no rate overflows and no 0·∞ can make a NaN; the cap
  // binds only below V ≈ −7000 mV, far outside any trajectory the model can follow.
  static constexpr double kMaxExponent = 700.0;
  static constexpr double kE1 = 2.718281828459045;     // e^1
  static constexpr double kE2_5 = 12.182493960703473;  // e^2.5
  static constexpr double kE3 = 20.085536923187668;    // e^3
  // |z| below which g and g' are summed as series rather than from the exponential (there
  // 1 − e^{−z} loses at most a factor 1/|z| = 5 of relative accuracy).
  static constexpr double kSeriesRadius = 0.2;

  // Four exponentials for six rates: e^{−(V+40)/10}, e^{−(V+35)/10}, e^{−(V+55)/10} and
  // e^{−(V+65)/20} all come from e^{−(V+65)/10}.
  static Rates rates(double v) {
    const double w = v + 65.0;
    const double e10 = std::exp(std::min(-0.1 * w, kMaxExponent));  // e^{−(V+65)/10}
    Rates r;
    r.z_m = 0.1 * (v + 40.0);
    r.z_n = 0.1 * (v + 55.0);
    r.e_m = e10 * kE2_5;
    r.e_h = e10 * kE3;
    r.e_n = e10 * kE1;
    r.g_m = lin_exp(r.z_m, r.e_m);
    r.g_n = lin_exp(r.z_n, r.e_n);
    r.alpha_m = r.g_m;
    r.beta_m = 4.0 * std::exp(std::min(w * (-1.0 / 18.0), kMaxExponent));
    r.alpha_h = 0.07 * std::sqrt(e10);
    r.beta_h = 1.0 / (1.0 + r.e_h);
    r.alpha_n = 0.1 * r.g_n;
    r.beta_n = 0.125 * std::exp(std::min(w * (-1.0 / 80.0), kMaxExponent));
    return r;
  }

  // g(z) = z / (1 − e^{−z}) given e = e^{−z}; near z = 0 its series
  //   g(z) = 1 + z/2 + z²/12 − z⁴/720 + z⁶/30240 − z⁸/1209600 + z¹⁰/47900160 − …
  // (Bernoulli numbers: g(z) = Σ B_k (−z)^k / k!), truncated where the next term is < 1e-17.
  static double lin_exp(double z, double e) {
    if (std::abs(z) < kSeriesRadius) {
      const double z2 = z * z;
      return 1.0 + 0.5 * z +
             z2 * (1.0 / 12.0 +
                   z2 * (-1.0 / 720.0 +
                         z2 * (1.0 / 30240.0 + z2 * (-1.0 / 1209600.0 + z2 / 47900160.0))));
    }
    return z / (1.0 - e);
  }

  // lin_exp on lanes: both branches, each lane's selected.
  template <class V>
  static V lin_exp_lanes(V z, V e) {
    const V z2 = z * z;
    const V series =
        1.0 + 0.5 * z +
        z2 * (1.0 / 12.0 +
              z2 * (-1.0 / 720.0 +
                    z2 * (1.0 / 30240.0 + z2 * (-1.0 / 1209600.0 + z2 * (1.0 / 47900160.0)))));
    const V direct = z / (1.0 - e);
    return (z < kSeriesRadius && z > -kSeriesRadius) ? series : direct;
  }

  // g'(z) given e = e^{−z} and g = g(z): (1 − g e) / (1 − e); near z = 0 the derivative of the
  // series above, 1/2 + z/6 − z³/180 + z⁵/5040 − z⁷/151200 + z⁹/4790016 − 691 z¹¹/108972864000.
  static double dlin_exp(double z, double e, double g) {
    if (std::abs(z) < kSeriesRadius) {
      const double z2 = z * z;
      return 0.5 + z * (1.0 / 6.0 +
                        z2 * (-1.0 / 180.0 +
                              z2 * (1.0 / 5040.0 + z2 * (-1.0 / 151200.0 +
                                                         z2 * (1.0 / 4790016.0 +
                                                               z2 * (-691.0 / 108972864000.0))))));
    }
    return (1.0 - g * e) / (1.0 - e);
  }

  double capacitance_ = 1.0;  // C, μF/cm²
  double e_na_ = 50.0;        // reversal potentials, mV
  double e_k_ = -77.0;
  double e_l_ = -54.387;
  double inv_capacitance_ = 1.0;  // multiplying beats dividing in the hot right-hand side
  State initial_{-65.0, m_rest, h_rest, n_rest};
};

}  // namespace fhn_inverse::models
