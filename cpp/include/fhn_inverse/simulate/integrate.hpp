// One trajectory of any ODE system observed on a grid: Boost.Odeint's Runge–Kutta–Fehlberg 7(8)
// with step-size control, the last step before each grid time shortened to end on it (no
// interpolation). The system, the stepper and the observer know nothing about each other:
//   system(x, dxdt, t)   the right-hand side (Odeint's system concept)
//   observe(k, x)        called with the state at t_obs[k], k = 0 … L − 1
// The first `bounded_components` state components are checked against options.max_abs_state
// after every accepted step (the rest, e.g. sensitivities, only for finiteness).
#pragma once

#include <algorithm>
#include <boost/numeric/odeint.hpp>
#include <cmath>
#include <cstddef>

#include "fhn_inverse/simulate/simulator.hpp"

namespace fhn_inverse::simulate {

template <class State, class System, class Observer>
Status integrate_on_grid(System&& system, State x, const SimulatorOptions& options,
                         std::size_t bounded_components, Observer&& observe) {
  namespace odeint = boost::numeric::odeint;
  auto stepper = odeint::make_controlled(options.atol, options.rtol,
                                         odeint::runge_kutta_fehlberg78<State>());
  constexpr long kMaxRejections = 500;  // consecutive rejected trial steps: control has failed
  auto healthy = [&](const State& y) {
    for (std::size_t j = 0; j < y.size(); ++j) {
      const double bound = j < bounded_components ? options.max_abs_state : HUGE_VAL;
      if (!(std::abs(y[j]) <= bound) || !std::isfinite(y[j])) return false;  // false for NaN
    }
    return true;
  };
  double t = options.t0, dt = options.dt0;
  long steps = 0;
  for (std::size_t k = 0; k < options.t_obs.size(); ++k) {
    const double tk = options.t_obs[k];
    long rejected = 0;
    while (t < tk) {
      double h = std::min(dt, tk - t);
      const bool last = h == tk - t;
      if (stepper.try_step(system, x, t, h) == odeint::success) {
        if (++steps > options.max_steps) return Status::step_budget;
        if (!healthy(x)) return Status::diverged;
        if (last) t = tk;  // no drift from rounding in t + (tk − t)
        dt = last ? std::max(dt, h) : h;
        rejected = 0;
      } else {
        if (++rejected > kMaxRejections || !(h > 0.0)) return Status::step_budget;
        dt = h;
      }
    }
    observe(k, x);
  }
  return Status::ok;
}

}  // namespace fhn_inverse::simulate
