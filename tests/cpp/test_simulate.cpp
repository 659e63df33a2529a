// Forward model: simulator accuracy and convergence, failure reporting, thread independence,
// priors, AR(1) noise statistics and spike counting.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "fhn_inverse/util/random.hpp"
#include "fhn_inverse/simulate/noise.hpp"
#include "fhn_inverse/simulate/prior.hpp"
#include "fhn_inverse/simulate/integrate.hpp"
#include "fhn_inverse/simulate/lanes.hpp"
#include "fhn_inverse/simulate/simulator.hpp"
#include "fhn_inverse/simulate/simulator_impl.hpp"
#include "fhn_inverse/simulate/spikes.hpp"

using namespace fhn_inverse;
using namespace fhn_inverse::simulate;
using models::FitzHughNagumo;

namespace {

// Classical RK4 with a fixed step: an integrator independent of Odeint.
std::vector<double> rk4_observe(const FitzHughNagumo& model, const double* theta,
                                const std::vector<double>& t_obs, double h) {
  FitzHughNagumo::State x = model.initial(), k1, k2, k3, k4, tmp;
  std::vector<double> u;
  double t = 0.0;
  for (double tk : t_obs) {
    const long n = std::lround((tk - t) / h);
    for (long s = 0; s < n; ++s) {
      model.rhs(x, k1, theta);
      for (int j = 0; j < 2; ++j) tmp[j] = x[j] + 0.5 * h * k1[j];
      model.rhs(tmp, k2, theta);
      for (int j = 0; j < 2; ++j) tmp[j] = x[j] + 0.5 * h * k2[j];
      model.rhs(tmp, k3, theta);
      for (int j = 0; j < 2; ++j) tmp[j] = x[j] + h * k3[j];
      model.rhs(tmp, k4, theta);
      for (int j = 0; j < 2; ++j) x[j] += h / 6.0 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    }
    t = tk;
    u.push_back(x[0]);
  }
  return u;
}

SimulatorOptions grid_options(double t_end, double dt, double tol) {
  SimulatorOptions o;
  for (double t = 0.0; t <= t_end + 1e-9; t += dt) o.t_obs.push_back(t);
  o.rtol = o.atol = tol;
  return o;
}

}  // namespace

TEST(Simulator, MatchesIndependentRk4) {
  const FitzHughNagumo model;
  const SimulatorOptions o = grid_options(50.0, 0.2, 1e-10);
  RowMatrix theta(3, 2);
  theta << 0.4, 0.4, 0.9, 0.1, -0.1, 1.0;
  const BatchResult r = simulate_batch(model, theta, o, 1);
  for (Eigen::Index i = 0; i < theta.rows(); ++i) {
    const std::vector<double> ref = rk4_observe(model, theta.row(i).data(), o.t_obs, 1e-3);
    for (std::size_t k = 0; k < ref.size(); ++k)
      EXPECT_NEAR(r.u(i, k), ref[k], 1e-7) << i << "," << k;
  }
}

TEST(Simulator, ErrorShrinksWithTolerance) {
  // Global error ∝ tol for an adaptive 5(4) pair: tightening by 100 must cut it by >= 10.
  const FitzHughNagumo model;
  RowMatrix theta(1, 2);
  theta << 0.5, 0.3;
  const BatchResult ref = simulate_batch(model, theta, grid_options(100.0, 0.2, 1e-13), 1);
  double previous = INFINITY;
  for (double tol : {1e-5, 1e-7, 1e-9}) {
    const BatchResult r = simulate_batch(model, theta, grid_options(100.0, 0.2, tol), 1);
    const double err = (r.u - ref.u).cwiseAbs().maxCoeff();
    EXPECT_LT(err, previous / 10.0) << "tol " << tol;
    previous = err;
  }
  EXPECT_LT(previous, 1e-6);
}

TEST(Simulator, FixedPointStaysPut) {
  // ζ = 0, θ0 = 0: the origin is an equilibrium, so u stays exactly 0.
  const FitzHughNagumo model(3.0, 0.0, {0.0, 0.0});
  RowMatrix theta(1, 2);
  theta << 0.0, 0.7;
  const BatchResult r = simulate_batch(model, theta, grid_options(100.0, 0.2, 1e-8), 1);
  EXPECT_EQ(r.status[0], 0);
  EXPECT_EQ(r.u.cwiseAbs().maxCoeff(), 0.0);
}

TEST(Simulator, ReportsDivergenceAndStepBudgetPerSample) {
  const FitzHughNagumo model;
  RowMatrix theta(3, 2);
  theta << 0.4, 0.4, 0.0, -60.0, 0.5, 0.5;  // θ1 = −60: v grows like e^{20 t}
  SimulatorOptions o = grid_options(100.0, 0.2, 1e-8);
  BatchResult r = simulate_batch(model, theta, o, 2);
  EXPECT_EQ(r.status[0], static_cast<int>(Status::ok));
  EXPECT_EQ(r.status[1], static_cast<int>(Status::diverged));
  EXPECT_TRUE(std::isnan(r.u(1, 10)));
  EXPECT_EQ(r.status[2], static_cast<int>(Status::ok));
  o.max_steps = 20;
  r = simulate_batch(model, theta, o, 2);
  EXPECT_EQ(r.status[0], static_cast<int>(Status::step_budget));
}

TEST(Simulator, StiffButBoundedIsStepBudgetNotDivergence) {
  // θ1 = 10^6: dv/dt ≈ −θ1 v / γ decays at a rate of 3·10^5, so v stays bounded, but an explicit
  // step must stay below ~10^−5. Steps far beyond that overflow to a NaN error estimate; they
  // are rejections, not a blown-up solution.
  const FitzHughNagumo model;
  RowMatrix theta(2, 2);
  theta << 0.4, 1e6, 0.0, -60.0;  // stiff; and v growing like e^{20 t}
  SimulatorOptions o = grid_options(20.0, 0.2, 1e-9);
  o.max_steps = 20000;
  const BatchResult r = simulate_batch(model, theta, o, 1);
  EXPECT_EQ(r.status[0], static_cast<int>(Status::step_budget));
  EXPECT_TRUE(std::isnan(r.u(0, 0)));
  EXPECT_EQ(r.status[1], static_cast<int>(Status::diverged));
  // with a budget for the tiny steps the stiff solution comes out, bounded
  o = grid_options(0.4, 0.2, 1e-6);
  const BatchResult solved = simulate_batch(model, theta.topRows(1), o, 1);
  ASSERT_EQ(solved.status[0], static_cast<int>(Status::ok));
  EXPECT_LT(solved.u.cwiseAbs().maxCoeff(), 10.0);
}

TEST(Simulator, IdenticalForAnyThreadCount) {
  const FitzHughNagumo model;
  const GaussianPrior prior(Eigen::Vector2d(0.4, 0.4),
                            Eigen::Vector2d(0.09, 0.16).asDiagonal().toDenseMatrix(),
                            Eigen::Vector2d(-0.2, -0.4), Eigen::Vector2d(1.0, 1.2));
  const RowMatrix theta = prior.sample(64, 7);
  SimulatorOptions o;
  o.t_obs = SimulatorOptions::default_grid();
  const BatchResult one = simulate_batch(model, theta, o, 1);
  const BatchResult two = simulate_batch(model, theta, o, 2);
  EXPECT_EQ(one.u, two.u);
}

// The SIMD-lane integrator: the same trajectories as the Odeint path within the tolerance, its
// step-size powers close to std::pow, and each sample's row independent of its lane.
TEST(SimulatorLanes, MatchesOdeintPathAndRk4) {
  const FitzHughNagumo model;
  const GaussianPrior prior(Eigen::Vector2d(0.4, 0.4),
                            Eigen::Vector2d(0.09, 0.16).asDiagonal().toDenseMatrix(),
                            Eigen::Vector2d(-0.2, -0.4), Eigen::Vector2d(1.0, 1.2));
  const RowMatrix theta = prior.sample(3 * kLanes + 1, 3);
  SimulatorOptions o = grid_options(50.0, 0.2, 1e-10);
  const BatchResult ref = simulate_batch(model, theta, o, 1);
  o.method = Method::rkf78_simd;
  const BatchResult lanes = simulate_batch(model, theta, o, 2);
  EXPECT_LT((lanes.u - ref.u).cwiseAbs().maxCoeff(), 1e-8);
  const std::vector<double> rk4 = rk4_observe(model, theta.row(5).data(), o.t_obs, 1e-3);
  for (std::size_t k = 0; k < rk4.size(); ++k) EXPECT_NEAR(lanes.u(5, k), rk4[k], 1e-7) << k;
  const BatchResult one =
      simulate_batch(model, RowMatrix(theta.row(5)), o, 1);  // alone in its lanes
  EXPECT_EQ(RowMatrix(one.u.row(0)), RowMatrix(lanes.u.row(5)));
  EXPECT_TRUE(has_lanes<FitzHughNagumo>);
}

TEST(SimulatorLanes, PowerIsCloseToStdPow) {
  double worst = 0.0;
  for (double x = 1.0 / 390625.0; x < 1e6; x *= 1.37) {
    for (double p : {-1.0 / 6.0, -0.125}) {
      const Lanes v = lanes_detail::pow_lanes(lanes_detail::splat(x), lanes_detail::splat(p));
      for (int i = 0; i < kWidth; ++i)
        worst = std::max(worst, std::abs(v[i] / std::pow(x, p) - 1.0));
    }
  }
  EXPECT_LT(worst, 1e-6);
}

TEST(Simulator, RejectsBadOptions) {
  const FitzHughNagumo model;
  RowMatrix theta(1, 2);
  theta << 0.4, 0.4;
  SimulatorOptions o;
  o.t_obs = {0.0, 1.0, 1.0};
  EXPECT_THROW(simulate_batch(model, theta, o), std::invalid_argument);
  o.t_obs = {0.0, 1.0};
  o.rtol = -1.0;
  EXPECT_THROW(simulate_batch(model, theta, o), std::invalid_argument);
  o.rtol = 1e-6;
  theta(0, 1) = NAN;
  EXPECT_THROW(simulate_batch(model, theta, o), std::invalid_argument);
  EXPECT_THROW(FitzHughNagumo(-1.0, 0.0, {0.0, 0.0}), std::invalid_argument);
}

TEST(Prior, TruncatedGaussianStaysInBoxAndIsReproducible) {
  const GaussianPrior prior(Eigen::Vector2d(0.4, 0.4),
                            Eigen::Vector2d(0.09, 0.16).asDiagonal().toDenseMatrix(),
                            Eigen::Vector2d(-0.2, -0.4), Eigen::Vector2d(1.0, 1.2));
  const RowMatrix a = prior.sample(20000, 3);
  EXPECT_GE(a.col(0).minCoeff(), -0.2);
  EXPECT_LE(a.col(1).maxCoeff(), 1.2);
  // Truncation at ±2σ keeps the mean and shrinks the std by 0.8796.
  EXPECT_NEAR(a.col(0).mean(), 0.4, 4 * 0.264 / std::sqrt(20000.0));
  const double sd1 = std::sqrt((a.col(1).array() - a.col(1).mean()).square().mean());
  EXPECT_NEAR(sd1, 0.4 * 0.8796, 0.01);
  // Sample i depends only on (seed, i): a later window equals the tail of the full draw.
  const RowMatrix tail = prior.sample(10, 3, 19990);
  EXPECT_EQ(tail, a.bottomRows(10));
}

TEST(Prior, UniformMoments) {
  const UniformPrior prior(Eigen::Vector2d(-1.0, 2.0), Eigen::Vector2d(1.0, 6.0));
  const RowMatrix a = prior.sample(40000, 11);
  EXPECT_NEAR(a.col(0).mean(), 0.0, 4 * std::sqrt(1.0 / 3.0 / 40000));
  EXPECT_NEAR(a.col(1).mean(), 4.0, 4 * std::sqrt(16.0 / 12.0 / 40000));
  EXPECT_THROW(UniformPrior(Eigen::Vector2d(1.0, 0.0), Eigen::Vector2d(0.0, 1.0)),
               std::invalid_argument);
}

TEST(Noise, Ar1StationaryMomentsWithinConfidenceBounds) {
  const long N = 400, L = 1000;
  const double sigma = 0.07, rho = 0.8;
  const RowMatrix eta =
      ar1_noise(Eigen::VectorXd::Constant(N, sigma), Eigen::VectorXd::Constant(N, rho), L, 5);
  // Moments at one time index across independent samples: exact stationary targets.
  for (long k : {0L, 1L, 500L}) {
    const Eigen::VectorXd x = eta.col(k);
    EXPECT_NEAR(x.mean(), 0.0, 4 * sigma / std::sqrt(double(N)));
    const double var = (x.array() - x.mean()).square().sum() / (N - 1);
    EXPECT_NEAR(var / (sigma * sigma), 1.0, 4 * std::sqrt(2.0 / (N - 1)));
  }
  // Lag-1 correlation over all pairs (k−1, k).
  double num = 0, den = 0;
  for (long i = 0; i < N; ++i)
    for (long k = 1; k < L; ++k) {
      num += eta(i, k) * eta(i, k - 1);
      den += eta(i, k - 1) * eta(i, k - 1);
    }
  EXPECT_NEAR(num / den, rho, 0.01);
  EXPECT_THROW(
      ar1_noise(Eigen::VectorXd::Constant(1, 0.1), Eigen::VectorXd::Constant(1, 1.0), 10, 0),
      std::invalid_argument);
  EXPECT_THROW(
      ar1_noise(Eigen::VectorXd::Constant(1, -0.1), Eigen::VectorXd::Constant(1, 0.5), 10, 0),
      std::invalid_argument);
}

TEST(Noise, ThreadCountIndependent) {
  const Eigen::VectorXd s = Eigen::VectorXd::Constant(50, 0.05),
                        r = Eigen::VectorXd::Constant(50, 0.7);
  EXPECT_EQ(ar1_noise(s, r, 100, 9, 0, 1), ar1_noise(s, r, 100, 9, 0, 2));
}

TEST(Spikes, CountsRuleAndConventions) {
  std::vector<double> t(100);
  for (int k = 0; k < 100; ++k) t[k] = 0.2 * k;
  RowMatrix u = RowMatrix::Zero(4, 100);
  // Row 0: two spikes of 5 points, one blip of 2 points (not a spike).
  u.row(0).segment(10, 5).setOnes();
  u.row(0).segment(40, 5).setOnes();
  u.row(0).segment(70, 2).setOnes();
  // Row 1: one excursion that never comes back: the excited steady state.
  u.row(1).segment(50, 50).setOnes();
  // Row 2: a spike, then a second excursion that runs to the end: two spikes.
  u.row(2).segment(20, 5).setOnes();
  u.row(2).segment(90, 10).setOnes();
  const SpikeStatistics s = spike_statistics(u, t);
  EXPECT_EQ(s.count[0], 2);
  EXPECT_EQ(s.count[1], 0);
  EXPECT_EQ(s.count[2], 2);
  EXPECT_EQ(s.count[3], 0);
  EXPECT_NEAR(s.rate[0], 2 / 19.8 * 1000, 1e-9);
  // Interpolated crossings at 0.5 of a step before the first and after the last point above.
  EXPECT_NEAR(s.duration[0], 5 * 0.2, 1e-12);
  EXPECT_NEAR(s.duration[1], 19.8, 1e-12);
  EXPECT_EQ(s.duration[3], 0.0);
}

TEST(Random, StreamsAreDeterministicAndDistinct) {
  Rng a(1, Stream::noise, 5), b(1, Stream::noise, 5), c(1, Stream::noise, 6),
      d(1, Stream::prior, 5);
  const auto x = a.next_u64();
  EXPECT_EQ(x, b.next_u64());
  EXPECT_NE(x, c.next_u64());
  EXPECT_NE(x, d.next_u64());
  Rng g(42, Stream::prior, 0);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double z = g.normal();
    sum += z;
    sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 4 / std::sqrt(double(n)));
  EXPECT_NEAR(sq / n, 1.0, 4 * std::sqrt(2.0 / n));
}

// The simulator is generic: another model (exponential decay du/dt = −θ0 u from u(0) = 1, known
// solution e^{−θ0 t}) through simulate_batch, and another stepper (Dormand–Prince 5(4)) through
// integrate_on_grid, agree with the exact solution and with the default stepper.
namespace {
struct Decay {
  static constexpr std::size_t state_size = 1;
  static constexpr std::size_t param_size = 1;
  using State = std::array<double, 1>;
  State initial() const { return {1.0}; }
  void rhs(const State& x, State& dxdt, const double* theta) const { dxdt[0] = -theta[0] * x[0]; }
  static double observe(const State& x) { return x[0]; }
};
struct Dopri5 {
  template <class State>
  static auto make(const SimulatorOptions& options) {
    namespace odeint = boost::numeric::odeint;
    return odeint::make_controlled(options.atol, options.rtol, odeint::runge_kutta_dopri5<State>());
  }
};
}  // namespace

TEST(Simulator, AnotherModelAndAnotherStepper) {
  SimulatorOptions o;
  o.t_obs = {0.5, 1.0, 2.0, 4.0};
  RowMatrix theta(3, 1);
  theta << 0.1, 1.0, 2.5;
  const BatchResult r = simulate_batch(Decay{}, theta, o, 2);
  for (Eigen::Index i = 0; i < theta.rows(); ++i)
    for (std::size_t k = 0; k < o.t_obs.size(); ++k)
      EXPECT_NEAR(r.u(i, k), std::exp(-theta(i, 0) * o.t_obs[k]), 1e-8) << i << " " << k;
  FitzHughNagumo fhn;
  const double th[2] = {0.6, 0.25};
  o.t_obs = SimulatorOptions::default_grid();
  std::vector<double> a(o.t_obs.size()), b(o.t_obs.size());
  auto system = [&](const FitzHughNagumo::State& x, FitzHughNagumo::State& dxdt, double) {
    fhn.rhs(x, dxdt, th);
  };
  ASSERT_EQ(integrate_on_grid<FitzHughNagumo::State>(
                system, fhn.initial(), o, 2, [&](std::size_t k, const auto& x) { a[k] = x[0]; }),
            Status::ok);
  ASSERT_EQ((integrate_on_grid<FitzHughNagumo::State, Dopri5>(
                system, fhn.initial(), o, 2, [&](std::size_t k, const auto& x) { b[k] = x[0]; })),
            Status::ok);
  double worst = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) worst = std::max(worst, std::abs(a[k] - b[k]));
  EXPECT_LT(worst, 1e-5);
  EXPECT_GT(worst, 0.0);  // a different method, not the same code
}
