// Inverted dropout; its masks are drawn by kernels::dropout_apply (kernels/elementwise.hpp).
#include <algorithm>
#include <cstring>

#include "fhn_inverse/nn/layers.hpp"
#include "../kernels/elementwise.hpp"

namespace fhn_inverse::nn {

// -------------------------------------------------------------------------------------- Dropout
Dropout::Dropout(Shape in, double rate_) : Layer(in), rate(rate_) {
  require(rate >= 0.0 && rate < 1.0, "dropout rate must be in [0, 1), got " + std::to_string(rate));
}

void Dropout::forward(const float*, const float* x, float* y, long n, float* scratch,
                      const Context& ctx) const {
  const long count = n * in_.size();
  if (!ctx.training || rate == 0.0) {
    std::memcpy(y, x, sizeof(float) * count);
    if (ctx.training || ctx.backward) std::fill(scratch, scratch + count, 1.0f);
    return;
  }
  const std::uint64_t index = (ctx.step << 24) ^ (static_cast<std::uint64_t>(ctx.layer) << 12) ^
                              static_cast<std::uint64_t>(ctx.chunk);
  Rng8 rng(ctx.seed, Stream::dropout, index);
  kernels::dropout_apply(x, y, scratch, count, rate, rng);
}

void Dropout::backward(const float*, const float*, const float*, const float* dy, float* dx, float*,
                       long n, float* scratch) const {
  if (!dx) return;
  const long count = n * in_.size();
  for (long i = 0; i < count; ++i) dx[i] = dy[i] * scratch[i];
}

LayerDescription Dropout::describe() const {
  LayerDescription d;
  d.elementwise = true;
  d.eval_identity = true;
  return d;
}

}  // namespace fhn_inverse::nn
