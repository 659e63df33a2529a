// Flatten: (C, N, L) → (N, C·L) (a copy for vector inputs).
#include <cstring>

#include "fhn_inverse/nn/layers.hpp"

namespace fhn_inverse::nn {

// -------------------------------------------------------------------------------------- Flatten
Flatten::Flatten(Shape in) : Layer(in) {}

void Flatten::forward(const float*, const float* x, float* y, long n, float*,
                      const Context&) const {
  if (!in_.is_sequence()) {
    std::memcpy(y, x, sizeof(float) * n * in_.length);
    return;
  }
  const long c = in_.channels, l = in_.length;
  for (long ci = 0; ci < c; ++ci)
    for (long j = 0; j < n; ++j)
      std::memcpy(y + j * c * l + ci * l, x + (ci * n + j) * l, sizeof(float) * l);
}

void Flatten::backward(const float*, const float*, const float*, const float* dy, float* dx, float*,
                       long n, float*) const {
  if (!dx) return;
  if (!in_.is_sequence()) {
    std::memcpy(dx, dy, sizeof(float) * n * in_.length);
    return;
  }
  const long c = in_.channels, l = in_.length;
  for (long ci = 0; ci < c; ++ci)
    for (long j = 0; j < n; ++j)
      std::memcpy(dx + (ci * n + j) * l, dy + j * c * l + ci * l, sizeof(float) * l);
}

LayerDescription Flatten::describe() const {
  LayerDescription d;
  d.eval_identity = !in_.is_sequence();  // a vector is copied as it is
  return d;
}

}  // namespace fhn_inverse::nn
