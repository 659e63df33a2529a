// Many trajectories at once, one per SIMD lane: the Runge–Kutta–Fehlberg 7(8) tableau and the
// step-size control of the Odeint path (integrate.hpp: error norm max_i |err_i| /
// (atol + rtol (|x_i| + |h| |f_i|)), a failed step shrinks h by max(0.9 err^(−1/6), 0.2), an
// accepted one with err < 0.5 grows it by 0.9 max(err, 5^−8)^(−1/8), the last step before a grid
// time shortened to end on it), with each lane keeping its own time, step size, grid index and
// step counts. A lane whose trajectory ends (every grid time observed, or a failure) takes the
// next sample of its range at once, so the lanes stay busy. Each lane computes exactly what it
// would alone: a sample's result depends neither on its lane, nor on the other samples, nor on
// the thread count. The step-size factors use a short polynomial for the powers (relative error
// below 1e-6), so the steps differ from Odeint's in the last bits; the accuracy is the same.
//
// A model takes part when it has rhs_lanes(x, dxdt, theta) templated on the lane vector type
// (models/fitzhugh_nagumo.hpp); `has_lanes<Model>` says whether it does.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/simulate/observation.hpp"
#include "fhn_inverse/simulate/simulator.hpp"
#include "fhn_inverse/util/interrupt.hpp"

namespace fhn_inverse::simulate {

// Lanes per vector: as many doubles as the widest vector unit the build targets holds.
#if defined(__AVX512F__)
inline constexpr int kWidth = 8;
#elif defined(__AVX__)
inline constexpr int kWidth = 4;
#else
inline constexpr int kWidth = 2;
#endif
// A step is a long chain of dependent operations (13 stages in sequence, each a sum over the
// earlier ones): a run steps kGroups vectors side by side, so that the core overlaps their
// independent chains instead of waiting on each result. kLanes trajectories per run.
inline constexpr int kGroups = 2;
inline constexpr int kLanes = kWidth * kGroups;

using Lanes = double __attribute__((vector_size(sizeof(double) * kWidth)));
using LaneBits = std::int64_t __attribute__((vector_size(sizeof(double) * kWidth)));

template <class Model, class = void>
struct has_lanes_t : std::false_type {};
template <class Model>
struct has_lanes_t<
    Model,
    std::void_t<decltype(std::declval<const Model&>().template rhs_lanes<Lanes>(
        std::declval<const Lanes*>(), std::declval<Lanes*>(), std::declval<const Lanes*>()))>>
    : std::true_type {};
template <class Model>
inline constexpr bool has_lanes = has_lanes_t<Model>::value;

namespace lanes_detail {

inline Lanes splat(double v) {
  Lanes r{};
  for (int i = 0; i < kWidth; ++i) r[i] = v;
  return r;
}

inline Lanes abs(Lanes x) {
  LaneBits b{};
  std::memcpy(&b, &x, sizeof b);
  b &= ~(LaneBits{} + (std::int64_t{1} << 63));
  std::memcpy(&x, &b, sizeof x);
  return x;
}

inline Lanes select(LaneBits mask, Lanes a, Lanes b) { return mask ? a : b; }
inline LaneBits select(LaneBits mask, LaneBits a, LaneBits b) { return mask ? a : b; }

// x^p lane by lane for x in [5^-8, 1e300] and p in [−1, 0]: the exponent and a series of
// log2 on [1, 2), then a polynomial of 2^f on [0, 1); relative error below 1e-6, enough for a
// step-size factor (inf gives 0, as the factors are bounded by the caller).
inline Lanes pow_lanes(Lanes x, Lanes p) {
  LaneBits b{};
  std::memcpy(&b, &x, sizeof b);
  const Lanes ef = __builtin_convertvector(((b >> 52) & 0x7ff) - 1023, Lanes);
  b = (b & 0x000fffffffffffffLL) | 0x3ff0000000000000LL;
  Lanes m{};
  std::memcpy(&m, &b, sizeof m);
  // log2(m) = 2/ln2 (s + s³/3 + s⁵/5 + …), s = (m − 1)/(m + 1) in [0, 1/3)
  const Lanes s = (m - 1.0) / (m + 1.0), s2 = s * s;
  const Lanes series =
      s * (1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 / 11)))));
  Lanes y = p * (ef + 2.8853900817779268 * series);
  y = select(y < -1000.0, Lanes{} - 1000.0, select(y > 1000.0, Lanes{} + 1000.0, y));
  // 2^y = 2^n 2^f, n = floor(y), f in [0, 1)
  LaneBits n = __builtin_convertvector(y, LaneBits);  // toward zero
  n += __builtin_convertvector(n, Lanes) > y;         // a true mask is −1
  const Lanes f = (y - __builtin_convertvector(n, Lanes)) * 0.6931471805599453;  // f ln 2
  const Lanes two_f =
      1.0 +
      f * (1.0 +
           f * (0.5 + f * (1.0 / 6 +
                           f * (1.0 / 24 + f * (1.0 / 120 +
                                                f * (1.0 / 720 + f * (1.0 / 5040 + f / 40320)))))));
  const LaneBits nb = (n + 1023) << 52;
  Lanes scale{};
  std::memcpy(&scale, &nb, sizeof scale);
  return two_f * scale;
}

// The Runge–Kutta–Fehlberg 7(8) tableau (Fehlberg 1968; Odeint's runge_kutta_fehlberg78).
struct Rkf78Tableau {
  static constexpr int stages = 13;
  static constexpr double a[13][12] = {
      {},
      {2.0 / 27},
      {1.0 / 36, 1.0 / 12},
      {1.0 / 24, 0, 1.0 / 8},
      {5.0 / 12, 0, -25.0 / 16, 25.0 / 16},
      {1.0 / 20, 0, 0, 1.0 / 4, 1.0 / 5},
      {-25.0 / 108, 0, 0, 125.0 / 108, -65.0 / 27, 125.0 / 54},
      {31.0 / 300, 0, 0, 0, 61.0 / 225, -2.0 / 9, 13.0 / 900},
      {2.0, 0, 0, -53.0 / 6, 704.0 / 45, -107.0 / 9, 67.0 / 90, 3.0},
      {-91.0 / 108, 0, 0, 23.0 / 108, -976.0 / 135, 311.0 / 54, -19.0 / 60, 17.0 / 6, -1.0 / 12},
      {2383.0 / 4100, 0, 0, -341.0 / 164, 4496.0 / 1025, -301.0 / 82, 2133.0 / 4100, 45.0 / 82,
       45.0 / 164, 18.0 / 41},
      {3.0 / 205, 0, 0, 0, 0, -6.0 / 41, -3.0 / 205, -3.0 / 41, 3.0 / 41, 6.0 / 41, 0},
      {-1777.0 / 4100, 0, 0, -341.0 / 164, 4496.0 / 1025, -289.0 / 82, 2193.0 / 4100, 51.0 / 82,
       33.0 / 164, 12.0 / 41, 0, 1.0}};
  static constexpr double b[13] = {0,          0,          0,         0,         0,
                                   34.0 / 105, 9.0 / 35,   9.0 / 35,  9.0 / 280, 9.0 / 280,
                                   0,          41.0 / 840, 41.0 / 840};
  // error weights: b − b̂ = 41/840 (−k1 − k11 + k12 + k13)
  static constexpr double e = 41.0 / 840;
};

// One trial step of kGroups vectors of lanes from x with steps h: the new states and the scaled
// error norms. The groups are independent; each stage works through all of them.
template <class Model, std::size_t S = Model::state_size, std::size_t P = Model::param_size>
void try_step(const Model& model, const Lanes (&x)[kGroups][S], const Lanes (&theta)[kGroups][P],
              const Lanes (&h)[kGroups], Lanes (&x_new)[kGroups][S], Lanes (&err)[kGroups],
              double atol, double rtol) {
  using T = Rkf78Tableau;
  Lanes k[T::stages][kGroups][S];
  Lanes tmp[kGroups][S];
  for (int g = 0; g < kGroups; ++g) model.template rhs_lanes<Lanes>(x[g], k[0][g], theta[g]);
#pragma GCC unroll 16
  for (int s = 1; s < T::stages; ++s) {
    for (int g = 0; g < kGroups; ++g) {
      for (std::size_t j = 0; j < S; ++j) {
        Lanes acc = T::a[s][0] * k[0][g][j];
#pragma GCC unroll 16
        for (int r = 1; r < s; ++r)
          if (T::a[s][r] != 0.0) acc += T::a[s][r] * k[r][g][j];
        tmp[g][j] = x[g][j] + h[g] * acc;
      }
    }
    for (int g = 0; g < kGroups; ++g) model.template rhs_lanes<Lanes>(tmp[g], k[s][g], theta[g]);
  }
  for (int g = 0; g < kGroups; ++g) {
    err[g] = splat(0.0);
    const Lanes ah = abs(h[g]);
    for (std::size_t j = 0; j < S; ++j) {
      Lanes acc = T::b[5] * k[5][g][j];
#pragma GCC unroll 16
      for (int r = 6; r < T::stages; ++r)
        if (T::b[r] != 0.0) acc += T::b[r] * k[r][g][j];
      x_new[g][j] = x[g][j] + h[g] * acc;
      const Lanes xe =
          abs(h[g] * (T::e * ((k[11][g][j] + k[12][g][j]) - (k[0][g][j] + k[10][g][j]))));
      const Lanes rel = xe / (atol + rtol * (abs(x[g][j]) + ah * abs(k[0][g][j])));
      err[g] = select(rel > err[g], rel,
                      err[g]);  // a NaN is dropped, as Odeint's norm does; x_new shows it
    }
  }
}

}  // namespace lanes_detail

// The lanes of one range of samples [begin, end): each lane's state, time, step, next grid
// time and counts, kept in vectors (kGroups of them) so that a step's bookkeeping is vector work
// too; a lane only leaves the vectors at grid times and when its trajectory ends. Lane i is
// element i % kWidth of group i / kWidth.
template <class Model>
class LaneRun {
 public:
  static constexpr std::size_t S = Model::state_size, P = Model::param_size;

  LaneRun(const Model& model, const double* theta, long begin, long end, const SimulatorOptions& o,
          double* u, std::int8_t* status)
      : model_(model),
        theta_(theta),
        next_(begin),
        end_(end),
        o_(o),
        u_(u),
        status_(status),
        L_(o.t_obs.size()) {
    for (int i = 0; i < kLanes; ++i) live_ += load(i / kWidth, i % kWidth) ? 1 : 0;
  }

  // Steps until every sample is done; with a poll, every kPollSteps steps ask it and stop early
  // once it says so (the batch then throws Interrupted).
  void run(InterruptPoll* poll) {
    long iterations = 0;
    while (live_ > 0) {
      if (poll && ++iterations % kPollSteps == 0 && poll->stop()) return abandon();
      step();
    }
  }

 private:
  void step() {
    using namespace lanes_detail;
    Lanes h[kGroups], x_new[kGroups][S], err[kGroups];
    LaneBits last[kGroups];
    for (int g = 0; g < kGroups; ++g) {
      const Lanes to_grid = tk_[g] - t_[g];
      h[g] = select(dt_[g] < to_grid, dt_[g], to_grid);
      last[g] = h[g] == to_grid;
    }
    try_step(model_, x_, th_, h, x_new, err, o_.atol, o_.rtol);
    for (int g = 0; g < kGroups; ++g) update(g, h[g], last[g], x_new[g], err[g]);
  }

  // Accept or refuse group g's trial step, lane by lane, and set the next step size.
  void update(int g, Lanes h, LaneBits last, const Lanes (&x_new)[S], Lanes err) {
    using namespace lanes_detail;
    LaneBits finite = active_[g], bounded = active_[g];
    for (std::size_t j = 0; j < S; ++j) {
      finite &= (x_new[j] - x_new[j]) == 0.0;
      bounded &= abs(x_new[j]) <= o_.max_abs_state;
    }
    const LaneBits small = !(err > 1.0), accepted = small & finite,
                   refused = active_[g] & ~accepted;
    const Lanes grow_err = select(err > kFloorErr, err, Lanes{} + kFloorErr);
    const Lanes q = pow_lanes(select(accepted, grow_err, err),
                              select(accepted, Lanes{} - 0.125, Lanes{} - 1.0 / 6));
    const Lanes h_acc = select(err < 0.5, h * (0.9 * q), h);
    const Lanes q_ref = select(small, Lanes{} + 0.2, select(0.9 * q > 0.2, 0.9 * q, Lanes{} + 0.2));
    Lanes& dt = dt_[g];
    dt = select(accepted, select(last, select(dt > h_acc, dt, h_acc), h_acc),
                select(refused, h * q_ref, dt));
    t_[g] = select(accepted, select(last, tk_[g], t_[g] + h), t_[g]);
    for (std::size_t j = 0; j < S; ++j) x_[g][j] = select(accepted, x_new[j], x_[g][j]);
    steps_[g] -= accepted;  // masks are −1
    rejected_[g] = select(refused, rejected_[g] + 1, LaneBits{});
    const LaneBits events =
        (accepted & ((t_[g] >= tk_[g]) | ~bounded | (steps_[g] > o_.max_steps))) |
        (refused & ((rejected_[g] > kMaxRejections) | ~(h > 0.0)));
    for (int l = 0; l < kWidth; ++l)
      if (events[l]) event(g, l, bounded[l] != 0 || !accepted[l]);
  }

  // A lane reached a grid time, left the bounds, or ran out of steps or rejections.
  void event(int g, int l, bool bounded) {
    Status st = Status::ok;
    if (!bounded)
      st = Status::diverged;
    else if (steps_[g][l] > o_.max_steps || rejected_[g][l] > kMaxRejections || !(dt_[g][l] > 0.0))
      st = Status::step_budget;
    if (st == Status::ok) {
      observe(g, l);
      if (k_[g][l] < L_) return;
    }
    finish(g, l, st);
    live_ -= load(g, l) ? 0 : 1;
  }

  double observed(int g, int l, [[maybe_unused]] std::size_t c) const {
    if constexpr (observes_channels<Model>::value) {
      typename Model::State x;
      for (std::size_t a = 0; a < S; ++a) x[a] = x_[g][a][l];
      return Model::observe_channel(x, c);
    } else if constexpr (observes_expression<Model>::value) {
      typename Model::State x;
      for (std::size_t a = 0; a < S; ++a) x[a] = x_[g][a][l];
      return Model::observe(x);
    } else {
      return x_[g][Model::observed_component][l];
    }
  }

  void observe(int g, int l) {
    std::size_t& k = k_[g][l];
    const long row = sample_[g][l] * static_cast<long>(kChannels * L_);
    for (; k < L_ && o_.t_obs[k] <= t_[g][l]; ++k)
      for (std::size_t c = 0; c < kChannels; ++c) u_[row + c * L_ + k] = observed(g, l, c);
    tk_[g][l] = k < L_ ? o_.t_obs[k] : t_[g][l] + 1.0;
  }

  void finish(int g, int l, Status st) {
    const long n = sample_[g][l];
    status_[n] = static_cast<std::int8_t>(st);
    if (st != Status::ok)
      std::fill(u_ + n * kChannels * L_, u_ + (n + 1) * kChannels * L_,
                std::numeric_limits<double>::quiet_NaN());
    sample_[g][l] = -1;
  }

  // The lane takes the next sample of the range (observing the grid times at its start); false
  // when the range is used up (the lane then idles on a harmless state).
  bool load(int g, int l) {
    while (next_ < end_) {
      const long n = next_++;
      sample_[g][l] = n;
      for (std::size_t j = 0; j < S; ++j) x_[g][j][l] = model_.initial()[j];
      for (std::size_t p = 0; p < P; ++p) th_[g][p][l] = theta_[n * P + p];
      t_[g][l] = o_.t0;
      dt_[g][l] = o_.dt0;
      steps_[g][l] = rejected_[g][l] = 0;
      k_[g][l] = 0;
      active_[g][l] = -1;
      observe(g, l);
      if (k_[g][l] < L_) return true;
      finish(g, l, Status::ok);
    }
    for (std::size_t j = 0; j < S; ++j) x_[g][j][l] = 0.0;
    for (std::size_t p = 0; p < P; ++p) th_[g][p][l] = 0.0;
    t_[g][l] = 0.0;
    tk_[g][l] = dt_[g][l] = 1e-3;
    active_[g][l] = 0;
    return false;
  }

  void abandon() {
    for (int i = 0; i < kLanes; ++i)
      if (sample_[i / kWidth][i % kWidth] >= 0) finish(i / kWidth, i % kWidth, Status::step_budget);
    while (next_ < end_) {
      sample_[0][0] = next_++;
      finish(0, 0, Status::step_budget);
    }
  }

  static constexpr long kMaxRejections =
      500;  // consecutive rejected trial steps: control has failed
  static constexpr double kFloorErr = 1.0 / 390625.0;  // 5^-8: growth at most 0.9 · 5 per step
  static constexpr std::size_t kChannels = observed_count<Model>();  // observed quantities
  const Model& model_;
  const double* theta_;
  long next_, end_;
  const SimulatorOptions& o_;
  double* u_;
  std::int8_t* status_;
  std::size_t L_;
  int live_ = 0;
  Lanes x_[kGroups][S]{}, th_[kGroups][P]{}, t_[kGroups]{}, dt_[kGroups]{}, tk_[kGroups]{};
  LaneBits steps_[kGroups]{}, rejected_[kGroups]{}, active_[kGroups]{};
  long sample_[kGroups][kWidth]{};
  std::size_t k_[kGroups][kWidth]{};
};

// The samples [begin, end) of theta (rows of P = Model::param_size), observed into u (rows of K·L,
// K the model's observed quantities)
// with their status; lanes refill from the range.
template <class Model>
void integrate_lanes(const Model& model, const double* theta, long begin, long end,
                     const SimulatorOptions& o, double* u, std::int8_t* status,
                     InterruptPoll* poll) {
  LaneRun<Model>(model, theta, begin, end, o, u, status).run(poll);
}

}  // namespace fhn_inverse::simulate
