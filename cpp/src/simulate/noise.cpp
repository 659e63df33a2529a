// Stationary AR(1) noise; see noise.hpp.
#include "fhn_inverse/simulate/noise.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/random.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::simulate {

void validate_noise_parameters(const Eigen::VectorXd& sigma, const Eigen::VectorXd& rho) {
  if (sigma.size() != rho.size())
    throw std::invalid_argument("sigma and rho must have the same length, got " +
                                std::to_string(sigma.size()) + " and " +
                                std::to_string(rho.size()));
  if (sigma.size() < 1) throw std::invalid_argument("sigma must hold at least 1 value, got 0");
  for (Eigen::Index i = 0; i < sigma.size(); ++i) {
    if (!(sigma[i] >= 0.0) || !std::isfinite(sigma[i]))
      throw std::invalid_argument("sigma[" + std::to_string(i) + "] must be finite and >= 0, got " +
                                  std::to_string(sigma[i]));
    if (!(rho[i] > -1.0 && rho[i] < 1.0))
      throw std::invalid_argument("rho[" + std::to_string(i) + "] must be in (-1, 1), got " +
                                  std::to_string(rho[i]));
  }
}

RowMatrix ar1_noise(const Eigen::VectorXd& sigma, const Eigen::VectorXd& rho, long length,
                    std::uint64_t seed, std::uint64_t first_index, int n_threads) {
  validate_noise_parameters(sigma, rho);
  if (length < 1) throw std::invalid_argument("length must be >= 1, got " + std::to_string(length));
  const Eigen::Index N = sigma.size();
  const int threads = team_size(resolve_threads(n_threads), N);
  RowMatrix eta(N, length);
  InterruptPoll poll;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Eigen::Index i = 0; i < N; ++i) {
    if (poll.stop()) continue;
    Rng rng(seed, Stream::noise, first_index + static_cast<std::uint64_t>(i));
    const double s = sigma[i], r = rho[i];
    const double innovation = s * std::sqrt(1.0 - r * r);
    double* row = eta.row(i).data();
    row[0] = s * rng.normal();
    for (long k = 1; k < length; ++k) row[k] = r * row[k - 1] + innovation * rng.normal();
  }
  poll.check();
  return eta;
}

}  // namespace fhn_inverse::simulate
