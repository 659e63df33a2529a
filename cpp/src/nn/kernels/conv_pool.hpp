// Kernels of a one-channel convolution followed by swish and average pooling of 2, as one layer
// (nn/layers.hpp, ConvSwishPool2): the study's first block. The input row is split into 2s phase
// planes R_r[m] = x[2s·m + r − pad], so that the two convolution outputs pooled into output m,
// z[2m] and z[2m + 1], are runs of the same positions m of the planes: tap k of the even output
// reads R_{k mod 2s}[m + ⌊k/2s⌋], of the odd output R_{(s + k) mod 2s}[m + ⌊(s + k)/2s⌋]. Both
// outputs of a pooled position then sit in the same lane of two accumulators: swish and the
// pair mean are applied in registers, and the convolution's output is never stored. Backward
// recomputes z from the planes (K FMAs per value, the forward's own order, so the same bits)
// instead of reading it back, and accumulates dW and db from dz in the same pass.
#pragma once

#include <algorithm>

#include "simd.hpp"

namespace fhn_inverse::nn::kernels {
// (internal linkage, as private helpers of the one file that includes this)
namespace {

using namespace simd;

// One layer on a chunk of n series: per series, S = 2s planes of Q floats (the planes), and per
// channel and series the even and odd σ rows of Lr = round_lanes(Lp) floats (the cache).
struct PooledConvGeometry {
  long lin, cout, K, s, pad, lp, Q, n;
  const long* even;  // K offsets of the even outputs' taps from a series' first plane
  const long* odd;   // … of the odd outputs'
  long S() const { return 2 * s; }
  long lr() const { return round_lanes(lp); }
  long planes(long j) const { return j * S() * Q; }
  long sigma(long c, long j) const { return (c * n + j) * 2 * lr(); }  // even row, odd after it
};

// The phase planes of one input row (zeros outside it): R_r[m] = x[2s·m + r − pad], m < Q; for
// s = 2 by runs of 4W inputs split twice into even and odd lanes.
inline void split_phase_planes(const PooledConvGeometry& g, const float* xr, float* R) {
  const long S = g.S(), Q = g.Q;
  auto one = [&](long m) {
    for (long r = 0; r < S; ++r) {
      const long i = S * m + r - g.pad;
      R[r * Q + m] = i >= 0 && i < g.lin ? xr[i] : 0.0f;
    }
  };
  long m = 0;
  if (S == 4) {
    constexpr long W = kLanes;
    for (; m + W <= Q; m += W) {
      const long i = 4 * m - g.pad;
      if (i < 0) {  // (the left padding: only the first run)
        for (long u = m; u < m + W; ++u) one(u);
        continue;
      }
      auto at = [&](long v) { return loadw_first(xr + i + W * v, g.lin - i - W * v); };
      vw e1, o1, e2, o2, r0, r1, r2, r3;
      deinterleavew(at(0), at(1), e1, o1);  // x[i + 2u], x[i + 2u + 1] for u < W
      deinterleavew(at(2), at(3), e2, o2);  // … for u in [W, 2W)
      deinterleavew(e1, e2, r0, r2);
      deinterleavew(o1, o2, r1, r3);
      storew(R + m, r0);
      storew(R + Q + m, r1);
      storew(R + 2 * Q + m, r2);
      storew(R + 3 * Q + m, r3);
    }
  }
  for (; m < Q; ++m) one(m);
}

// Forward of G channels [c0, c0 + G) of series j: row c of y (channel c's row of series j, ld_y
// floats from channel c − 1's) gets the pair means of z σ(z),
// sig the σ rows unless it is null (no backward follows). z sums the bias and then the taps in
// order, as Conv1D; the pair mean is (z[2m] σ(z[2m]) + z[2m + 1] σ(z[2m + 1])) / 2 with each
// product rounded, as swish then the pooling: the same bits as those layers.
// With whole, y's rows have room for Lr floats and the last vector of each is stored whole (for
// a reader that follows at once: a load of bytes that a masked store has not yet written to the
// cache waits for it, where a whole store forwards its value).
template <int G>
void conv_pool_forward_block(const PooledConvGeometry& g, const float* w, const float* bias,
                             const float* R, float* sig, float* y, long ld_y, long c0, long j,
                             bool whole) {
  // (the geometry in locals: the stores, by memcpy, might alias it)
  constexpr long W = kLanes;
  const long K = g.K, lp = g.lp, lr = g.lr();
  const long* even = g.even;
  const long* odd = g.odd;
  float* sr = sig ? sig + g.sigma(c0, j) : nullptr;  // channel c0's rows, 2·n·Lr floats apart
  const long ld_sig = 2 * g.n * lr;
  float* yr = y + c0 * ld_y;
  for (long m = 0; m < lp; m += W) {
    vw ze[G], zo[G];
#pragma GCC unroll 8
    for (int a = 0; a < G; ++a) {
      ze[a] = splatw(bias[c0 + a]);
      zo[a] = ze[a];
    }
    for (long k = 0; k < K; ++k) {
      const vw xe = loadw(R + even[k] + m), xo = loadw(R + odd[k] + m);
#pragma GCC unroll 8
      for (int a = 0; a < G; ++a) {
        const vw wa = splatw(w[(c0 + a) * K + k]);
        ze[a] += wa * xe;
        zo[a] += wa * xo;
      }
    }
#pragma GCC unroll 8
    for (int a = 0; a < G; ++a) {
      const vw se = sigmoidw(ze[a]), so = sigmoidw(zo[a]);
      if (sr) {
        storew(sr + a * ld_sig + m, se);
        storew(sr + a * ld_sig + lr + m, so);
      }
      vw pe = ze[a] * se, po = zo[a] * so;
#ifdef __FMA__
      asm("" : "+v"(pe), "+v"(po));  // (each product rounded: no FMA across the sum)
#endif
      if (whole)
        storew(yr + a * ld_y + m, (pe + po) * 0.5f);
      else
        storew_first(yr + a * ld_y + m, (pe + po) * 0.5f, lp - m);
    }
  }
}

// Channels in blocks of 4, 2, 1 (8 accumulators: room for σ's constants).
inline void conv_pool_forward(const PooledConvGeometry& g, const float* w, const float* bias,
                              const float* R, float* sig, float* y, long ld_y, long j,
                              bool whole = false) {
  long c = 0;
  for (; c + 4 <= g.cout; c += 4)
    conv_pool_forward_block<4>(g, w, bias, R, sig, y, ld_y, c, j, whole);
  if (g.cout - c >= 2) {
    conv_pool_forward_block<2>(g, w, bias, R, sig, y, ld_y, c, j, whole);
    c += 2;
  }
  if (g.cout - c == 1) conv_pool_forward_block<1>(g, w, bias, R, sig, y, ld_y, c, j, whole);
}

// Backward of G channels [c0, c0 + G) over every series, K taps: dz = g σ (1 + z (1 − σ)) with
// g = dp/2 (dp's rows from dp_row, zero past Lp by the masked load) and z recomputed; dW[c, k] = Σ
// dz x and db[c] = Σ dz in G·(K + 1) accumulators of W lanes over every series and position, in
// order, then one horizontal sum each. dz into dzr (the σ rows' layout) unless it is null.
template <int G, int K, class DpRow>
void conv_pool_backward_block(const PooledConvGeometry& g, const float* w, const float* bias,
                              const float* planes, const float* sig, DpRow& dp_row, float* dzr,
                              float* dw, float* db, long c0) {
  constexpr long W = kLanes;
  vw aw[G][K], ab[G];
#pragma GCC unroll 8
  for (int a = 0; a < G; ++a) {
    ab[a] = splatw(0.0f);
#pragma GCC unroll 8
    for (int k = 0; k < K; ++k) aw[a][k] = splatw(0.0f);
  }
  // (the geometry in locals: the stores of dz, by memcpy, might alias it)
  const long n = g.n, lp = g.lp, lr = g.lr(), ld_sig = 2 * n * lr;
  long even[K], odd[K];
#pragma GCC unroll 8
  for (int k = 0; k < K; ++k) {
    even[k] = g.even[k];
    odd[k] = g.odd[k];
  }
  for (long j = 0; j < n; ++j) {
    const float* R = planes + g.planes(j);
    const long row = g.sigma(c0, j);
    const float* dp[G];
#pragma GCC unroll 8
    for (int a = 0; a < G; ++a) dp[a] = dp_row(c0 + a, j, a);
    for (long m = 0; m < lp; m += W) {
      vw xe[K], xo[K];
#pragma GCC unroll 8
      for (int k = 0; k < K; ++k) {
        xe[k] = loadw(R + even[k] + m);
        xo[k] = loadw(R + odd[k] + m);
      }
#pragma GCC unroll 8
      for (int a = 0; a < G; ++a) {
        const long c = c0 + a;
        vw ze = splatw(bias[c]), zo = ze;
#pragma GCC unroll 8
        for (int k = 0; k < K; ++k) {
          const vw wk = splatw(w[c * K + k]);
          ze += wk * xe[k];
          zo += wk * xo[k];
        }
        const vw gv = loadw_first(dp[a] + m, lp - m) * 0.5f;
        const float* sr = sig + row + a * ld_sig + m;
        const vw se = loadw(sr), so = loadw(sr + lr);
        const vw de = gv * se * (1.0f + ze * (1.0f - se));
        const vw dd = gv * so * (1.0f + zo * (1.0f - so));
        if (dzr) {
          storew(dzr + row + a * ld_sig + m, de);
          storew(dzr + row + a * ld_sig + lr + m, dd);
        }
#pragma GCC unroll 8
        for (int k = 0; k < K; ++k) {
          aw[a][k] += de * xe[k];
          aw[a][k] += dd * xo[k];
        }
        ab[a] += de;
        ab[a] += dd;
      }
    }
  }
#pragma GCC unroll 8
  for (int a = 0; a < G; ++a) {
#pragma GCC unroll 8
    for (int k = 0; k < K; ++k) dw[(c0 + a) * K + k] = hsumw(aw[a][k]);
    db[c0 + a] = hsumw(ab[a]);
  }
}

template <int K, class DpRow>
void conv_pool_backward_taps(const PooledConvGeometry& g, const float* w, const float* bias,
                             const float* planes, const float* sig, DpRow& dp, float* dzr,
                             float* dw, float* db) {
  long c = 0;
  for (; c + 4 <= g.cout; c += 4)
    conv_pool_backward_block<4, K>(g, w, bias, planes, sig, dp, dzr, dw, db, c);
  if (g.cout - c >= 2) {
    conv_pool_backward_block<2, K>(g, w, bias, planes, sig, dp, dzr, dw, db, c);
    c += 2;
  }
  if (g.cout - c == 1) conv_pool_backward_block<1, K>(g, w, bias, planes, sig, dp, dzr, dw, db, c);
}

// The largest kernel size the fused layer takes (its backward keeps K + 1 accumulators per
// channel in registers).
constexpr long kPooledConvMaxKernel = 4;

// dp_row(c, j, a): the pooled gradient's row of channel c, series j, for the block's channel a
// (its own row, or one merged into a buffer of the block's rows).
template <class DpRow>
void conv_pool_backward(const PooledConvGeometry& g, const float* w, const float* bias,
                        const float* planes, const float* sig, DpRow&& dp, float* dzr, float* dw,
                        float* db) {
  switch (g.K) {
    case 1:
      return conv_pool_backward_taps<1>(g, w, bias, planes, sig, dp, dzr, dw, db);
    case 2:
      return conv_pool_backward_taps<2>(g, w, bias, planes, sig, dp, dzr, dw, db);
    case 3:
      return conv_pool_backward_taps<3>(g, w, bias, planes, sig, dp, dzr, dw, db);
    default:
      return conv_pool_backward_taps<4>(g, w, bias, planes, sig, dp, dzr, dw, db);
  }
}

}  // namespace
}  // namespace fhn_inverse::nn::kernels
