// Element-wise activations as layers (any shape, any layout): ReLU, SiLU/swish, GELU (exact,
// erf form as PyTorch's default), tanh, sigmoid. Backward recomputes what it needs from x and y,
// except swish, whose forward caches σ(x) in scratch. Vectorised through Eigen's array functions.
#pragma once

#include <string>

#include "fhn_inverse/nn/layers.hpp"

namespace fhn_inverse::nn {

enum class ActivationKind { relu, swish, gelu, tanh, sigmoid };

// Accepts relu, swish, silu (= swish), gelu, tanh, sigmoid; throws naming the value otherwise.
ActivationKind parse_activation(const std::string& name);
std::string activation_name(ActivationKind kind);
bool is_activation(const std::string& name);

struct Activation : Layer {
  ActivationKind kind;
  Activation(Shape in, ActivationKind kind) : Layer(in), kind(kind) {}
  std::string name() const override { return activation_name(kind); }
  Shape output_shape() const override { return in_; }
  // swish caches σ(x) from forward for backward (no second exp); the others need none.
  long scratch_size(long n) const override {
    return kind == ActivationKind::swish ? n * in_.size() : 0;
  }
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
};

// The backward of swish followed by average pooling of 2 with stride 2 (the study's CNN) in
// one pass, as the network runs it: on `rows` rows of m inputs z (m >= 2) with σ(z) in s (swish's
// cache), the gradient dp of the pooled rows (⌊m/2⌋ each) becomes dz, as Pool1D::backward and
// Activation::backward in turn would give it, without the gradient of swish's output between.
void swish_pool2_backward(const float* z, const float* s, const float* dp, float* dz, long rows,
                          long m);

}  // namespace fhn_inverse::nn
