// Shapes and memory layouts of the neural-network engine (float32 throughout).
// A tensor is a raw float buffer plus a shape documented here once; Eigen::Map views it.
// Legend: N batch (samples), C channels, L length, K kernel, F features, P parameters, D outputs.
//   per-sample shape   rank 2 "sequence" (C, L)  or  rank 1 "vector" (F)
//   batch layout       sequence activations inside the engine are channel-major (C, N, L) (a
//                      convolution reads and writes whole runs of L per channel and series);
//                      vector activations are sample-major (N, F) = Eigen column-major (F, N).
//   user layout        inputs (N, C, L) or (N, F) row-major, outputs (N, D) row-major; the
//                      network converts inputs to the engine layout when it copies them in.
// Parameters follow PyTorch's layouts: Dense weight (Fout, Fin), Conv1D weight (Cout, Cin, K).
#pragma once

// The engine parallelises over chunks of a batch itself; Eigen's own GEMM threading would nest
// inside that (and, with one thread, start teams of its own), so it is compiled out here. Every
// nn source includes this header before any other Eigen header.
#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif
#include <Eigen/Core>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace fhn_inverse::nn {

// With OpenBLAS behind the wide dense layers (CMake option FHN_BLAS): switch it to one thread
// per call, once per process; a no-op otherwise. Every Network calls it on construction.
void configure_blas();
// "Eigen" or "OpenBLAS (<its build configuration>)".
std::string blas_backend();

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ColMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
using MapRow = Eigen::Map<RowMatrixF>;
using ConstMapRow = Eigen::Map<const RowMatrixF>;
using MapCol = Eigen::Map<ColMatrixF>;
using ConstMapCol = Eigen::Map<const ColMatrixF>;
using MapVec = Eigen::Map<Eigen::VectorXf>;
using ConstMapVec = Eigen::Map<const Eigen::VectorXf>;
using MapArr = Eigen::Map<Eigen::ArrayXf>;
using ConstMapArr = Eigen::Map<const Eigen::ArrayXf>;

// Every buffer of the engine starts on a 64-byte boundary: Eigen's vectorised reductions peel
// by alignment, so equal alignment everywhere makes results bitwise reproducible across
// network objects (and, with the fixed chunking, across thread counts).
constexpr long kAlignFloats = 16;
inline long align_up(long floats) {
  return (floats + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
}

template <class T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    void* p = ::operator new(n * sizeof(T), std::align_val_t(64));
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) { ::operator delete(p, std::align_val_t(64)); }
  template <class U>
  bool operator==(const AlignedAllocator<U>&) const {
    return true;
  }
  template <class U>
  bool operator!=(const AlignedAllocator<U>&) const {
    return false;
  }
};
using Buffer = std::vector<float, AlignedAllocator<float>>;

// Per-sample shape: channels == 0 marks a rank-1 vector of `length` features.
struct Shape {
  long channels = 0;
  long length = 0;

  static Shape vector(long features) { return {0, features}; }
  static Shape sequence(long channels, long length) { return {channels, length}; }
  bool is_sequence() const { return channels > 0; }
  long size() const { return is_sequence() ? channels * length : length; }
  std::string str() const {
    return is_sequence() ? "(" + std::to_string(channels) + ", " + std::to_string(length) + ")"
                         : "(" + std::to_string(length) + ")";
  }
  bool operator==(const Shape& o) const { return channels == o.channels && length == o.length; }
  bool operator!=(const Shape& o) const { return !(*this == o); }
};

// Builds its message eagerly: for construction-time checks, not for per-step hot paths.
inline void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

}  // namespace fhn_inverse::nn
