// AR(1) whitening and batched Laplace covariances; see laplace.hpp.
#include "fhn_inverse/uncertainty/laplace.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "fhn_inverse/uncertainty/laplace_impl.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/util/parallel.hpp"
#include "fhn_inverse/simulate/sensitivities.hpp"

namespace fhn_inverse::uncertainty {

namespace {

void validate_rho(const Eigen::VectorXd& rho) {
  for (Eigen::Index i = 0; i < rho.size(); ++i)
    if (!(rho[i] > -1.0 && rho[i] < 1.0))
      throw std::invalid_argument("rho[" + std::to_string(i) + "] must be in (-1, 1), got " +
                                  std::to_string(rho[i]));
}

}  // namespace

namespace detail {

// The checks of laplace_batch's arguments, for P parameters: std::invalid_argument naming the
// value.
void validate_laplace_arguments(const RowMatrix& theta, std::size_t P, const Eigen::VectorXd& s,
                                const Eigen::VectorXd& rho, const Eigen::MatrixXd& prior_precision,
                                std::size_t channels) {
  simulate::validate_theta(theta, P);
  const Eigen::Index N = theta.rows() * static_cast<Eigen::Index>(channels);
  if (s.size() != N || rho.size() != N)
    throw std::invalid_argument(std::string("s and rho must hold one value per sample") +
                                (channels > 1 ? " and observed quantity (" : " (") +
                                std::to_string(N) + "), got " + std::to_string(s.size()) + " and " +
                                std::to_string(rho.size()));
  for (Eigen::Index i = 0; i < N; ++i)
    if (!(s[i] > 0.0) || !std::isfinite(s[i]))
      throw std::invalid_argument("s[" + std::to_string(i) + "] must be finite and > 0, got " +
                                  std::to_string(s[i]));
  validate_rho(rho);
  if (prior_precision.rows() != static_cast<Eigen::Index>(P) ||
      prior_precision.cols() != static_cast<Eigen::Index>(P))
    throw std::invalid_argument(
        "prior_precision must be " + std::to_string(P) + " x " + std::to_string(P) + ", got " +
        std::to_string(prior_precision.rows()) + " x " + std::to_string(prior_precision.cols()));
  if (!prior_precision.allFinite() || prior_precision != prior_precision.transpose())
    throw std::invalid_argument("prior_precision must be finite and symmetric");
}

void check_semi_definite(const Eigen::MatrixXd& prior_precision) {
  const Eigen::VectorXd eig =
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(prior_precision).eigenvalues();
  if (eig.minCoeff() < -1e-12 * std::max(1.0, eig.cwiseAbs().maxCoeff()))
    throw std::invalid_argument(
        "prior_precision must be positive semi-definite, its smallest "
        "eigenvalue is " +
        std::to_string(eig.minCoeff()));
}

}  // namespace detail

void ar1_whiten(const double* x, std::size_t n, double rho, double* out) {
  // Backwards, so that out may alias x.
  for (std::size_t k = n; k-- > 1;) out[k] = x[k] - rho * x[k - 1];
  if (n > 0) out[0] = std::sqrt(1.0 - rho * rho) * x[0];
}

RowMatrix ar1_whiten_rows(const RowMatrix& X, const Eigen::VectorXd& rho, int n_threads) {
  if (rho.size() != X.rows())
    throw std::invalid_argument("rho must hold one value per row of x (" +
                                std::to_string(X.rows()) + "), got " + std::to_string(rho.size()));
  validate_rho(rho);
  if (!X.allFinite()) throw std::invalid_argument("x must be finite");
  const int threads = team_size(resolve_threads(n_threads), X.rows());
  RowMatrix out(X.rows(), X.cols());
  InterruptPoll poll;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    if (poll.stop()) continue;
    ar1_whiten(X.row(i).data(), static_cast<std::size_t>(X.cols()), rho[i], out.row(i).data());
  }
  poll.check();
  return out;
}

#define FHN_LAPLACE_INSTANCES(M)                                                                  \
  template LaplaceResult laplace_batch(const M&, const RowMatrix&,                                \
                                       const simulate::SimulatorOptions&, const Eigen::VectorXd&, \
                                       const Eigen::VectorXd&, const Eigen::MatrixXd&, int);
FHN_FOR_EACH_MODEL(FHN_LAPLACE_INSTANCES)
#undef FHN_LAPLACE_INSTANCES

}  // namespace fhn_inverse::uncertainty
