// Dense, pooling, Flatten and Dropout (Conv1D: conv1d.cpp): forward/backward pairs on the engine layout
// documented in tensor.hpp. Backward overwrites dparams and dx.
#include "fhn_inverse/nn/layers.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "simd.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define FHN_NARROW_DENSE 1
#endif

#ifdef FHN_OPENBLAS
extern "C" void sgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b,
                       const int* ldb, const float* beta, float* c, const int* ldc);
#endif

namespace fhn_inverse::nn {

namespace {

#ifdef FHN_OPENBLAS
// Dense layers with at least this many inputs and outputs multiply through OpenBLAS: from
// width 128 on, its sgemm runs 25-45 % faster than Eigen's GEMM here (docs/speed.md), while
// narrower products (the study's 4 × 32 map, convolution GEMMs with K ≤ 48) stay faster in Eigen.
constexpr long kBlasMin = 64;

// Column-major C (m × n, ldc) = op(A) op(B) + beta C, the Fortran BLAS convention.
void blas_gemm(char ta, char tb, long m, long n, long k, const float* a, long lda, const float* b,
               long ldb, float beta, float* c, long ldc) {
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  const int la = static_cast<int>(lda), lb = static_cast<int>(ldb), lc = static_cast<int>(ldc);
  const float one = 1.0f;
  sgemm_(&ta, &tb, &mi, &ni, &ki, &one, a, &la, b, &lb, &beta, c, &lc);
}

// Column-major C (rows × n, ldc) with every column = b: the start a product with β = 1 adds
// onto, which spares sgemm its zeroing pass and the caller a bias pass.
void fill_columns(float* c, long ldc, const float* b, long rows, long n) {
  for (long j = 0; j < n; ++j) std::memcpy(c + j * ldc, b, sizeof(float) * rows);
}
#endif

#ifdef FHN_NARROW_DENSE
float hsum(__m256 v) {
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
void narrow_dense(const float* W, const float* x, float* y, long units, long fin, long n) {
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

// Packed narrow kernel: wt (Fin, U) holds Wᵀ with U = units rounded up to 8 (zero columns).
// A block of S samples × 8·V outputs keeps S·V accumulators in registers (12 of 16 for the
// 6 × 16 block): per input feature k, V weight vectors are loaded and x[s][k] is broadcast, so
// neither operand is repacked per block and the FMA units, not the loads, bound the loop.
// Features run in blocks of kFeatureBlock (the x rows of a block stay in L1), added in order:
// every output sums its terms in the same order whatever its sample block, so a row's result
// does not depend on the rows evaluated beside it.
constexpr long kFeatureBlock = 256;

// (incx: the step of x between consecutive k; 1 in the forward pass, where each sample's
// features are contiguous. Kept out of line, so that its registers are allocated on their own.)
template <int S, int V>
[[gnu::noinline]] void packed_block(const float* wt, long ldw, const float* x, long ldx, long k0,
                                    long k1, float* out, long ldo, long width, bool first,
                                    long incx = 1) {
  // S·V accumulators and one base pointer with the row stride in registers; fully unrolled so
  // that none of them spills inside the feature loop
  __m256 acc[S][V];
#pragma GCC unroll 8
  for (int s = 0; s < S; ++s)
#pragma GCC unroll 2
    for (int v = 0; v < V; ++v) acc[s][v] = _mm256_setzero_ps();
  const float* w = wt + k0 * ldw;
  const float* xk = x + k0 * incx;
  for (long k = k0; k < k1; ++k, w += ldw, xk += incx) {
    const __m256 w0 = _mm256_loadu_ps(w);
    const __m256 w1 = V > 1 ? _mm256_loadu_ps(w + 8) : w0;
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      const __m256 b = _mm256_broadcast_ss(xk + s * ldx);
      acc[s][0] = _mm256_fmadd_ps(b, w0, acc[s][0]);
      if (V > 1) acc[s][V - 1] = _mm256_fmadd_ps(b, w1, acc[s][V - 1]);
    }
  }
  // lanes j < width of each 8-wide vector: whole stores, a masked one for a partial vector
  // (unrolled too: a run-time index into acc would keep it in memory)
#pragma GCC unroll 2
  for (int v = 0; v < V; ++v) {
    const long left = width - 8 * v;
    if (left <= 0) break;
#pragma GCC unroll 8
    for (int s = 0; s < S; ++s) {
      float* o = out + s * ldo + 8 * v;
      simd::v8 r = reinterpret_cast<simd::v8>(acc[s][v]);
      if (!first) r += simd::load_first(o, left);
      simd::store_first(o, r, left);
    }
  }
}

template <int S>
void packed_rows(const float* wt, const float* x, float* out, long units, long fin) {
  const long ldw = (units + 7) / 8 * 8;
  for (long k0 = 0; k0 < fin; k0 += kFeatureBlock) {
    const long k1 = std::min(fin, k0 + kFeatureBlock);
    long j = 0;
    for (; j + 16 <= ldw; j += 16)
      packed_block<S, 2>(wt + j, ldw, x, fin, k0, k1, out + j, units, std::min(16L, units - j),
                         k0 == 0);
    if (j < ldw)
      packed_block<S, 1>(wt + j, ldw, x, fin, k0, k1, out + j, units, units - j, k0 == 0);
  }
}

// Blocks of S rows over [0, n): block(integral_constant<S>, first row) for blocks of 6, then one
// block of the remainder (the broadcast kernel's row counts).
template <class Block>
void sample_blocks(long n, Block&& block) {
  long i = 0;
  for (; i + 6 <= n; i += 6) block(std::integral_constant<int, 6>{}, i);
  switch (n - i) {
    case 5: block(std::integral_constant<int, 5>{}, i); break;
    case 4: block(std::integral_constant<int, 4>{}, i); break;
    case 3: block(std::integral_constant<int, 3>{}, i); break;
    case 2: block(std::integral_constant<int, 2>{}, i); break;
    case 1: block(std::integral_constant<int, 1>{}, i); break;
    default: break;
  }
}

void narrow_dense_packed(const float* wt, const float* x, float* y, long units, long fin, long n) {
  sample_blocks(n, [&](auto s, long i) {
    packed_rows<decltype(s)::value>(wt, x + i * fin, y + i * units, units, fin);
  });
}

// Backward of a narrow Dense layer (the broadcast kernel above, on the row-major weights and the
// sample-major x, dY as they lie; no packing): over blocks of 16 features,
//   dX[i, k] = Σ_u dY[i, u] W[u, k]   (6 samples × 16 features, u runs over the units)
//   dW[u, k] = Σ_i dY[i, u] X[i, k]   (6 units × 16 features, i runs over the samples).
// Returns the features handled (a multiple of 16); the caller does the rest.
long narrow_dense_backward(const float* W, const float* x, const float* dy, float* dx, float* dW,
                           long units, long fin, long n) {
  const long full = fin / 16 * 16;
  for (long j = 0; j < full; j += 16) {
    sample_blocks(units, [&](auto s, long u0) {  // rows u0.. of dW, reduction over the samples
      packed_block<decltype(s)::value, 2>(x + j, fin, dy + u0, 1, 0, n, dW + u0 * fin + j, fin, 16,
                                          true, units);
    });
    if (dx)
      sample_blocks(n, [&](auto s, long i0) {  // samples i0.. of dX, reduction over the units
        packed_block<decltype(s)::value, 2>(W + j, fin, dy + i0 * units, units, 0, units,
                                            dx + i0 * fin + j, fin, 16, true);
      });
  }
  return full;
}
#endif

}  // namespace

void glorot_uniform(float* w, long count, long fan_in, long fan_out, Rng& rng) {
  const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  for (long i = 0; i < count; ++i) w[i] = static_cast<float>((2.0 * rng.uniform() - 1.0) * a);
}

// ---------------------------------------------------------------------------------------- Dense
Dense::Dense(Shape in, long units_) : Layer(in), units(units_) {
  require(!in.is_sequence(),
          "Dense needs a vector input (add Flatten after sequence layers), got shape " + in.str());
  require(in.length >= 1, "Dense input features must be >= 1, got " + std::to_string(in.length));
  require(units >= 1, "Dense units must be >= 1, got " + std::to_string(units));
}

void Dense::init_params(float* params, Rng& rng) const {
  glorot_uniform(params, units * in_.length, in_.length, units, rng);
  std::fill(params + units * in_.length, params + n_params(), 0.0f);
}

void Dense::forward(const float* params, const float* x, float* y, long n, float*,
                    const Context& ctx) const {
  const long fin = in_.length;
  ConstMapRow W(params, units, fin);                 // (Fout, Fin)
  ConstMapVec b(params + units * fin, units);        // (Fout)
  ConstMapCol X(x, fin, n);                          // (N, Fin) as (Fin, N)
  MapCol Y(y, units, n);                             // (N, Fout) as (Fout, N)
#ifdef FHN_NARROW_DENSE
  if (narrow()) {
    if (ctx.packed)
      narrow_dense_packed(ctx.packed, x, y, units, fin, n);
    else
      narrow_dense(params, x, y, units, fin, n);
    Y.colwise() += b;
    return;
  }
#endif
#ifdef FHN_OPENBLAS
  if (use_blas()) {  // Y (units × n) = b + Wᵀ-as-stored (row-major W is column-major Wᵀ) × X
    fill_columns(y, units, b.data(), units, n);  // the product accumulates onto the bias
    blas_gemm('T', 'N', units, n, fin, params, fin, x, fin, 1.0f, y, units);
    return;
  }
#endif
  Y.noalias() = W * X;
  Y.colwise() += b;
}

bool Dense::narrow() const {
#ifdef FHN_NARROW_DENSE
  return units <= 64 && in_.length >= 256;
#else
  return false;
#endif
}

long Dense::packed_size() const { return narrow() ? in_.length * ((units + 7) / 8 * 8) : 0; }

void Dense::pack(const float* params, float* packed) const {
  const long fin = in_.length, ld = (units + 7) / 8 * 8;
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

bool Dense::use_blas() const {
#ifdef FHN_OPENBLAS
  return units >= kBlasMin && in_.length >= kBlasMin;
#else
  return false;
#endif
}

void Dense::backward(const float* params, const float* x, const float*, const float* dy,
                     float* dx, float* dparams, long n, float*) const {
  const long fin = in_.length;
  ConstMapCol X(x, fin, n);
  ConstMapCol dY(dy, units, n);
  MapRow dW(dparams, units, fin);
  MapVec db(dparams + units * fin, units);
  db = dY.rowwise().sum();
#ifdef FHN_NARROW_DENSE
  if (narrow()) {  // blocks of 16 features by the broadcast kernel, the rest here
    const long done = narrow_dense_backward(params, x, dy, dx, dparams, units, fin, n);
    const long rest = fin - done;
    if (rest > 0) {
      dW.rightCols(rest).noalias() = dY * X.bottomRows(rest).transpose();
      if (dx) {
        ConstMapRow W(params, units, fin);
        MapCol dX(dx, fin, n);
        dX.bottomRows(rest).noalias() = W.rightCols(rest).transpose() * dY;
      }
    }
    return;
  }
#endif
#ifdef FHN_OPENBLAS
  if (use_blas()) {
    // dWᵀ (fin × units, column-major = row-major dW) = X (fin × n) dYᵀ;  dX = W (as Wᵀ) dY
    blas_gemm('N', 'T', fin, units, n, x, fin, dy, units, 0.0f, dparams, fin);
    if (dx) blas_gemm('N', 'N', fin, n, units, params, fin, dy, units, 0.0f, dx, fin);
    return;
  }
#endif
  dW.noalias() = dY * X.transpose();
  if (dx) {
    ConstMapRow W(params, units, fin);
    MapCol dX(dx, fin, n);
    dX.noalias() = W.transpose() * dY;
  }
}

namespace {
long split_count(long rows) { return std::max(1L, std::min(4L, rows / 128)); }
// Rows [lo, hi) of part p of `parts` over `rows`, boundaries on multiples of 8.
void split_range(long rows, long parts, long p, long& lo, long& hi) {
  const long step = ((rows + parts - 1) / parts + 7) / 8 * 8;
  lo = std::min(rows, p * step);
  hi = std::min(rows, lo + step);
}
}  // namespace

long Dense::parts(bool backward) const {
  if (!split) return 1;
  return backward ? std::max(split_count(units), split_count(in_.length)) : split_count(units);
}

void Dense::forward_part(const float* params, const float* x, float* y, long n, long part) const {
  const long fin = in_.length;
  long lo, hi;
  split_range(units, split_count(units), part, lo, hi);
  if (hi <= lo) return;
  ConstMapRow W(params, units, fin);
  ConstMapVec b(params + units * fin, units);
  ConstMapCol X(x, fin, n);
  MapCol Y(y, units, n);
#ifdef FHN_OPENBLAS
  if (use_blas()) {
    fill_columns(y + lo, units, b.data() + lo, hi - lo, n);
    blas_gemm('T', 'N', hi - lo, n, fin, params + lo * fin, fin, x, fin, 1.0f, y + lo, units);
    return;
  }
#endif
  Y.middleRows(lo, hi - lo).noalias() = W.middleRows(lo, hi - lo) * X;
  Y.middleRows(lo, hi - lo).colwise() += b.segment(lo, hi - lo);
}

void Dense::backward_part(const float* params, const float* x, const float* dy, float* dx,
                          float* dparams, long n, long part) const {
  const long fin = in_.length;
  ConstMapCol X(x, fin, n);
  ConstMapCol dY(dy, units, n);
  long lo, hi;
  if (part < split_count(units)) {
    split_range(units, split_count(units), part, lo, hi);
    if (hi > lo) {
      MapRow dW(dparams, units, fin);
      MapVec db(dparams + units * fin, units);
      db.segment(lo, hi - lo) = dY.middleRows(lo, hi - lo).rowwise().sum();
#ifdef FHN_OPENBLAS
      if (use_blas())
        blas_gemm('N', 'T', fin, hi - lo, n, x, fin, dy + lo, units, 0.0f, dparams + lo * fin, fin);
      else
#endif
        // column blocks of ≤ 512 keep Eigen's packing buffers on the stack (≈ 1 MB at most)
        for (long c = 0; c < fin; c += 512) {
          const long cw = std::min(512L, fin - c);
          dW.block(lo, c, hi - lo, cw).noalias() =
              dY.middleRows(lo, hi - lo) * X.middleRows(c, cw).transpose();
        }
    }
  }
  if (dx && part < split_count(fin)) {
    split_range(fin, split_count(fin), part, lo, hi);
    if (hi > lo) {
#ifdef FHN_OPENBLAS
      if (use_blas()) {
        blas_gemm('N', 'N', hi - lo, n, units, params + lo, fin, dy, units, 0.0f, dx + lo, fin);
        return;
      }
#endif
      ConstMapRow W(params, units, fin);
      MapCol dX(dx, fin, n);
      dX.middleRows(lo, hi - lo).noalias() = W.middleCols(lo, hi - lo).transpose() * dY;
    }
  }
}

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

void Pool1D::forward(const float*, const float* x, float* y, long n, float*,
                     const Context&) const {
  const long rows = in_.channels * n, lin = in_.length, lout = out_length;
  const float inv = 1.0f / static_cast<float>(pool);
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * lin;
    float* yr = y + r * lout;
    if (kind == Kind::average) {
      if (pool == 2 && stride == 2) {  // the study's pooling: pair sums of runs of 16
        using namespace simd;
        long l = 0;
        for (; l + 8 <= lout; l += 8) {
          const v8 a = load8(xr + 2 * l), b = load8(xr + 2 * l + 8);
          v8 even, odd;
          deinterleave(a, b, even, odd);
          store8(yr + l, (even + odd) * inv);
        }
        for (; l < lout; ++l) yr[l] = (xr[2 * l] + xr[2 * l + 1]) * inv;
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
    for (long r = 0; r < rows; ++r) {
      const float* dyr = dy + r * lout;
      float* dxr = dx + r * lin;
      using namespace simd;
      long l = 0;
      for (; l + 8 <= lout; l += 8) {
        v8 lo, hi;
        repeat_pairs(load8(dyr + l) * inv, lo, hi);
        store8(dxr + 2 * l, lo);
        store8(dxr + 2 * l + 8, hi);
      }
      for (; l < lout; ++l) {
        const float g = dyr[l] * inv;
        dxr[2 * l] = g;
        dxr[2 * l + 1] = g;
      }
      for (long l = 2 * lout; l < lin; ++l) dxr[l] = 0.0f;
    }
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

// -------------------------------------------------------------------------------------- Flatten
Flatten::Flatten(Shape in) : Layer(in) {}

void Flatten::forward(const float*, const float* x, float* y, long n, float*,
                      const Context&) const {
  if (!in_.is_sequence()) {
    std::memcpy(y, x, sizeof(float) * n * in_.length);
    return;
  }
  const long c = in_.channels, l = in_.length;
  for (long ci = 0; ci < c; ++ci)
    for (long j = 0; j < n; ++j)
      std::memcpy(y + j * c * l + ci * l, x + (ci * n + j) * l, sizeof(float) * l);
}

void Flatten::backward(const float*, const float*, const float*, const float* dy, float* dx,
                       float*, long n, float*) const {
  if (!dx) return;
  if (!in_.is_sequence()) {
    std::memcpy(dx, dy, sizeof(float) * n * in_.length);
    return;
  }
  const long c = in_.channels, l = in_.length;
  for (long ci = 0; ci < c; ++ci)
    for (long j = 0; j < n; ++j)
      std::memcpy(dx + (ci * n + j) * l, dy + j * c * l + ci * l, sizeof(float) * l);
}

// -------------------------------------------------------------------------------------- Dropout
Dropout::Dropout(Shape in, double rate_) : Layer(in), rate(rate_) {
  require(rate >= 0.0 && rate < 1.0,
          "dropout rate must be in [0, 1), got " + std::to_string(rate));
}

void Dropout::forward(const float*, const float* x, float* y, long n, float* scratch,
                      const Context& ctx) const {
  const long count = n * in_.size();
  if (!ctx.training || rate == 0.0) {
    std::memcpy(y, x, sizeof(float) * count);
    if (ctx.training || ctx.backward) std::fill(scratch, scratch + count, 1.0f);
    return;
  }
  const std::uint64_t index = (ctx.step << 24) ^ (static_cast<std::uint64_t>(ctx.layer) << 12) ^
                              static_cast<std::uint64_t>(ctx.chunk);
  Rng8 rng(ctx.seed, Stream::dropout, index);
  const float keep = static_cast<float>(1.0 / (1.0 - rate));
  // each step of the eight generators decides 16 values: a 32-bit half below rate · 2^32 drops
  // its value (halves in memory order: value k of a block is 32-bit word k of the 512 bits)
  const auto threshold = static_cast<std::uint32_t>(std::ldexp(rate, 32));
  typedef std::uint32_t u32x8 __attribute__((vector_size(32)));
  const simd::v8i keep_bits = reinterpret_cast<simd::v8i>(simd::splat(keep));
  const u32x8 thr = {threshold, threshold, threshold, threshold,
                     threshold, threshold, threshold, threshold};
  auto masks = [&](simd::v8& m0, simd::v8& m1) {
    Rng8::u64x4 lo, hi;
    rng.next(lo, hi);
    // (a < b) is all ones where a value is dropped
    m0 = reinterpret_cast<simd::v8>(keep_bits & ~(reinterpret_cast<u32x8>(lo) < thr));
    m1 = reinterpret_cast<simd::v8>(keep_bits & ~(reinterpret_cast<u32x8>(hi) < thr));
  };
  long i = 0;
  for (; i + 16 <= count; i += 16) {
    simd::v8 m0, m1;
    masks(m0, m1);
    simd::store8(scratch + i, m0);
    simd::store8(scratch + i + 8, m1);
    simd::store8(y + i, simd::load8(x + i) * m0);
    simd::store8(y + i + 8, simd::load8(x + i + 8) * m1);
  }
  if (i < count) {
    float tail[16];
    simd::v8 m0, m1;
    masks(m0, m1);
    simd::store8(tail, m0);
    simd::store8(tail + 8, m1);
    for (long k = 0; i + k < count; ++k) {
      scratch[i + k] = tail[k];
      y[i + k] = x[i + k] * tail[k];
    }
  }
}

void Dropout::backward(const float*, const float*, const float*, const float* dy, float* dx,
                       float*, long n, float* scratch) const {
  if (!dx) return;
  const long count = n * in_.size();
  for (long i = 0; i < count; ++i) dx[i] = dy[i] * scratch[i];
}

}  // namespace fhn_inverse::nn
