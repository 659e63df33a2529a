// The Fortran BLAS sgemm behind wide dense layers (built with FHN_OPENBLAS): a column-major
// product wrapper and the bias start a product with β = 1 accumulates onto. OpenBLAS runs one
// thread per call (nn/blas.cpp): the engine calls it from its own threads.
#pragma once

#include <cstring>

#ifdef FHN_OPENBLAS
// FHN_BLAS(name): OpenBLAS's symbol `name` under the build's prefix (FHN_BLAS_PREFIX: empty for the
// system's OpenBLAS, scipy_ for scipy-openblas32's; CMakeLists.txt).
#ifndef FHN_BLAS_PREFIX
#define FHN_BLAS_PREFIX
#endif
#define FHN_BLAS_JOIN2(prefix, name) prefix##name
#define FHN_BLAS_JOIN(prefix, name) FHN_BLAS_JOIN2(prefix, name)
#define FHN_BLAS(name) FHN_BLAS_JOIN(FHN_BLAS_PREFIX, name)

extern "C" void FHN_BLAS(sgemm_)(const char* ta, const char* tb, const int* m, const int* n,
                                 const int* k, const float* alpha, const float* a, const int* lda,
                                 const float* b, const int* ldb, const float* beta, float* c,
                                 const int* ldc);
#endif

namespace fhn_inverse::nn::kernels {

#ifdef FHN_OPENBLAS
// Dense layers with at least this many inputs and outputs multiply through OpenBLAS (docs/speed.md
// has the measurements behind the threshold).
constexpr long kBlasMin = 64;

// Column-major C (m × n, ldc) = op(A) op(B) + beta C, the Fortran BLAS convention.
inline void blas_gemm(char ta, char tb, long m, long n, long k, const float* a, long lda,
                      const float* b, long ldb, float beta, float* c, long ldc) {
  const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
  const int la = static_cast<int>(lda), lb = static_cast<int>(ldb), lc = static_cast<int>(ldc);
  const float one = 1.0f;
  FHN_BLAS(sgemm_)(&ta, &tb, &mi, &ni, &ki, &one, a, &la, b, &lb, &beta, c, &lc);
}

// Column-major C (rows × n, ldc) with every column = b: the start a product with β = 1 adds
// onto, which spares sgemm its zeroing pass and the caller a bias pass.
inline void fill_columns(float* c, long ldc, const float* b, long rows, long n) {
  for (long j = 0; j < n; ++j) std::memcpy(c + j * ldc, b, sizeof(float) * rows);
}
#endif

}  // namespace fhn_inverse::nn::kernels
