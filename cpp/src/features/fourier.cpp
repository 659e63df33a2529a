// FFTW3 plans and Fourier features; see fourier.hpp.
#include "fhn_inverse/features/fourier.hpp"

#include <fftw3.h>

#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::features {
namespace {

std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

double scale_for(Norm norm, long L) {
  switch (norm) {
    case Norm::backward:
      return 1.0;
    case Norm::ortho:
      return 1.0 / std::sqrt(static_cast<double>(L));
    case Norm::forward:
      return 1.0 / static_cast<double>(L);
  }
  return 1.0;
}

}  // namespace

FourierPlan::FourierPlan(long length) : length_(length), plan_(nullptr) {
  if (length < 1)
    throw std::invalid_argument("series length must be >= 1, got " + std::to_string(length));
  std::vector<double> in(static_cast<std::size_t>(length));
  std::vector<std::complex<double>> out(static_cast<std::size_t>(length / 2 + 1));
  std::lock_guard<std::mutex> lock(planner_mutex());
  plan_ = fftw_plan_dft_r2c_1d(static_cast<int>(length), in.data(),
                               reinterpret_cast<fftw_complex*>(out.data()),
                               FFTW_ESTIMATE | FFTW_UNALIGNED | FFTW_PRESERVE_INPUT);
  if (plan_ == nullptr)
    throw std::runtime_error("FFTW could not plan a transform of length " + std::to_string(length));
}

FourierPlan::~FourierPlan() {
  std::lock_guard<std::mutex> lock(planner_mutex());
  fftw_destroy_plan(static_cast<fftw_plan>(plan_));
}

void FourierPlan::execute(const double* x, std::complex<double>* spectrum) const {
  // FFTW_PRESERVE_INPUT: the input is only read, so the const_cast is safe.
  fftw_execute_dft_r2c(static_cast<fftw_plan>(plan_), const_cast<double*>(x),
                       reinterpret_cast<fftw_complex*>(spectrum));
}

std::shared_ptr<const FourierPlan> FourierPlan::for_length(long length) {
  static std::mutex cache_mutex;
  static std::map<long, std::shared_ptr<const FourierPlan>> cache;
  std::lock_guard<std::mutex> lock(cache_mutex);
  auto& slot = cache[length];
  if (!slot) slot = std::make_shared<const FourierPlan>(length);
  return slot;
}

RowMatrix fourier_features(const RowMatrixRef& x, Representation representation, Norm norm,
                           int n_threads) {
  const Eigen::Index N = x.rows(), L = x.cols();
  if (N < 1 || L < 1)
    throw std::invalid_argument("x must have shape (N >= 1, L >= 1), got (" + std::to_string(N) +
                                ", " + std::to_string(L) + ")");
  const int threads = team_size(resolve_threads(n_threads), N);
  const auto plan = FourierPlan::for_length(L);
  const Eigen::Index half = L / 2 + 1;
  const double scale = scale_for(norm, L);
  RowMatrix out(N, representation == Representation::packed ? L : half);
  InterruptPoll poll;
#pragma omp parallel num_threads(threads)
  {
    std::vector<std::complex<double>> spectrum(static_cast<std::size_t>(half));  // (L/2+1)
#pragma omp for schedule(static)
    for (Eigen::Index i = 0; i < N; ++i) {
      if (poll.stop()) continue;
      plan->execute(x.row(i).data(), spectrum.data());
      double* row = out.row(i).data();
      if (representation == Representation::magnitude) {
        for (Eigen::Index k = 0; k < half; ++k) row[k] = scale * std::abs(spectrum[k]);
      } else {
        for (Eigen::Index k = 0; k < half; ++k) row[k] = scale * spectrum[k].real();
        for (Eigen::Index k = 1; half + k - 1 < L; ++k)
          row[half + k - 1] = scale * spectrum[k].imag();
      }
    }
  }
  poll.check();
  return out;
}

}  // namespace fhn_inverse::features
