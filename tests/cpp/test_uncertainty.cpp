// Forward sensitivities against central differences of the simulator, the AR(1) whitening against
// the dense covariance, and the batched Laplace covariance against a dense computation.
#include <gtest/gtest.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <cmath>
#include <vector>

#include "fhn_inverse/simulate/sensitivities.hpp"
#include "fhn_inverse/uncertainty/laplace.hpp"

using namespace fhn_inverse;
using namespace fhn_inverse::simulate;
using models::FitzHughNagumo;

namespace {

SimulatorOptions grid(std::size_t L, double dt, double tol) {
  SimulatorOptions o;
  for (std::size_t k = 0; k < L; ++k) o.t_obs.push_back(dt * static_cast<double>(k));
  o.rtol = o.atol = tol;
  return o;
}

Eigen::MatrixXd ar1_covariance(std::size_t n, double s, double rho) {
  Eigen::MatrixXd G(n, n);
  for (std::size_t j = 0; j < n; ++j)
    for (std::size_t k = 0; k < n; ++k)
      G(j, k) = s * s * std::pow(rho, std::abs(static_cast<double>(j) - static_cast<double>(k)));
  return G;
}

}  // namespace

TEST(Sensitivities, MatchCentralDifferencesOfTheSimulator) {
  const FitzHughNagumo model;
  const SimulatorOptions o = grid(500, 0.2, 1e-12);
  const std::vector<std::array<double, 2>> thetas{{0.4, 0.4}, {0.9, 0.1}, {-0.1, 1.0}, {0.2, 0.8}};
  for (const auto& th : thetas) {
    std::vector<double> u(500), J(1000), up(500), down(500);
    ASSERT_EQ(sensitivities_one(model, th.data(), o, u.data(), J.data()), Status::ok);
    std::vector<double> plain(500);
    simulate_one(model, th.data(), o, plain.data());
    for (std::size_t k = 0; k < 500; ++k) EXPECT_NEAR(u[k], plain[k], 1e-9);
    for (std::size_t i = 0; i < 2; ++i) {
      const double h = 1e-5;
      auto p = th, m = th;
      p[i] += h;
      m[i] -= h;
      simulate_one(model, p.data(), o, up.data());
      simulate_one(model, m.data(), o, down.data());
      double scale = 0.0, worst = 0.0;
      for (std::size_t k = 0; k < 500; ++k) scale = std::max(scale, std::abs(J[2 * k + i]));
      for (std::size_t k = 0; k < 500; ++k)
        worst = std::max(worst, std::abs((up[k] - down[k]) / (2 * h) - J[2 * k + i]));
      EXPECT_LE(worst, 1e-5 * scale + 1e-7)
          << "theta (" << th[0] << ", " << th[1] << "), d/dtheta" << i;
    }
  }
}

TEST(Sensitivities, BatchIsThreadIndependentAndReportsFailures) {
  const FitzHughNagumo model;
  const SimulatorOptions o = grid(200, 0.2, 1e-9);
  RowMatrix theta(9, 2);
  for (int i = 0; i < 9; ++i) theta.row(i) << 0.1 * i - 0.1, 1.0 - 0.1 * i;
  const SensitivityResult a = sensitivities_batch(model, theta, o, 1);
  const SensitivityResult b = sensitivities_batch(model, theta, o, 3);
  EXPECT_EQ(a.J, b.J);
  EXPECT_EQ(a.u, b.u);
  SimulatorOptions tight = o;
  tight.max_steps = 5;
  const SensitivityResult f = sensitivities_batch(model, theta.topRows(1), tight, 1);
  EXPECT_EQ(f.status[0], static_cast<std::int8_t>(Status::step_budget));
  EXPECT_TRUE(std::isnan(f.J(0, 0)));
}

TEST(Whitening, DecorrelatesStationaryAr1Noise) {
  // W Γ Wᵀ = s_ε² I with s_ε² = s² (1 − ρ²), for several lengths and correlations.
  for (std::size_t n : {1, 2, 8, 33}) {
    for (double rho : {-0.5, 0.0, 0.79, 0.95}) {
      const double s = 0.35;
      const Eigen::MatrixXd G = ar1_covariance(n, s, rho);
      Eigen::MatrixXd W(n, n);
      for (std::size_t j = 0; j < n; ++j) {
        Eigen::VectorXd e =
            Eigen::VectorXd::Unit(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(j));
        uncertainty::ar1_whiten(e.data(), n, rho, e.data());  // in place
        W.col(static_cast<Eigen::Index>(j)) = e;
      }
      const Eigen::MatrixXd D = W * G * W.transpose();
      const double se2 = s * s * (1 - rho * rho);
      EXPECT_LE((D - se2 * Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(n),
                                                     static_cast<Eigen::Index>(n)))
                    .cwiseAbs()
                    .maxCoeff(),
                1e-13)
          << "n " << n << " rho " << rho;
    }
  }
}

TEST(Laplace, MatchesDenseGaussNewtonAndIsThreadIndependent) {
  const FitzHughNagumo model;
  const std::size_t L = 150;
  const SimulatorOptions o = grid(L, 0.2, 1e-10);
  RowMatrix theta(5, 2);
  theta << 0.4, 0.4, 0.9, 0.1, -0.1, 1.0, 0.6, 0.3, 0.2, 0.9;
  Eigen::VectorXd s(5), rho(5);
  s << 0.35, 0.2, 0.4, 0.3, 0.45;
  rho << 0.79, 0.0, 0.9, -0.3, 0.66;
  Eigen::Matrix2d prior = Eigen::Vector2d(1 / 0.09, 1 / 0.16).asDiagonal();
  const uncertainty::LaplaceResult r =
      uncertainty::laplace_batch(model, theta, o, s, rho, prior, 1);
  const uncertainty::LaplaceResult r3 =
      uncertainty::laplace_batch(model, theta, o, s, rho, prior, 3);
  EXPECT_EQ(r.cov, r3.cov);
  for (Eigen::Index i = 0; i < 5; ++i) {
    ASSERT_EQ(r.status[static_cast<std::size_t>(i)], 0);
    std::vector<double> u(L), Jv(2 * L);
    sensitivities_one(model, theta.row(i).data(), o, u.data(), Jv.data());
    const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 2, Eigen::RowMajor>> J(
        Jv.data(), static_cast<Eigen::Index>(L), 2);
    const Eigen::MatrixXd G = ar1_covariance(L, s[i], rho[i]);
    const Eigen::Matrix2d info = J.transpose() * G.llt().solve(Eigen::MatrixXd(J));
    const Eigen::Matrix2d C = (info + prior).inverse();
    const Eigen::Map<const Eigen::Matrix<double, 2, 2, Eigen::RowMajor>> got_info(
        r.information.row(i).data());
    const Eigen::Map<const Eigen::Matrix<double, 2, 2, Eigen::RowMajor>> got_C(r.cov.row(i).data());
    EXPECT_LE((got_info - info).norm(), 1e-9 * info.norm()) << i;
    EXPECT_LE((got_C - C).norm(), 1e-9 * C.norm()) << i;
    EXPECT_EQ(got_C(0, 1), got_C(1, 0));
    EXPECT_GT(got_C.llt().info() == Eigen::Success, 0);
  }
}

TEST(Laplace, RejectsBadInput) {
  const FitzHughNagumo model;
  const SimulatorOptions o = grid(20, 0.2, 1e-9);
  RowMatrix theta(1, 2);
  theta << 0.4, 0.4;
  const Eigen::Matrix2d prior = Eigen::Matrix2d::Identity();
  auto call = [&](double s, double rho, const Eigen::MatrixXd& p) {
    uncertainty::laplace_batch(model, theta, o, Eigen::VectorXd::Constant(1, s),
                               Eigen::VectorXd::Constant(1, rho), p, 1);
  };
  EXPECT_THROW(call(0.0, 0.5, prior), std::invalid_argument);
  EXPECT_THROW(call(0.3, 1.0, prior), std::invalid_argument);
  EXPECT_THROW(call(0.3, -1.0, prior), std::invalid_argument);
  EXPECT_THROW(call(0.3, 0.5, -prior), std::invalid_argument);
  EXPECT_THROW(call(0.3, 0.5, Eigen::MatrixXd::Identity(3, 3)), std::invalid_argument);
  EXPECT_NO_THROW(call(0.3, 0.5, Eigen::MatrixXd::Zero(2, 2)));
}
