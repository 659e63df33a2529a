// What every layer shares: parameter counts from the tensor shapes, Glorot initialisation.
#include <cmath>

#include "fhn_inverse/nn/layer.hpp"

namespace fhn_inverse::nn {

long ParamShape::size() const {
  long s = 1;
  for (long d : shape) s *= d;
  return s;
}

long Layer::n_params() const {
  long p = 0;
  for (const auto& t : params()) p += t.size();
  return p;
}

void glorot_uniform(float* w, long count, long fan_in, long fan_out, Rng& rng) {
  const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  for (long i = 0; i < count; ++i) w[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * a);
}

}  // namespace fhn_inverse::nn
