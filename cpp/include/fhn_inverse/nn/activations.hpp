// Element-wise activations as layers (any shape, any layout): ReLU, SiLU/swish, GELU (exact,
// erf form as PyTorch's default), tanh, sigmoid. Backward recomputes what it needs from x and y,
// except swish, whose forward caches σ(x) in scratch. Vectorised through Eigen's array functions.
#pragma once

#include <string>

#include "fhn_inverse/nn/layer.hpp"

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
  LayerDescription describe() const override;
};

}  // namespace fhn_inverse::nn
