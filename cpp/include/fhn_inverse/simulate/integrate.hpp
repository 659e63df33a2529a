// One trajectory of any ODE system observed on a grid, with any Odeint controlled stepper
// (default: Runge–Kutta–Fehlberg 7(8) with step-size control at the options' tolerances), the
// last step before each grid time shortened to end on it (no interpolation). The system, the
// stepper and the observer know nothing about each other:
//   system(x, dxdt, t)   the right-hand side (Odeint's system concept)
//   Stepper              a factory: Stepper::make<State>(options) gives an Odeint controlled
//                        stepper (try_step(system, x, t, dt)), made per trajectory
//   observe(k, x)        called with the state at t_obs[k], k = 0 … L − 1
// The first `bounded_components` state components are checked against options.max_abs_state
// after every accepted step (the rest, e.g. sensitivities, are only required to be finite).
#pragma once

#include <algorithm>
#include <boost/numeric/odeint.hpp>
#include <cmath>
#include <cstddef>

#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/simulate/simulator.hpp"

namespace fhn_inverse::simulate {

// With a poll, every kPollSteps accepted steps also ask it (a stiff trajectory runs up to
// max_steps, about a second) and stop early once it says so: the batch then throws Interrupted
// and discards the row.
inline constexpr long kPollSteps = 1024;

// The default stepper: Runge–Kutta–Fehlberg 7(8) with step-size control.
struct Rkf78 {
  template <class State>
  static auto make(const SimulatorOptions& options) {
    namespace odeint = boost::numeric::odeint;
    return odeint::make_controlled(options.atol, options.rtol,
                                   odeint::runge_kutta_fehlberg78<State>());
  }
};

template <class State, class Stepper = Rkf78, class System, class Observer>
Status integrate_on_grid(System&& system, State x, const SimulatorOptions& options,
                         std::size_t bounded_components, Observer&& observe,
                         InterruptPoll* poll = nullptr) {
  namespace odeint = boost::numeric::odeint;
  auto stepper = Stepper::template make<State>(options);
  constexpr long kMaxRejections = 500;  // consecutive rejected trial steps: control has failed
  const auto finite = [](const State& y) {
    for (double yi : y)
      if (!std::isfinite(yi)) return false;
    return true;
  };
  const auto bounded = [&](const State& y) {
    for (std::size_t j = 0; j < bounded_components; ++j)
      if (!(std::abs(y[j]) <= options.max_abs_state)) return false;  // also false for NaN
    return true;
  };
  double t = options.t0, dt = options.dt0;
  long steps = 0;
  for (std::size_t k = 0; k < options.t_obs.size(); ++k) {
    const double tk = options.t_obs[k];
    long rejected = 0;
    // Step onto tk exactly: the last step before a grid time is shortened to end on it, while dt
    // keeps the step size the control wants, so grid times do not hold the steps back.
    while (t < tk) {
      double h = std::min(dt, tk - t);
      const bool last = h == tk - t;
      const State before = x;
      const double t_before = t;
      if (stepper.try_step(system, x, t, h) == odeint::success) {
        if (!finite(x)) {
          // A trial step far outside the stability region (a stiff system) overflows to a NaN
          // error estimate, which the control accepts; the solution itself has not blown up
          // (that shows as |state| > max_abs_state on the way). Reject it like the control
          // would an inaccurate step: back to the start of the step, the step cut by 5.
          x = before;
          t = t_before;
          dt = 0.2 * h;
          if (++rejected > kMaxRejections || !(dt > 0.0)) return Status::step_budget;
          continue;
        }
        if (++steps > options.max_steps) return Status::step_budget;
        if (poll && steps % kPollSteps == 0 && poll->stop()) return Status::step_budget;
        if (!bounded(x)) return Status::diverged;
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
