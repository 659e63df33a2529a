// Thread-count handling shared by the batch kernels: 0 means all cores.
#pragma once

#include <omp.h>
#include <stdexcept>
#include <string>

namespace fhn_inverse {

inline int resolve_threads(int n_threads) {
  if (n_threads < 0)
    throw std::invalid_argument("n_threads must be >= 0 (0 = all cores), got " +
                                std::to_string(n_threads));
  return n_threads == 0 ? omp_get_num_procs() : n_threads;
}

}  // namespace fhn_inverse
