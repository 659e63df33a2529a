// Kernels of the direct convolution over phase planes (nn/layers.hpp, Conv1D): the register-
// blocked tap loops behind y = W ⋆ x and dx = Wᵀ ⋆ dY, the weight gradient dW = dY ⋆ x, and the
// stride-2 plane split and merge. At the study's sizes (K = 3, 1 to 16 input channels, chunks of
// 16 series) an im2col matrix and a GEMM's packing of it cost as much as the multiplications.
#pragma once

#include <algorithm>
#include <type_traits>

#include "simd.hpp"

namespace fhn_inverse::nn::kernels {
// (internal linkage, as private helpers of the one file that includes this)
namespace {

using namespace simd;

// One layer on a chunk of n series. Plane buffers hold, per series j and channel c, s planes of Q
// floats; padded output-gradient rows hold D zeros, Lout values, zeros (Q + D floats), where
// D = E = ⌊(K − 1)/s⌋ rounded up to the vector width: each row's values start on a vector
// boundary, so the weight gradient reads them without cache-line splits.
struct ConvGeometry {
  long cin, lin, cout, K, s, pad, lout, E, Q, n;
  long ck() const { return cin * K; }
  long lead() const { return round_lanes(E); }  // D
  long plane(long c, long j, long r) const { return ((j * cin + c) * s + r) * Q; }
  long row(long co, long j) const { return (j * cout + co) * (Q + lead()); }
};

// Where the weight gradient finds dY[co, j, ·]: dy + co·ld_co + j·ld_j (the layer's output
// gradient as it lies, or the padded rows).
struct GradRows {
  const float* dy;
  long ld_co, ld_j;
};

// out[a·ld + i] = bias[a] + Σ_t w[t·ldw + a] in[off[t] + i] for G output rows a and W·V
// positions i (W = kLanes, the level's vector width; the first `count` stored): per tap V
// vector loads and G broadcasts into G·V accumulators (12 of them for the 4 × 3 block: 7 loads
// per 12 FMAs; 24 for AVX-512's 8 × 3: 11 per 24). The forward pass (rows: output channels;
// taps: (ci, k) runs of the planes) and the input gradient (rows: input channels of one plane;
// taps: (co, k) runs of dY) are both this loop. It reads W·V positions from every tap's start,
// stored or not. Each position sums its taps in order whatever W, G and V: the result does not
// depend on the level's vector width.
template <int G, int V>
void tap_block(long taps, const long* off, const float* w, long ldw, const float* in,
               const float* bias, float* out, long ld, long count) {
  constexpr long W = kLanes;
  vw acc[G][V];
#pragma GCC unroll 8
  for (int a = 0; a < G; ++a)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[a][v] = splatw(bias ? bias[a] : 0.0f);
  for (long t = 0; t < taps; ++t, w += ldw) {
    vw x[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) x[v] = loadw(in + off[t] + W * v);
#pragma GCC unroll 8
    for (int a = 0; a < G; ++a) {
      const vw wa = splatw(w[a]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[a][v] += wa * x[v];
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    const long left = count - W * v;
    if (left <= 0) break;
#pragma GCC unroll 8
    for (int a = 0; a < G; ++a) storew_first(out + a * ld + W * v, acc[a][v], left);
  }
}

// Rows per block of several vectors: 8 where AVX-512's 32 registers hold 8 × 3 accumulators,
// else 4 (12 of AVX2's 16).
constexpr int kRowBlock = kLanes == 16 ? 8 : 4;

// tap_block over rows [0, rows) in blocks of kRowBlock, 4, 2, 1 (of 8 first for runs of one
// vector: 8 accumulators), for one run of W·V positions.
template <int V>
void tap_run(long rows, long taps, const long* off, const float* w, long ldw, const float* in,
             const float* bias, float* out, long ld, long count) {
  long a = 0;
  auto block = [&](auto width) {
    constexpr int G = decltype(width)::value;
    tap_block<G, V>(taps, off, w + a, ldw, in, bias ? bias + a : nullptr, out + a * ld, ld, count);
    a += G;
  };
  if constexpr (V == 1 || kRowBlock == 8)
    while (rows - a >= 8) block(std::integral_constant<int, 8>{});
  while (rows - a >= 4) block(std::integral_constant<int, 4>{});
  if (rows - a >= 2) block(std::integral_constant<int, 2>{});
  if (rows - a == 1) block(std::integral_constant<int, 1>{});
}

// Positions [0, count) in runs of 3 vectors while more than 2 remain, then one run of 2 or 1.
// Every run starts at a multiple of W below count and reads at most W − 1 positions past count.
void tap_rows(long rows, long taps, const long* off, const float* w, long ldw, const float* in,
              const float* bias, float* out, long ld, long count) {
  constexpr long W = kLanes;
  for (long l = 0; l < count;) {
    const long left = count - l;
    if (left > 2 * W) {
      tap_run<3>(rows, taps, off, w, ldw, in + l, bias, out + l, ld, std::min(3 * W, left));
      l += 3 * W;
    } else if (left > W) {
      tap_run<2>(rows, taps, off, w, ldw, in + l, bias, out + l, ld, left);
      l += 2 * W;
    } else {
      tap_run<1>(rows, taps, off, w, ldw, in + l, bias, out + l, ld, left);
      l += W;
    }
  }
}

// Σ p[0, count) in W lanes (the tail by a masked load), then one horizontal sum: the same order
// wherever the row lies (Eigen's sum peels to the next aligned address first).
inline float row_sum(const float* p, long count) {
  constexpr long W = kLanes;
  vw acc = splatw(0.0f);
  for (long l = 0; l < count; l += W) acc += loadw_first(p + l, count - l);
  return hsumw(acc);
}

// sums[j] = row_sum(p + j·ld, count) for j < n, bit for bit: where AVX-512 has the transposing
// tree, the horizontal sums of 16 rows at a time by hsumw_many (one row at a time, each sum's
// chain of dependent additions bounded the bias gradient's loop).
inline void row_sums(const float* p, long ld, long n, long count, float* sums) {
#ifdef FHN_SIXTEEN_LANES
  constexpr long W = kLanes;
  for (long j0 = 0; j0 < n; j0 += 16) {
    const long m = std::min(16L, n - j0);
    vw acc[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) acc[j] = splatw(0.0f);
    for (long j = 0; j < m; ++j) {
      const float* r = p + (j0 + j) * ld;
      for (long l = 0; l < count; l += W) acc[j] += loadw_first(r + l, count - l);
    }
    float out[16];
    hsumw_many<16>(acc, out);
    std::copy(out, out + m, sums + j0);
  }
#else
  for (long j = 0; j < n; ++j) sums[j] = row_sum(p + j * ld, count);
#endif
}

// Series per call of the row kernel in a backward run series by series (Conv1D::backward_series):
// each call takes up its accumulators from scratch and leaves them there, once per group.
constexpr long kSeriesGroup = 4;

// Positions read past the last one stored (tap_rows), and past the padded dY rows' end by the
// input gradient.
constexpr long kOverread = 2 * kLanes;

// Where a weight-gradient kernel's accumulators go between calls, when the series come in
// several calls (series by series, each while its rows are in L1): a call other than the first
// starts from the accumulators the one before left in `acc`, and a call other than the last
// leaves them there instead of summing them into dW. Each accumulator then takes its terms in
// the order one call over every series would: the same bits. (acc: the rows kernel's Cout · Cin·K
// vectors, (co, t) at co · Cin·K + t; the lanes kernel's Cin·K · Cout/W, (t, v) at t · Cout/W + v;
// W floats each.)
struct GradAccumulators {
  float* acc = nullptr;  // (W floats an accumulator)
  bool first = true, last = true;
};

// dW[co, t] = Σ_j Σ_l dY[co, j, l] P_j[off[t] + l] for co ∈ [co0, co0 + A) and taps
// t ∈ [t0, t0 + B): A·B accumulators of W lanes over every series and position (the dY tail of
// each row read masked), one horizontal sum at the end (so the summation order, and the last
// bits, follow the level's vector width).
template <int A, int B>
void weight_grad_block(const ConvGeometry& g, const long* off, const GradRows& dy, const float* P,
                       float* dW, long co0, long t0, const GradAccumulators& st) {
  // (loops unrolled, the masked tail apart: the 12 (24) accumulators of the 4 × 3 (8 × 3) block
  // stay in registers)
  constexpr long W = kLanes;
  const long ck = g.ck();
  vw acc[A][B];
#pragma GCC unroll 8
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 8
    for (int c = 0; c < B; ++c)
      acc[a][c] = st.first ? splatw(0.0f) : loadw(st.acc + ((co0 + a) * ck + t0 + c) * W);
  const long full = g.lout / W * W;
  for (long j = 0; j < g.n; ++j) {
    const float* p[B];
#pragma GCC unroll 8
    for (int c = 0; c < B; ++c) p[c] = P + g.plane(0, j, 0) + off[t0 + c];
    const float* d = dy.dy + co0 * dy.ld_co + j * dy.ld_j;
    const long ldd = dy.ld_co;
    auto step = [&](long l, auto masked) {
      vw pv[B];
#pragma GCC unroll 8
      for (int c = 0; c < B; ++c) pv[c] = loadw_reg(p[c] + l);
#pragma GCC unroll 8
      for (int a = 0; a < A; ++a) {
        const vw dv =
            masked ? loadw_first(d + a * ldd + l, g.lout - l) : loadw_reg(d + a * ldd + l);
#pragma GCC unroll 8
        for (int c = 0; c < B; ++c) acc[a][c] += dv * pv[c];
      }
    };
    for (long l = 0; l < full; l += W) step(l, std::false_type{});
    if (full < g.lout) step(full, std::true_type{});
  }
  if (!st.last) {
#pragma GCC unroll 8
    for (int a = 0; a < A; ++a)
#pragma GCC unroll 8
      for (int c = 0; c < B; ++c) storew(st.acc + ((co0 + a) * ck + t0 + c) * W, acc[a][c]);
    return;
  }
#ifdef FHN_SIXTEEN_LANES
  // the A·B horizontal sums by transposing trees (the same sums): at the study's short rows
  // (30 positions) one sum each would cost as much as the block's FMAs
  float sums[A * B];
  constexpr int first = A * B < 16 ? A * B : 16;
  hsumw_many<first>(&acc[0][0], sums);
  if constexpr (A * B > 16) hsumw_many<A * B - 16>(&acc[0][0] + 16, sums + 16);
#pragma GCC unroll 8
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 8
    for (int c = 0; c < B; ++c) dW[(co0 + a) * ck + t0 + c] = sums[a * B + c];
#else
#pragma GCC unroll 8
  for (int a = 0; a < A; ++a)
#pragma GCC unroll 8
    for (int c = 0; c < B; ++c) dW[(co0 + a) * ck + t0 + c] = hsumw(acc[a][c]);
#endif
}

// Output channels [co0, co0 + A) over every tap: blocks of B taps, then of 3, 2 or 1.
template <int A, int B = 3>
void weight_grad_rows(const ConvGeometry& g, const long* off, const GradRows& dy, const float* P,
                      float* dW, long co0, const GradAccumulators& st) {
  const long ck = g.ck();
  long t = 0;
  if constexpr (B != 3)
    for (; t + B <= ck; t += B) weight_grad_block<A, B>(g, off, dy, P, dW, co0, t, st);
  for (; t + 3 <= ck; t += 3) weight_grad_block<A, 3>(g, off, dy, P, dW, co0, t, st);
  if (ck - t == 2) weight_grad_block<A, 2>(g, off, dy, P, dW, co0, t, st);
  if (ck - t == 1) weight_grad_block<A, 1>(g, off, dy, P, dW, co0, t, st);
}

// The whole weight gradient by the row kernel: blocks of kRowBlock output channels (then 4, 3,
// 2, 1) × 3 taps; where AVX-512's 32 registers hold them and the taps are a multiple of 6,
// blocks of 4 channels × 6 taps instead (the same 24 accumulators: each block streams its dY
// rows from L2 once per 6 taps, the planes twice as often; at the study's second convolution,
// 3 % less time in its backward).
inline void weight_grad_by_rows(const ConvGeometry& g, const long* off, const GradRows& dy,
                                const float* P, float* dW, const GradAccumulators& st = {}) {
  long co = 0;
  if constexpr (kRowBlock == 8) {
    if (g.ck() % 6 == 0)
      for (; co + 4 <= g.cout; co += 4) weight_grad_rows<4, 6>(g, off, dy, P, dW, co, st);
    for (; co + 8 <= g.cout; co += 8) weight_grad_rows<8>(g, off, dy, P, dW, co, st);
  }
  for (; co + 4 <= g.cout; co += 4) weight_grad_rows<4>(g, off, dy, P, dW, co, st);
  switch (g.cout - co) {
    case 3:
      weight_grad_rows<3>(g, off, dy, P, dW, co, st);
      break;
    case 2:
      weight_grad_rows<2>(g, off, dy, P, dW, co, st);
      break;
    case 1:
      weight_grad_rows<1>(g, off, dy, P, dW, co, st);
      break;
    default:
      break;
  }
}

#ifdef FHN_SIXTEEN_LANES
// The weight gradient with output channels in the lanes (AVX-512, Cout a multiple of 16):
// dY transposed to T (N, Lout, Cout), so that per position one vector holds dY of 16 channels,
// and each tap's input value P_j[off[t] + l] is broadcast against it. A block of V channel
// vectors × B taps keeps V·B accumulators over every series and position, in order, with no
// horizontal sum: each dY value and each input value is read once per block from L1 (the row
// kernel above reads the dY rows of 8 channels once per block of 3 taps, from L2 at the study's
// chunk of 16 series), and every FMA's lanes are all wanted at the study's Lout = 30.

// T[(j·Lout + l)·Cout + c] = dY[c, j, l] for the layer's output gradient where `dy` finds it
// (as it lies, or the padded rows), by 8 × 8 tiles; Cout is a multiple of 16.
inline void transpose_output_grad(const ConvGeometry& g, const GradRows& dy, float* T) {
  const long n = g.n, lout = g.lout, cout = g.cout, tiles = lout / 8 * 8;
  for (long j = 0; j < n; ++j) {
    float* Tj = T + j * lout * cout;
    for (long c = 0; c < cout; c += 8) {
      const float* src = dy.dy + c * dy.ld_co + j * dy.ld_j;
      for (long l = 0; l < tiles; l += 8) transpose8x8(src + l, dy.ld_co, Tj + l * cout + c, cout);
      if (tiles < lout)  // the last columns by a masked tile
        transpose8x8(src + tiles, dy.ld_co, Tj + tiles * cout + c, cout, lout - tiles);
    }
  }
}

template <int V, int B>
void weight_grad_lanes_block(const ConvGeometry& g, const long* off, const float* T, const float* P,
                             float* dW, long co0, long t0, const GradAccumulators& st) {
  constexpr long W = kLanes;
  const long nv = g.cout / W;  // (channel vectors: the accumulators' stride between taps)
  vw acc[B][V];
#pragma GCC unroll 24
  for (int b = 0; b < B; ++b)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v)
      acc[b][v] = st.first ? splatw(0.0f) : loadw(st.acc + ((t0 + b) * nv + co0 / W + v) * W);
  long o[B];
#pragma GCC unroll 24
  for (int b = 0; b < B; ++b) o[b] = off[t0 + b];
  const long lout = g.lout, cout = g.cout;
  // R positions per step (4 with one channel vector, 2 with two: V·R dY vectors beside the
  // accumulators), so that each tap's offset is read once per R broadcasts; every accumulator
  // still takes its positions in order
  auto step = [&](const float* Pj, const float* Tj, auto positions) {
    constexpr int R = decltype(positions)::value;
    vw d[R][V];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) d[r][v] = loadw_reg(Tj + r * cout + W * v);
#pragma GCC unroll 24
    for (int b = 0; b < B; ++b) {
      const float* x = Pj + o[b];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const vw xr = splatw(x[r]);
#pragma GCC unroll 2
        for (int v = 0; v < V; ++v) acc[b][v] += d[r][v] * xr;
      }
    }
  };
  constexpr int R = V == 1 ? 4 : 2;
  for (long j = 0; j < g.n; ++j) {
    const float* Pj = P + g.plane(0, j, 0);
    const float* Tj = T + j * lout * cout + co0;
    long l = 0;
    for (; l + R <= lout; l += R) step(Pj + l, Tj + l * cout, std::integral_constant<int, R>{});
    for (; l < lout; ++l) step(Pj + l, Tj + l * cout, std::integral_constant<int, 1>{});
  }
  if (!st.last) {
#pragma GCC unroll 24
    for (int b = 0; b < B; ++b)
#pragma GCC unroll 2
      for (int v = 0; v < V; ++v) storew(st.acc + ((t0 + b) * nv + co0 / W + v) * W, acc[b][v]);
    return;
  }
  const long ck = g.ck();
#pragma GCC unroll 24
  for (int b = 0; b < B; ++b)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) {
      float lanes[W];
      storew(lanes, acc[b][v]);
      for (long k = 0; k < W; ++k) dW[(co0 + W * v + k) * ck + t0 + b] = lanes[k];
    }
}

// Taps [0, ck) in blocks of B (24 accumulators: 12 taps for 32 channels, 24 for 16), then the
// remainder one tap at a time.
template <int V>
void weight_grad_lanes_rows(const ConvGeometry& g, const long* off, const float* T, const float* P,
                            float* dW, long co0, const GradAccumulators& st) {
  constexpr int B = 24 / V;
  const long ck = g.ck();
  long t = 0;
  for (; t + B <= ck; t += B) weight_grad_lanes_block<V, B>(g, off, T, P, dW, co0, t, st);
  for (; t + 4 <= ck; t += 4) weight_grad_lanes_block<V, 4>(g, off, T, P, dW, co0, t, st);
  for (; t < ck; ++t) weight_grad_lanes_block<V, 1>(g, off, T, P, dW, co0, t, st);
}

// The whole weight gradient of a layer with Cout a multiple of 16, from T.
inline void weight_grad_lanes(const ConvGeometry& g, const long* off, const float* T,
                              const float* P, float* dW, const GradAccumulators& st = {}) {
  long co = 0;
  for (; co + 32 <= g.cout; co += 32) weight_grad_lanes_rows<2>(g, off, T, P, dW, co, st);
  for (; co + 16 <= g.cout; co += 16) weight_grad_lanes_rows<1>(g, off, T, P, dW, co, st);
}
#endif

// Both planes of a stride-2 convolution's input row x (length lin, padding pad) from runs of
// 2W inputs: P_0[q] = x[2q − pad], P_1[q] = x[2q + 1 − pad] for q < Q (zeros outside the row).
inline void split_planes_stride2(const float* xr, long lin, long pad, float* p0, float* p1,
                                 long Q) {
  constexpr long W = kLanes;
  for (long q = 0; q < Q;) {
    const long m = 2 * q - pad;    // plane 0 reads x[m], plane 1 x[m + 1]
    if (m >= lin && q + W <= Q) {  // past the row: zeros, without a load
      storew(p0 + q, splatw(0.0f));
      storew(p1 + q, splatw(0.0f));
      q += W;
    } else if (m >= 0 && q + W <= Q) {  // masked loads: zeros past the row's end
      const vw a = loadw_first(xr + m, lin - m), b = loadw_first(xr + m + W, lin - m - W);
      vw even, odd;
      deinterleavew(a, b, even, odd);
      storew(p0 + q, even);
      storew(p1 + q, odd);
      q += W;
    } else {
      p0[q] = m >= 0 && m < lin ? xr[m] : 0.0f;
      p1[q] = m + 1 >= 0 && m + 1 < lin ? xr[m + 1] : 0.0f;
      ++q;
    }
  }
}

// The inverse for the input gradient: xr[2u] = a[u], xr[2u + 1] = b[u] for 2u + 1 < lin, in
// runs of 8 pairs.
inline void merge_planes_stride2(const float* a, const float* b, float* xr, long lin) {
  long u = 0;
  for (; 2 * u + 16 <= lin; u += 8) {
    const v8 av = load8(a + u), bv = load8(b + u);
    store8(xr + 2 * u, FHN_SHUFFLE(v8i, av, bv, 0, 8, 1, 9, 2, 10, 3, 11));
    store8(xr + 2 * u + 8, FHN_SHUFFLE(v8i, av, bv, 4, 12, 5, 13, 6, 14, 7, 15));
  }
  if (2 * u < lin) {  // the last (< 16) values: a masked run (a and b hold a value for each)
    const long left = lin - 2 * u;
    const v8 av = load_first(a + u, (left + 1) / 2), bv = load_first(b + u, left / 2);
    store_first(xr + 2 * u, FHN_SHUFFLE(v8i, av, bv, 0, 8, 1, 9, 2, 10, 3, 11), left);
    if (left > 8)
      store_first(xr + 2 * u + 8, FHN_SHUFFLE(v8i, av, bv, 4, 12, 5, 13, 6, 14, 7, 15), left - 8);
  }
}

// The s phase planes of one input row (length lin, left padding pad), Q floats each from
// `planes` on: P_r[q] = x[q·s + r − pad], 0 where that index falls outside the row. (A
// convolution's forward splits its input rows so; a layer that writes a convolution's input
// planes itself splits its output rows so.)
inline void split_row(const float* xr, long lin, long s, long pad, long Q, float* planes) {
  if (s == 2) {  // both planes from one run of 2W: its even and odd lanes
    split_planes_stride2(xr, lin, pad, planes, planes + Q, Q);
    return;
  }
  for (long r = 0; r < s; ++r) {
    float* pr = planes + r * Q;
    const long lo = std::min(Q, pad > r ? (pad - r + s - 1) / s : 0L);
    const long hi = std::max(lo, std::min(Q, (lin + pad - r + s - 1) / s));
    std::fill(pr, pr + lo, 0.0f);
    if (s == 1)
      std::copy(xr + lo + r - pad, xr + hi + r - pad, pr + lo);
    else
      for (long q = lo; q < hi; ++q) pr[q] = xr[q * s + r - pad];
    std::fill(pr + hi, pr + Q, 0.0f);
  }
}

// The inverse, for a gradient given in planes: xr[i] = P_r[q] for i = q·s + r − pad < lin.
inline void merge_row(const float* planes, long lin, long s, long pad, long Q, float* xr) {
  if (s == 2) {  // xr[2u] = a[u], xr[2u + 1] = b[u]: interleave runs of 8
    const long q0 = pad / 2;
    const float* a = planes + (pad % 2) * Q + q0;
    const float* b = planes + (1 - pad % 2) * Q + q0 + pad % 2;
    merge_planes_stride2(a, b, xr, lin);
    return;
  }
  for (long r = 0; r < s; ++r) {  // inputs i ≡ r − pad (mod s) sit in plane r
    const long i0 = ((r - pad) % s + s) % s;
    const float* pr = planes + r * Q + (i0 + pad) / s;
    for (long i = i0, q = 0; i < lin; i += s, ++q) xr[i] = pr[q];
  }
}

// merge_row into a row with room for round_lanes(lin) floats, for a kernel that reads it right
// away: at s = 2 in whole vectors (their last lanes past lin hold what the planes hold past the
// row), so that each of the reader's vector loads is forwarded from one store. (A load that
// spans two stores, or follows a masked one, of bytes not yet written to the cache waits until
// they are: at the study's rows of 62 that wait took longer than the merge itself.) The planes
// are read up to position ⌈round_lanes(lin)/2⌉ + 1 of each.
inline void merge_row_whole(const float* planes, long lin, long s, long pad, long Q, float* xr) {
  if (s != 2) return merge_row(planes, lin, s, pad, Q, xr);
  constexpr long W = kLanes;
  const long q0 = pad / 2;
  const float* a = planes + (pad % 2) * Q + q0;
  const float* b = planes + (1 - pad % 2) * Q + q0 + pad % 2;
  for (long u = 0; 2 * u < lin; u += W) {
    vw lo, hi;
    interleavew(loadw(a + u), loadw(b + u), lo, hi);
    storew(xr + 2 * u, lo);
    if (2 * u + W < lin) storew(xr + 2 * u + W, hi);
  }
}

}  // namespace
}  // namespace fhn_inverse::nn::kernels
