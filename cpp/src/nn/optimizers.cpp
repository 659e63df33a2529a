// Fused Adam/AdamW step, learning-rate schedules, global-norm clipping.
#include "fhn_inverse/nn/optimizers.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <stdexcept>

#include <omp.h>

#include "fhn_inverse/nn/tensor.hpp"

namespace fhn_inverse::nn {

void AdamConfig::validate() const {
  require(beta1 >= 0.0 && beta1 < 1.0, "beta1 must be in [0, 1), got " + std::to_string(beta1));
  require(beta2 >= 0.0 && beta2 < 1.0, "beta2 must be in [0, 1), got " + std::to_string(beta2));
  require(eps > 0.0, "eps must be > 0, got " + std::to_string(eps));
  require(weight_decay >= 0.0, "weight_decay must be >= 0, got " + std::to_string(weight_decay));
}

Adam::Adam(long n_params, AdamConfig config) : config_(config) {
  config_.validate();
  require(n_params >= 0, "n_params must be >= 0, got " + std::to_string(n_params));
  m_.assign(n_params, 0.0f);
  v_.assign(n_params, 0.0f);
}

namespace {
constexpr long kParallelAdam = 16384;  // fewer parameters: one thread

template <bool Decoupled, bool L2>
void adam_range(float* __restrict params, const float* __restrict grads, float* __restrict m,
                float* __restrict v, long lo, long hi, const Adam::Coefficients c) {
#pragma omp simd
  for (long i = lo; i < hi; ++i) {
    float p = params[i];
    float g = grads[i];
    if constexpr (Decoupled) p *= c.decay;
    if constexpr (L2) g += c.wd * p;
    const float mi = m[i] + c.w1 * (g - m[i]);
    const float vi = c.b2 * v[i] + c.w2 * g * g;
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / c.bc2_sqrt + c.eps;
    params[i] = p + (-c.step_size * mi) / denom;  // torch's addcdiv order
  }
}
}  // namespace

void Adam::reset() {
  std::fill(m_.begin(), m_.end(), 0.0f);
  std::fill(v_.begin(), v_.end(), 0.0f);
  t_ = 0;
}

Adam::Coefficients Adam::next(double lr) const {
  if (!(lr > 0.0 && std::isfinite(lr)))  // checked before building the message (hot path)
    throw std::invalid_argument("lr must be > 0, got " + std::to_string(lr));
  const double t = static_cast<double>(t_ + 1);
  const double bc1 = 1.0 - std::pow(config_.beta1, t);
  const double bc2 = 1.0 - std::pow(config_.beta2, t);
  Coefficients c;
  c.step_size = static_cast<float>(lr / bc1);
  c.bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  c.w1 = static_cast<float>(1.0 - config_.beta1);
  c.b2 = static_cast<float>(config_.beta2);
  c.w2 = static_cast<float>(1.0 - config_.beta2);
  c.eps = static_cast<float>(config_.eps);
  c.wd = static_cast<float>(config_.weight_decay);
  c.decay = static_cast<float>(1.0 - lr * config_.weight_decay);
  c.decoupled = config_.decoupled;
  c.l2 = !config_.decoupled && config_.weight_decay != 0.0;
  return c;
}

// One element-wise pass (the core is built with -fno-math-errno so sqrt vectorises; vsqrtps is
// correctly rounded, so results equal the scalar loop's). Elements are independent: splitting
// the range over threads or blocks cannot change any result.
void Adam::apply(const Coefficients& c, float* params, const float* grads, long lo, long hi) {
  float* m = m_.data();
  float* v = v_.data();
  if (c.decoupled)
    adam_range<true, false>(params, grads, m, v, lo, hi, c);
  else if (c.l2)
    adam_range<false, true>(params, grads, m, v, lo, hi, c);
  else
    adam_range<false, false>(params, grads, m, v, lo, hi, c);
}

void Adam::step(float* params, const float* grads, double lr, int n_threads) {
  const Coefficients c = next(lr);
  const long n = static_cast<long>(m_.size());
  // one equal share per thread (the study's CNN, 33,874 parameters, is above the threshold)
  if (n_threads > 1 && n >= kParallelAdam) {
#pragma omp parallel num_threads(n_threads)
    {
      const long t = omp_get_thread_num(), T = omp_get_num_threads();
      apply(c, params, grads, n * t / T / 16 * 16, t + 1 == T ? n : n * (t + 1) / T / 16 * 16);
    }
  } else {
    apply(c, params, grads, 0, n);
  }
  advance();
}

std::string Schedule::name(Kind kind) {
  switch (kind) {
    case Kind::constant:
      return "constant";
    case Kind::warmup:
      return "warmup";
    case Kind::step:
      return "step";
    case Kind::cosine:
      return "cosine";
  }
  return "?";
}

Schedule::Kind Schedule::parse(const std::string& name) {
  if (name == "constant") return Kind::constant;
  if (name == "warmup") return Kind::warmup;
  if (name == "step") return Kind::step;
  if (name == "cosine") return Kind::cosine;
  throw std::invalid_argument("schedule must be one of constant, warmup, step, cosine; got '" +
                              name + "'");
}

void Schedule::validate() const {
  require(lr > 0.0 && std::isfinite(lr), "lr must be > 0, got " + std::to_string(lr));
  require(warmup_steps >= 0, "warmup_steps must be >= 0, got " + std::to_string(warmup_steps));
  require(kind != Kind::warmup || warmup_steps >= 1,
          "schedule 'warmup' needs warmup_steps >= 1, got " + std::to_string(warmup_steps));
  require(step_epochs >= 1, "step_epochs must be >= 1, got " + std::to_string(step_epochs));
  require(gamma > 0.0 && gamma <= 1.0, "gamma must be in (0, 1], got " + std::to_string(gamma));
  require(min_lr >= 0.0 && min_lr <= lr,
          "min_lr must be in [0, lr], got " + std::to_string(min_lr));
  require(steps_per_epoch >= 1,
          "steps_per_epoch must be >= 1, got " + std::to_string(steps_per_epoch));
}

double Schedule::at(long t) const {
  switch (kind) {
    case Kind::constant:
      return lr;
    case Kind::warmup:
      return lr * std::min(1.0, static_cast<double>(t + 1) / static_cast<double>(warmup_steps));
    case Kind::step:
      return lr * std::pow(gamma, static_cast<double>((t / steps_per_epoch) / step_epochs));
    case Kind::cosine: {
      if (t < warmup_steps)
        return lr * static_cast<double>(t + 1) / static_cast<double>(warmup_steps);
      const long span = std::max(total_steps - warmup_steps, 1L);
      const double progress = std::min(1.0, static_cast<double>(t - warmup_steps) / span);
      const double lr_t = min_lr + 0.5 * (lr - min_lr) * (1.0 + std::cos(M_PI * progress));
      return std::max(lr_t, 1e-12);
    }
  }
  return lr;
}

double clip_grad_norm(float* grads, long n, double max_norm) {
  require(max_norm > 0.0, "max_norm must be > 0, got " + std::to_string(max_norm));
  double sq = 0.0;
  for (long i = 0; i < n; ++i) sq += static_cast<double>(grads[i]) * grads[i];
  const double norm = std::sqrt(sq);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const float c = static_cast<float>(coef);
    for (long i = 0; i < n; ++i) grads[i] *= c;
  }
  return norm;
}

}  // namespace fhn_inverse::nn
