// AR(1) whitening and batched Laplace covariances; see laplace.hpp.
#include "fhn_inverse/uncertainty/laplace.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

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
                                const Eigen::VectorXd& rho,
                                const Eigen::MatrixXd& prior_precision) {
  simulate::validate_theta(theta, P);
  const Eigen::Index N = theta.rows();
  if (s.size() != N || rho.size() != N)
    throw std::invalid_argument("s and rho must hold one value per sample (" + std::to_string(N) +
                                "), got " + std::to_string(s.size()) + " and " +
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

template <class Model>
LaplaceResult laplace_batch(const Model& model, const RowMatrix& theta,
                            const simulate::SimulatorOptions& options, const Eigen::VectorXd& s,
                            const Eigen::VectorXd& rho, const Eigen::MatrixXd& prior_precision,
                            int n_threads) {
  using System = simulate::SensitivitySystem<Model>;
  constexpr std::size_t S = System::S, P = System::P;
  constexpr std::size_t obs = Model::observed_component;
  options.validate();
  detail::validate_laplace_arguments(theta, P, s, rho, prior_precision);
  const Eigen::Index N = theta.rows();
  detail::check_semi_definite(prior_precision);
  const int threads = team_size(resolve_threads(n_threads), N);
  constexpr auto PP = static_cast<Eigen::Index>(P * P);
  LaplaceResult r{RowMatrix(N, PP), RowMatrix(N, PP),
                  std::vector<std::int8_t>(static_cast<std::size_t>(N))};
  using Mat = Eigen::Matrix<double, P, P>;
  using Vec = Eigen::Matrix<double, P, 1>;
  InterruptPoll poll;
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
  for (Eigen::Index i = 0; i < N; ++i) {
    if (poll.stop()) continue;
    const double* th = theta.row(i).data();
    const double rho_i = rho[i], root = std::sqrt(1.0 - rho_i * rho_i);
    Mat info = Mat::Zero();
    Vec previous = Vec::Zero();
    const System system{model, th};
    // (WJ)_k = J_k − ρ J_{k−1} (row 0: √(1 − ρ²) J_0), accumulated into (WJ)ᵀ(WJ) row by row.
    const simulate::Status status = simulate::integrate_on_grid<typename System::State>(
        system, system.initial(), options, S,
        [&](std::size_t k, const typename System::State& y) {
          Vec J_k;
          for (std::size_t p = 0; p < P; ++p) J_k[p] = y[S * (1 + p) + obs];
          const Vec w = k == 0 ? Vec(root * J_k) : Vec(J_k - rho_i * previous);
          info.noalias() += w * w.transpose();
          previous = J_k;
        },
        &poll);
    r.status[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(status);
    double* info_out = r.information.row(i).data();
    double* cov_out = r.cov.row(i).data();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (status != simulate::Status::ok) {
      std::fill(info_out, info_out + PP, nan);
      std::fill(cov_out, cov_out + PP, nan);
      continue;
    }
    info /= s[i] * s[i] * (1.0 - rho_i * rho_i);
    const Mat H = info + prior_precision;
    Eigen::LLT<Mat> llt(H);
    const Mat C =
        llt.info() == Eigen::Success ? Mat(llt.solve(Mat::Identity())) : Mat::Constant(nan);
    using RowMap = Eigen::Map<Eigen::Matrix<double, P, P, Eigen::RowMajor>>;
    RowMap{info_out} = info;
    RowMap{cov_out} = 0.5 * (C + C.transpose());  // symmetric to the last bit
  }
  poll.check();
  return r;
}

#define FHN_LAPLACE_INSTANCES(M)                                                                  \
  template LaplaceResult laplace_batch(const M&, const RowMatrix&,                                \
                                       const simulate::SimulatorOptions&, const Eigen::VectorXd&, \
                                       const Eigen::VectorXd&, const Eigen::MatrixXd&, int);
FHN_FOR_EACH_MODEL(FHN_LAPLACE_INSTANCES)
#undef FHN_LAPLACE_INSTANCES

}  // namespace fhn_inverse::uncertainty
