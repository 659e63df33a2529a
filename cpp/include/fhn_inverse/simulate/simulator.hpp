// Batch ODE simulation observed on a fixed time grid, for any model (models/).
// Boost.Odeint's Runge–Kutta–Fehlberg 7(8) stepper with step-size control advances with its own
// adaptive steps, the last step before each grid time shortened to end on it (no interpolation).
// Samples run in parallel (OpenMP), one trajectory per sample; a trajectory that leaves the bounded
// region or exceeds its step budget is reported in `status`, its row set to NaN. Shapes: theta (N,
// P) row-major, u (N, L) row-major, status (N).
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

#include "fhn_inverse/models/list.hpp"
#include "fhn_inverse/util/interrupt.hpp"

namespace fhn_inverse::simulate {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// A read-only view of row-major rows (each row contiguous): large inputs bind without a copy.
using RowMatrixRef = Eigen::Ref<const RowMatrix>;

enum class Status : std::int8_t {
  ok = 0,
  diverged = 1,     // the solution left the bounded region: |state| > max_abs_state
  step_budget = 2,  // more than max_steps accepted steps (typically a stiff system: the
                    // state stays bounded but explicit steps must stay tiny), or the
                    // step-size control failed (500 consecutive rejected steps)
};

// How trajectories are integrated: both with the Runge–Kutta–Fehlberg 7(8) tableau and the same
// step-size control; rkf78 one trajectory at a time with Boost.Odeint, rkf78_simd many at once in
// SIMD lanes (lanes.hpp; models with rhs_lanes), several times faster, equal to rkf78 within the
// tolerances but not bitwise.
enum class Method : std::int8_t { rkf78 = 0, rkf78_simd = 1 };
Method parse_method(const std::string& name);  // "rkf78" | "rkf78-simd"
std::string method_name(Method method);

struct SimulatorOptions {
  std::vector<double> t_obs;   // observation grid, strictly increasing, t_obs[0] >= t0
  double t0 = 0.0;             // time of the initial state
  double rtol = 1e-9;          // relative tolerance of the step-size control
  double atol = 1e-9;          // absolute tolerance
  double dt0 = 1e-2;           // first trial step
  long max_steps = 1000000;    // accepted-step budget per trajectory
  double max_abs_state = 1e6;  // divergence bound on every state component
  Method method = Method::rkf78;

  // The authors' grid: t_k = 0.2 k, k = 0..999.
  static std::vector<double> default_grid();
  // Throws std::invalid_argument naming the bad value and the accepted range.
  void validate() const;
};

struct BatchResult {
  RowMatrix u;                      // (N, L) observed component; NaN rows where status != ok
  std::vector<std::int8_t> status;  // (N) Status per sample
};

// The simulator is generic in the model: any struct with the shape of
// models::FitzHughNagumo (State, state_size, param_size, initial(), rhs(), observe()). Its
// definitions are in simulator_impl.hpp; src/simulate/simulator.cpp instantiates them for every
// model of models/list.hpp.

// One trajectory; writes L observations to u_out. Never throws for numerical failure. With a
// poll, it is asked every kPollSteps accepted steps and the trajectory stops once it says so.
template <class Model>
Status simulate_one(const Model& model, const double* theta, const SimulatorOptions& options,
                    double* u_out, InterruptPoll* poll = nullptr);

// All samples of theta (N, P) on n_threads threads (0 = all cores, at most kMaxThreads).
// Thread-count independent. Throws fhn_inverse::Interrupted when the interrupt hook answers true
// (see interrupt.hpp).
template <class Model>
BatchResult simulate_batch(const Model& model, const RowMatrix& theta,
                           const SimulatorOptions& options, int n_threads = 0);

#define FHN_SIMULATOR_EXTERN(M)                                                                   \
  extern template Status simulate_one(const M&, const double*, const SimulatorOptions&, double*,  \
                                      InterruptPoll*);                                            \
  extern template BatchResult simulate_batch(const M&, const RowMatrix&, const SimulatorOptions&, \
                                             int);
FHN_FOR_EACH_MODEL(FHN_SIMULATOR_EXTERN)
#undef FHN_SIMULATOR_EXTERN

// Validates theta: shape (N >= 1, P = model's parameter count), finite values.
void validate_theta(const RowMatrix& theta, std::size_t param_size);

}  // namespace fhn_inverse::simulate
