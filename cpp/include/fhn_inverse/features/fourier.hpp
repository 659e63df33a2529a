// Fourier features with FFTW3 real-to-complex transforms. One plan per series length, built
// once (planning is serialised; FFTW's planner is not thread-safe) and executed concurrently on
// any rows (new-array execute, unaligned plans). Normalisation is always explicit:
//   backward: X_k = Σ_j x_j e^{−2πi jk/L}  (numpy.fft.rfft's default), ortho: X/√L, forward: X/L.
// Representations of the L/2+1 complex coefficients of a length-L series:
//   packed:    L reals [Re X_0 … Re X_{⌊L/2⌋}, Im X_1 … Im X_{⌈L/2⌉−1}] — lossless, same length as
//              the series, so it stacks with it as a channel;
//   magnitude: ⌊L/2⌋+1 values |X_k|.
// Shapes: x (N, L) row-major; output (N, L) or (N, ⌊L/2⌋+1).
#pragma once

#include <Eigen/Core>
#include <complex>
#include <memory>

#include "fhn_inverse/simulate/simulator.hpp"

namespace fhn_inverse::features {

using simulate::RowMatrix;
using simulate::RowMatrixRef;

enum class Norm { backward, ortho, forward };
enum class Representation { packed, magnitude };

// A plan for real series of one length; thread-safe execute().
class FourierPlan {
 public:
  explicit FourierPlan(long length);
  ~FourierPlan();
  FourierPlan(const FourierPlan&) = delete;
  FourierPlan& operator=(const FourierPlan&) = delete;

  long length() const { return length_; }
  // x (L) -> spectrum (L/2+1), unnormalised (backward).
  void execute(const double* x, std::complex<double>* spectrum) const;

  // The process-wide plan for this length, built on first use.
  static std::shared_ptr<const FourierPlan> for_length(long length);

 private:
  long length_;
  void* plan_;  // fftw_plan
};

// n_threads in [0, kMaxThreads] (0 = all cores; parallel.hpp); throws Interrupted when the
// interrupt hook answers true (interrupt.hpp). Thread-count independent.
RowMatrix fourier_features(const RowMatrixRef& x,
                           Representation representation = Representation::packed,
                           Norm norm = Norm::ortho, int n_threads = 0);

}  // namespace fhn_inverse::features
