// Float vectors for the engine's hand-blocked loops (the kernels in this folder): GCC/Clang vector
// extensions. v8 (eight floats) compiles to AVX2 + FMA on such a target and to SSE pairs
// otherwise; vw is the widest vector of the level the build targets: sixteen floats (one AVX-512
// register, masked loads and stores for tails) where AVX-512 is on, v8 elsewhere. Loads and
// stores are unaligned; `a * b + c` contracts to FMA where the target has it.
#pragma once

#include <cstring>
#ifdef __AVX__
#include <immintrin.h>
#endif

// Every helper is forced inline: where a vector is wider than the target's registers (eight
// floats on baseline x86-64), GCC's inliner judges the expanded helpers too large, and a helper
// left out of line passes its vectors through memory.
#define FHN_SIMD_INLINE inline __attribute__((always_inline))

namespace fhn_inverse::nn::simd {

typedef float v8 __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

// FHN_SHUFFLE(I, a, b, k...): lanes k of a's and then b's lanes, as __builtin_shufflevector (GCC 12
// and Clang); older GCC (the manylinux_2_31 build's GCC 10) has __builtin_shuffle with an index
// vector of type I instead. Both lower to the same permutation.
#if defined(__clang__) || __GNUC__ >= 12
#define FHN_SHUFFLE(I, a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define FHN_SHUFFLE(I, a, b, ...) __builtin_shuffle(a, b, I{__VA_ARGS__})
#endif

FHN_SIMD_INLINE v8 load8(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
FHN_SIMD_INLINE void store8(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }
// load8 into a register of its own: GCC folds a plain load into every FMA that reads it (one
// load per use), which bounds a kernel that reuses the vector by the load ports.
FHN_SIMD_INLINE v8 load8_reg(const float* p) {
#ifdef __AVX__
  v8 v;
  asm("vmovups %1, %0" : "=x"(v) : "m"(*reinterpret_cast<const float(*)[8]>(p)));
  return v;
#else
  return load8(p);
#endif
}
FHN_SIMD_INLINE v8 splat(float a) { return v8{a, a, a, a, a, a, a, a}; }

// Lanes [0, count) of p, zeros after; count <= 0 gives zeros (masked: never reads p + count or
// beyond, so p itself may lie past the end of an array when count <= 0).
FHN_SIMD_INLINE v8 load_first(const float* p, long count) {
  if (count >= 8) return load8(p);
#ifdef __AVX2__
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return reinterpret_cast<v8>(
      _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lane)));
#else
  v8 v = splat(0.0f);
  for (long i = 0; i < count; ++i) v[i] = p[i];
  return v;
#endif
}

// Lanes [0, count) of v into p; 1 <= count <= 8.
FHN_SIMD_INLINE void store_first(float* p, v8 v, long count) {
  if (count >= 8) return store8(p, v);
#ifdef __AVX2__
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lane),
                      reinterpret_cast<__m256>(v));
#else
  for (long i = 0; i < count; ++i) p[i] = v[i];
#endif
}

// The even and the odd lanes of the 16 floats a, b (a's first): two in-lane shuffles and two
// 64-bit lane permutes under AVX2 (GCC lowers the generic two-source shuffle to two vpermd and
// a blend per output, with the index vectors reloaded in tight loops).
FHN_SIMD_INLINE void deinterleave(v8 a, v8 b, v8& even, v8& odd) {
#ifdef __AVX2__
  const __m256 x = reinterpret_cast<__m256>(a), y = reinterpret_cast<__m256>(b);
  even = reinterpret_cast<v8>(_mm256_permute4x64_pd(
      _mm256_castps_pd(_mm256_shuffle_ps(x, y, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
  odd = reinterpret_cast<v8>(_mm256_permute4x64_pd(
      _mm256_castps_pd(_mm256_shuffle_ps(x, y, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
#else
  even = FHN_SHUFFLE(v8i, a, b, 0, 2, 4, 6, 8, 10, 12, 14);
  odd = FHN_SHUFFLE(v8i, a, b, 1, 3, 5, 7, 9, 11, 13, 15);
#endif
}

// Each of g's first four lanes twice (lo) and each of its last four twice (hi): the 16 values
// that a run of 8 pair means spreads back over (the pooling's backward).
FHN_SIMD_INLINE void repeat_pairs(v8 g, v8& lo, v8& hi) {
  lo = FHN_SHUFFLE(v8i, g, g, 0, 0, 1, 1, 2, 2, 3, 3);
  hi = FHN_SHUFFLE(v8i, g, g, 4, 4, 5, 5, 6, 6, 7, 7);
}

// Fixed-order horizontal sum.
FHN_SIMD_INLINE float hsum(v8 v) {
  return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

// 2^f on [−1/2, 1/2] (any width): the degree-5 polynomial.
template <class V>
FHN_SIMD_INLINE V exp2_poly(V f) {
  V p = V{} + 1.32764e-3f;  // (a constant: folded)
  p = p * f + 9.67553e-3f;
  p = p * f + 5.550713e-2f;
  p = p * f + 2.402212e-1f;
  p = p * f + 6.9314697e-1f;
  return p * f + 1.00000007f;
}
// 2^(t − n) · 2^n for n = round(t): the polynomial and the exponent bits of exp2_8 (any width).
template <class V, class VI>
FHN_SIMD_INLINE V exp2_scaled(V t, V n) {
  V p = exp2_poly(t - n);
  VI bits;
  std::memcpy(&bits, &p, sizeof p);
  bits += __builtin_convertvector(n, VI) << 23;
  std::memcpy(&p, &bits, sizeof p);
  return p;
}

// 2^t for t clamped to [−126, 126]: n = round(t), 2^(t − n) by a degree-5 polynomial fitted
// for relative error on [−1/2, 1/2] (7.5e-8; 2.3e-7 evaluated in float), times 2^n added to
// the exponent bits.
FHN_SIMD_INLINE v8 exp2_8(v8 t) {
#ifdef __AVX__
  t = reinterpret_cast<v8>(_mm256_min_ps(
      _mm256_max_ps(reinterpret_cast<__m256>(t), _mm256_set1_ps(-126.0f)), _mm256_set1_ps(126.0f)));
  const v8 n = reinterpret_cast<v8>(
      _mm256_round_ps(reinterpret_cast<__m256>(t), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#else
  t = t < splat(-126.0f) ? splat(-126.0f) : t;
  t = t > splat(126.0f) ? splat(126.0f) : t;
  const v8 h = t + 0.5f;
  v8 n = __builtin_convertvector(__builtin_convertvector(h, v8i), v8);
  n = n > h ? n - 1.0f : n;  // ⌊t + 1/2⌋
#endif
  return exp2_scaled<v8, v8i>(t, n);
}

// 1/d: the hardware reciprocal estimate and one Newton step where AVX has one (a division's
// latency would bound the loops that use it); relative error about 2e-7.
FHN_SIMD_INLINE v8 reciprocal8(v8 d) {
#ifdef __AVX__
  const v8 r = reinterpret_cast<v8>(_mm256_rcp_ps(reinterpret_cast<__m256>(d)));
  return r * (2.0f - d * r);
#else
  // (as rcpps: 0 where 1/d would fall below the normal range, so that σ(x) is 0 far left and
  // x σ(x) → 0 there, at every level)
  return d < splat(0x1p126f) ? 1.0f / d : splat(0.0f);
#endif
}

#ifdef __AVX__
// dst[c·ldd + r] = src[r·lds + c] for r, c < 8 (the standard unpack / shuffle / lane-swap
// network).
// (cols < 8: only the first cols columns of src are read, and only the first cols rows of dst
// written)
FHN_SIMD_INLINE void transpose8x8(const float* src, long lds, float* dst, long ldd, long cols = 8) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i)
    r[i] = cols >= 8 ? _mm256_loadu_ps(src + i * lds)
                     : reinterpret_cast<__m256>(load_first(src + i * lds, cols));
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    if (i < cols) _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    if (i + 4 < cols)
      _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}
#endif

// σ(x) = 1 / (1 + 2^(−x log2 e)). Relative error within 1e-6 for |x| <= 20 and 4e-6 down to
// x = −80 (the rounding of x log2 e), absolute error within 2e-7 everywhere: a quarter fewer
// operations than e^−x with Cody–Waite reduction, for the study's activation.
FHN_SIMD_INLINE v8 sigmoid8(v8 x) { return reciprocal8(1.0f + exp2_8(x * -1.44269504088896341f)); }

// ------------------------------------------------------------- the widest vector of the level
// (FHN_EIGHT_LANES keeps eight-float vectors under AVX-512: for measuring what the width gives.)
#if defined(__AVX512F__) && !defined(FHN_EIGHT_LANES)
#define FHN_SIXTEEN_LANES 1
#endif
#ifdef FHN_SIXTEEN_LANES
constexpr int kLanes = 16;
typedef float vw __attribute__((vector_size(64)));
#else
constexpr int kLanes = 8;
typedef v8 vw;
#endif

// v rounded up to a multiple of kLanes.
constexpr long round_lanes(long v) { return (v + kLanes - 1) / kLanes * kLanes; }

FHN_SIMD_INLINE vw loadw(const float* p) {
  vw v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
FHN_SIMD_INLINE void storew(float* p, vw v) { std::memcpy(p, &v, sizeof v); }
#ifdef FHN_SIXTEEN_LANES
FHN_SIMD_INLINE vw splatw(float a) { return reinterpret_cast<vw>(_mm512_set1_ps(a)); }
#else
FHN_SIMD_INLINE vw splatw(float a) { return splat(a); }
#endif

#ifdef FHN_SIXTEEN_LANES
typedef int vwi __attribute__((vector_size(64)));
// (as load8_reg: a register of its own)
FHN_SIMD_INLINE vw loadw_reg(const float* p) {
  vw v;
  asm("vmovups %1, %0" : "=v"(v) : "m"(*reinterpret_cast<const float(*)[16]>(p)));
  return v;
}
FHN_SIMD_INLINE __mmask16 first_lanes(long count) {
  return count <= 0 ? 0 : static_cast<__mmask16>((1u << count) - 1u);
}
// Lanes [0, count) of p, zeros after (masked: never touches p + count or beyond).
FHN_SIMD_INLINE vw loadw_first(const float* p, long count) {
  if (count >= 16) return loadw(p);
  return reinterpret_cast<vw>(_mm512_maskz_loadu_ps(first_lanes(count), p));
}
// Lanes [0, count) of v into p; 1 <= count.
FHN_SIMD_INLINE void storew_first(float* p, vw v, long count) {
  if (count >= 16) return storew(p, v);
  _mm512_mask_storeu_ps(p, first_lanes(count), reinterpret_cast<__m512>(v));
}
// Fixed-order horizontal sum: the two halves', added.
FHN_SIMD_INLINE float hsumw(vw v) {
  v8 lo, hi;
  std::memcpy(&lo, &v, sizeof lo);
  std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
  return hsum(lo) + hsum(hi);
}
// exp2_8, sixteen wide.
FHN_SIMD_INLINE vw exp2w(vw t) {
  t = reinterpret_cast<vw>(_mm512_min_ps(
      _mm512_max_ps(reinterpret_cast<__m512>(t), _mm512_set1_ps(-126.0f)), _mm512_set1_ps(126.0f)));
  const vw n = reinterpret_cast<vw>(_mm512_roundscale_ps(
      reinterpret_cast<__m512>(t), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  // times 2^n by vscalefps: one instruction for the conversion, shift and add of exp2_scaled,
  // and the same value (2^(t − n) · 2^n stays normal for t in [−126, 126])
  return reinterpret_cast<vw>(
      _mm512_scalef_ps(reinterpret_cast<__m512>(exp2_poly(t - n)), reinterpret_cast<__m512>(n)));
}
// 1/d: AVX-512's 14-bit reciprocal estimate and one Newton step (relative error about 1e-8
// before the step's own rounding).
FHN_SIMD_INLINE vw reciprocalw(vw d) {
  // 0 where 1/d would fall below the normal range (d >= 2^126), as rcpps gives it and rcp14 does
  // not: σ(x) is then 0 far left, and x σ(x) → 0 there at every level (not x · 2^-126)
  const __m512 dd = reinterpret_cast<__m512>(d);
  const __mmask16 normal = _mm512_cmp_ps_mask(dd, _mm512_set1_ps(0x1p126f), _CMP_LT_OQ);
  const vw r = reinterpret_cast<vw>(_mm512_maskz_rcp14_ps(normal, dd));
  return r * (2.0f - d * r);
}
// dst[c·ldd + r] = src[r·lds + c] for r, c < 16: unpacks, in-lane shuffles and two rounds of
// 128-bit lane shuffles (64 permutations per 256 floats, where 8 × 8 tiles take 96).
FHN_SIMD_INLINE void transpose16x16(const float* src, long lds, float* dst, long ldd) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * lds);
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
    t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
    t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
  }
  // (column j, 8 + j, 4 + j and 12 + j of src)
  for (int j = 0; j < 4; ++j) {
    _mm512_storeu_ps(dst + j * ldd, _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88));
    _mm512_storeu_ps(dst + (8 + j) * ldd, _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD));
    _mm512_storeu_ps(dst + (4 + j) * ldd, _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88));
    _mm512_storeu_ps(dst + (12 + j) * ldd, _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD));
  }
}
// The even and the odd lanes of the 32 floats a, b (a's first).
FHN_SIMD_INLINE void deinterleavew(vw a, vw b, vw& even, vw& odd) {
  const __m512i ie = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i io = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  even = reinterpret_cast<vw>(
      _mm512_permutex2var_ps(reinterpret_cast<__m512>(a), ie, reinterpret_cast<__m512>(b)));
  odd = reinterpret_cast<vw>(
      _mm512_permutex2var_ps(reinterpret_cast<__m512>(a), io, reinterpret_cast<__m512>(b)));
}
// a[0], b[0], a[1], b[1], … : the first eight pairs (lo) and the last eight (hi).
FHN_SIMD_INLINE void interleavew(vw a, vw b, vw& lo, vw& hi) {
  lo = FHN_SHUFFLE(vwi, a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  hi = FHN_SHUFFLE(vwi, a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}
// Each of g's first eight lanes twice (lo) and each of its last eight twice (hi).
FHN_SIMD_INLINE void repeat_pairsw(vw g, vw& lo, vw& hi) {
  lo = FHN_SHUFFLE(vwi, g, g, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  hi = FHN_SHUFFLE(vwi, g, g, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
}
// out[i] = hsumw(v[i]) for i < N (N <= 16) by a transposing tree: the pairs of hsum and hsumw
// added in the same order (so bit for bit the same sums), in 15 vector additions and 30
// permutations instead of N horizontal sums.
template <int N>
FHN_SIMD_INLINE void hsumw_many(const vw* v, float* out) {
  static_assert(N >= 1 && N <= 16, "hsumw_many sums 1 to 16 vectors");
  auto pairs = [](vw x, vw y) {  // [x's adjacent pair sums, y's]
    vw even, odd;
    deinterleavew(x, y, even, odd);
    return even + odd;
  };
  const vw zero = splatw(0.0f);
  vw l1[8], l2[4], l3[2];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)
    l1[i] = pairs(2 * i < N ? v[2 * i] : zero, 2 * i + 1 < N ? v[2 * i + 1] : zero);
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) l2[i] = pairs(l1[2 * i], l1[2 * i + 1]);
  l3[0] = pairs(l2[0], l2[1]);
  l3[1] = pairs(l2[2], l2[3]);
  float all[16];
  storew(all, pairs(l3[0], l3[1]));
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) out[i] = all[i];
}
#else
FHN_SIMD_INLINE vw loadw_reg(const float* p) { return load8_reg(p); }
FHN_SIMD_INLINE vw loadw_first(const float* p, long count) { return load_first(p, count); }
FHN_SIMD_INLINE void storew_first(float* p, vw v, long count) { store_first(p, v, count); }
FHN_SIMD_INLINE float hsumw(vw v) { return hsum(v); }
FHN_SIMD_INLINE vw exp2w(vw t) { return exp2_8(t); }
FHN_SIMD_INLINE vw reciprocalw(vw d) { return reciprocal8(d); }
FHN_SIMD_INLINE void deinterleavew(vw a, vw b, vw& even, vw& odd) { deinterleave(a, b, even, odd); }
FHN_SIMD_INLINE void repeat_pairsw(vw g, vw& lo, vw& hi) { repeat_pairs(g, lo, hi); }
FHN_SIMD_INLINE void interleavew(vw a, vw b, vw& lo, vw& hi) {
  lo = FHN_SHUFFLE(v8i, a, b, 0, 8, 1, 9, 2, 10, 3, 11);
  hi = FHN_SHUFFLE(v8i, a, b, 4, 12, 5, 13, 6, 14, 7, 15);
}
#endif
// sigmoid8 at the level's width.
FHN_SIMD_INLINE vw sigmoidw(vw x) { return reciprocalw(1.0f + exp2w(x * -1.44269504088896341f)); }

}  // namespace fhn_inverse::nn::simd
