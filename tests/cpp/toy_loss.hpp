// A toy loss, defined in this one file and added with one registration: the mean absolute error
// over all N·D values (PyTorch's L1Loss, reduction "mean"), dy = sign(y − t) / (N·D).
// test_toy_parts.cpp trains networks with it end to end.
#pragma once

#include <cmath>

#include "fhn_inverse/nn/losses.hpp"

namespace fhn_inverse::testing {

// The one registration: the loss "toy_mae", once per process.
inline nn::LossKind toy_mae() {
  static const nn::LossKind kind = nn::register_loss(
      {"toy_mae", [](long d) { return d; }, [](long outputs) { return outputs; },
       [](const float* y, const float* t, float* dy, long n, long d, double normalizer) {
         double sum = 0.0;
         for (long i = 0; i < n * d; ++i) {
           const double r = static_cast<double>(y[i]) - t[i];
           sum += std::abs(r);
           if (dy)
             dy[i] = static_cast<float>((r > 0) - (r < 0)) / static_cast<float>(normalizer * d);
         }
         return sum / (normalizer * d);
       }});
  return kind;
}

}  // namespace fhn_inverse::testing
