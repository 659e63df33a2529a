// Per layer: central-difference checks of dx and every parameter gradient, a known-value
// forward, output shape and parameter count; activations likewise.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "fhn_inverse/nn/activations.hpp"
#include "fhn_inverse/nn/layers.hpp"
#include "nn_test_util.hpp"

using namespace fhn_inverse::nn;
using fhn_inverse::testing::check_layer_gradients;
using fhn_inverse::testing::random_vector;

TEST(Dense, ShapeParamsAndKnownForward) {
  Dense d(Shape::vector(2), 2);
  EXPECT_EQ(d.output_shape(), Shape::vector(2));
  EXPECT_EQ(d.n_params(), 6);
  const float params[6] = {1, 2, 3, 4, 0.5f, -1};  // W (2, 2) row-major, b (2)
  const float x[4] = {1, 1, 2, -1};                // two samples (N, F)
  float y[4];
  float scratch[1];
  d.forward(params, x, y, 2, scratch, {});
  EXPECT_FLOAT_EQ(y[0], 3.5f);
  EXPECT_FLOAT_EQ(y[1], 6.0f);
  EXPECT_FLOAT_EQ(y[2], 0.5f);
  EXPECT_FLOAT_EQ(y[3], 1.0f);
}

// y = W x + b of a Dense layer's forward against the same sums in double precision.
// With packed (PackedWeights::pack's copy), forward_packed is checked instead of forward.
static void expect_dense_matches_double_reference(const Dense& d, const std::vector<float>& params,
                                                  const std::vector<float>& x, long n,
                                                  const float* packed = nullptr) {
  const long fin = d.input_shape().length, units = d.units;
  std::vector<float> y(n * units);
  if (packed)
    d.forward_packed(params.data(), packed, x.data(), y.data(), n);
  else
    d.forward(params.data(), x.data(), y.data(), n, nullptr, {});
  for (long i = 0; i < n; ++i)
    for (long j = 0; j < units; ++j) {
      double ref = params[units * fin + j];
      for (long k = 0; k < fin; ++k) ref += double(params[j * fin + k]) * x[i * fin + k];
      EXPECT_NEAR(y[i * units + j], ref, 1e-4 * (1.0 + std::abs(ref))) << i << "," << j;
    }
}

TEST(Dense, Gradients) {
  Dense d(Shape::vector(5), 3);
  check_layer_gradients(d, random_vector(4 * 5, 1), 4);
}

// Few outputs on a long input take the register-blocked path (blocks of 2 rows × 4 samples):
// odd units, a length that is no multiple of 8 and a batch with a tail exercise every remainder.
TEST(Dense, NarrowLayerOnLongInputMatchesDoubleReference) {
  const long fin = 1001, units = 33, n = 7;
  Dense d(Shape::vector(fin), units);
  const std::vector<float> params = random_vector(d.n_params(), 11), x = random_vector(n * fin, 12);
  expect_dense_matches_double_reference(d, params, x, n);
}

// Evaluation's packed-Wᵀ kernel (blocks of 6 samples × 2 vectors of outputs: 16, or 32 with
// AVX-512; features in blocks of 256): output counts around the vector and block widths, every
// sample tail, a feature count with a partial block; and each row's result is bitwise the same
// whatever rows are evaluated with it.
TEST(Dense, NarrowPackedKernelMatchesDoubleReferenceForEveryRemainder) {
  const long fin = 601;
  for (long units : {1L, 7L, 8L, 9L, 15L, 16L, 17L, 24L, 31L, 32L, 33L, 48L, 64L}) {
    Dense d(Shape::vector(fin), units);
    if (!d.narrow()) GTEST_SKIP() << "built without AVX2/FMA: no narrow kernel";
    const std::vector<float> params = random_vector(d.n_params(), 31 + units);
    std::vector<float> packed(d.packed_size());
    std::fill(packed.begin(), packed.end(), std::nanf(""));
    d.pack(params.data(), packed.data());
    // Wᵀ, rows padded with zeros to a multiple of the vector width (8, or 16 with AVX-512)
    const long ld = d.packed_size() / fin;
    ASSERT_EQ(ld, (units + kernel_float_lanes() - 1) / kernel_float_lanes() * kernel_float_lanes());
    for (long k = 0; k < fin; ++k)
      for (long j = 0; j < ld; ++j)
        ASSERT_EQ(packed[k * ld + j], j < units ? params[j * fin + k] : 0.0f)
            << "units " << units << " packed (" << k << ", " << j << ")";
    ASSERT_EQ(d.describe().packed, static_cast<const PackedWeights*>(&d));
    const long n = 17;  // 2 blocks of 6 and a tail of 5
    const std::vector<float> x = random_vector(n * fin, 41 + units);
    expect_dense_matches_double_reference(d, params, x, n, packed.data());
    std::vector<float> all(n * units), one(units);
    d.forward_packed(params.data(), packed.data(), x.data(), all.data(), n);
    for (long i = 0; i < n; ++i) {
      d.forward_packed(params.data(), packed.data(), x.data() + i * fin, one.data(), 1);
      for (long j = 0; j < units; ++j)
        ASSERT_EQ(one[j], all[i * units + j]) << "units " << units << " row " << i;
    }
  }
}

// A training step's forward of a narrow layer (samples in the vector lanes, no packed copy) gives
// forward_packed's values bit for bit: unit counts around the row blocks (16, 8, 4, 2, 1),
// sample counts around the vector width, features with a partial block of 256 and a remainder of
// 8; the same without the layer's scratch; and the scratch it uses is the size it declares.
TEST(Dense, NarrowUnpackedForwardEqualsPackedBitwise) {
  for (long fin : {256L, 601L, 960L})
    for (long units : {1L, 3L, 7L, 16L, 23L, 32L, 33L, 64L}) {
      Dense d(Shape::vector(fin), units);
      if (!d.narrow()) GTEST_SKIP() << "built without AVX2/FMA: no narrow kernel";
      const std::vector<float> params = random_vector(d.n_params(), 61 + units);
      std::vector<float> packed(d.packed_size());
      d.pack(params.data(), packed.data());
      for (long n : {1L, 5L, 8L, 15L, 16L, 17L, 33L}) {
        const std::vector<float> x = random_vector(n * fin, 71 + n);
        std::vector<float> want(n * units), got(n * units, std::nanf(""));
        d.forward_packed(params.data(), packed.data(), x.data(), want.data(), n);
        const long need = d.scratch_size(n);
        std::vector<float> scratch(need + 16, 7.0f);  // 16 guard floats after it
        d.forward_unpacked(params.data(), x.data(), got.data(), n, scratch.data());
        for (long i = 0; i < n * units; ++i)
          ASSERT_EQ(got[i], want[i])
              << "fin " << fin << " units " << units << " n " << n << " @" << i;
        for (long i = need; i < need + 16; ++i) ASSERT_EQ(scratch[i], 7.0f) << "past the scratch";
        std::fill(got.begin(), got.end(), std::nanf(""));
        d.forward_unpacked(params.data(), x.data(), got.data(), n, nullptr);
        for (long i = 0; i < n * units; ++i) ASSERT_EQ(got[i], want[i]) << "without scratch @" << i;
      }
    }
}

// The narrow layer's backward (broadcast kernel over blocks of 16 features, 32 with AVX-512, the
// remaining features through Eigen) against the defining sums in double: dW, db and dX overwrite
// what is there; unit counts around the 6-row blocks, sample tails, features with and without a
// remainder of 16.
TEST(Dense, NarrowBackwardMatchesDoubleReference) {
  for (long fin : {256L, 601L})
    for (long units : {1L, 7L, 32L, 33L, 64L})
      for (long n : {1L, 7L, 16L}) {
        Dense d(Shape::vector(fin), units);
        if (!d.narrow()) GTEST_SKIP() << "built without AVX2/FMA: no narrow kernel";
        const std::vector<float> params = random_vector(d.n_params(), 51 + units),
                                 x = random_vector(n * fin, 52 + n),
                                 dy = random_vector(n * units, 53);
        const std::vector<float> g0 = random_vector(d.n_params(), 54);
        std::vector<float> grads = g0, dx(n * fin, 7.0f);
        d.backward(params.data(), x.data(), nullptr, dy.data(), dx.data(), grads.data(), n,
                   nullptr);
        for (long u = 0; u < units; ++u) {
          double db = 0.0;
          for (long i = 0; i < n; ++i) db += dy[i * units + u];
          ASSERT_NEAR(grads[units * fin + u], db, 1e-4 * (1.0 + std::abs(db)));
          for (long k = 0; k < fin; ++k) {
            double ref = 0.0;
            for (long i = 0; i < n; ++i) ref += double(dy[i * units + u]) * x[i * fin + k];
            ASSERT_NEAR(grads[u * fin + k], ref, 1e-4 * (1.0 + std::abs(ref)))
                << "fin " << fin << " units " << units << " n " << n << " dW " << u << "," << k;
          }
        }
        for (long i = 0; i < n; ++i)
          for (long k = 0; k < fin; ++k) {
            double ref = 0.0;
            for (long u = 0; u < units; ++u) ref += double(dy[i * units + u]) * params[u * fin + k];
            ASSERT_NEAR(dx[i * fin + k], ref, 1e-4 * (1.0 + std::abs(ref)))
                << "fin " << fin << " units " << units << " n " << n << " dX " << i << "," << k;
          }
      }
}

TEST(Dense, NarrowLayerGradients) {
  Dense d(Shape::vector(300), 3);
  check_layer_gradients(d, random_vector(5 * 300, 13), 5);
}

// At least 64 inputs and outputs: the OpenBLAS path when the core is built with it (FHN_BLAS),
// Eigen's otherwise; odd sizes and a batch that is no multiple of any block size.
TEST(Dense, WideLayerMatchesDoubleReferenceAndGradients) {
  const long fin = 70, units = 65, n = 9;
  Dense d(Shape::vector(fin), units);
#ifdef FHN_OPENBLAS
  EXPECT_TRUE(d.use_blas());
#endif
  EXPECT_FALSE(Dense(Shape::vector(fin), 63).use_blas());
  const std::vector<float> params = random_vector(d.n_params(), 21), x = random_vector(n * fin, 22);
  expect_dense_matches_double_reference(d, params, x, n);
  check_layer_gradients(d, x, n);
}

TEST(Dense, RejectsBadArguments) {
  EXPECT_THROW(Dense(Shape::vector(3), 0), std::invalid_argument);
  EXPECT_THROW(Dense(Shape::sequence(2, 3), 4), std::invalid_argument);
}

TEST(Conv1D, ShapesAndParams) {
  Conv1D c(Shape::sequence(1, 1000), 8, 3, 2, Padding::valid);
  EXPECT_EQ(c.output_shape(), Shape::sequence(8, 499));
  EXPECT_EQ(c.n_params(), 32);
  Conv1D s(Shape::sequence(4, 10), 6, 3, 1, Padding::same);
  EXPECT_EQ(s.output_shape(), Shape::sequence(6, 10));
  EXPECT_EQ(s.pad_left, 1);
  Conv1D s2(Shape::sequence(4, 10), 6, 4, 3, Padding::same);  // Lout = 4, total pad 3
  EXPECT_EQ(s2.output_shape(), Shape::sequence(6, 4));
  EXPECT_EQ(s2.pad_left, 1);
}

TEST(Conv1D, KnownForward) {
  const float x[5] = {1, 2, 3, 4, 5};
  const float params[4] = {1, 0, -1, 0.5f};  // W (1, 1, 3), b
  float y[5];
  Conv1D valid(Shape::sequence(1, 5), 1, 3, 2, Padding::valid);
  std::vector<float> scratch(valid.scratch_size(1));
  valid.forward(params, x, y, 1, scratch.data(), {});
  EXPECT_FLOAT_EQ(y[0], -1.5f);
  EXPECT_FLOAT_EQ(y[1], -1.5f);
  Conv1D same(Shape::sequence(1, 5), 1, 3, 1, Padding::same);
  scratch.assign(same.scratch_size(1), 0.0f);
  same.forward(params, x, y, 1, scratch.data(), {});
  const float want[5] = {-1.5f, -1.5f, -1.5f, -1.5f, 4.5f};
  for (int i = 0; i < 5; ++i) EXPECT_FLOAT_EQ(y[i], want[i]) << i;
}

// Forward, dW and dx (overwriting what is there) against the defining sums in double, over shapes
// that hit every remainder of the blocked loops: output channels and input channels not multiples
// of 4, taps not a multiple of 3, output lengths below 8, between 8 and 16 and not multiples of 8,
// strides above the kernel, both paddings, stride 2 with odd and even left padding, and kernels
// whose dY margin ⌊(K − 1)/s⌋ spans more than one vector (the padded rows' lead rounds it up).
TEST(Conv1D, ForwardAndGradientsMatchDoubleReference) {
  struct Case {
    long cin, lin, cout, k, s;
    Padding pad;
    long n;
  };
  const Case cases[] = {
      {1, 1000, 8, 3, 2, Padding::valid, 3},
      {8, 249, 16, 3, 2, Padding::valid, 2},
      {16, 62, 32, 3, 2, Padding::valid, 2},
      {3, 37, 5, 4, 3, Padding::same, 3},
      {2, 20, 7, 1, 3, Padding::valid, 2},
      {5, 13, 6, 5, 1, Padding::same, 2},
      {1, 9, 1, 9, 1, Padding::valid, 1},
      {6, 40, 9, 2, 5, Padding::same, 4},
      {3, 41, 4, 4, 2, Padding::same, 2},
      {2, 44, 5, 6, 2, Padding::same, 3},
      {2, 90, 3, 40, 1, Padding::same, 2},
      {4, 120, 6, 35, 2, Padding::valid, 2},
      // filters a multiple of 16 and short rows: the lane kernel of the weight gradient on
      // AVX-512 builds (blocks of 32 and 16 channels, taps in blocks of 24, 12, 4 and 1)
      {5, 40, 48, 3, 1, Padding::same, 3},
      {7, 50, 16, 5, 2, Padding::same, 2},
      // chunks of several groups of series, the last one short (Conv1D::backward_series)
      {8, 249, 16, 3, 2, Padding::valid, 9},
      {16, 62, 32, 3, 2, Padding::valid, 7},
      {3, 37, 5, 4, 3, Padding::same, 6}};
  for (const Case& c : cases) {
    Conv1D conv(Shape::sequence(c.cin, c.lin), c.cout, c.k, c.s, c.pad);
    const long lout = conv.out_length, pad = conv.pad_left, n = c.n;
    const std::vector<float> params = random_vector(conv.n_params(), 61 + c.lin);
    const std::vector<float> x = random_vector(c.cin * n * c.lin, 62 + c.lin);
    const std::vector<float> dy = random_vector(c.cout * n * lout, 63 + c.lin);
    std::vector<float> scratch(conv.scratch_size(n)), y(c.cout * n * lout), dx(x.size(), 9.0f);
    std::vector<float> grads(conv.n_params(), 0.5f);
    conv.forward(params.data(), x.data(), y.data(), n, scratch.data(), {});
    conv.backward(params.data(), x.data(), y.data(), dy.data(), dx.data(), grads.data(), n,
                  scratch.data());
    auto W = [&](long co, long ci, long k) { return double(params[(co * c.cin + ci) * c.k + k]); };
    auto X = [&](long ci, long j, long i) {
      return i < 0 || i >= c.lin ? 0.0 : double(x[(ci * n + j) * c.lin + i]);
    };
    std::vector<double> dw(c.cout * c.cin * c.k, 0.0), dxr(x.size(), 0.0);
    for (long co = 0; co < c.cout; ++co)
      for (long j = 0; j < n; ++j)
        for (long l = 0; l < lout; ++l) {
          double ref = params[c.cout * c.cin * c.k + co];
          const double g = dy[(co * n + j) * lout + l];
          for (long ci = 0; ci < c.cin; ++ci)
            for (long k = 0; k < c.k; ++k) {
              const long i = l * c.s + k - pad;
              ref += W(co, ci, k) * X(ci, j, i);
              dw[(co * c.cin + ci) * c.k + k] += g * X(ci, j, i);
              if (i >= 0 && i < c.lin) dxr[(ci * n + j) * c.lin + i] += W(co, ci, k) * g;
            }
          ASSERT_NEAR(y[(co * n + j) * lout + l], ref, 1e-4 * (1 + std::abs(ref))) << c.lin;
        }
    for (std::size_t i = 0; i < dw.size(); ++i)
      ASSERT_NEAR(grads[i], dw[i], 1e-4 * (1 + std::abs(dw[i]))) << c.lin << " dW " << i;
    for (long co = 0; co < c.cout; ++co) {
      double db = 0.0;
      for (long m = 0; m < n * lout; ++m) db += dy[co * n * lout + m];
      ASSERT_NEAR(grads[dw.size() + co], db, 1e-4 * (1 + std::abs(db))) << c.lin << " db";
    }
    for (std::size_t i = 0; i < dxr.size(); ++i)
      ASSERT_NEAR(dx[i], dxr[i], 1e-4 * (1 + std::abs(dxr[i]))) << c.lin << " dx " << i;
    // without the input gradient (a first layer), the same parameter gradients bit for bit
    std::vector<float> grads_alone(conv.n_params(), 0.5f);
    conv.forward(params.data(), x.data(), y.data(), n, scratch.data(), {});
    conv.backward(params.data(), x.data(), y.data(), dy.data(), nullptr, grads_alone.data(), n,
                  scratch.data());
    ASSERT_EQ(grads_alone, grads) << c.lin;
  }
}

TEST(Conv1D, GradientsValidStride2MultiChannel) {
  Conv1D c(Shape::sequence(3, 11), 4, 3, 2, Padding::valid);
  check_layer_gradients(c, random_vector(3 * 11 * 3, 2), 3);
}

TEST(Conv1D, GradientsSameStride1) {
  Conv1D c(Shape::sequence(2, 9), 3, 4, 1, Padding::same);
  check_layer_gradients(c, random_vector(2 * 9 * 2, 3), 2);
}

TEST(Conv1D, GradientsSameStride3) {
  Conv1D c(Shape::sequence(2, 10), 3, 4, 3, Padding::same);
  check_layer_gradients(c, random_vector(2 * 10 * 2, 4), 2);
}

TEST(Conv1D, RejectsBadArguments) {
  EXPECT_THROW(Conv1D(Shape::sequence(1, 2), 4, 3, 1, Padding::valid), std::invalid_argument);
  EXPECT_THROW(Conv1D(Shape::sequence(1, 9), 0, 3, 1, Padding::valid), std::invalid_argument);
  EXPECT_THROW(Conv1D(Shape::sequence(1, 9), 2, 3, 0, Padding::valid), std::invalid_argument);
  EXPECT_THROW(Conv1D(Shape::vector(9), 2, 3, 1, Padding::valid), std::invalid_argument);
  EXPECT_THROW(parse_padding("full"), std::invalid_argument);
}

TEST(Pool1D, KnownForwardAndShapes) {
  const float x[5] = {1, 2, 3, 5, 9};
  float y[2];
  Pool1D avg(Shape::sequence(1, 5), Pool1D::Kind::average, 2, 2);
  EXPECT_EQ(avg.output_shape(), Shape::sequence(1, 2));
  EXPECT_EQ(avg.n_params(), 0);
  avg.forward(nullptr, x, y, 1, nullptr, {});
  EXPECT_FLOAT_EQ(y[0], 1.5f);
  EXPECT_FLOAT_EQ(y[1], 4.0f);
  Pool1D mx(Shape::sequence(1, 5), Pool1D::Kind::maximum, 3, 2);
  mx.forward(nullptr, x, y, 1, nullptr, {});
  EXPECT_FLOAT_EQ(y[0], 3.0f);
  EXPECT_FLOAT_EQ(y[1], 9.0f);
}

TEST(Pool1D, Gradients) {
  Pool1D avg(Shape::sequence(3, 9), Pool1D::Kind::average, 3, 2);
  check_layer_gradients(avg, random_vector(3 * 9 * 2, 5), 2);
  // max pooling: distinct values far apart (> 2h) so no window changes its maximum
  std::vector<float> x(3 * 9 * 2);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>((i * 37) % x.size());
  Pool1D mx(Shape::sequence(3, 9), Pool1D::Kind::maximum, 2, 2);
  check_layer_gradients(mx, x, 2);
}

// The study's pooling (average, 2, 2) runs in vector blocks of 8 outputs: an odd length with two
// blocks and a tail, and a dropped last input whose gradient must be zero.
TEST(Pool1D, PairAverageBlocksAndTail) {
  const long lin = 37, n = 2, lout = 18;
  Pool1D avg(Shape::sequence(3, lin), Pool1D::Kind::average, 2, 2);
  ASSERT_EQ(avg.out_length, lout);
  const std::vector<float> x = random_vector(3 * n * lin, 7), dy = random_vector(3 * n * lout, 8);
  std::vector<float> y(3 * n * lout), dx(x.size(), 5.0f);
  avg.forward(nullptr, x.data(), y.data(), n, nullptr, {});
  avg.backward(nullptr, x.data(), y.data(), dy.data(), dx.data(), nullptr, n, nullptr);
  for (long r = 0; r < 3 * n; ++r) {
    for (long l = 0; l < lout; ++l) {
      EXPECT_FLOAT_EQ(y[r * lout + l], 0.5f * (x[r * lin + 2 * l] + x[r * lin + 2 * l + 1]));
      EXPECT_FLOAT_EQ(dx[r * lin + 2 * l], 0.5f * dy[r * lout + l]);
      EXPECT_FLOAT_EQ(dx[r * lin + 2 * l + 1], 0.5f * dy[r * lout + l]);
    }
    EXPECT_EQ(dx[r * lin + lin - 1], 0.0f);
  }
}

TEST(Flatten, LayoutMatchesPyTorch) {
  Flatten f(Shape::sequence(2, 3));
  EXPECT_EQ(f.output_shape(), Shape::vector(6));
  // engine layout (C=2, N=2, L=3): x[c][n][l] = 100c + 10n + l
  float x[12], y[12];
  for (int c = 0; c < 2; ++c)
    for (int n = 0; n < 2; ++n)
      for (int l = 0; l < 3; ++l) x[(c * 2 + n) * 3 + l] = 100.f * c + 10.f * n + l;
  f.forward(nullptr, x, y, 2, nullptr, {});
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 2; ++c)
      for (int l = 0; l < 3; ++l) EXPECT_EQ(y[n * 6 + c * 3 + l], 100.f * c + 10.f * n + l);
  check_layer_gradients(f, random_vector(12, 6), 2);
}

TEST(Dropout, TrainingMaskAndGradients) {
  Dropout d(Shape::vector(1000), 0.25);
  std::vector<float> x(1000, 1.0f), y(1000), scratch(1000);
  fhn_inverse::nn::Context ctx;
  ctx.training = true;
  ctx.seed = 3;
  d.forward(nullptr, x.data(), y.data(), 1, scratch.data(), ctx);
  long zeros = 0;
  for (float v : y) {
    if (v == 0.0f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(v, 1.0f / 0.75f);
  }
  EXPECT_NEAR(zeros / 1000.0, 0.25, 0.05);
  ctx.training = false;
  d.forward(nullptr, x.data(), y.data(), 1, scratch.data(), ctx);
  for (float v : y) EXPECT_EQ(v, 1.0f);
  ctx.training = true;
  Dropout small(Shape::vector(7), 0.5);
  check_layer_gradients(small, random_vector(14, 9), 2, ctx);
  EXPECT_THROW(Dropout(Shape::vector(3), 1.0), std::invalid_argument);
}

TEST(Activation, KnownValues) {
  const float x[3] = {-1.0f, 0.0f, 1.0f};
  float y[3];
  struct Case {
    const char* name;
    float want[3];
  };
  const Case cases[] = {
      {"relu", {0.0f, 0.0f, 1.0f}},
      {"swish", {-0.26894142f, 0.0f, 0.73105858f}},
      {"gelu", {-0.15865525f, 0.0f, 0.84134475f}},
      {"tanh", {-0.76159416f, 0.0f, 0.76159416f}},
      {"sigmoid", {0.26894142f, 0.5f, 0.73105858f}},
  };
  for (const auto& c : cases) {
    Activation a(Shape::sequence(1, 3), parse_activation(c.name));
    EXPECT_EQ(a.output_shape(), Shape::sequence(1, 3));
    a.forward(nullptr, x, y, 1, nullptr, {});
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(y[i], c.want[i], 1e-6) << c.name << " " << i;
  }
  EXPECT_EQ(parse_activation("silu"), ActivationKind::swish);
  EXPECT_THROW(parse_activation("softsign"), std::invalid_argument);
}

TEST(Activation, Gradients) {
  for (const char* name : {"swish", "gelu", "tanh", "sigmoid"}) {
    Activation a(Shape::vector(6), parse_activation(name));
    check_layer_gradients(a, random_vector(18, 10, -3.0, 3.0), 3);
  }
  // ReLU away from the kink
  std::vector<float> x = random_vector(18, 11, -3.0, 3.0);
  for (auto& v : x) v = v >= 0 ? v + 0.1f : v - 0.1f;
  check_layer_gradients(Activation(Shape::vector(6), ActivationKind::relu), x, 3);
}

// The fused layer swish → average pooling (2, 2) against the two layers in turn (and so,
// through them, against their gradient checks): the same output bit for bit, the same input
// gradient to rounding; even and odd row lengths, rows shorter than one 16-wide step, with and
// without a tail; and its own gradient check.
TEST(SwishAvgPool2, EqualsTheTwoLayers) {
  for (long m : {2L, 7L, 16L, 37L, 124L, 499L}) {
    const long channels = 3, n = 2, rows = channels * n;
    Activation act(Shape::sequence(channels, m), ActivationKind::swish);
    Pool1D pool(act.output_shape(), Pool1D::Kind::average, 2, 2);
    const std::vector<float> z = random_vector(rows * m, 60 + m, -4.0, 4.0),
                             dp = random_vector(rows * pool.out_length, 61 + m);
    std::vector<float> s(act.scratch_size(n)), y(rows * m), p(rows * pool.out_length);
    Context ctx;
    ctx.backward = true;
    act.forward(nullptr, z.data(), y.data(), n, s.data(), ctx);
    pool.forward(nullptr, y.data(), p.data(), n, nullptr, ctx);
    std::vector<float> dy(rows * m, 3.0f), want(rows * m, 3.0f), got(rows * m, 3.0f);
    pool.backward(nullptr, y.data(), p.data(), dp.data(), dy.data(), nullptr, n, nullptr);
    act.backward(nullptr, z.data(), y.data(), dy.data(), want.data(), nullptr, n, s.data());
    SwishAvgPool2 fused(Shape::sequence(channels, m));
    ASSERT_EQ(fused.output_shape(), pool.output_shape());
    std::vector<float> fs(fused.scratch_size(n)), fp(rows * pool.out_length);
    fused.forward(nullptr, z.data(), fp.data(), n, fs.data(), ctx);
    ASSERT_EQ(fp, p) << "m " << m;
    fused.backward(nullptr, z.data(), fp.data(), dp.data(), got.data(), nullptr, n, fs.data());
    for (long i = 0; i < rows * m; ++i)
      ASSERT_NEAR(got[i], want[i], 1e-6f * (1.0f + std::abs(want[i]))) << "m " << m << " at " << i;
  }
  check_layer_gradients(SwishAvgPool2(Shape::sequence(2, 21)),
                        random_vector(2 * 3 * 21, 62, -3.0, 3.0), 3);
}

// The fused first block (one-channel convolution → swish → average pooling (2, 2)) against
// the three layers in turn: the same output bit for bit, the same σ cache for the backward, and
// the parameter and input gradients to rounding (they sum in another order); strides 1 to 3,
// both paddings, odd and even convolution lengths, filter counts that leave blocks of 2 and 1,
// 1 to 4 taps, rows shorter than a vector; series gathered by row index; and its own gradient
// check.
TEST(ConvSwishPool2, EqualsTheThreeLayers) {
  struct Case {
    long lin, cout, k, s;
    Padding pad;
    long n;
  };
  const Case cases[] = {{1000, 8, 3, 2, Padding::valid, 3}, {37, 5, 3, 1, Padding::same, 2},
                        {50, 3, 4, 3, Padding::same, 2},    {9, 2, 2, 2, Padding::valid, 1},
                        {41, 7, 1, 2, Padding::valid, 3},   {130, 16, 4, 2, Padding::same, 2},
                        {6, 1, 3, 1, Padding::valid, 2}};
  for (const Case& c : cases) {
    Conv1D conv(Shape::sequence(1, c.lin), c.cout, c.k, c.s, c.pad);
    ASSERT_TRUE(ConvSwishPool2::takes(conv));
    SwishAvgPool2 pool(conv.output_shape());
    ConvSwishPool2 fused(conv);
    ASSERT_EQ(fused.output_shape(), pool.output_shape());
    ASSERT_EQ(fused.n_params(), conv.n_params());
    const long n = c.n, lout = conv.out_length, lp = pool.out_length;
    const std::vector<float> params = random_vector(conv.n_params(), 70 + c.lin, -0.8, 0.8);
    const std::vector<float> x = random_vector(n * c.lin, 71 + c.lin, -2.0, 2.0);
    const std::vector<float> dp = random_vector(c.cout * n * lp, 72 + c.lin);
    Context ctx;
    ctx.backward = true;
    std::vector<float> cs(conv.scratch_size(n)), ps(pool.scratch_size(n)), z(c.cout * n * lout),
        p(c.cout * n * lp), dz(z.size()), dx(x.size()), grads(conv.n_params());
    conv.forward(params.data(), x.data(), z.data(), n, cs.data(), ctx);
    pool.forward(nullptr, z.data(), p.data(), n, ps.data(), ctx);
    pool.backward(nullptr, z.data(), p.data(), dp.data(), dz.data(), nullptr, n, ps.data());
    conv.backward(params.data(), x.data(), z.data(), dz.data(), dx.data(), grads.data(), n,
                  cs.data());
    std::vector<float> fs(fused.scratch_size(n)), fp(p.size(), 5.0f), fdx(x.size(), 5.0f),
        fgrads(conv.n_params(), 5.0f);
    fused.forward(params.data(), x.data(), fp.data(), n, fs.data(), ctx);
    ASSERT_EQ(fp, p) << "L " << c.lin;
    fused.backward(params.data(), x.data(), fp.data(), dp.data(), fdx.data(), fgrads.data(), n,
                   fs.data());
    for (long i = 0; i < conv.n_params(); ++i)
      ASSERT_NEAR(fgrads[i], grads[i], 2e-5f * (1.0f + std::abs(grads[i])))
          << "L " << c.lin << " parameter " << i;
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_NEAR(fdx[i], dx[i], 2e-5f * (1.0f + std::abs(dx[i]))) << "L " << c.lin << " dx " << i;
    // without the input gradient (the first layer), the same parameter gradients bit for bit
    std::vector<float> alone(conv.n_params(), -3.0f);
    fused.forward(params.data(), x.data(), fp.data(), n, fs.data(), ctx);
    fused.backward(params.data(), x.data(), fp.data(), dp.data(), nullptr, alone.data(), n,
                   fs.data());
    ASSERT_EQ(alone, fgrads) << "L " << c.lin;
    // the series read by row index from a batch in another order: the same output
    std::vector<float> batch((n + 2) * c.lin, 9.0f);
    std::vector<long> rows(n);
    for (long j = 0; j < n; ++j) {
      rows[j] = n + 1 - j;
      std::copy(x.begin() + j * c.lin, x.begin() + (j + 1) * c.lin,
                batch.begin() + rows[j] * c.lin);
    }
    Context by_rows = ctx;
    by_rows.rows = rows.data();
    std::vector<float> gp(p.size());
    fused.forward(params.data(), batch.data(), gp.data(), n, fs.data(), by_rows);
    ASSERT_EQ(gp, p) << "L " << c.lin;
    // evaluation (no σ kept): the same output
    std::vector<float> ep(p.size());
    fused.forward(params.data(), x.data(), ep.data(), n, fs.data(), Context{});
    ASSERT_EQ(ep, p) << "L " << c.lin;
  }
  check_layer_gradients(ConvSwishPool2(Conv1D(Shape::sequence(1, 23), 3, 3, 2, Padding::same)),
                        random_vector(2 * 23, 73, -2.0, 2.0), 2);
  // what the fused layer does not take: several input channels, more than 4 taps
  EXPECT_FALSE(ConvSwishPool2::takes(Conv1D(Shape::sequence(2, 40), 4, 3, 2, Padding::valid)));
  EXPECT_FALSE(ConvSwishPool2::takes(Conv1D(Shape::sequence(1, 40), 4, 5, 2, Padding::valid)));
  EXPECT_THROW(ConvSwishPool2(Conv1D(Shape::sequence(1, 40), 4, 5, 2, Padding::valid)),
               std::invalid_argument);
}

// The fused convolution → swish (→ average pooling (2, 2)) (→ Flatten) against the layers in
// turn: the same output bit for bit, in evaluation too; the parameter and input gradients to
// rounding (the bias gradient sums the same rows; the weight gradient reads them from the padded
// rows); the study's second and third convolutions (the third through the lane kernel on
// AVX-512 builds), other strides, paddings and odd lengths; with and without the input
// gradient; and its own gradient checks.
TEST(ConvSwish, EqualsTheLayers) {
  struct Case {
    long cin, lin, cout, k, s;
    Padding pad;
    long n;
  };
  const Case cases[] = {
      {8, 249, 16, 3, 2, Padding::valid, 3}, {16, 62, 32, 3, 2, Padding::valid, 2},
      {3, 37, 5, 4, 3, Padding::same, 2},    {2, 21, 7, 5, 1, Padding::same, 3},
      {5, 40, 48, 3, 1, Padding::same, 2},   {1, 30, 4, 6, 2, Padding::valid, 2}};
  for (const Case& c : cases)
    for (bool pool : {true, false})
      for (bool flat : {false, true}) {
        Conv1D conv(Shape::sequence(c.cin, c.lin), c.cout, c.k, c.s, c.pad);
        Activation act(conv.output_shape(), ActivationKind::swish);
        SwishAvgPool2 sp(conv.output_shape());
        const Layer& after = pool ? static_cast<const Layer&>(sp) : act;
        Flatten flatten(after.output_shape());
        ConvSwish fused(conv, pool, flat);
        ASSERT_EQ(fused.output_shape(), flat ? flatten.output_shape() : after.output_shape());
        const long n = c.n, zs = n * conv.output_shape().size(),
                   ys = n * after.output_shape().size();
        const std::string what =
            "L " + std::to_string(c.lin) + (pool ? " pooled" : "") + (flat ? " flattened" : "");
        const std::vector<float> params = random_vector(conv.n_params(), 80 + c.lin, -0.6, 0.6);
        const std::vector<float> x = random_vector(n * c.cin * c.lin, 81 + c.lin, -2.0, 2.0);
        const std::vector<float> dy = random_vector(ys, 82 + c.lin);  // (fused's layout)
        Context ctx;
        ctx.backward = true;
        std::vector<float> cs(conv.scratch_size(n)), as(std::max(after.scratch_size(n), 1L)), z(zs),
            y(ys), yf(ys), dys(ys), dz(zs), dx(x.size()), grads(conv.n_params());
        conv.forward(params.data(), x.data(), z.data(), n, cs.data(), ctx);
        after.forward(nullptr, z.data(), y.data(), n, as.data(), ctx);
        if (flat) {
          flatten.forward(nullptr, y.data(), yf.data(), n, nullptr, ctx);
          flatten.backward(nullptr, y.data(), yf.data(), dy.data(), dys.data(), nullptr, n,
                           nullptr);
        }
        after.backward(nullptr, z.data(), y.data(), flat ? dys.data() : dy.data(), dz.data(),
                       nullptr, n, as.data());
        conv.backward(params.data(), x.data(), z.data(), dz.data(), dx.data(), grads.data(), n,
                      cs.data());
        std::vector<float> fs(fused.scratch_size(n)), fy(ys, 5.0f), fdx(x.size(), 5.0f),
            fgrads(conv.n_params(), 5.0f);
        fused.forward(params.data(), x.data(), fy.data(), n, fs.data(), ctx);
        ASSERT_EQ(fy, flat ? yf : y) << what;
        fused.backward(params.data(), x.data(), fy.data(), dy.data(), fdx.data(), fgrads.data(), n,
                       fs.data());
        for (long i = 0; i < conv.n_params(); ++i)
          ASSERT_NEAR(fgrads[i], grads[i], 2e-5f * (1.0f + std::abs(grads[i])))
              << what << " parameter " << i;
        for (std::size_t i = 0; i < x.size(); ++i)
          ASSERT_NEAR(fdx[i], dx[i], 2e-5f * (1.0f + std::abs(dx[i]))) << what << " dx " << i;
        // without the input gradient (a first layer), the same parameter gradients bit for bit
        std::vector<float> alone(conv.n_params(), -3.0f);
        fused.forward(params.data(), x.data(), fy.data(), n, fs.data(), ctx);
        fused.backward(params.data(), x.data(), fy.data(), dy.data(), nullptr, alone.data(), n,
                       fs.data());
        ASSERT_EQ(alone, fgrads) << what;
        // evaluation (no σ kept): the same output
        std::vector<float> ey(ys);
        fused.forward(params.data(), x.data(), ey.data(), n, fs.data(), Context{});
        ASSERT_EQ(ey, fy) << what;
      }
  check_layer_gradients(ConvSwish(Conv1D(Shape::sequence(2, 17), 3, 3, 2, Padding::same), true),
                        random_vector(2 * 2 * 17, 83, -2.0, 2.0), 2);
  check_layer_gradients(ConvSwish(Conv1D(Shape::sequence(3, 11), 2, 2, 1, Padding::valid), false),
                        random_vector(2 * 3 * 11, 84, -2.0, 2.0), 2);
  check_layer_gradients(
      ConvSwish(Conv1D(Shape::sequence(2, 12), 3, 3, 1, Padding::valid), false, true),
      random_vector(2 * 2 * 12, 85, -2.0, 2.0), 2);
}

// A fused layer writing the next convolution's planes, and the convolution taking them, against
// the two with rows between them: the same output, parameter gradients and input gradient bit
// for bit. The study's first two pairs; a 'same' convolution of stride 3 after a stride-1 block
// without pooling; a plain Conv1D after a swish block.
TEST(PlaneHandoff, EqualsRowsBetweenTheLayers) {
  struct Pair {
    std::function<std::unique_ptr<Layer>()> first, second;
    long n;
  };
  const Conv1D c1(Shape::sequence(1, 1000), 8, 3, 2, Padding::valid);
  const Conv1D c2(Shape::sequence(8, 249), 16, 3, 2, Padding::valid);
  const Conv1D c3(Shape::sequence(16, 62), 32, 3, 2, Padding::valid);
  const Conv1D d1(Shape::sequence(3, 40), 5, 3, 1, Padding::same);
  const Conv1D d2(Shape::sequence(5, 40), 4, 4, 3, Padding::same);
  const Conv1D e1(Shape::sequence(2, 33), 6, 2, 1, Padding::valid);
  const Conv1D e2(Shape::sequence(6, 16), 3, 3, 2, Padding::same);
  const Pair pairs[] = {{[&] { return std::make_unique<ConvSwishPool2>(c1); },
                         [&] { return std::make_unique<ConvSwish>(c2, true); }, 3},
                        {[&] { return std::make_unique<ConvSwish>(c2, true); },
                         [&] { return std::make_unique<ConvSwish>(c3, false, true); }, 2},
                        {[&] { return std::make_unique<ConvSwish>(d1, false); },
                         [&] { return std::make_unique<ConvSwish>(d2, false); }, 2},
                        {[&] { return std::make_unique<ConvSwish>(e1, true); },
                         [&] { return std::make_unique<Conv1D>(e2); }, 3}};
  for (std::size_t p = 0; p < std::size(pairs); ++p) {
    std::unique_ptr<Layer> a = pairs[p].first(), b = pairs[p].second(), pa = pairs[p].first(),
                           pb = pairs[p].second();
    ASSERT_TRUE(pa->describe().writes_planes);
    ASSERT_NE(pb->describe().input_planes, nullptr);
    pa->write_planes(*pb->describe().input_planes);
    pb->take_planes();
    ASSERT_EQ(pa->output_floats(), pb->describe().input_planes->floats());
    const long n = pairs[p].n;
    const std::vector<float> wa = random_vector(a->n_params(), 90 + p, -0.6, 0.6),
                             wb = random_vector(b->n_params(), 91 + p, -0.6, 0.6),
                             x = random_vector(n * a->input_shape().size(), 92 + p, -2.0, 2.0),
                             dy = random_vector(n * b->output_shape().size(), 93 + p);
    Context ctx;
    ctx.backward = true;
    struct Run {
      std::vector<float> y, ga, gb, dx;
    };
    auto run = [&](const Layer& first, const Layer& second) {
      std::vector<float> sa(first.scratch_size(n)), sb(second.scratch_size(n)),
          mid(n * first.output_floats()), dmid(mid.size());
      Run r{std::vector<float>(dy.size()), std::vector<float>(first.n_params()),
            std::vector<float>(second.n_params()), std::vector<float>(x.size())};
      first.forward(wa.data(), x.data(), mid.data(), n, sa.data(), ctx);
      second.forward(wb.data(), mid.data(), r.y.data(), n, sb.data(), ctx);
      second.backward(wb.data(), mid.data(), r.y.data(), dy.data(), dmid.data(), r.gb.data(), n,
                      sb.data());
      first.backward(wa.data(), x.data(), mid.data(), dmid.data(), r.dx.data(), r.ga.data(), n,
                     sa.data());
      return r;
    };
    const Run rows = run(*a, *b), planes = run(*pa, *pb);
    ASSERT_EQ(planes.y, rows.y) << "pair " << p;
    ASSERT_EQ(planes.gb, rows.gb) << "pair " << p;
    ASSERT_EQ(planes.ga, rows.ga) << "pair " << p;
    ASSERT_EQ(planes.dx, rows.dx) << "pair " << p;
  }
}

TEST(Activation, LargeInputsStayFinite) {
  const float x[4] = {-100.0f, -30.0f, 30.0f, 100.0f};
  float y[4];
  for (const char* name : {"swish", "gelu", "sigmoid", "tanh"}) {
    Activation a(Shape::vector(4), parse_activation(name));
    a.forward(nullptr, x, y, 1, nullptr, {});
    for (float v : y) EXPECT_TRUE(std::isfinite(v)) << name;
  }
}

// Each fast path against the plain one beside it in the same file: the narrow broadcast
// kernels, OpenBLAS and the packed copy against Eigen's product (Dense::forward_reference);
// the phase-plane convolution against plain loops (Conv1D::forward_reference).
TEST(Dense, FastPathsMatchTheReferencePath) {
  for (auto [fin, units] :
       {std::pair<long, long>{5, 3}, {300, 3}, {601, 33}, {100, 80}, {260, 300}}) {
    Dense d(Shape::vector(fin), units);
    const long n = 13;
    const std::vector<float> params = random_vector(d.n_params(), 90 + units),
                             x = random_vector(n * fin, 91);
    std::vector<float> ref(n * units), fast(n * units);
    d.forward_reference(params.data(), x.data(), ref.data(), n);
    d.forward(params.data(), x.data(), fast.data(), n, nullptr, {});
    for (long i = 0; i < n * units; ++i)
      ASSERT_NEAR(fast[i], ref[i], 1e-5f * (1.0f + std::abs(ref[i])))
          << fin << "x" << units << " " << i;
    if (const PackedWeights* pw = d.describe().packed) {
      std::vector<float> packed(pw->packed_size());
      pw->pack(params.data(), packed.data());
      pw->forward_packed(params.data(), packed.data(), x.data(), fast.data(), n);
      for (long i = 0; i < n * units; ++i)
        ASSERT_NEAR(fast[i], ref[i], 1e-5f * (1.0f + std::abs(ref[i])))
            << "packed " << fin << "x" << units;
    }
  }
}

TEST(Conv1D, PhasePlaneKernelsMatchTheReferenceLoops) {
  struct Case {
    long cin, lin, cout, k, s;
    Padding pad;
  };
  for (const Case& c : {Case{1, 1000, 8, 3, 2, Padding::valid},
                        Case{8, 249, 16, 3, 2, Padding::valid}, Case{3, 37, 5, 4, 3, Padding::same},
                        Case{2, 20, 7, 5, 1, Padding::same}, Case{4, 9, 3, 1, 1, Padding::valid}}) {
    Conv1D conv(Shape::sequence(c.cin, c.lin), c.cout, c.k, c.s, c.pad);
    const long n = 5;
    const std::vector<float> params = random_vector(conv.n_params(), 95 + c.cin),
                             x = random_vector(n * c.cin * c.lin, 96 + c.lin);
    std::vector<float> scratch(conv.scratch_size(n)), fast(n * conv.output_shape().size()),
        ref(fast.size());
    conv.forward(params.data(), x.data(), fast.data(), n, scratch.data(), {});
    conv.forward_reference(params.data(), x.data(), ref.data(), n);
    for (std::size_t i = 0; i < ref.size(); ++i)
      ASSERT_NEAR(fast[i], ref[i], 1e-5f * (1.0f + std::abs(ref[i])))
          << c.cin << "/" << c.lin << " " << i;
  }
}
