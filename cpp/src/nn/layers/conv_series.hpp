// Conv1D's backward series by series (layers.hpp, Conv1D::backward_series): the one private
// header of the two files that run it (conv1d.cpp, and conv_swish_pool.cpp for ConvSwish).
//
// Series j's output-gradient rows are written (by the caller's fill), summed for db, transposed
// where dW runs in the lanes, multiplied into dW's accumulators and through the taps into dx
// while they are in L1: run pass by pass over the whole chunk, each pass read the rows the one
// before had written from L2 (at the study's chunk of 16 series, a chunk's rows, planes, caches
// and gradients outgrow L2's share of the core's working set). Every sum keeps its order (dW's
// accumulators are left in scratch from one series to the next: GradAccumulators), so the bits
// are those of a pass over the whole chunk.
#pragma once

#include <algorithm>

#include "fhn_inverse/nn/layers.hpp"
#include "../kernels/conv_taps.hpp"

namespace fhn_inverse::nn {
// (internal linkage, as private helpers of the files that include this)
namespace {

kernels::ConvGeometry geometry(const Conv1D& c, long n) {
  const Shape in = c.input_shape();
  return {in.channels,    in.length,  c.filters,    c.kernel,
          c.stride,       c.pad_left, c.out_length, (c.kernel - 1) / c.stride,
          c.plane_length, n};
}

}  // namespace

template <class Fill>
void Conv1D::backward_series(const float* params, const float* x, Fill&& fill, float* dx,
                             float* dparams, long n, float* scratch) const {
  using namespace kernels;
  const ConvGeometry g = geometry(*this, n);
  const long ck = g.ck(), F = g.cout, G = series_group(n);
  // forward's planes: x itself with planes_in, else its split in scratch
  const float* P = planes_in ? x : scratch;
  const ScratchLayout at = scratch_layout(n, scratch);
  // per plane r, weights wr (taps (co, k ≡ r), Cin) in dx_taps' order, for the transposed
  // convolution into the planes' place (series j's, spent after its dW) or straight into dx with
  // planes_in
  if (dx)
    for (long r = 0; r < g.s; ++r) {
      long t = dx_tap_start[r];
      for (long c = 0; c < F; ++c)
        for (long k = r; k < g.K; k += g.s, ++t)
          for (long ci = 0; ci < g.cin; ++ci)
            at.wr[t * g.cin + ci] = params[(c * g.cin + ci) * g.K + k];
    }
  float* dP = planes_in ? dx : scratch;
  const long qn =
      std::min(g.Q, simd::round_lanes((g.lin - 1 + g.pad) / g.s + 1));  // positions dx reads
  for (long j0 = 0; j0 < n; j0 += G) {
    ConvGeometry group = g;  // (the group's series: the kernels' loops over series)
    group.n = std::min(G, n - j0);
    // series j's dY[c, ·] at rows.dy + c·rows.ld_co, the group's next series' rows.ld_j after
    GradRows first{};
    for (long j = j0; j < j0 + group.n; ++j) {
      const GradRows rows = fill(j, at.rows + (j - j0) * F * padded_width());
      if (j == j0) first = rows;
      // db: each row's sum (row_sums: the same order wherever the row lies), summed over the
      // series at the end
      row_sums(rows.dy, rows.ld_co, F, g.lout, at.sums + j * F);
    }
    const float* Pj = P + g.plane(0, j0, 0);
    const GradAccumulators acc{at.acc, j0 == 0, j0 + group.n == n};
#ifdef FHN_SIXTEEN_LANES
    if (channel_lanes()) {  // channels in the lanes (kernels/conv_taps.hpp)
      transpose_output_grad(group, first, at.T);
      weight_grad_lanes(group, taps.data(), at.T, Pj, dparams, acc);
    } else
#endif
    {
      weight_grad_by_rows(group, taps.data(), first, Pj, dparams, acc);
    }
    if (!dx) continue;
    for (long j = j0; j < j0 + group.n; ++j) {
      // (the padded rows, D zeros before each and zeros after it, as dx_taps read them)
      const float* row0 = first.dy + (j - j0) * first.ld_j - g.lead();
      for (long r = 0; r < g.s; ++r) {
        const long t0 = dx_tap_start[r], nt = dx_tap_start[r + 1] - t0;
        tap_rows(g.cin, nt, dx_taps.data() + t0, at.wr + t0 * g.cin, g.cin, row0, nullptr,
                 dP + g.plane(0, j, r), g.s * g.Q, qn);
      }
      if (planes_in) continue;  // (dP was dx)
      for (long ci = 0; ci < g.cin; ++ci)
        merge_row(dP + g.plane(ci, j, 0), g.lin, g.s, g.pad, g.Q, dx + (ci * n + j) * g.lin);
    }
  }
  for (long c = 0; c < F; ++c) {
    float sum = 0.0f;
    for (long j = 0; j < n; ++j) sum += at.sums[j * F + c];
    dparams[filters * ck + c] = sum;
  }
}

}  // namespace fhn_inverse::nn
