// Swish followed by average pooling of 2 with stride 2, as one layer (layers.hpp): the same
// arithmetic as Activation(swish) then Pool1D(average, 2, 2), with one backward pass.
#include "fhn_inverse/nn/layers.hpp"
#include "../kernels/elementwise.hpp"

namespace fhn_inverse::nn {

SwishAvgPool2::SwishAvgPool2(Shape in) : Layer(in) {
  require(in.is_sequence(), "pooling needs a sequence input (C, L), got shape " + in.str());
  require(in.length >= 2, "pool size 2 must be <= input length " + std::to_string(in.length));
  out_length = (in.length - 2) / 2 + 1;
}

// scratch: σ(x) (n · C · L), when a backward follows
void SwishAvgPool2::forward(const float*, const float* x, float* y, long n, float* scratch,
                            const Context& ctx) const {
  kernels::swish_pool2_forward(x, ctx.backward ? scratch : nullptr, y, in_.channels * n,
                               in_.length);
}

void SwishAvgPool2::backward(const float*, const float* x, const float*, const float* dy, float* dx,
                             float*, long n, float* scratch) const {
  if (!dx) return;
  kernels::swish_pool2_backward(x, scratch, dy, dx, in_.channels * n, in_.length);
}

}  // namespace fhn_inverse::nn
