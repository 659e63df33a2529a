// Shared fixtures for the nn tests: random buffers and a layer-level gradient check
// (dx and every parameter) through check_gradient.
#pragma once

#include <vector>

#include "fhn_inverse/nn/layers.hpp"
#include "fhn_inverse/util/random.hpp"
#include "gradient_check.hpp"

namespace fhn_inverse::testing {

inline std::vector<float> random_vector(long n, std::uint64_t index, double lo = -1.0,
                                        double hi = 1.0) {
  Rng rng(1234, Stream::prior, index);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(lo + (hi - lo) * rng.uniform());
  return v;
}

// f = Σ w·y(x, θ) for a random w; checks dx and dθ of layer.backward against central differences.
// x is in the engine layout for a batch of n. Also checks that backward OVERWRITES dx and dθ.
inline void check_layer_gradients(const nn::Layer& layer, std::vector<float> x, long n,
                                  nn::Context ctx = {}, GradientCheckOptions opt = {}) {
  const long in = layer.input_shape().size() * n, out = layer.output_shape().size() * n;
  ASSERT_EQ(static_cast<long>(x.size()), in);
  ctx.backward = true;  // every forward here is followed by a backward
  std::vector<float> params = random_vector(layer.n_params(), 7);
  std::vector<float> scratch(std::max(layer.scratch_size(n), 1L));
  std::vector<float> y(out), w = random_vector(out, 8);
  auto f = [&]() {
    layer.forward(params.data(), x.data(), y.data(), n, scratch.data(), ctx);
    double s = 0.0;
    for (long i = 0; i < out; ++i) s += static_cast<double>(w[i]) * y[i];
    return s;
  };
  f();
  // backward overwrites dx and dθ: both start filled with garbage
  std::vector<float> dx(in, 123.0f), dparams(layer.n_params(), -77.0f);
  layer.backward(params.data(), x.data(), y.data(), w.data(), dx.data(), dparams.data(), n,
                 scratch.data());
  if (layer.n_params() > 0) {  // a second pass from other garbage gives the same dθ
    f();
    std::vector<float> again(layer.n_params(), 55.0f), dx2(in);
    layer.backward(params.data(), x.data(), y.data(), w.data(), dx2.data(), again.data(), n,
                   scratch.data());
    for (long i = 0; i < layer.n_params(); ++i)
      EXPECT_NEAR(again[i], dparams[i], 1e-5f * (1.0f + std::abs(dparams[i]))) << i;
  }
  check_gradient(f, x.data(), in, dx.data(), layer.name() + " dx", opt);
  if (layer.n_params() > 0)
    check_gradient(f, params.data(), layer.n_params(), dparams.data(), layer.name() + " dθ", opt);
}

}  // namespace fhn_inverse::testing
