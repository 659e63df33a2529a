// Element-wise kernels on runs of the level's vector width (simd.hpp: 8 floats, 16 with AVX-512;
// dropout's masks 8): swish's forward (x σ(x), σ kept for the
// backward), swish followed by average pooling of 2 (the study's CNN) forward and backward, each
// in one pass, the pair means of that pooling and their backward, and dropout's masks.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "fhn_inverse/util/random.hpp"
#include "simd.hpp"

namespace fhn_inverse::nn::kernels {
// (internal linkage, as private helpers of the one file that includes this)
namespace {

using namespace simd;

// y = x σ(x) over count values; σ(x) into s unless s is null (no backward follows).
inline void swish_forward(const float* x_, float* y_, float* s, long count) {
  // four independent vectors per step: one σ is a long dependent chain (exp, reciprocal),
  // so interleaving four keeps both FMA pipes busy
  constexpr long W = kLanes;
  long i = 0;
  for (; i + 4 * W <= count; i += 4 * W) {
    vw xv[4], sg[4];
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      xv[u] = loadw(x_ + i + W * u);
      sg[u] = sigmoidw(xv[u]);
    }
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      if (s) storew(s + i + W * u, sg[u]);
      storew(y_ + i + W * u, xv[u] * sg[u]);
    }
  }
  for (; i < count; i += W) {
    const long m = std::min(W, count - i);
    const vw xv = loadw_first(x_ + i, m), sg = sigmoidw(xv);
    if (s) storew_first(s + i, sg, m);
    storew_first(y_ + i, xv * sg, m);
  }
}

// Swish then average pooling of 2 on `rows` rows of m inputs x (m >= 2), in one pass: y gets
// the ⌊m/2⌋ pair means of x σ(x) per row, and s gets σ(x) unless it is null (no backward follows);
// swish's output itself is never stored. The same arithmetic, value by value, as swish_forward
// and then avg_pool2_row.
// With whole, the last pair means of the last row are stored in a whole vector (y has room
// for round_lanes(⌊m/2⌋) floats from that row's start): for a reader that follows at once.
inline void swish_pool2_forward(const float* x, float* s, float* y, long rows, long m,
                                bool whole = false) {
  constexpr long W = kLanes;
  const long mp = m / 2;
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * m;
    float* sr = s ? s + r * m : nullptr;
    float* yr = y + r * mp;
    auto pair_means = [&](long i, auto runs) {  // inputs [i, i + 2W·runs): 2 vectors a run
      constexpr int R = decltype(runs)::value;
      vw xv[2 * R], sg[2 * R];
#pragma GCC unroll 4
      for (int u = 0; u < 2 * R; ++u) {
        xv[u] = loadw(xr + i + W * u);
        sg[u] = sigmoidw(xv[u]);
      }
#pragma GCC unroll 2
      for (int q = 0; q < R; ++q) {
        if (sr) {
          storew(sr + i + 2 * W * q, sg[2 * q]);
          storew(sr + i + 2 * W * q + W, sg[2 * q + 1]);
        }
        vw even, odd;
        deinterleavew(xv[2 * q] * sg[2 * q], xv[2 * q + 1] * sg[2 * q + 1], even, odd);
        storew(yr + i / 2 + W * q, (even + odd) * 0.5f);
      }
    };
    long i = 0;
    for (; i + 4 * W <= 2 * mp; i += 4 * W) pair_means(i, std::integral_constant<int, 2>{});
    if (i + 2 * W <= 2 * mp) {
      pair_means(i, std::integral_constant<int, 1>{});
      i += 2 * W;
    }
    // the last (< 2W) inputs by masked vectors (zeros past the row: their pair means, past the
    // last pair, are not stored unless `whole`)
    if (i < m) {
      const long left = m - i;
      const vw x0 = loadw_first(xr + i, left), x1 = loadw_first(xr + i + W, left - W);
      const vw s0 = sigmoidw(x0), s1 = sigmoidw(x1);
      if (sr) {
        storew_first(sr + i, s0, std::min(W, left));
        if (left > W) storew_first(sr + i + W, s1, left - W);
      }
      vw even, odd;
      deinterleavew(x0 * s0, x1 * s1, even, odd);
      const vw mean = (even + odd) * 0.5f;
      if (whole)
        storew(yr + i / 2, mean);
      else if (mp > i / 2)
        storew_first(yr + i / 2, mean, mp - i / 2);
    }
  }
}

// On `rows` rows of m inputs z (m >= 2) with σ(z) in s, the gradient dp of the pooled rows
// (⌊m/2⌋ each) becomes dz, as the pooling's and swish's backward in turn would give it, without
// the gradient of swish's output between.
inline void swish_pool2_backward(const float* z, const float* s, const float* dp, float* dz,
                                 long rows, long m) {
  constexpr long W = kLanes;
  const long mp = m / 2;
  for (long r = 0; r < rows; ++r) {
    const float* zr = z + r * m;
    const float* sr = s + r * m;
    const float* dr = dp + r * mp;
    float* out = dz + r * m;
    // dz = g σ (1 + z (1 − σ)) with g[l] = dp[l/2] / 2 for l < 2·⌊m/2⌋ and 0 after
    long i = 0;
    auto grad = [](vw g, vw zv, vw sg) { return g * sg * (1.0f + zv * (1.0f - sg)); };
    for (; i + 2 * W <= 2 * mp; i += 2 * W) {
      vw lo, hi;
      repeat_pairsw(loadw(dr + i / 2) * 0.5f, lo, hi);
      storew(out + i, grad(lo, loadw(zr + i), loadw(sr + i)));
      storew(out + i + W, grad(hi, loadw(zr + i + W), loadw(sr + i + W)));
    }
    // the last (< 2W) inputs by masked vectors (one by one they took as long as the rest of a
    // 499-input row): g = 0 past the last pair, from the masked load of dp
    if (i < m) {
      const long left = m - i, pairs = mp - i / 2;
      vw lo, hi;
      repeat_pairsw(loadw_first(dr + i / 2, pairs) * 0.5f, lo, hi);
      storew_first(out + i, grad(lo, loadw_first(zr + i, left), loadw_first(sr + i, left)),
                   std::min(W, left));
      if (left > W)
        storew_first(out + i + W,
                     grad(hi, loadw_first(zr + i + W, left - W), loadw_first(sr + i + W, left - W)),
                     left - W);
    }
  }
}

// dz = dy σ (1 + z (1 − σ)) over m values, σ = σ(z) in s: swish's backward (as Activation
// computes it) on one row.
inline void swish_backward_row(const float* z, const float* s, const float* dy, float* dz, long m) {
  constexpr long W = kLanes;
  long i = 0;
  for (; i + W <= m; i += W) {
    const vw sg = loadw(s + i);
    storew(dz + i, loadw(dy + i) * sg * (1.0f + loadw(z + i) * (1.0f - sg)));
  }
  if (i < m) {
    const vw sg = loadw_first(s + i, m - i);
    storew_first(dz + i,
                 loadw_first(dy + i, m - i) * sg * (1.0f + loadw_first(z + i, m - i) * (1.0f - sg)),
                 m - i);
  }
}

// yr[l] = (xr[2l] + xr[2l + 1]) · inv for l < lout: pair sums of runs of 2W.
inline void avg_pool2_row(const float* xr, float* yr, long lout, float inv) {
  constexpr long W = kLanes;
  long l = 0;
  for (; l + W <= lout; l += W) {
    const vw a = loadw(xr + 2 * l), b = loadw(xr + 2 * l + W);
    vw even, odd;
    deinterleavew(a, b, even, odd);
    storew(yr + l, (even + odd) * inv);
  }
  for (; l < lout; ++l) yr[l] = (xr[2 * l] + xr[2 * l + 1]) * inv;
}

// dxr[2l] = dxr[2l + 1] = dyr[l] · inv for l < lout, zeros after up to lin: no scatter.
inline void avg_pool2_row_backward(const float* dyr, float* dxr, long lout, long lin, float inv) {
  constexpr long W = kLanes;
  long l = 0;
  for (; l + W <= lout; l += W) {
    vw lo, hi;
    repeat_pairsw(loadw(dyr + l) * inv, lo, hi);
    storew(dxr + 2 * l, lo);
    storew(dxr + 2 * l + W, hi);
  }
  for (; l < lout; ++l) {
    const float g = dyr[l] * inv;
    dxr[2 * l] = g;
    dxr[2 * l + 1] = g;
  }
  for (long l2 = 2 * lout; l2 < lin; ++l2) dxr[l2] = 0.0f;
}

// Inverted dropout of count values: mask m = 0 with probability rate, else 1/(1 − rate), into
// scratch; y = x m. The eight generators of rng decide 16 values per step: a 32-bit half below
// rate · 2^32 drops its value (halves in memory order: value k of a block is 32-bit word k of
// the 512 bits).
inline void dropout_apply(const float* x, float* y, float* scratch, long count, double rate,
                          Rng8& rng) {
  const float keep = static_cast<float>(1.0 / (1.0 - rate));
  const auto threshold = static_cast<std::uint32_t>(std::ldexp(rate, 32));
  typedef std::uint32_t u32x8 __attribute__((vector_size(32)));
  const v8i keep_bits = reinterpret_cast<v8i>(splat(keep));
  const u32x8 thr = {threshold, threshold, threshold, threshold,
                     threshold, threshold, threshold, threshold};
  auto masks = [&](v8& m0, v8& m1) {
    Rng8::u64x4 lo, hi;
    rng.next(lo, hi);
    // (a < b) is all ones where a value is dropped
    m0 = reinterpret_cast<v8>(keep_bits & ~(reinterpret_cast<u32x8>(lo) < thr));
    m1 = reinterpret_cast<v8>(keep_bits & ~(reinterpret_cast<u32x8>(hi) < thr));
  };
  long i = 0;
  for (; i + 16 <= count; i += 16) {
    v8 m0, m1;
    masks(m0, m1);
    store8(scratch + i, m0);
    store8(scratch + i + 8, m1);
    store8(y + i, load8(x + i) * m0);
    store8(y + i + 8, load8(x + i + 8) * m1);
  }
  if (i < count) {
    float tail[16];
    v8 m0, m1;
    masks(m0, m1);
    store8(tail, m0);
    store8(tail + 8, m1);
    for (long k = 0; i + k < count; ++k) {
      scratch[i + k] = tail[k];
      y[i + k] = x[i + k] * tail[k];
    }
  }
}

}  // namespace
}  // namespace fhn_inverse::nn::kernels
