// Conv1D: direct convolution over phase planes (layers.hpp); its register-blocked loops are in
// kernels/conv_taps.hpp. forward_reference is the same cross-correlation by plain loops.
#include <algorithm>
#include <cstring>

#include "fhn_inverse/nn/layers.hpp"
#include "conv_series.hpp"

namespace fhn_inverse::nn {

using namespace kernels;

// Whether the weight gradient runs with output channels in the lanes (weight_grad_lanes).
bool Conv1D::channel_lanes() const {
#ifdef FHN_SIXTEEN_LANES
  // (rows of at most 4 vectors: measured at the study's sizes, the lane kernel takes 29 % off the
  // third convolution's backward (Lout = 30) and 3 % longer than the row kernel at Lout = 124)
  return filters % simd::kLanes == 0 && out_length <= 4 * simd::kLanes;
#else
  return false;
#endif
}

long kernel_float_lanes() { return simd::kLanes; }

// --------------------------------------------------------------------------------------- Conv1D
Padding parse_padding(const std::string& name) {
  if (name == "valid") return Padding::valid;
  if (name == "same") return Padding::same;
  throw std::invalid_argument("padding must be 'valid' or 'same', got '" + name + "'");
}

Conv1D::Conv1D(Shape in, long filters_, long kernel_, long stride_, Padding padding_)
    : Layer(in), filters(filters_), kernel(kernel_), stride(stride_), padding(padding_) {
  require(in.is_sequence(), "Conv1D needs a sequence input (C, L), got shape " + in.str());
  require(filters >= 1, "Conv1D filters must be >= 1, got " + std::to_string(filters));
  require(kernel >= 1, "Conv1D kernel must be >= 1, got " + std::to_string(kernel));
  require(stride >= 1, "Conv1D stride must be >= 1, got " + std::to_string(stride));
  if (padding == Padding::valid) {
    require(in.length >= kernel, "Conv1D kernel " + std::to_string(kernel) +
                                     " must be <= input length " + std::to_string(in.length));
    out_length = (in.length - kernel) / stride + 1;
    pad_left = 0;
  } else {
    out_length = (in.length + stride - 1) / stride;
    const long total = std::max((out_length - 1) * stride + kernel - in.length, 0L);
    pad_left = total / 2;
  }
  // runs read at most kLanes − 1 positions past Lout (tap_rows), shifted by up to E; every input
  // index's plane position ⌊(i + pad)/s⌋ <= Lout + E lies inside too
  plane_length =
      simd::round_lanes(simd::round_lanes(out_length) + simd::kLanes + (kernel - 1) / stride);
  input_layout = {in_.channels, in_.length, stride, plane_length, pad_left};
  const long q = plane_length, e = simd::round_lanes((kernel - 1) / stride);  // D, the rows' lead
  for (long ci = 0; ci < in_.channels; ++ci)
    for (long k = 0; k < kernel; ++k) taps.push_back((ci * stride + k % stride) * q + k / stride);
  for (long r = 0; r < stride; ++r) {
    dx_tap_start.push_back(static_cast<long>(dx_taps.size()));
    for (long co = 0; co < filters; ++co)
      for (long k = r; k < kernel; k += stride) dx_taps.push_back(co * (q + e) + e - k / stride);
  }
  dx_tap_start.push_back(static_cast<long>(dx_taps.size()));
}

namespace {

// Where each part of Conv1D's scratch starts, in floats from its start (each part a whole number
// of vectors, so that every part starts on a vector boundary), and its size.
struct ScratchOffsets {
  long rows, wr, T, sums, acc, end;
};

ScratchOffsets offsets(const Conv1D& c, long n) {
  const Shape in = c.input_shape();
  const long ck = in.channels * c.kernel;
  ScratchOffsets o;
  o.rows = in.channels * n * c.stride * c.plane_length;
  const long G = c.series_group(n);
  o.wr = o.rows + G * c.filters * c.padded_width();
  o.T = o.wr + simd::round_lanes(c.filters * ck);
  o.sums = o.T + (c.channel_lanes() ? simd::round_lanes(G * c.out_length * c.filters) : 0);
  o.acc = o.sums + simd::round_lanes(n * c.filters);
  // + kOverread: the input gradient's last run reads a few floats past the padded dY rows
  o.end = o.acc + c.filters * ck * simd::kLanes + kOverread;
  return o;
}

}  // namespace

Conv1D::ScratchLayout Conv1D::scratch_layout(long n, float* scratch) const {
  const ScratchOffsets o = offsets(*this, n);
  return {scratch + o.rows, scratch + o.wr, scratch + o.T, scratch + o.sums, scratch + o.acc};
}

long Conv1D::scratch_size(long n) const { return offsets(*this, n).end; }

std::vector<ParamShape> Conv1D::params() const {
  return {{"weight", {filters, in_.channels, kernel}}, {"bias", {filters}}};
}

void Conv1D::take_planes() { planes_in = true; }

LayerDescription Conv1D::describe() const {
  LayerDescription d;
  d.input_planes = &input_layout;
  d.reads_input_in_place = true;       // forward copies its input into the planes
  d.gathers_rows = in_.channels == 1;  // … reading series j from row rows[j]
  d.dx_over_input = planes_in;         // (backward_series: series j's planes spent before its dx)
  d.backward_reads_output = false;
  return d;
}

void Conv1D::init_params(float* params, Rng& rng) const {
  const long nw = filters * in_.channels * kernel;
  glorot_uniform(params, nw, in_.channels * kernel, filters * kernel, rng);
  std::fill(params + nw, params + nw + filters, 0.0f);
}

void Conv1D::forward_reference(const float* params, const float* x, float* y, long n) const {
  const long cin = in_.channels, lin = in_.length, ck = cin * kernel;
  for (long j = 0; j < n; ++j)
    for (long co = 0; co < filters; ++co)
      for (long l = 0; l < out_length; ++l) {
        double acc = params[filters * ck + co];
        for (long ci = 0; ci < cin; ++ci)
          for (long k = 0; k < kernel; ++k) {
            const long i = l * stride + k - pad_left;
            if (i >= 0 && i < lin)
              acc += double(params[co * ck + ci * kernel + k]) * x[(ci * n + j) * lin + i];
          }
        y[(co * n + j) * out_length + l] = static_cast<float>(acc);
      }
}

void Conv1D::forward(const float* params, const float* x, float* y, long n, float* scratch,
                     const Context& ctx) const {
  const ConvGeometry g = geometry(*this, n);
  // transposed weights wt (Cin·K, Cout): a tap's weights for consecutive output channels
  const long ck = g.ck();
  float* wt = scratch_layout(n, scratch).wr;
  for (long co = 0; co < g.cout; ++co)
    for (long t = 0; t < ck; ++t) wt[t * g.cout + co] = params[co * ck + t];
  const float* b = params + filters * ck;
  // series by series: its planes P_r[q] = x[q·s + r − pad] inside the row, 0 outside (kept for
  // backward), then the convolution while they are in L1
  // (with planes_in, x is the planes already: written by the layer before)
  float* P = planes_in ? nullptr : scratch;
  for (long j = 0; j < n; ++j) {
    for (long ci = 0; P && ci < g.cin; ++ci) {
      // (rows by index: one input channel, so series j is row rows[j])
      const float* xr = ctx.rows ? x + ctx.rows[j] * g.lin : x + (ci * n + j) * g.lin;
      split_row(xr, g.lin, g.s, g.pad, g.Q, P + g.plane(ci, j, 0));
    }
    tap_rows(g.cout, ck, taps.data(), wt, g.cout, (P ? P : x) + g.plane(0, j, 0), b, y + j * g.lout,
             n * g.lout, g.lout);
  }
}

void Conv1D::backward(const float* params, const float* x, const float*, const float* dy, float* dx,
                      float* dparams, long n, float* scratch) const {
  const long lout = out_length;
  if (!dx) {  // dY's rows as they lie (C, N, Lout): series j's at dy + j·Lout, Lout·N apart
    backward_series(
        params, x,
        [&](long j, float*) {
          return GradRows{dy + j * lout, n * lout, lout};
        },
        nullptr, dparams, n, scratch);
    return;
  }
  // series j's padded dY rows: D zeros, Lout values, zeros to the row's end (where the input
  // gradient reads them)
  // (by vectors: rows of a few dozen floats, where a call of memcpy and two of memset per row
  // cost more than the copy; D, Q and so the row starts are multiples of the vector width)
  const long D = padded_lead(), width = padded_width();
  constexpr long W = simd::kLanes;
  const vw zero = splatw(0.0f);
  auto fill = [&](long j, float* rows) {
    for (long c = 0; c < filters; ++c) {
      float* row = rows + c * width;
      const float* src = dy + (c * n + j) * lout;
      for (long l = 0; l < D; l += W) storew(row + l, zero);
      long l = 0;
      for (; l < lout; l += W) storew(row + D + l, loadw_first(src + l, lout - l));
      for (; l < plane_length; l += W) storew(row + D + l, zero);
    }
    return GradRows{rows + D, width, filters * width};
  };
  backward_series(params, x, fill, dx, dparams, n, scratch);
}

long Conv1D::series_group(long n) const {
  // (the row kernel's accumulators are left in scratch and taken up again once per group and
  // block: worth it over rows of several runs of positions, not over rows of a few vectors,
  // where a group's calls are short: measured with eight-float vectors, the third convolution's
  // backward (Lout = 30) took 13 % longer in groups of 4 than over the whole chunk)
  if (channel_lanes()) return 1;
  return out_length > 4 * simd::kLanes ? std::min(n, kSeriesGroup) : n;
}

long Conv1D::padded_lead() const { return simd::round_lanes((kernel - 1) / stride); }

long Conv1D::padded_width() const { return plane_length + padded_lead(); }

}  // namespace fhn_inverse::nn
