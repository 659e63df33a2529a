// Network: the study's architectures (parameter counts, shapes), whole-network gradients,
// thread-count independence, no allocation inside a training step, training reduces the loss.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "fhn_inverse/nn/network.hpp"
#include "fhn_inverse/train/trainer.hpp"
#include "nn_test_util.hpp"

using namespace fhn_inverse::nn;
using fhn_inverse::testing::check_gradient;
using fhn_inverse::testing::random_vector;

// Counting allocator: every allocation in the process is counted. Under AddressSanitizer (which
// owns malloc) through its allocation hook, else by replacing glibc's malloc.
static std::atomic<long> g_mallocs{0};
#if defined(__SANITIZE_ADDRESS__)
// (declared as in compiler-rt's sanitizer/allocator_interface.h, which GCC does not install)
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             std::size_t),
                                                         void (*free_hook)(const volatile void*));
static void count_allocation(const volatile void*, std::size_t) {
  g_mallocs.fetch_add(1, std::memory_order_relaxed);
}
[[maybe_unused]] static const int g_hooked =
    __sanitizer_install_malloc_and_free_hooks(count_allocation, nullptr);
#else
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* malloc(std::size_t n) {
  g_mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
#endif

namespace {

LayerSpec spec(const std::string& kind) { return LayerSpec{kind}; }
LayerSpec dense(long units) {
  LayerSpec s{"dense"};
  s.units = units;
  return s;
}
LayerSpec conv(long filters, long kernel = 3, long stride = 2) {
  LayerSpec s{"conv1d"};
  s.filters = filters;
  s.kernel = kernel;
  s.stride = stride;
  return s;
}
LayerSpec avgpool(long pool) {
  LayerSpec s{"avgpool1d"};
  s.pool = pool;
  return s;
}

// The study's CNN (spec/paper.md): pooling between the convolutions only.
LayerSpec dropout(double rate) {
  LayerSpec s{"dropout"};
  s.rate = rate;
  return s;
}
// A map and a batch size for the tests that run several kinds of map the same way.
struct MapCase {
  Shape in;
  std::vector<LayerSpec> specs;
  long n;
};
std::vector<LayerSpec> study_cnn() {
  return {conv(8),       spec("swish"), avgpool(2),    conv(16),        spec("swish"),
          avgpool(2),    conv(32),      spec("swish"), spec("flatten"), dense(32),
          spec("swish"), dense(32),     spec("swish"), dense(2),        spec("sigmoid")};
}

std::vector<LayerSpec> study_dense() {
  std::vector<LayerSpec> s;
  for (int i = 0; i < 4; ++i) {
    s.push_back(dense(32));
    s.push_back(spec("swish"));
  }
  s.push_back(dense(2));
  s.push_back(spec("sigmoid"));
  return s;
}

// One MSE step's parameter and input gradients against finite differences, for n random inputs of
// `features` floats and targets of `outputs` (seeds seed, seed + 1).
void expect_network_gradients(Network& net, long n, long features, long outputs, unsigned seed) {
  std::vector<float> x = random_vector(n * features, seed),
                     t = random_vector(n * outputs, seed + 1);
  std::vector<float> dx(n * features);
  net.forward_backward(x.data(), t.data(), n, LossKind::mse, false, 0, 0, 1, dx.data());
  std::vector<float> g(net.grads(), net.grads() + net.n_params());
  auto f = [&] { return net.loss(x.data(), t.data(), n, LossKind::mse, 1); };
  fhn_inverse::testing::GradientCheckOptions opt;
  opt.step = 3e-3;
  check_gradient(f, net.params(), net.n_params(), g.data(), "network dθ", opt);
  check_gradient(f, x.data(), n * features, dx.data(), "network dx", opt);
}

}  // namespace

TEST(Network, StudyCnnHas33874Parameters) {
  Network net(Shape::sequence(1, 1000), study_cnn());
  EXPECT_EQ(net.n_params(), 33874);
  EXPECT_EQ(net.output_shape(), Shape::vector(2));
  EXPECT_EQ(net.summary()[2].output, Shape::sequence(8, 249));
  EXPECT_EQ(net.summary()[8].output, Shape::vector(960));
  EXPECT_EQ(net.summary().size(), study_cnn().size());
  // each convolution runs as one layer with the swish (and pooling, or flattening) after it, and
  // the parameter tensors keep the names of the layers as specified
  EXPECT_EQ(net.layers().size(), study_cnn().size() - 6);
  EXPECT_EQ(net.layers()[0]->name(), "Conv1D+swish+AvgPool1D");
  EXPECT_EQ(net.layers()[1]->name(), "Conv1D+swish+AvgPool1D");
  EXPECT_EQ(net.layers()[2]->name(), "Conv1D+swish+Flatten");
  EXPECT_EQ(net.layers()[2]->output_shape(), Shape::vector(960));
  EXPECT_EQ(net.param_tensors()[0].name, "layers.0.weight");
  EXPECT_EQ(net.param_tensors()[2].name, "layers.3.weight");
  long total = 0;
  for (const auto& t : net.param_tensors()) total += t.size();
  EXPECT_EQ(total, 33874);
}

TEST(Network, StudyDenseParameters) {
  Network net(Shape::vector(1000), study_dense());
  EXPECT_EQ(net.n_params(), 1000 * 32 + 32 + 3 * (32 * 32 + 32) + 32 * 2 + 2);
}

TEST(Network, GlorotInitIsSeededAndBounded) {
  Network a(Shape::vector(50), {dense(30)}, 1), b(Shape::vector(50), {dense(30)}, 1),
      c(Shape::vector(50), {dense(30)}, 2);
  const float limit = std::sqrt(6.0f / 80.0f);
  for (long i = 0; i < 1500; ++i) {
    EXPECT_EQ(a.params()[i], b.params()[i]);
    EXPECT_LE(std::abs(a.params()[i]), limit);
  }
  EXPECT_NE(a.params()[0], c.params()[0]);
  for (long i = 1500; i < 1530; ++i) EXPECT_EQ(a.params()[i], 0.0f);
}

TEST(Network, RejectsBadArchitectures) {
  EXPECT_THROW(Network(Shape::sequence(1, 100), {conv(4)}),
               std::invalid_argument);  // no vector out
  EXPECT_THROW(Network(Shape::sequence(1, 100), {dense(4)}), std::invalid_argument);
  EXPECT_THROW(Network(Shape::vector(10), {spec("softmax")}), std::invalid_argument);
  EXPECT_THROW(Network(Shape::vector(10), {}), std::invalid_argument);
}

TEST(Network, WholeNetworkGradientsMultiChannelCnn) {
  LayerSpec same = conv(4, 3, 1);
  same.padding = "same";
  LayerSpec mp{"maxpool1d"};
  mp.pool = 2;
  Network net(Shape::sequence(2, 20),
              {same, spec("gelu"), avgpool(2), conv(5, 3, 2), spec("tanh"), spec("flatten"),
               dense(6), spec("swish"), dense(2)},
              3, 8);
  expect_network_gradients(net, 5, 40, 2, 40);
}

// Convolutions fused with swish and pooling that hand planes to each other (the study's CNN in
// small): each writes its input gradient over the planes the layer before wrote
// (dx_over_input), which that layer then reads as its output gradient.
TEST(Network, WholeNetworkGradientsFusedConvolutionsOverPlanes) {
  Network net(Shape::sequence(1, 125),
              {conv(4), spec("swish"), avgpool(2), conv(6), spec("swish"), avgpool(2), conv(8),
               spec("swish"), spec("flatten"), dense(3)},
              7, 16);
  for (long n : {3L, 9L})  // (9: the convolutions' backward in several groups of series)
    expect_network_gradients(net, n, 125, 3, 50 + n);
}

TEST(Network, ChunkedBatchEqualsWholeBatchAndIsThreadIndependent) {
  Network net(Shape::sequence(1, 100),
              {conv(4), spec("swish"), avgpool(2), spec("flatten"), dense(3)}, 5, 64);
  const long n = 50;  // 4 chunks
  std::vector<float> x = random_vector(n * 100, 50), t = random_vector(n * 3, 51);
  const double l1 = net.forward_backward(x.data(), t.data(), n, LossKind::mse, true, 1, 0, 1);
  std::vector<float> g1(net.grads(), net.grads() + net.n_params());
  const double l2 = net.forward_backward(x.data(), t.data(), n, LossKind::mse, true, 1, 0, 2);
  EXPECT_EQ(l1, l2);
  for (long i = 0; i < net.n_params(); ++i) ASSERT_EQ(g1[i], net.grads()[i]) << i;
  // loss() in evaluation mode equals the training loss (no dropout here)
  EXPECT_NEAR(net.loss(x.data(), t.data(), n, LossKind::mse, 2), l1, 1e-6 * l1);
  // predict over many pieces equals one piece
  std::vector<float> y1(n * 3), y2(n * 3);
  net.predict(x.data(), n, y1.data(), 2);
  net.set_max_batch(7);
  net.predict(x.data(), n, y2.data(), 1);
  for (long i = 0; i < n * 3; ++i) EXPECT_NEAR(y1[i], y2[i], 1e-6);
}

// A batch given as row indices into x and t (gathered by the chunks) gives bitwise the same loss,
// gradients and input gradient as the same rows copied into a batch first: a one-channel CNN
// (its first layer reading the rows in place) and a multi-channel CNN
// (chunks), a wide map below 256 rows (split products) and at 300 rows (chunked wide training).
TEST(Network, RowIndexedBatchEqualsGatheredBatch) {
  const LayerSpec drop = dropout(0.2);
  const std::vector<MapCase> cases = {
      {Shape::sequence(2, 40), {conv(4), spec("swish"), avgpool(2), spec("flatten"), dense(3)}, 45},
      // one channel: the first Conv1D reads the rows by index in place
      {Shape::sequence(1, 41),
       {conv(4), spec("swish"), avgpool(2), conv(5), spec("swish"), spec("flatten"), dense(3)},
       45},
      {Shape::vector(260), {dense(300), spec("swish"), drop, dense(2)}, 37},
      {Shape::vector(260), {dense(300), spec("swish"), drop, dense(2)}, 300}};
  for (const MapCase& c : cases) {
    Network net(c.in, c.specs, 3, c.n);
    const long in = c.in.size(), m = 2 * c.n + 5, d = net.output_shape().size();
    const std::vector<float> x = random_vector(m * in, 11), t = random_vector(m * d, 12);
    std::vector<long> rows(c.n);
    for (long j = 0; j < c.n; ++j) rows[j] = (7 * j + 3) % m;  // scattered, not in order
    std::vector<float> xb(c.n * in), tb(c.n * d);
    for (long j = 0; j < c.n; ++j) {
      std::copy_n(x.begin() + rows[j] * in, in, xb.begin() + j * in);
      std::copy_n(t.begin() + rows[j] * d, d, tb.begin() + j * d);
    }
    std::vector<float> dx1(c.n * in), dx2(c.n * in);
    const double l1 =
        net.forward_backward(xb.data(), tb.data(), c.n, LossKind::mse, true, 5, 2, 2, dx1.data());
    const std::vector<float> g1(net.grads(), net.grads() + net.n_params());
    const double l2 = net.forward_backward(x.data(), t.data(), c.n, LossKind::mse, true, 5, 2, 2,
                                           dx2.data(), rows.data());
    EXPECT_EQ(l1, l2) << c.n;
    for (long i = 0; i < net.n_params(); ++i) ASSERT_EQ(g1[i], net.grads()[i]) << c.n << " " << i;
    for (long i = 0; i < c.n * in; ++i) ASSERT_EQ(dx1[i], dx2[i]) << c.n << " " << i;
  }
}

TEST(Network, TrainingStepAllocatesNothing) {
  Network net(Shape::sequence(1, 1000), study_cnn(), 0, 32);
  Adam adam(net.n_params(), {});
  std::vector<float> x = random_vector(32 * 1000, 60), t = random_vector(32 * 2, 61, 0, 1);
  for (int warm = 0; warm < 2; ++warm) {
    net.forward_backward(x.data(), t.data(), 32, LossKind::mse, true, 0, warm, 2);
    adam.step(net.params(), net.grads(), 1e-3);
  }
  const long before = g_mallocs.load();
  for (int s = 0; s < 3; ++s) {
    net.forward_backward(x.data(), t.data(), 32, LossKind::mse, true, 0, 2 + s, 2);
    adam.step(net.params(), net.grads(), 1e-3);
  }
  EXPECT_EQ(g_mallocs.load() - before, 0);
}

TEST(Trainer, LearnsALinearMapAndRestoresBest) {
  // y = sigmoid-friendly targets: mean and slope of a short series
  const long n = 256, L = 16;
  std::vector<float> x(n * L), y(n * 2);
  fhn_inverse::Rng rng(9, fhn_inverse::Stream::prior, 0);
  for (long i = 0; i < n; ++i) {
    const double a = rng.uniform(), b = rng.uniform();
    for (long l = 0; l < L; ++l) x[i * L + l] = static_cast<float>(a + (b - 0.5) * l / L);
    y[i * 2] = static_cast<float>(a);
    y[i * 2 + 1] = static_cast<float>(b);
  }
  Network net(Shape::vector(L), {dense(16), spec("swish"), dense(2), spec("sigmoid")}, 1);
  fhn_inverse::train::TrainConfig cfg;
  cfg.epochs = 60;
  cfg.batch_size = 32;
  cfg.schedule.lr = 1e-2;
  cfg.n_threads = 1;
  Adam adam(net.n_params(), cfg.optimizer);
  long calls = 0;
  auto h = fhn_inverse::train::fit(net, adam, x.data(), y.data(), 200, x.data() + 200 * L,
                                   y.data() + 400, 56, cfg, [&](const auto&) {
                                     ++calls;
                                     return true;
                                   });
  EXPECT_EQ(static_cast<long>(h.loss.size()), 60);
  EXPECT_EQ(static_cast<long>(h.step_loss.size()), 60 * 7);
  EXPECT_LT(h.loss.back(), 0.05 * h.loss.front());
  EXPECT_GE(calls, 60);
  // restore-best: the final parameters give the best validation loss
  const double val = net.loss(x.data() + 200 * L, y.data() + 400, 56, LossKind::mse, 1);
  EXPECT_NEAR(val, h.val_loss[h.best_epoch], 1e-6);
  // stopping from the callback leaves a consistent model
  Adam adam2(net.n_params(), cfg.optimizer);
  auto h2 = fhn_inverse::train::fit(net, adam2, x.data(), y.data(), 200, nullptr, nullptr, 0, cfg,
                                    [](const auto& p) { return !p.epoch_end; });
  EXPECT_TRUE(h2.interrupted);
  EXPECT_EQ(h2.loss.size(), 1u);
}

// Streamed training: one fit_block per epoch, keyed by the epoch, with fit's epoch length and
// total steps, makes exactly fit's steps (cosine schedule, dropout, gradient clipping).
TEST(Trainer, FitBlockPerEpochMatchesFit) {
  const long n = 200, L = 16, epochs = 4;
  std::vector<float> x(n * L), y(n * 2);
  fhn_inverse::Rng rng(3, fhn_inverse::Stream::prior, 0);
  for (auto& v : x) v = static_cast<float>(rng.uniform());
  for (auto& v : y) v = static_cast<float>(rng.uniform());
  LayerSpec drop{"dropout"};
  drop.rate = 0.1;
  const std::vector<LayerSpec> layers = {dense(16), spec("swish"), drop, dense(2)};
  fhn_inverse::train::TrainConfig cfg;
  cfg.epochs = epochs;
  cfg.batch_size = 48;
  cfg.schedule.kind = fhn_inverse::nn::Schedule::Kind::cosine;
  cfg.schedule.lr = 1e-2;
  cfg.clip_norm = 0.5;
  cfg.seed = 11;
  cfg.n_threads = 2;
  Network a(Shape::vector(L), layers, 1), b(Shape::vector(L), layers, 1);
  Adam adam_a(a.n_params(), cfg.optimizer), adam_b(b.n_params(), cfg.optimizer);
  auto h = fhn_inverse::train::fit(a, adam_a, x.data(), y.data(), n, nullptr, nullptr, 0, cfg);
  const long per_epoch = (n + cfg.batch_size - 1) / cfg.batch_size;
  std::vector<float> steps;
  for (long e = 0; e < epochs; ++e) {
    auto r =
        fhn_inverse::train::fit_block(b, adam_b, x.data(), y.data(), n, cfg,
                                      static_cast<std::uint64_t>(e), per_epoch, per_epoch * epochs);
    EXPECT_EQ(r.samples, n);
    EXPECT_DOUBLE_EQ(r.loss, h.loss[e]);
    EXPECT_DOUBLE_EQ(r.lr, h.lr[e]);
    steps.insert(steps.end(), r.step_loss.begin(), r.step_loss.end());
  }
  EXPECT_EQ(steps, h.step_loss);
  EXPECT_EQ(0, std::memcmp(a.params(), b.params(), sizeof(float) * a.n_params()));
  EXPECT_THROW(fhn_inverse::train::fit_block(b, adam_b, x.data(), y.data(), n, cfg, 0, 0, 1),
               std::invalid_argument);
}

// The one training loop over blocks: three blocks of unequal sizes per epoch make exactly the steps
// of fit_block over the same blocks keyed epoch · 3 + k with the stream's epoch length; the epoch's
// loss is the mean over its samples; a source that stops ends the training as an interruption.
TEST(Trainer, FitBlocksIsFitBlockOverTheStream) {
  const long L = 8, epochs = 3;
  const std::vector<long> sizes = {70, 50, 33};
  const long n = 153;
  std::vector<float> x(n * L), y(n * 2);
  fhn_inverse::Rng rng(5, fhn_inverse::Stream::prior, 0);
  for (auto& v : x) v = static_cast<float>(rng.uniform());
  for (auto& v : y) v = static_cast<float>(rng.uniform());
  const std::vector<LayerSpec> layers = {dense(8), spec("swish"), dense(2)};
  fhn_inverse::train::TrainConfig cfg;
  cfg.epochs = epochs;
  cfg.batch_size = 32;
  cfg.schedule.kind = fhn_inverse::nn::Schedule::Kind::cosine;
  cfg.seed = 4;
  cfg.n_threads = 1;
  const long offsets[] = {0, 70, 120};
  Network a(Shape::vector(L), layers, 2), b(Shape::vector(L), layers, 2);
  Adam adam_a(a.n_params(), cfg.optimizer), adam_b(b.n_params(), cfg.optimizer);
  long asked = 0;
  const fhn_inverse::train::BlockSource source = [&](long e, long k) {
    EXPECT_EQ(asked++, e * 3 + k);  // in order
    return fhn_inverse::train::Block{x.data() + offsets[k] * L, y.data() + offsets[k] * 2,
                                     sizes[k]};
  };
  auto h = fhn_inverse::train::fit_blocks(a, adam_a, source, sizes, nullptr, nullptr, 0, cfg);
  long per_epoch = 0;
  for (long s : sizes) per_epoch += (s + 31) / 32;
  std::vector<float> steps;
  for (long e = 0; e < epochs; ++e) {
    double sum = 0.0;
    for (long k = 0; k < 3; ++k) {
      auto r = fhn_inverse::train::fit_block(
          b, adam_b, x.data() + offsets[k] * L, y.data() + offsets[k] * 2, sizes[k], cfg,
          static_cast<std::uint64_t>(e * 3 + k), per_epoch, per_epoch * epochs);
      sum += r.loss * r.samples;
      steps.insert(steps.end(), r.step_loss.begin(), r.step_loss.end());
    }
    EXPECT_NEAR(h.loss[e], sum / n, 1e-12);
  }
  EXPECT_EQ(steps, h.step_loss);
  EXPECT_EQ(h.samples, n * epochs);
  EXPECT_EQ(h.wait_seconds.size(), static_cast<std::size_t>(epochs));
  EXPECT_EQ(0, std::memcmp(a.params(), b.params(), sizeof(float) * a.n_params()));
  // a source that stops in the second epoch: one epoch recorded, interrupted
  Adam adam_c(a.n_params(), cfg.optimizer);
  const fhn_inverse::train::BlockSource stops = [&](long e, long k) {
    if (e == 1 && k == 1) return fhn_inverse::train::Block{};
    return fhn_inverse::train::Block{x.data() + offsets[k] * L, y.data() + offsets[k] * 2,
                                     sizes[k]};
  };
  auto h2 = fhn_inverse::train::fit_blocks(a, adam_c, stops, sizes, nullptr, nullptr, 0, cfg);
  EXPECT_TRUE(h2.interrupted);
  EXPECT_EQ(h2.loss.size(), 1u);
  // a block of another size than announced is an error
  const fhn_inverse::train::BlockSource short_block = [&](long, long k) {
    return fhn_inverse::train::Block{x.data(), y.data(), sizes[k] - 1};
  };
  EXPECT_THROW(
      fhn_inverse::train::fit_blocks(a, adam_c, short_block, sizes, nullptr, nullptr, 0, cfg),
      std::invalid_argument);
}

TEST(Trainer, ShuffleOrderIsAPermutationAndSeeded) {
  auto a = fhn_inverse::train::epoch_order(1, 0, 100),
       b = fhn_inverse::train::epoch_order(1, 0, 100),
       c = fhn_inverse::train::epoch_order(1, 1, 100);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<long> s = a;
  std::sort(s.begin(), s.end());
  for (long i = 0; i < 100; ++i) EXPECT_EQ(s[i], i);
}

// Wide maps (a Dense layer with >= 256 inputs and outputs) run each GEMM over the whole batch in
// fixed parts spread over the threads (batches below 256) or train in chunks of >= 128 rows, one
// thread each (larger batches of maps with few enough parameters): either way the same
// gradients as central differences and as unsplit products, bitwise identical for any thread
// count (dropout included), and no allocation per step.
static void expect_wide_training(long n) {
  const LayerSpec drop = dropout(0.2);
  const std::vector<LayerSpec> specs = {dense(300),   spec("swish"), dense(520),
                                        spec("tanh"), drop,          dense(2)};
  Network net(Shape::vector(260), specs, 9, n + 3);
  ASSERT_TRUE(net.wide());
  std::vector<float> x = random_vector(n * 260, 70), t = random_vector(n * 2, 71);
  std::vector<float> dx(n * 260);
  net.forward_backward(x.data(), t.data(), n, LossKind::mse, false, 0, 0, 2, dx.data());
  std::vector<float> g(net.grads(), net.grads() + net.n_params());
  auto f = [&] { return net.loss(x.data(), t.data(), n, LossKind::mse, 2); };
  fhn_inverse::testing::GradientCheckOptions opt;
  opt.step = 3e-3;
  // central differences on a spread of parameters (every layer, both sides of part boundaries)
  for (long i = 0; i < net.n_params(); i += 997)
    check_gradient(f, net.params() + i, 1, g.data() + i,
                   "wide network dθ[" + std::to_string(i) + "]", opt);
  for (long i = 0; i < n * 260; i += 331)
    check_gradient(f, x.data() + i, 1, dx.data() + i, "wide network dx[" + std::to_string(i) + "]",
                   opt);
  // the same network with its GEMMs unsplit (whole-batch, one part) agrees to rounding
  Network ref(Shape::vector(260), specs, 9, n + 3);
  ref.set_split_products(false);
  std::vector<float> dx_ref(n * 260);
  ref.forward_backward(x.data(), t.data(), n, LossKind::mse, false, 0, 0, 2, dx_ref.data());
  float gmax = 0.0f;
  for (long i = 0; i < net.n_params(); ++i) gmax = std::max(gmax, std::abs(g[i]));
  for (long i = 0; i < net.n_params(); ++i) ASSERT_NEAR(g[i], ref.grads()[i], 1e-5f * gmax) << i;
  // and to the mean of the gradients of its two halves (each below 256 rows: split products)
  const long na = n / 2, nb = n - na;
  std::vector<float> half(net.n_params());
  ref.forward_backward(x.data(), t.data(), na, LossKind::mse, false, 0, 0, 2);
  for (long i = 0; i < net.n_params(); ++i) half[i] = ref.grads()[i] * float(na) / float(n);
  ref.forward_backward(x.data() + na * 260, t.data() + na * 2, nb, LossKind::mse, false, 0, 0, 2);
  for (long i = 0; i < net.n_params(); ++i)
    ASSERT_NEAR(g[i], half[i] + ref.grads()[i] * float(nb) / float(n), 1e-5f * gmax) << i;

  const double l1 = net.forward_backward(x.data(), t.data(), n, LossKind::mse, true, 3, 5, 1);
  std::vector<float> g1(net.grads(), net.grads() + net.n_params());
  const double l2 = net.forward_backward(x.data(), t.data(), n, LossKind::mse, true, 3, 5, 2);
  EXPECT_EQ(l1, l2);
  for (long i = 0; i < net.n_params(); ++i) ASSERT_EQ(g1[i], net.grads()[i]) << i;
  std::vector<float> y1(n * 2), y2(n * 2);
  net.predict(x.data(), n, y1.data(), 1);
  net.predict(x.data(), n, y2.data(), 2);
  for (long i = 0; i < n * 2; ++i) ASSERT_EQ(y1[i], y2[i]) << i;

  Adam adam(net.n_params(), {});
  for (int warm = 0; warm < 2; ++warm) {
    net.forward_backward(x.data(), t.data(), n, LossKind::mse, true, 0, warm, 2);
    adam.step(net.params(), net.grads(), 1e-3, 2);
  }
  const long before = g_mallocs.load();
  for (int s = 0; s < 3; ++s) {
    net.forward_backward(x.data(), t.data(), n, LossKind::mse, true, 0, 10 + s, 2);
    adam.step(net.params(), net.grads(), 1e-3, 2);
  }
  EXPECT_EQ(g_mallocs.load() - before, 0);
}

TEST(Network, WideMapSplitGemmsGradientsAndThreadIndependence) { expect_wide_training(37); }

TEST(Network, WideMapChunkedTrainingGradientsAndThreadIndependence) { expect_wide_training(300); }

// Maps with OpenBLAS layers but no wide layer (width 128) train in chunks of >= 128 rows from
// 256 rows on, in two chunks below: gradients bitwise the same on one thread and on two, equal
// to rounding to the mean of the gradients of the batch's halves, and no allocation per step.
TEST(Network, GemmMapChunksAreThreadIndependent) {
  const LayerSpec drop = dropout(0.2);
  const std::vector<LayerSpec> specs = {dense(128), spec("swish"), drop,
                                        dense(128), spec("tanh"),  dense(2)};
  for (long n : {40L, 300L}) {
    Network net(Shape::vector(100), specs, 4, n);
    ASSERT_FALSE(net.wide());
    const std::vector<float> x = random_vector(n * 100, 90), t = random_vector(n * 2, 91);
    const double l1 = net.forward_backward(x.data(), t.data(), n, LossKind::mse, true, 3, 1, 1);
    const std::vector<float> g1(net.grads(), net.grads() + net.n_params());
    const double l2 = net.forward_backward(x.data(), t.data(), n, LossKind::mse, true, 3, 1, 2);
    EXPECT_EQ(l1, l2);
    for (long i = 0; i < net.n_params(); ++i) ASSERT_EQ(g1[i], net.grads()[i]) << n << " " << i;
    net.forward_backward(x.data(), t.data(), n, LossKind::mse, false, 0, 0, 2);
    const std::vector<float> g(net.grads(), net.grads() + net.n_params());
    const long na = n / 2, nb = n - na;
    net.forward_backward(x.data(), t.data(), na, LossKind::mse, false, 0, 0, 2);
    std::vector<float> half(net.grads(), net.grads() + net.n_params());
    net.forward_backward(x.data() + na * 100, t.data() + na * 2, nb, LossKind::mse, false, 0, 0, 2);
    float gmax = 0.0f;
    for (float v : g) gmax = std::max(gmax, std::abs(v));
    for (long i = 0; i < net.n_params(); ++i)
      ASSERT_NEAR(g[i], half[i] * float(na) / float(n) + net.grads()[i] * float(nb) / float(n),
                  1e-5f * gmax)
          << n << " " << i;
    const long before = g_mallocs.load();
    for (int s = 0; s < 3; ++s)
      net.forward_backward(x.data(), t.data(), n, LossKind::mse, true, 0, 10 + s, 2);
    EXPECT_EQ(g_mallocs.load() - before, 0);
  }
}

// Evaluation of n rows of a network with `in` inputs and `out` outputs: identical for 1 and 2
// threads, within rounding of one-row evaluation, the loss the MSE of those predictions, and
// that loss equal to rounding to the training path's evaluation-mode loss on its first rows.
static void expect_consistent_evaluation(Network& net, long n, long in, long out,
                                         std::uint64_t seed) {
  const std::vector<float> x = random_vector(n * in, seed), t = random_vector(n * out, seed + 1);
  std::vector<float> y1(n * out), y2(n * out), one(out);
  net.predict(x.data(), n, y1.data(), 1);
  net.predict(x.data(), n, y2.data(), 2);
  for (long i = 0; i < n * out; ++i) ASSERT_EQ(y1[i], y2[i]) << i;
  double mse = 0.0;
  for (long i = 0; i < n; ++i) {
    net.predict(x.data() + i * in, 1, one.data(), 1);
    for (long j = 0; j < out; ++j) {
      ASSERT_NEAR(y1[i * out + j], one[j], 1e-5f * (1.0f + std::abs(one[j]))) << i << "," << j;
      const double e = double(y1[i * out + j]) - t[i * out + j];
      mse += e * e / (double(out) * n);
    }
  }
  EXPECT_NEAR(net.loss(x.data(), t.data(), n, LossKind::mse, 2), mse, 1e-6 * mse);
  EXPECT_EQ(net.loss(x.data(), t.data(), n, LossKind::mse, 1),
            net.loss(x.data(), t.data(), n, LossKind::mse, 2));
  const long m = std::min(n, net.max_batch());  // dropout inactive in both
  const double eval = net.loss(x.data(), t.data(), m, LossKind::mse, 2);
  EXPECT_NEAR(net.forward_backward(x.data(), t.data(), m, LossKind::mse, false, 0, 0, 2), eval,
              1e-5 * eval);
}

// A wide vector map evaluates in chunks of 128–512 rows through two buffers per thread (Dropout
// skipped, activations in place): bitwise the same for any thread count, equal to rounding to
// one-sample evaluation and to the training path, and the loss is the MSE of the predictions.
TEST(Network, WideMapEvaluationInRowChunks) {
  const LayerSpec drop = dropout(0.2);
  const std::vector<LayerSpec> specs = {dense(300), spec("swish"), drop,
                                        dense(260), spec("relu"),  dense(3)};
  Network net(Shape::vector(270), specs, 4, 300);
  ASSERT_TRUE(net.wide());
  expect_consistent_evaluation(net, 700, 270, 3, 80);
}

// A dense map on a raw series (narrow first layer, packed once per call): 2,500 rows in chunks
// of 313; results do not depend on the thread count, match one-row evaluation, and the loss
// matches predict.
TEST(Network, DenseMapEvaluationInChunks) {
  const std::vector<LayerSpec> specs = {dense(32), spec("swish"), dense(32), spec("swish"),
                                        dense(2)};
  Network net(Shape::vector(1000), specs, 5, 256);
  ASSERT_FALSE(net.wide());
  expect_consistent_evaluation(net, 2500, 1000, 2, 90);
}

// More rows than one evaluation block (64 chunks of 512 rows): the loss sums every block's
// chunks; Flatten on vectors and a leading activation are evaluated too.
TEST(Network, VectorMapEvaluationOverSeveralBlocks) {
  const std::vector<LayerSpec> specs = {spec("tanh"), spec("flatten"), dense(16), spec("gelu"),
                                        dense(2)};
  Network net(Shape::vector(6), specs, 6, 64);
  expect_consistent_evaluation(net, 40000, 6, 2, 91);
}

// The optimizer's update inside the step (Network::forward_backward's update, as the trainer
// runs Adam) gives bit for bit the parameters, moments and loss of the step followed by
// Adam::step, for the chunked executor (a CNN of several chunks, more chunks than threads) and
// the wide one (split products and chunked), at 1, 2 and 3 threads, with Adam and with AdamW;
// every block is updated once, and a step with the update allocates nothing.
TEST(Network, UpdateInsideTheStepEqualsTheSeparateStep) {
  const LayerSpec drop = dropout(0.2);
  const std::vector<MapCase> cases = {
      {Shape::sequence(1, 100),
       {conv(4), spec("swish"), avgpool(2), spec("flatten"), dense(3)},
       50},
      {Shape::vector(260), {dense(300), spec("swish"), dense(520), drop, dense(3)}, 37},
      {Shape::vector(260), {dense(300), spec("swish"), dense(520), drop, dense(3)}, 300}};
  for (const MapCase& c : cases)
    for (bool decoupled : {false, true})
      for (int threads : {1, 2, 3}) {
        Network a(c.in, c.specs, 7, c.n), b(c.in, c.specs, 7, c.n);
        const long in = c.in.size(), P = a.n_params();
        std::vector<float> x = random_vector(c.n * in, 80), t = random_vector(c.n * 3, 81);
        AdamConfig cfg;
        cfg.decoupled = decoupled;
        cfg.weight_decay = 0.01;
        Adam adam_a(P, cfg), adam_b(P, cfg);
        std::vector<int> visits(P);
        struct {
          Adam& opt;
          Adam::Coefficients k;
          float* params;
          const float* grads;
          int* visits;
        } u{adam_b, {}, b.params(), b.grads(), visits.data()};
        const Network::Update update = [&u](long lo, long hi) {
          for (long i = lo; i < hi; ++i) ++u.visits[i];
          u.opt.apply(u.k, u.params, u.grads, lo, hi);
        };
        for (int s = 0; s < 3; ++s) {
          const double la =
              a.forward_backward(x.data(), t.data(), c.n, LossKind::mse, true, 4, s, threads);
          adam_a.step(a.params(), a.grads(), 1e-3, threads);
          std::fill(visits.begin(), visits.end(), 0);
          u.k = adam_b.next(1e-3);
          const long before = g_mallocs.load();
          const double lb = b.forward_backward(x.data(), t.data(), c.n, LossKind::mse, true, 4, s,
                                               threads, nullptr, nullptr, &update);
          EXPECT_EQ(g_mallocs.load() - before, 0);
          adam_b.advance();
          ASSERT_EQ(la, lb) << "step " << s;
          for (long i = 0; i < P; ++i) ASSERT_EQ(visits[i], 1) << "parameter " << i;
        }
        ASSERT_EQ(adam_a.steps(), adam_b.steps());
        for (long i = 0; i < P; ++i) {
          ASSERT_EQ(a.params()[i], b.params()[i]) << "parameter " << i << ", " << threads;
          ASSERT_EQ(adam_a.m()[i], adam_b.m()[i]) << i;
          ASSERT_EQ(adam_a.v()[i], adam_b.v()[i]) << i;
        }
      }
}
