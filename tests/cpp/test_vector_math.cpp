// The lane functions of util/vector_math.hpp against the standard library, and the lane
// right-hand sides of Morris–Lecar and Hodgkin–Huxley against their scalar ones.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fhn_inverse/models/hodgkin_huxley.hpp"
#include "fhn_inverse/models/morris_lecar.hpp"
#include "fhn_inverse/simulate/lanes.hpp"
#include "fhn_inverse/util/vector_math.hpp"

namespace {

using fhn_inverse::simulate::kWidth;
using fhn_inverse::simulate::Lanes;
namespace vmath = fhn_inverse::vmath;

TEST(VectorMath, ExpTanhCoshMatchTheStandardLibrary) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> wide(-700.0, 700.0), mid(-25.0, 25.0), tiny(-1e-3, 1e-3);
  double e_exp = 0, e_tanh = 0, e_cosh = 0;
  for (int k = 0; k < 20000; ++k) {
    Lanes x{}, y{}, z{};
    for (int i = 0; i < kWidth; ++i) {
      x[i] = wide(rng);
      y[i] = (k % 2) ? mid(rng) : tiny(rng);
      z[i] = mid(rng) / 5.0;
    }
    const Lanes a = vmath::exp(x), b = vmath::tanh(y), c = vmath::cosh(z);
    for (int i = 0; i < kWidth; ++i) {
      e_exp = std::fmax(e_exp, std::fabs(a[i] / std::exp(x[i]) - 1.0));
      e_tanh = std::fmax(e_tanh, std::fabs(b[i] - std::tanh(y[i])));
      e_cosh = std::fmax(e_cosh, std::fabs(c[i] / std::cosh(z[i]) - 1.0));
    }
  }
  EXPECT_LT(e_exp, 5e-16);
  EXPECT_LT(e_tanh, 5e-16);
  EXPECT_LT(e_cosh, 8e-16);
  const Lanes extreme = vmath::exp(Lanes{} + 1e300);  // clamped: finite
  EXPECT_TRUE(std::isfinite(extreme[0]));
  EXPECT_EQ(vmath::tanh(Lanes{} + 1e300)[0], 1.0);
}

template <class Model>
void expect_lanes_match_scalar(const Model& model, double v_lo, double v_hi, const double* lo,
                               const double* hi) {
  constexpr std::size_t S = Model::state_size, P = Model::param_size;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int k = 0; k < 2000; ++k) {
    Lanes x[S], th[P], dx[S];
    typename Model::State xs[kWidth];
    double ths[kWidth][P];
    for (int i = 0; i < kWidth; ++i) {
      xs[i][0] = v_lo + (v_hi - v_lo) * unit(rng);
      for (std::size_t s = 1; s < S; ++s) xs[i][s] = unit(rng);
      if (k == 0 && i < 2) xs[i][0] = i == 0 ? -40.0 : -55.0;  // Hodgkin–Huxley's removable points
      for (std::size_t p = 0; p < P; ++p) ths[i][p] = lo[p] + (hi[p] - lo[p]) * unit(rng);
      for (std::size_t s = 0; s < S; ++s) x[s][i] = xs[i][s];
      for (std::size_t p = 0; p < P; ++p) th[p][i] = ths[i][p];
    }
    model.template rhs_lanes<Lanes>(x, dx, th);
    for (int i = 0; i < kWidth; ++i) {
      typename Model::State d{};
      model.rhs(xs[i], d, ths[i]);
      for (std::size_t s = 0; s < S; ++s)
        EXPECT_NEAR(dx[s][i], d[s], 1e-12 * (1.0 + std::fabs(d[s]))) << "state " << s;
    }
  }
}

TEST(VectorMath, MorrisLecarLanesMatchItsScalarRightHandSide) {
  const double lo[] = {0.0, 3.5, 6.0, 0.02}, hi[] = {150.0, 5.5, 10.0, 0.12};
  expect_lanes_match_scalar(fhn_inverse::models::MorrisLecar{}, -90.0, 60.0, lo, hi);
}

TEST(VectorMath, HodgkinHuxleyLanesMatchItsScalarRightHandSide) {
  const double lo[] = {60.0, 18.0, 0.1, 0.0}, hi[] = {180.0, 54.0, 0.5, 20.0};
  expect_lanes_match_scalar(fhn_inverse::models::HodgkinHuxley{}, -100.0, 60.0, lo, hi);
}

}  // namespace
