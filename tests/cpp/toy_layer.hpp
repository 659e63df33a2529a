// A toy layer, defined in this one file and added with one registration: a learnable scale per
// feature, y = w ⊙ x on vectors (parameter "weight" (F,), initialised to ones). test_toy_parts.cpp
// builds networks with it by its kind name and trains them end to end.
#pragma once

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "fhn_inverse/nn/network.hpp"

namespace fhn_inverse::testing {

class ScaleLayer final : public nn::Layer {
 public:
  explicit ScaleLayer(nn::Shape in) : nn::Layer(in) {
    if (in.is_sequence()) throw std::invalid_argument("scale takes vectors (F,)");
  }
  std::string name() const override { return "Scale"; }
  nn::Shape output_shape() const override { return in_; }
  std::vector<nn::ParamShape> params() const override { return {{"weight", {in_.size()}}}; }
  void init_params(float* params, Rng&) const override {
    std::fill(params, params + in_.size(), 1.0f);
  }
  void forward(const float* w, const float* x, float* y, long n, float*,
               const nn::Context&) const override {
    const long f = in_.size();
    for (long i = 0; i < n; ++i)
      for (long j = 0; j < f; ++j) y[i * f + j] = w[j] * x[i * f + j];
  }
  void backward(const float* w, const float* x, const float*, const float* dy, float* dx, float* dw,
                long n, float*) const override {
    const long f = in_.size();
    std::fill(dw, dw + f, 0.0f);  // the contract: backward overwrites
    for (long i = 0; i < n; ++i)
      for (long j = 0; j < f; ++j) {
        dw[j] += dy[i * f + j] * x[i * f + j];
        if (dx) dx[i * f + j] = w[j] * dy[i * f + j];
      }
  }
};

// The one registration: the kind "scale", once per process.
inline const char* scale_layer_kind() {
  static const bool registered = [] {
    nn::register_layer("scale", [](const nn::LayerSpec&, nn::Shape in) {
      return std::make_unique<ScaleLayer>(in);
    });
    return true;
  }();
  (void)registered;
  return "scale";
}

}  // namespace fhn_inverse::testing
