// Element-wise activations, forward and backward, through Eigen's vectorised array functions;
// swish's forward, the study's activation, as one fused pass (kernels/elementwise.hpp).
#include "fhn_inverse/nn/activations.hpp"

#include <algorithm>
#include <cmath>
#include <unsupported/Eigen/SpecialFunctions>

#include "../kernels/elementwise.hpp"

namespace fhn_inverse::nn {

ActivationKind parse_activation(const std::string& name) {
  if (name == "relu") return ActivationKind::relu;
  if (name == "swish" || name == "silu") return ActivationKind::swish;
  if (name == "gelu") return ActivationKind::gelu;
  if (name == "tanh") return ActivationKind::tanh;
  if (name == "sigmoid") return ActivationKind::sigmoid;
  throw std::invalid_argument(
      "activation must be one of relu, swish, silu, gelu, tanh, sigmoid; got '" + name + "'");
}

bool is_activation(const std::string& name) {
  return name == "relu" || name == "swish" || name == "silu" || name == "gelu" || name == "tanh" ||
         name == "sigmoid";
}

std::string activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::relu:
      return "relu";
    case ActivationKind::swish:
      return "swish";
    case ActivationKind::gelu:
      return "gelu";
    case ActivationKind::tanh:
      return "tanh";
    case ActivationKind::sigmoid:
      return "sigmoid";
  }
  return "?";
}

void Activation::forward(const float*, const float* x_, float* y_, long n, float* scratch,
                         const Context& ctx) const {
  const long count = n * in_.size();
  ConstMapArr x(x_, count);
  MapArr y(y_, count);
  switch (kind) {
    case ActivationKind::relu:
      y = x.max(0.0f);
      break;
    case ActivationKind::swish:  // y = x σ(x), σ kept for backward (no cache in inference)
      kernels::swish_forward(x_, y_, scratch && ctx.backward ? scratch : nullptr, count);
      break;
    case ActivationKind::gelu:
      y = 0.5f * x * (1.0f + (x * float(M_SQRT1_2)).erf());
      break;
    case ActivationKind::tanh:
      y = x.tanh();
      break;
    case ActivationKind::sigmoid:
      y = 1.0f / (1.0f + (-x).exp());
      break;
  }
}

void Activation::backward(const float*, const float* x_, const float* y_, const float* dy_,
                          float* dx_, float*, long n, float* scratch) const {
  if (!dx_) return;
  const long count = n * in_.size();
  ConstMapArr x(x_, count), y(y_, count), dy(dy_, count);
  MapArr dx(dx_, count);
  constexpr float inv_sqrt_2pi = 0.3989422804014327f;
  switch (kind) {
    case ActivationKind::relu:
      dx = (x > 0.0f).select(dy, 0.0f);
      break;
    case ActivationKind::swish: {  // d/dx x σ(x) = σ(x) (1 + x (1 − σ(x))), σ cached by forward
      ConstMapArr sg(scratch, count);
      dx = dy * sg * (1.0f + x * (1.0f - sg));
      break;
    }
    case ActivationKind::gelu:
      dx = dy * (0.5f * (1.0f + (x * float(M_SQRT1_2)).erf()) +
                 x * inv_sqrt_2pi * (-0.5f * x.square()).exp());
      break;
    case ActivationKind::tanh:
      dx = dy * (1.0f - y.square());
      break;
    case ActivationKind::sigmoid:
      dx = dy * y * (1.0f - y);
      break;
  }
}

LayerDescription Activation::describe() const {
  LayerDescription d;
  d.elementwise = true;
  return d;
}

}  // namespace fhn_inverse::nn
