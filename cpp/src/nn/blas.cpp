// OpenBLAS, behind the wide dense layers' products: one thread per call, since the engine splits
// every batch over its own OpenMP threads and calls sgemm_ from each of them.
#include <mutex>

#include "fhn_inverse/nn/tensor.hpp"
#include "kernels/blas.hpp"

#ifdef FHN_OPENBLAS
extern "C" {
void FHN_BLAS(openblas_set_num_threads)(int);
char* FHN_BLAS(openblas_get_config)(void);
}
#endif

namespace fhn_inverse::nn {

void configure_blas() {
#ifdef FHN_OPENBLAS
  static std::once_flag once;
  std::call_once(once, [] { FHN_BLAS(openblas_set_num_threads)(1); });
#endif
}

std::string blas_backend() {
#ifdef FHN_OPENBLAS
  return std::string("OpenBLAS (") + FHN_BLAS(openblas_get_config)() + ")";
#else
  return "Eigen";
#endif
}

}  // namespace fhn_inverse::nn
