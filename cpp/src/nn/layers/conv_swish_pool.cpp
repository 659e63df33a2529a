// A convolution followed by swish (and average pooling of 2) as one layer (layers.hpp): for one
// input channel, phase planes and the kernels of kernels/conv_pool.hpp (ConvSwishPool2); else
// the convolution's own kernels with swish's backward written into its padded rows (ConvSwish).
//
// (GCC 12 takes the undefined first operand of AVX-512's min, max and roundscale intrinsics,
// inlined into the forward kernel's σ, for an uninitialised read: a false warning, silenced for
// this file before any header.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <algorithm>

#include "fhn_inverse/nn/layers.hpp"
#include "../kernels/conv_pool.hpp"
#include "../kernels/conv_taps.hpp"
#include "conv_series.hpp"
#include "../kernels/elementwise.hpp"

namespace fhn_inverse::nn {

using namespace kernels;

namespace {

PooledConvGeometry geometry(const ConvSwishPool2& f, long n) {
  const Conv1D& c = f.conv;
  return {c.input_shape().length, c.filters,      c.kernel, c.stride,           c.pad_left,
          f.out_length,           f.plane_length, n,        f.even_taps.data(), f.odd_taps.data()};
}

}  // namespace

bool ConvSwishPool2::takes(const Conv1D& c) {
  return c.input_shape().channels == 1 && c.kernel <= kPooledConvMaxKernel && c.out_length >= 2;
}

ConvSwishPool2::ConvSwishPool2(const Conv1D& c) : FusedConv(c) {
  require(takes(c), "the fused convolution needs one input channel, at most " +
                        std::to_string(kPooledConvMaxKernel) +
                        " taps and two outputs or more, got " + c.input_shape().str() +
                        " and kernel " + std::to_string(c.kernel));
  out_length = c.out_length / 2;
  const long s2 = 2 * c.stride;
  long lead = 0;  // the largest shift of a tap's run
  for (long k = 0; k < c.kernel; ++k) lead = std::max(lead, (c.stride + k) / s2);
  plane_length = simd::round_lanes(simd::round_lanes(out_length) + lead);
  for (long k = 0; k < c.kernel; ++k) {
    even_taps.push_back(k % s2 * plane_length + k / s2);
    odd_taps.push_back((c.stride + k) % s2 * plane_length + (c.stride + k) / s2);
  }
}

long ConvSwishPool2::scratch_size(long n) const {
  const long rows = 2 * conv.filters * simd::round_lanes(out_length);  // σ (or dz) per series
  // (then, where it writes planes, one series' output rows: forward's, or backward's merged
  // gradient rows of a block of channels)
  const long io = planes_out ? conv.filters * simd::round_lanes(out_length) : 0;
  return n * (2 * conv.stride * plane_length + 2 * rows) + io;
}

void FusedConv::write_planes(const PlaneLayout& layout) {
  out_layout = layout;
  planes_out = true;
}

long FusedConv::output_floats() const {
  return planes_out ? out_layout.floats() : output_shape().size();
}

LayerDescription ConvSwishPool2::describe() const {
  LayerDescription d = conv.describe();
  d.input_planes = nullptr;  // (one input channel: the first layer)
  d.writes_planes = true;
  d.dx_over_input = false;
  d.backward_reads_output = false;  // (σ and the planes, in scratch)
  return d;
}

void ConvSwishPool2::forward(const float* params, const float* x, float* y, long n, float* scratch,
                             const Context& ctx) const {
  const PooledConvGeometry g = geometry(*this, n);
  const float* bias = params + conv.filters * conv.kernel;
  float* sig = ctx.backward ? scratch + n * g.S() * g.Q : nullptr;
  // (where the next layer takes planes: series j's rows here, then split into its planes)
  float* rows = planes_out ? scratch + n * (g.S() * g.Q + 4 * g.cout * g.lr()) : nullptr;
  const PlaneLayout& L = out_layout;
  for (long j = 0; j < n; ++j) {
    // (rows by index: series j is row rows[j])
    const float* xr = x + (ctx.rows ? ctx.rows[j] : j) * g.lin;
    float* R = scratch + g.planes(j);
    split_phase_planes(g, xr, R);
    if (!rows) {
      conv_pool_forward(g, params, bias, R, sig, y + j * g.lp, n * g.lp, j);
      continue;
    }
    conv_pool_forward(g, params, bias, R, sig, rows, g.lr(), j, true);
    for (long c = 0; c < g.cout; ++c)
      split_row(rows + c * g.lr(), g.lp, L.stride, L.pad, L.plane_length,
                y + (j * g.cout + c) * L.stride * L.plane_length);
  }
}

void ConvSwishPool2::backward(const float* params, const float*, const float*, const float* dy,
                              float* dx, float* dparams, long n, float* scratch) const {
  const PooledConvGeometry g = geometry(*this, n);
  const long F = g.cout, K = g.K;
  const float* bias = params + F * K;
  float* planes = scratch;
  const float* sig = scratch + n * g.S() * g.Q;
  float* dz = dx ? scratch + n * g.S() * g.Q + 2 * F * g.lr() * n : nullptr;
  if (planes_out) {  // the output gradient in the next layer's planes: each block's rows merged
    float* rows = scratch + n * (g.S() * g.Q + 4 * F * g.lr());
    const PlaneLayout& L = out_layout;
    conv_pool_backward(
        g, params, bias, planes, sig,
        [&](long c, long j, long a) {
          float* row = rows + a * g.lr();
          merge_row_whole(dy + (j * F + c) * L.stride * L.plane_length, g.lp, L.stride, L.pad,
                          L.plane_length, row);
          return static_cast<const float*>(row);
        },
        dz, dparams, dparams + F * K);
  } else {
    conv_pool_backward(
        g, params, bias, planes, sig, [&](long c, long j, long) { return dy + (c * n + j) * g.lp; },
        dz, dparams, dparams + F * K);
  }
  if (!dx) return;
  // the input gradient: dz through the taps into the planes' place (spent), then back to the
  // row, series by series
  constexpr long W = simd::kLanes;
  const long S = g.S(), Q = g.Q, lr = g.lr();
  for (long j = 0; j < n; ++j) {
    float* dR = planes + g.planes(j);
    std::fill(dR, dR + S * Q, 0.0f);
    for (long c = 0; c < F; ++c)
      for (long k = 0; k < K; ++k) {
        const simd::vw wk = simd::splatw(params[c * K + k]);
        const float* de = dz + g.sigma(c, j);
        for (int odd = 0; odd < 2; ++odd) {
          float* to = dR + (odd ? g.odd[k] : g.even[k]);
          const float* from = de + odd * lr;
          for (long m = 0; m < lr; m += W)
            simd::storew(to + m, simd::loadw(to + m) + wk * simd::loadw(from + m));
        }
      }
    float* xr = dx + j * g.lin;
    for (long i = 0; i < g.lin; ++i) {  // input i sits in plane (i + pad) mod S
      const long m = (i + g.pad) / S, r = (i + g.pad) % S;
      xr[i] = m < Q ? dR[r * Q + m] : 0.0f;
    }
  }
}

// ------------------------------------------------------------------------------------ ConvSwish
ConvSwish::ConvSwish(const Conv1D& c, bool pool_, bool flatten_)
    : FusedConv(c), pool(pool_), flatten(flatten_) {
  require(!pool || c.out_length >= 2,
          "pool size 2 must be <= input length " + std::to_string(c.out_length));
  out_length = pool ? c.out_length / 2 : c.out_length;
}

std::string ConvSwish::name() const {
  return std::string("Conv1D+swish") + (pool ? "+AvgPool1D" : "") + (flatten ? "+Flatten" : "");
}

long ConvSwish::scratch_size(long n) const {
  // (then, where it writes planes, one output row)
  return conv.scratch_size(n) + 2 * n * conv.output_shape().size() +
         (planes_out ? simd::round_lanes(out_length) : 0);
}

void ConvSwish::take_planes() { conv.take_planes(); }

LayerDescription ConvSwish::describe() const {
  LayerDescription d = conv.describe();  // (dx over its input planes as the convolution's)
  d.writes_planes = !flatten;
  d.backward_reads_output = false;  // (z and σ, in scratch)
  return d;
}

void ConvSwish::forward(const float* params, const float* x, float* y, long n, float* scratch,
                        const Context& ctx) const {
  const long count = n * conv.output_shape().size();
  float* z = scratch + conv.scratch_size(n);
  float* sig = ctx.backward ? z + count : nullptr;
  conv.forward(params, x, z, n, scratch, ctx);
  if (planes_out) {  // row (c, j), then split into the next layer's planes
    float* row = z + 2 * count;
    const PlaneLayout& L = out_layout;
    const long lout = conv.out_length, C = conv.filters;
    for (long c = 0; c < C; ++c)
      for (long j = 0; j < n; ++j) {
        const long r = (c * n + j) * lout;
        if (pool)
          swish_pool2_forward(z + r, sig ? sig + r : nullptr, row, 1, lout, true);
        else
          swish_forward(z + r, row, sig ? sig + r : nullptr, lout);
        split_row(row, out_length, L.stride, L.pad, L.plane_length,
                  y + (j * C + c) * L.stride * L.plane_length);
      }
    return;
  }
  if (!flatten) {
    if (pool)
      swish_pool2_forward(z, sig, y, conv.filters * n, conv.out_length);
    else
      swish_forward(z, y, sig, count);
    return;
  }
  // row (c, j) into sample j's vector at c·L (the same values: both passes act value by value
  // and pair by pair within a row)
  const long lout = conv.out_length, C = conv.filters;
  for (long c = 0; c < C; ++c)
    for (long j = 0; j < n; ++j) {
      const long r = (c * n + j) * lout;
      float* to = y + (j * C + c) * out_length;
      if (pool)
        swish_pool2_forward(z + r, sig ? sig + r : nullptr, to, 1, lout);
      else
        swish_forward(z + r, to, sig ? sig + r : nullptr, lout);
    }
}

void ConvSwish::backward(const float* params, const float* x, const float*, const float* dy,
                         float* dx, float* dparams, long n, float* scratch) const {
  const long lout = conv.out_length, count = n * conv.output_shape().size();
  const float* z = scratch + conv.scratch_size(n);
  const float* sig = z + count;
  float* merged = scratch + conv.scratch_size(n) + 2 * count;  // (an output row, from planes)
  const PlaneLayout& L = out_layout;
  // series by series: swish's input gradient into the padded rows (D zeros, Lout values, zeros
  // to the row's end), from which the convolution's backward reads it at once
  constexpr long W = simd::kLanes;
  const simd::vw zero = simd::splatw(0.0f);
  const long D = conv.padded_lead(), width = conv.padded_width(), C = conv.filters;
  auto fill = [&](long j, float* rows) {
    for (long c = 0; c < C; ++c) {
      float* row = rows + c * width;
      const long r = c * n + j;
      // (the output gradient's row: (c, j) of (C, N, L), sample j's vector at c·L, or merged
      // from the next layer's planes)
      const float* g = dy + (flatten ? j * C + c : r) * out_length;
      if (planes_out) {
        merge_row_whole(dy + (j * C + c) * L.stride * L.plane_length, out_length, L.stride, L.pad,
                        L.plane_length, merged);
        g = merged;
      }
      for (long l = 0; l < D; l += W) simd::storew(row + l, zero);
      for (long l = D + lout / W * W; l < width; l += W) simd::storew(row + l, zero);
      if (pool)
        swish_pool2_backward(z + r * lout, sig + r * lout, g, row + D, 1, lout);
      else
        swish_backward_row(z + r * lout, sig + r * lout, g, row + D, lout);
    }
    return GradRows{rows + D, width, C * width};
  };
  conv.backward_series(params, x, fill, dx, dparams, n, scratch);
}

}  // namespace fhn_inverse::nn
