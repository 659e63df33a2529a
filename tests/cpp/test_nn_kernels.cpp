// The convolution's weight-gradient kernels (src/nn/kernels/conv_taps.hpp) run over a chunk's
// series in groups, their accumulators left in scratch between groups (GradAccumulators), as
// Conv1D's backward runs them series by series: the same bits as one call over every series.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "../../cpp/src/nn/kernels/conv_taps.hpp"

namespace {

using namespace fhn_inverse::nn::kernels;
namespace simd = fhn_inverse::nn::simd;

struct Layer {
  ConvGeometry g;
  std::vector<long> taps;
  std::vector<float> planes, rows;  // P (N, Cin, s, Q); padded dY rows (N, Cout, Q + D)
  long width() const { return g.Q + g.lead(); }
  GradRows dy(long j) const {
    return {rows.data() + j * g.cout * width() + g.lead(), width(), g.cout * width()};
  }
};

// A stride-2 layer of n series (the study's second and third convolutions' shapes), random
// planes and rows; the rows' values past Lout are random too (the kernels must not read them).
Layer make(long cin, long lin, long cout, long n, unsigned seed) {
  const long K = 3, s = 2, lout = (lin - K) / s + 1, E = 1;
  const long Q = simd::round_lanes(simd::round_lanes(lout) + simd::kLanes + E);
  Layer L{{cin, lin, cout, K, s, 0, lout, E, Q, n}, {}, {}, {}};
  for (long ci = 0; ci < cin; ++ci)
    for (long k = 0; k < K; ++k) L.taps.push_back((ci * s + k % s) * Q + k / s);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  L.planes.resize(n * cin * s * Q + kOverread);
  L.rows.resize(n * cout * L.width() + kOverread);
  for (float& v : L.planes) v = u(rng);
  for (float& v : L.rows) v = u(rng);
  return L;
}

// dW by one call over every series, and by calls over groups of `group` series.
template <class Kernel>
void expect_groups_equal_one_call(const Layer& L, Kernel&& kernel) {
  const ConvGeometry& g = L.g;
  std::vector<float> whole(g.cout * g.ck(), -1.0f);
  kernel(g, 0, whole.data(), GradAccumulators{});
  for (long group : {1L, 2L, 3L, 4L}) {
    std::vector<float> grouped(whole.size(), -2.0f), acc(g.cout * g.ck() * simd::kLanes);
    for (long j0 = 0; j0 < g.n; j0 += group) {
      ConvGeometry part = g;
      part.n = std::min(group, g.n - j0);
      kernel(part, j0, grouped.data(), GradAccumulators{acc.data(), j0 == 0, j0 + part.n == g.n});
    }
    ASSERT_EQ(grouped, whole) << "groups of " << group << ", Cout " << g.cout;
  }
}

TEST(ConvKernels, RowKernelInGroupsEqualsOneCallBitwise) {
  for (const Layer& L : {make(8, 249, 16, 9, 1), make(16, 62, 32, 7, 2), make(3, 41, 5, 5, 3)}) {
    expect_groups_equal_one_call(
        L, [&](const ConvGeometry& g, long j0, float* dW, const GradAccumulators& st) {
          weight_grad_by_rows(g, L.taps.data(), L.dy(j0), L.planes.data() + L.g.plane(0, j0, 0), dW,
                              st);
        });
  }
}

TEST(ConvKernels, LaneKernelInGroupsEqualsOneCallBitwise) {
#ifdef FHN_SIXTEEN_LANES
  for (const Layer& L : {make(16, 62, 32, 9, 4), make(8, 249, 16, 6, 5), make(5, 41, 48, 5, 6)}) {
    expect_groups_equal_one_call(L, [&](const ConvGeometry& g, long j0, float* dW,
                                        const GradAccumulators& st) {
      std::vector<float> T(g.n * g.lout * g.cout);
      transpose_output_grad(g, L.dy(j0), T.data());
      weight_grad_lanes(g, L.taps.data(), T.data(), L.planes.data() + L.g.plane(0, j0, 0), dW, st);
    });
  }
#else
  GTEST_SKIP() << "the lane kernel needs sixteen-float vectors (AVX-512 builds)";
#endif
}

}  // namespace
