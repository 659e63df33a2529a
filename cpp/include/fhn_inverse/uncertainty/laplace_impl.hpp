// The Laplace templates (laplace.hpp), generic in the model: laplace.cpp and laplace_free.cpp
// instantiate them for the package's models; a model compiled elsewhere includes this header.
#pragma once

#include <Eigen/Cholesky>
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "fhn_inverse/simulate/free_set_impl.hpp"
#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/simulate/observation.hpp"
#include "fhn_inverse/simulate/sensitivities_impl.hpp"
#include "fhn_inverse/uncertainty/laplace.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::uncertainty {

template <class Model>
LaplaceResult laplace_batch(const Model& model, const RowMatrix& theta,
                            const simulate::SimulatorOptions& options, const Eigen::VectorXd& s,
                            const Eigen::VectorXd& rho, const Eigen::MatrixXd& prior_precision,
                            int n_threads) {
  using System = simulate::SensitivitySystem<Model>;
  constexpr std::size_t S = System::S, P = System::P, K = simulate::observed_count<Model>();
  options.validate();
  detail::validate_laplace_arguments(theta, P, s, rho, prior_precision, K);
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
    std::array<Mat, K> info_c;
    std::array<Vec, K> previous;
    for (std::size_t c = 0; c < K; ++c) info_c[c].setZero();
    const System system{model, th};
    // (WJ)_k = J_k − ρ J_{k−1} (row 0: √(1 − ρ²) J_0), accumulated into (WJ)ᵀ(WJ) row by row,
    // per observed quantity.
    const simulate::Status status = simulate::integrate_on_grid<typename System::State>(
        system, system.initial(), options, S,
        [&](std::size_t k, const typename System::State& y) {
          for (std::size_t c = 0; c < K; ++c) {
            const double rho_c = rho[i * K + c];
            Vec J_k;
            for (std::size_t p = 0; p < P; ++p)
              J_k[p] = simulate::observed_sensitivity<Model>(y, p, c);
            const Vec w =
                k == 0 ? Vec(std::sqrt(1.0 - rho_c * rho_c) * J_k) : Vec(J_k - rho_c * previous[c]);
            info_c[c].noalias() += w * w.transpose();
            previous[c] = J_k;
          }
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
    Mat info = Mat::Zero();
    for (std::size_t c = 0; c < K; ++c) {
      const double s_c = s[i * K + c], rho_c = rho[i * K + c];
      info += info_c[c] / (s_c * s_c * (1.0 - rho_c * rho_c));
    }
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

template <class Model>
LaplaceResult laplace_free(const Model& base, const simulate::FreeSet& free, const RowMatrix& z,
                           const simulate::SimulatorOptions& options, const Eigen::VectorXd& s,
                           const Eigen::VectorXd& rho, const Eigen::MatrixXd& prior_precision,
                           int n_threads) {
  if (free.is_default(Model::param_size))
    return laplace_batch(base, z, options, s, rho, prior_precision, n_threads);
  constexpr std::size_t K = simulate::observed_count<Model>();
  options.validate();
  const std::size_t k = free.size(), L = options.t_obs.size();
  detail::validate_laplace_arguments(z, k, s, rho, prior_precision, K);
  simulate::check_rows(base, free, z);
  if (free.frees(simulate::FreeSet::Kind::constant) &&
      !simulate::has_constant_jacobian<Model>::value)
    throw std::invalid_argument(std::string(Model::name) +
                                " declares no constant_jacobian: its constants cannot be free in "
                                "a Laplace covariance");
  detail::check_semi_definite(prior_precision);
  const Eigen::Index N = z.rows();
  const auto kk = static_cast<Eigen::Index>(k * k);
  const int threads = team_size(resolve_threads(n_threads), N);
  LaplaceResult r{RowMatrix(N, kk), RowMatrix(N, kk),
                  std::vector<std::int8_t>(static_cast<std::size_t>(N))};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  InterruptPoll poll;
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> u(K * L);
    RowMatrix J(static_cast<Eigen::Index>(K * L), static_cast<Eigen::Index>(k));
#pragma omp for schedule(dynamic, 4)
    for (Eigen::Index i = 0; i < N; ++i) {
      if (poll.stop()) continue;
      const simulate::Status status = simulate::sensitivities_free_one(
          base, free, z.row(i).data(), options, u.data(), J.data(), &poll);
      r.status[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(status);
      Eigen::Map<RowMatrix> info_out(r.information.row(i).data(), k, k);
      Eigen::Map<RowMatrix> cov_out(r.cov.row(i).data(), k, k);
      if (status != simulate::Status::ok) {
        info_out.setConstant(nan);
        cov_out.setConstant(nan);
        continue;
      }
      Eigen::MatrixXd info =
          Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(k));
      for (std::size_t c = 0; c < K; ++c) {  // W J per observed quantity (rows [c·L, (c+1)·L))
        auto Jc = J.middleRows(static_cast<Eigen::Index>(c * L), static_cast<Eigen::Index>(L));
        const double s_c = s[i * K + c], rho_c = rho[i * K + c];
        for (Eigen::Index t = Jc.rows() - 1; t > 0; --t) Jc.row(t) -= rho_c * Jc.row(t - 1);
        Jc.row(0) *= std::sqrt(1.0 - rho_c * rho_c);
        info += (Jc.transpose() * Jc) / (s_c * s_c * (1.0 - rho_c * rho_c));
      }
      const Eigen::MatrixXd H = info + prior_precision;
      Eigen::LLT<Eigen::MatrixXd> llt(H);
      const Eigen::MatrixXd C = llt.info() == Eigen::Success
                                    ? Eigen::MatrixXd(llt.solve(Eigen::MatrixXd::Identity(k, k)))
                                    : Eigen::MatrixXd::Constant(k, k, nan);
      info_out = info;
      cov_out = 0.5 * (C + C.transpose());
    }
  }
  poll.check();
  return r;
}

}  // namespace fhn_inverse::uncertainty
