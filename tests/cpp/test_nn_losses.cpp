// Losses: known values, central-difference gradients, chunk additivity.
#include <gtest/gtest.h>

#include <cmath>

#include "fhn_inverse/nn/losses.hpp"
#include "nn_test_util.hpp"

using namespace fhn_inverse::nn;
using fhn_inverse::testing::check_gradient;
using fhn_inverse::testing::random_vector;

TEST(MSE, KnownValueAndGradient) {
  const float y[4] = {1, 2, 0, 1}, t[4] = {0, 0, 0, 0};
  float dy[4];
  EXPECT_DOUBLE_EQ(MSELoss{}.evaluate(y, t, dy, 2, 2, 2.0), 1.5);  // (1+4+0+1)/4
  EXPECT_FLOAT_EQ(dy[1], 1.0f);                                    // 2·2/4
  std::vector<float> yy = random_vector(12, 1), tt = random_vector(12, 2), g(12);
  MSELoss{}.evaluate(yy.data(), tt.data(), g.data(), 4, 3, 4.0);
  auto f = [&] { return MSELoss{}.evaluate(yy.data(), tt.data(), nullptr, 4, 3, 4.0); };
  check_gradient(f, yy.data(), 12, g.data(), "mse dy");
}

TEST(MSE, ChunksAddUp) {
  std::vector<float> y = random_vector(10, 3), t = random_vector(10, 4);
  const double whole = MSELoss{}.evaluate(y.data(), t.data(), nullptr, 5, 2, 5.0);
  const double parts = MSELoss{}.evaluate(y.data(), t.data(), nullptr, 3, 2, 5.0) +
                       MSELoss{}.evaluate(y.data() + 6, t.data() + 6, nullptr, 2, 2, 5.0);
  EXPECT_NEAR(whole, parts, 1e-12);
}

TEST(GaussianNLL, KnownValueOneDimension) {
  // μ = 0, L = σ = 2, t = 1: ½(1/2)² + log 2 + ½ log 2π
  const float y[2] = {0.0f, std::log(2.0f)}, t[1] = {1.0f};
  float dy[2];
  const double want = 0.125 + std::log(2.0) + 0.5 * std::log(2.0 * M_PI);
  EXPECT_NEAR(GaussianNLLLoss{}.evaluate(y, t, dy, 1, 1, 1.0), want, 1e-6);
  EXPECT_NEAR(dy[0], -0.25, 1e-6);       // −(t−μ)/σ²
  EXPECT_NEAR(dy[1], 1.0 - 0.25, 1e-6);  // ∂/∂log σ = 1 − r²/σ²
}

TEST(GaussianNLL, KnownValueTwoDimensions) {
  // Σ = L Lᵀ with L = [[1, 0], [0.5, 2]]: compare with the explicit density
  const float y[5] = {0.1f, -0.2f, 0.0f, 0.5f, std::log(2.0f)}, t[2] = {0.4f, 0.3f};
  const double r0 = 0.3, r1 = 0.5;
  const double s00 = 1.0, s01 = 0.5, s11 = 0.25 + 4.0, det = s00 * s11 - s01 * s01;
  const double quad = (s11 * r0 * r0 - 2 * s01 * r0 * r1 + s00 * r1 * r1) / det;
  const double want = 0.5 * quad + 0.5 * std::log(det) + std::log(2.0 * M_PI);
  EXPECT_NEAR(GaussianNLLLoss{}.evaluate(y, t, nullptr, 1, 2, 1.0), want, 1e-6);
}

TEST(GaussianNLL, Gradients) {
  for (long d : {1L, 2L, 3L}) {
    const long dout = loss_output_size(LossKind::gaussian_nll, d), n = 3;
    std::vector<float> y = random_vector(n * dout, 20 + d, -0.5, 0.5),
                       t = random_vector(n * d, 30 + d);
    std::vector<float> g(n * dout);
    GaussianNLLLoss{}.evaluate(y.data(), t.data(), g.data(), n, d, 3.0);
    auto f = [&] { return GaussianNLLLoss{}.evaluate(y.data(), t.data(), nullptr, n, d, 3.0); };
    check_gradient(f, y.data(), n * dout, g.data(), "gaussian_nll dy d=" + std::to_string(d));
  }
}

TEST(Loss, Sizes) {
  EXPECT_EQ(loss_output_size(LossKind::gaussian_nll, 2), 5);
  EXPECT_EQ(loss_target_size(LossKind::gaussian_nll, 9), 3);
  EXPECT_THROW(loss_target_size(LossKind::gaussian_nll, 4), std::invalid_argument);
  EXPECT_THROW(parse_loss("mae"), std::invalid_argument);
}
