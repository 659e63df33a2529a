// Kernels of a narrow Dense layer — few outputs (<= 64) from many inputs (>= 256), the first
// layer of a dense map on a raw series — on AVX2 + FMA builds (FHN_NARROW_DENSE): dot-product
// blocks on the row-major weights, a broadcast kernel on a packed Wᵀ, the backward by the same
// broadcast kernel, and the packing. A general GEMM spends as long packing such an input as
// multiplying it.
#pragma once

#include <algorithm>
#include <type_traits>

#include "simd.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define FHN_NARROW_DENSE 1
#endif

namespace fhn_inverse::nn::kernels {
// (internal linkage, as private helpers of the one file that includes this: the compiler inlines
// and schedules them exactly as it would its own static functions)
namespace {

// Whether this build has the narrow kernels.
constexpr bool kNarrowDense =
#ifdef FHN_NARROW_DENSE
    true;
#else
    false;
#endif

#ifdef FHN_NARROW_DENSE
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// out[s·ld + r] = Σ_k w[r][k] x[s][k] for R weight rows and S samples: R·S dot products of
// length fin in registers. Each x[s] (fin floats) is read once per R rows, each w[r] once per S
// samples, with no packing of either.
template <int R, int S>
void dot_block(const float* const* w, const float* const* x, long fin, float* out, long ld) {
  __m256 acc[R][S];
  for (int r = 0; r < R; ++r)
    for (int s = 0; s < S; ++s) acc[r][s] = _mm256_setzero_ps();
  long k = 0;
  for (; k + 8 <= fin; k += 8) {
    __m256 a[R];
    for (int r = 0; r < R; ++r) a[r] = _mm256_loadu_ps(w[r] + k);
    for (int s = 0; s < S; ++s) {
      const __m256 xv = _mm256_loadu_ps(x[s] + k);
      for (int r = 0; r < R; ++r) acc[r][s] = _mm256_fmadd_ps(a[r], xv, acc[r][s]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int s = 0; s < S; ++s) {
      float t = hsum(acc[r][s]);
      for (long kk = k; kk < fin; ++kk) t += w[r][kk] * x[s][kk];
      out[s * ld + r] = t;
    }
}

// All weight rows, in pairs, against S samples: out[s·units + j] for j < units.
template <int S>
void narrow_rows(const float* W, const float* const* xs, float* out, long units, long fin) {
  long j = 0;
  for (; j + 2 <= units; j += 2) {
    const float* ws[2] = {W + j * fin, W + (j + 1) * fin};
    dot_block<2, S>(ws, xs, fin, out + j, units);
  }
  if (j < units) {
    const float* ws[1] = {W + j * fin};
    dot_block<1, S>(ws, xs, fin, out + j, units);
  }
}

// Y (Fout, N) = W (Fout, Fin) X (Fin, N) for few outputs and many inputs (the first layer of a
// dense map on a raw series): a general GEMM spends as long packing X as multiplying it there.
// Blocks of 2 weight rows × 4 samples keep 8 accumulators, 2 weight and 1 input vector in
// registers; the 4 input rows stay in L1 while all weight rows stream from L2.
inline void narrow_dense(const float* W, const float* x, float* y, long units, long fin, long n) {
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    const float* xs[4] = {x + i * fin, x + (i + 1) * fin, x + (i + 2) * fin, x + (i + 3) * fin};
    narrow_rows<4>(W, xs, y + i * units, units, fin);
  }
  for (; i < n; ++i) {
    const float* xs[1] = {x + i * fin};
    narrow_rows<1>(W, xs, y + i * units, units, fin);
  }
}

// Packed narrow kernel: wt (Fin, U) holds Wᵀ with U = units rounded up to the vector width W
// (zero columns; W = 8, or 16 with AVX-512). A block of S samples × W·V outputs keeps S·V
// accumulators in registers (12 for the 6 × 2 block): per input feature k, V weight vectors are
// loaded and x[s][k] is broadcast, so neither operand is repacked per block and the FMA units,
// not the loads, bound the loop. Features run in blocks of kFeatureBlock (the x rows of a block
// stay in L1), added in order: every output sums its terms in the same order whatever its sample
// block and whatever W, so a row's result depends neither on the rows evaluated beside it nor on
// the level's vector width.
constexpr long kFeatureBlock = 256;
// Outputs (forward) and features (backward) per block of two vectors.
constexpr long kPackedBlock = 2 * simd::kLanes;

// (incx: the step of x between consecutive k; 1 in the forward pass, where each sample's
// features are contiguous. Kept out of line, so that its registers are allocated on their own.)
template <int S, int V>
[[gnu::noinline]] void packed_block(const float* wt, long ldw, const float* x, long ldx, long k0,
                                    long k1, float* out, long ldo, long width, bool first,
                                    long incx = 1) {
  using simd::vw;
  constexpr long W = simd::kLanes;
  // S·V accumulators and one base pointer with the row stride in registers; fully unrolled so
  // that none of them spills inside the feature loop
  vw acc[S][V];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[s][v] = simd::splatw(0.0f);
  const float* w = wt + k0 * ldw;
  const float* xk = x + k0 * incx;
  for (long k = k0; k < k1; ++k, w += ldw, xk += incx) {
    const vw w0 = simd::loadw(w);
    const vw w1 = V > 1 ? simd::loadw(w + W) : w0;
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      const vw b = simd::splatw(xk[s * ldx]);
      acc[s][0] += b * w0;
      if (V > 1) acc[s][V - 1] += b * w1;
    }
  }
  // lanes j < width of each vector: whole stores, a masked one for a partial vector (unrolled
  // too: a run-time index into acc would keep it in memory)
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const long left = width - W * v;
    if (left <= 0) break;
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      float* o = out + s * ldo + W * v;
      vw r = acc[s][v];
      if (!first) r += simd::loadw_first(o, left);
      simd::storew_first(o, r, left);
    }
  }
}

template <int S>
void packed_rows(const float* wt, const float* x, float* out, long units, long fin) {
  const long ldw = simd::round_lanes(units);
  for (long k0 = 0; k0 < fin; k0 += kFeatureBlock) {
    const long k1 = std::min(fin, k0 + kFeatureBlock);
    long j = 0;
    for (; j + kPackedBlock <= ldw; j += kPackedBlock)
      packed_block<S, 2>(wt + j, ldw, x, fin, k0, k1, out + j, units,
                         std::min(kPackedBlock, units - j), k0 == 0);
    if (j < ldw)
      packed_block<S, 1>(wt + j, ldw, x, fin, k0, k1, out + j, units, units - j, k0 == 0);
  }
}

// Rows per block of the broadcast kernel: 8 where AVX-512's 32 registers hold its 16
// accumulators (each weight vector then serves 8 rows: the study's chunks of 16 series stream Wᵀ
// twice instead of three times), else 6 (12 of AVX2's 16). Every output sums its terms in the
// same order whatever its block, so the choice does not change a bit.
constexpr int kSampleBlock = simd::kLanes == 16 ? 8 : 6;

// Blocks of S rows over [0, n): block(integral_constant<S>, first row) for blocks of
// kSampleBlock, then one block of the remainder (the broadcast kernel's row counts).
template <class Block>
void sample_blocks(long n, Block&& block) {
  long i = 0;
  for (; i + kSampleBlock <= n; i += kSampleBlock)
    block(std::integral_constant<int, kSampleBlock>{}, i);
  switch (n - i) {
    case 7:
      if constexpr (kSampleBlock > 7) block(std::integral_constant<int, 7>{}, i);
      break;
    case 6:
      if constexpr (kSampleBlock > 6) block(std::integral_constant<int, 6>{}, i);
      break;
    case 5:
      block(std::integral_constant<int, 5>{}, i);
      break;
    case 4:
      block(std::integral_constant<int, 4>{}, i);
      break;
    case 3:
      block(std::integral_constant<int, 3>{}, i);
      break;
    case 2:
      block(std::integral_constant<int, 2>{}, i);
      break;
    case 1:
      block(std::integral_constant<int, 1>{}, i);
      break;
    default:
      break;
  }
}

inline void narrow_dense_packed(const float* wt, const float* x, float* y, long units, long fin,
                                long n) {
  sample_blocks(n, [&](auto s, long i) {
    packed_rows<decltype(s)::value>(wt, x + i * fin, y + i * units, units, fin);
  });
}

// The packed kernel's values without a packed Wᵀ, for a training step (whose weights change every
// step, where a copy made per step cost about half as long as the product, and more with W
// fresh from the other core's update): the samples in the vector lanes.
// L = kLanes samples at a time are transposed into xt (Fin, L); a block of O weight rows keeps O
// accumulators, and per input feature k one xt vector is loaded and each row's W[o, k] is
// broadcast against it. Features run in the same blocks of kFeatureBlock as the packed kernel,
// each block's sums started at 0 and added in order to the output: every output sums the same
// terms in the same order as there (the same bits).
template <int O>
[[gnu::noinline]] void lanes_block(const float* w, long fin, const float* xt, long k0, long k1,
                                   float* yt, bool first) {
  using simd::vw;
  constexpr long L = simd::kLanes;
  vw acc[O];
#pragma GCC unroll 16
  for (int o = 0; o < O; ++o) acc[o] = simd::splatw(0.0f);
  const float* xk = xt + k0 * L;
  const float* wk = w + k0;
  for (long k = k0; k < k1; ++k, xk += L, ++wk) {
    const vw xv = simd::loadw_reg(xk);
#pragma GCC unroll 16
    for (int o = 0; o < O; ++o) acc[o] += simd::splatw(wk[o * fin]) * xv;
  }
#pragma GCC unroll 16
  for (int o = 0; o < O; ++o) {
    float* p = yt + o * L;
    vw r = acc[o];
    if (!first) r += simd::loadw(p);
    simd::storew(p, r);
  }
}

// Rows of W per block of lanes_block: 16 accumulators where AVX-512 has 32 registers, else 8.
constexpr int kLanesRows = simd::kLanes == 16 ? 16 : 8;

// Floats of scratch narrow_dense_lanes needs (xt and yt), whatever the sample count.
constexpr long lanes_scratch(long units, long fin) { return (fin + units) * simd::kLanes; }

// xt (fin, L) = the transpose of rows [0, ng) of x (ng, fin), zero lanes from ng.
inline void transpose_rows(const float* x, long fin, long ng, float* xt) {
  constexpr long L = simd::kLanes;
  long s0 = 0;
#ifdef FHN_SIXTEEN_LANES
  if (ng == L) {  // a whole group: 16 × 16 tiles
    long k = 0;
    for (; k + 16 <= fin; k += 16) simd::transpose16x16(x + k, fin, xt + k * L, L);
    for (; k < fin; ++k)
      for (long s = 0; s < L; ++s) xt[k * L + s] = x[s * fin + k];
    return;
  }
#endif
#ifdef __AVX__
  for (; s0 + 8 <= ng; s0 += 8) {
    long k = 0;
    for (; k + 8 <= fin; k += 8) simd::transpose8x8(x + s0 * fin + k, fin, xt + k * L + s0, L);
    for (; k < fin; ++k)
      for (long s = s0; s < s0 + 8; ++s) xt[k * L + s] = x[s * fin + k];
  }
#endif
  if (s0 < L)
    for (long k = 0; k < fin; ++k)
      for (long s = s0; s < L; ++s) xt[k * L + s] = s < ng ? x[s * fin + k] : 0.0f;
}

// y (n, units) = x (n, fin) Wᵀ + b, the values of narrow_dense_packed followed by the bias.
inline void narrow_dense_lanes(const float* W, const float* bias, const float* x, float* y,
                               long units, long fin, long n, float* scratch) {
  constexpr long L = simd::kLanes;
  float* xt = scratch;
  float* yt = scratch + fin * L;
  for (long g0 = 0; g0 < n; g0 += L) {
    const long ng = std::min(L, n - g0);
    transpose_rows(x + g0 * fin, fin, ng, xt);
    for (long k0 = 0; k0 < fin; k0 += kFeatureBlock) {
      const long k1 = std::min(fin, k0 + kFeatureBlock);
      const bool first = k0 == 0;
      long o = 0;
      for (; o + kLanesRows <= units; o += kLanesRows)
        lanes_block<kLanesRows>(W + o * fin, fin, xt, k0, k1, yt + o * L, first);
      // the last rows in blocks of 8, 4, 2, 1 (a row's values do not depend on its block)
      if constexpr (kLanesRows > 8)
        if (o + 8 <= units) {
          lanes_block<8>(W + o * fin, fin, xt, k0, k1, yt + o * L, first);
          o += 8;
        }
      if (o + 4 <= units) {
        lanes_block<4>(W + o * fin, fin, xt, k0, k1, yt + o * L, first);
        o += 4;
      }
      if (o + 2 <= units) {
        lanes_block<2>(W + o * fin, fin, xt, k0, k1, yt + o * L, first);
        o += 2;
      }
      if (o < units) lanes_block<1>(W + o * fin, fin, xt, k0, k1, yt + o * L, first);
    }
    for (long s = 0; s < ng; ++s) {
      float* row = y + (g0 + s) * units;
      for (long o = 0; o < units; ++o) row[o] = yt[o * L + s] + bias[o];
    }
  }
}

// Backward of a narrow Dense layer (the broadcast kernel above, on the row-major weights and the
// sample-major x, dY as they lie; no packing): over blocks of B = kPackedBlock features (16, or
// 32 with AVX-512),
//   dX[i, k] = Σ_u dY[i, u] W[u, k]   (kSampleBlock samples × B features, u over the units)
//   dW[u, k] = Σ_i dY[i, u] X[i, k]   (kSampleBlock units × B features, i over the samples).
// Returns the features handled (a multiple of B); the caller does the rest.
inline long narrow_dense_backward(const float* W, const float* x, const float* dy, float* dx,
                                  float* dW, long units, long fin, long n) {
  constexpr long B = kPackedBlock;
  const long full = fin / B * B;
  for (long j = 0; j < full; j += B) {
    sample_blocks(units, [&](auto s, long u0) {  // rows u0.. of dW, reduction over the samples
      packed_block<decltype(s)::value, 2>(x + j, fin, dy + u0, 1, 0, n, dW + u0 * fin + j, fin, B,
                                          true, units);
    });
    if (dx)
      sample_blocks(n, [&](auto s, long i0) {  // samples i0.. of dX, reduction over the units
        packed_block<decltype(s)::value, 2>(W + j, fin, dy + i0 * units, units, 0, units,
                                            dx + i0 * fin + j, fin, B, true);
      });
  }
  return full;
}
#endif  // FHN_NARROW_DENSE

// packed (Fin, ld) = Wᵀ of the row-major W (units, Fin), ld = units rounded up to the vector
// width, zero columns past units: the operand of narrow_dense_packed.
inline void pack_transposed(const float* params, float* packed, long units, long fin) {
  const long ld = simd::round_lanes(units);
  long k0 = 0;
#ifdef __AVX__
  // 8 × 8 tiles through registers (once per training step: a strided scalar copy of the
  // study's 960 × 32 layer took as long as its forward product)
  for (; k0 + 8 <= fin; k0 += 8)
    for (long j0 = 0; j0 + 8 <= units; j0 += 8)
      simd::transpose8x8(params + j0 * fin + k0, fin, packed + k0 * ld + j0, ld);
  const long jt = units / 8 * 8;  // columns the tiles did
#else
  const long jt = 0;
#endif
  for (long k = 0; k < fin; ++k) {
    float* row = packed + k * ld;
    for (long j = k < k0 ? jt : 0; j < units; ++j) row[j] = params[j * fin + k];
    for (long j = units; j < ld; ++j) row[j] = 0.0f;
  }
}

}  // namespace
}  // namespace fhn_inverse::nn::kernels
