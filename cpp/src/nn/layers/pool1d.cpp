// Average and maximum pooling over windows of a sequence, per channel; the study's average
// pooling of 2 by pair sums of runs of 16 (kernels/elementwise.hpp), every other by plain loops.
#include <algorithm>

#include "fhn_inverse/nn/layers.hpp"
#include "../kernels/elementwise.hpp"

namespace fhn_inverse::nn {

// --------------------------------------------------------------------------------------- Pool1D
Pool1D::Pool1D(Shape in, Kind kind_, long pool_, long stride_)
    : Layer(in), kind(kind_), pool(pool_), stride(stride_) {
  require(in.is_sequence(), "pooling needs a sequence input (C, L), got shape " + in.str());
  require(pool >= 1, "pool size must be >= 1, got " + std::to_string(pool));
  require(stride >= 1, "pool stride must be >= 1, got " + std::to_string(stride));
  require(in.length >= pool, "pool size " + std::to_string(pool) + " must be <= input length " +
                                 std::to_string(in.length));
  out_length = (in.length - pool) / stride + 1;
}

void Pool1D::forward(const float*, const float* x, float* y, long n, float*, const Context&) const {
  const long rows = in_.channels * n, lin = in_.length, lout = out_length;
  const float inv = 1.0f / static_cast<float>(pool);
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * lin;
    float* yr = y + r * lout;
    if (kind == Kind::average) {
      if (pool == 2 && stride == 2) {  // the study's pooling: pair sums of runs of 16
        kernels::avg_pool2_row(xr, yr, lout, inv);
      } else {
        for (long l = 0; l < lout; ++l) {
          float s = 0.0f;
          for (long i = 0; i < pool; ++i) s += xr[l * stride + i];
          yr[l] = s * inv;
        }
      }
    } else {
      for (long l = 0; l < lout; ++l) {
        float m = xr[l * stride];
        for (long i = 1; i < pool; ++i) m = std::max(m, xr[l * stride + i]);
        yr[l] = m;
      }
    }
  }
}

void Pool1D::backward(const float*, const float* x, const float*, const float* dy, float* dx,
                      float*, long n, float*) const {
  if (!dx) return;
  const long rows = in_.channels * n, lin = in_.length, lout = out_length;
  const float inv = 1.0f / static_cast<float>(pool);
  if (kind == Kind::average && pool == 2 && stride == 2) {  // the study's pooling: no scatter
    for (long r = 0; r < rows; ++r)
      kernels::avg_pool2_row_backward(dy + r * lout, dx + r * lin, lout, lin, inv);
    return;
  }
  std::fill(dx, dx + rows * lin, 0.0f);
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * lin;
    const float* dyr = dy + r * lout;
    float* dxr = dx + r * lin;
    for (long l = 0; l < lout; ++l) {
      if (kind == Kind::average) {
        for (long i = 0; i < pool; ++i) dxr[l * stride + i] += dyr[l] * inv;
      } else {  // the first maximum of the window takes the gradient (as PyTorch)
        long best = l * stride;
        for (long i = 1; i < pool; ++i)
          if (xr[l * stride + i] > xr[best]) best = l * stride + i;
        dxr[best] += dyr[l];
      }
    }
  }
}

}  // namespace fhn_inverse::nn
