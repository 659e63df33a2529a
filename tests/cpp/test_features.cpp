// Fourier features against a direct O(L²) DFT, over many lengths (primes included) and norms.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>

#include "fhn_inverse/features/fourier.hpp"
#include "fhn_inverse/util/random.hpp"

using namespace fhn_inverse;
using namespace fhn_inverse::features;

TEST(Fourier, PackedAndMagnitudeMatchDirectDft) {
  const double pi = std::acos(-1.0);
  for (long L : {1L, 2L, 3L, 7L, 16L, 97L, 100L, 1000L}) {
    RowMatrix x(3, L);
    Rng rng(0, Stream::noise, static_cast<std::uint64_t>(L));
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.normal();
    const RowMatrix packed = fourier_features(x, Representation::packed, Norm::backward, 2);
    const RowMatrix mag = fourier_features(x, Representation::magnitude, Norm::ortho, 1);
    ASSERT_EQ(packed.cols(), L);
    ASSERT_EQ(mag.cols(), L / 2 + 1);
    const long half = L / 2 + 1;
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      for (long k = 0; k < half; ++k) {
        std::complex<double> X = 0;
        for (long j = 0; j < L; ++j)
          X += x(i, j) * std::polar(1.0, -2 * pi * double(j * k % L) / L);
        const double tol = 1e-10 * L;
        EXPECT_NEAR(packed(i, k), X.real(), tol);
        if (k >= 1 && half + k - 1 < L) EXPECT_NEAR(packed(i, half + k - 1), X.imag(), tol);
        EXPECT_NEAR(mag(i, k), std::abs(X) / std::sqrt(double(L)), tol);
      }
  }
}

TEST(Fourier, ParsevalWithOrthoNorm) {
  // With the ortho norm the packed spectrum carries the series' energy (Hermitian weights).
  const long L = 1000;
  RowMatrix x(1, L);
  Rng rng(3, Stream::noise, 0);
  for (long j = 0; j < L; ++j) x(0, j) = rng.normal();
  const RowMatrix p = fourier_features(x, Representation::packed, Norm::ortho, 1);
  double energy = p(0, 0) * p(0, 0) + p(0, L / 2) * p(0, L / 2);
  for (long k = 1; k < L / 2; ++k)
    energy += 2 * (p(0, k) * p(0, k) + p(0, L / 2 + k) * p(0, L / 2 + k));
  EXPECT_NEAR(energy, x.squaredNorm(), 1e-9 * x.squaredNorm());
}

TEST(Fourier, RejectsEmptyInput) {
  EXPECT_THROW(fourier_features(RowMatrix(0, 10)), std::invalid_argument);
  EXPECT_THROW(FourierPlan(0), std::invalid_argument);
}
