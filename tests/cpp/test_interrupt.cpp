// The interrupt facility (interrupt.hpp) and the thread-count range (parallel.hpp) across every
// batch entry point: a hook answering true stops a batch early with Interrupted and leaves the
// objects usable; a hook answering false changes no result; n_threads outside [0, kMaxThreads]
// is rejected and kMaxThreads itself runs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "fhn_inverse/features/fourier.hpp"
#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/nn/network.hpp"
#include "fhn_inverse/util/random.hpp"
#include "fhn_inverse/simulate/noise.hpp"
#include "fhn_inverse/util/parallel.hpp"
#include "fhn_inverse/simulate/simulator.hpp"
#include "fhn_inverse/simulate/spikes.hpp"
#include "fhn_inverse/train/trainer.hpp"

using namespace fhn_inverse;
using namespace fhn_inverse::simulate;
using models::FitzHughNagumo;
using nn::LayerSpec;
using nn::LossKind;
using nn::Network;
using nn::Shape;
using clock_type = std::chrono::steady_clock;

namespace {

std::atomic<long> g_calls{0};
std::atomic<long> g_stop_at{0};  // the hook answers true from this call on (0: never)

bool counting_hook() noexcept {
  const long c = ++g_calls;
  return g_stop_at > 0 && c >= g_stop_at;
}

// Every test leaves the process without a hook.
class Interrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    g_calls = 0;
    g_stop_at = 0;
  }
  void TearDown() override { set_interrupt_hook(nullptr); }
  // Polls at every work item, the hook answering true from its stop_at-th call (0: never).
  static void hook_every_item(long stop_at) {
    g_stop_at = stop_at;
    set_interrupt_hook(&counting_hook, std::chrono::nanoseconds(0));
  }
};

RowMatrix prior_theta(long n) {
  RowMatrix theta(n, 2);
  Rng rng(5, Stream::prior, 0);
  for (long i = 0; i < n; ++i) theta.row(i) << 0.1 + 0.8 * rng.uniform(), 0.1 + 0.8 * rng.uniform();
  return theta;
}

SimulatorOptions short_grid(long points) {
  SimulatorOptions o;
  for (long k = 0; k < points; ++k) o.t_obs.push_back(0.2 * static_cast<double>(k));
  return o;
}

RowMatrix random_rows(long n, long length, std::uint64_t seed) {
  RowMatrix x(n, length);
  Rng rng(seed, Stream::noise, 0);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = rng.normal();
  return x;
}

LayerSpec dense(long units) {
  LayerSpec s{"dense"};
  s.units = units;
  return s;
}

Network small_dense(long inputs) {
  return Network(Shape::vector(inputs), {dense(16), LayerSpec{"swish"}, dense(2)}, 3);
}

std::vector<float> random_floats(long n, std::uint64_t seed) {
  std::vector<float> v(static_cast<std::size_t>(n));
  Rng rng(seed, Stream::noise, 1);
  for (auto& x : v) x = static_cast<float>(rng.normal());
  return v;
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

}  // namespace

TEST_F(Interrupt, WithoutHookNothingStops) {
  set_interrupt_hook(nullptr, std::chrono::nanoseconds(0));
  InterruptPoll poll;
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(poll.stop());
  EXPECT_NO_THROW(poll.check());
}

TEST_F(Interrupt, HookAnsweringTrueStopsThePollAndCheckThrows) {
  hook_every_item(3);
  InterruptPoll poll;
  EXPECT_FALSE(poll.stop());
  EXPECT_FALSE(poll.stop());
  EXPECT_NO_THROW(poll.check());
  EXPECT_TRUE(poll.stop());
  EXPECT_TRUE(poll.stop());  // stays stopped without asking the hook again
  EXPECT_EQ(g_calls, 3);
  EXPECT_THROW(poll.check(), Interrupted);
}

TEST_F(Interrupt, HookIsCalledAtMostOncePerInterval) {
  set_interrupt_hook(&counting_hook, std::chrono::milliseconds(20));
  InterruptPoll poll;
  const auto t0 = clock_type::now();
  long polls = 0;
  while (seconds_since(t0) < 0.1) {
    ASSERT_FALSE(poll.stop());
    ++polls;
  }
  EXPECT_GT(polls, 1000);
  EXPECT_GE(g_calls, 1);
  EXPECT_LE(g_calls, 5);  // 100 ms / 20 ms, the first call one interval after construction
}

TEST_F(Interrupt, OnlyTheCallingThreadAsksTheHook) {
  hook_every_item(0);
  InterruptPoll poll;
  std::atomic<long> polled{0};
#pragma omp parallel num_threads(4)
  for (int i = 0; i < 100; ++i) {
    poll.stop();
    ++polled;
  }
  EXPECT_EQ(polled, 400);
  EXPECT_LE(g_calls, 100);  // thread 0's polls only
  EXPECT_GE(g_calls, 1);
}

TEST_F(Interrupt, SimulationStopsEarlyAndStaysUsable) {
  const FitzHughNagumo model;
  const RowMatrix theta = prior_theta(256);
  const SimulatorOptions o = short_grid(1000);
  const BatchResult full = simulate_batch(model, theta, o, 2);
  // One thread, so that exactly the items before the third poll run: 2 of 256 trajectories
  // against all of them (a 0.25 bound leaves room for a busy machine).
  auto t0 = clock_type::now();
  simulate_batch(model, theta, o, 1);
  const double full_seconds = seconds_since(t0);
  hook_every_item(3);
  t0 = clock_type::now();
  EXPECT_THROW(simulate_batch(model, theta, o, 1), Interrupted);
  const double stopped_seconds = seconds_since(t0);
  EXPECT_EQ(g_calls, 3);
  EXPECT_LT(stopped_seconds, 0.25 * full_seconds);
  g_calls = 0;  // two threads stop too
  EXPECT_THROW(simulate_batch(model, theta, o, 2), Interrupted);
  EXPECT_EQ(g_calls, 3);
  hook_every_item(0);  // a hook answering false: the same bits as without one
  const BatchResult again = simulate_batch(model, theta, o, 2);
  EXPECT_GE(g_calls, 1);
  EXPECT_TRUE(again.u.cwiseEqual(full.u).all());
  EXPECT_EQ(again.status, full.status);
}

TEST_F(Interrupt, StiffTrajectoryStopsWithinItsSteps) {
  // θ1 = 10^6 takes its whole budget of 10^6 tiny steps (about half a second); the poll inside
  // the trajectory ends it after the next 1024.
  const FitzHughNagumo model;
  RowMatrix theta(1, 2);
  theta << 0.4, 1e6;
  hook_every_item(2);  // the sample's start, then its first 1024 steps
  const auto t0 = clock_type::now();
  EXPECT_THROW(simulate_batch(model, theta, short_grid(1000), 1), Interrupted);
  EXPECT_LT(seconds_since(t0), 0.1);
  EXPECT_EQ(g_calls, 2);
}

TEST_F(Interrupt, NoiseSpikesAndFeaturesStopAndOtherwiseMatch) {
  const Eigen::VectorXd sigma = Eigen::VectorXd::Constant(64, 0.3),
                        rho = Eigen::VectorXd::Constant(64, 0.8);
  const RowMatrix eta = ar1_noise(sigma, rho, 500, 11, 0, 2);
  std::vector<double> t(500);
  for (std::size_t k = 0; k < t.size(); ++k) t[k] = 0.2 * static_cast<double>(k);
  const SpikeStatistics s = spike_statistics(eta, t, 0.2, 2, 1000.0, 2);
  const RowMatrix f =
      features::fourier_features(eta, features::Representation::packed, features::Norm::ortho, 2);

  hook_every_item(1);
  EXPECT_THROW(ar1_noise(sigma, rho, 500, 11, 0, 2), Interrupted);
  EXPECT_THROW(spike_statistics(eta, t, 0.2, 2, 1000.0, 2), Interrupted);
  EXPECT_THROW(
      features::fourier_features(eta, features::Representation::packed, features::Norm::ortho, 2),
      Interrupted);

  hook_every_item(0);
  EXPECT_TRUE(ar1_noise(sigma, rho, 500, 11, 0, 2).cwiseEqual(eta).all());
  const SpikeStatistics s2 = spike_statistics(eta, t, 0.2, 2, 1000.0, 2);
  EXPECT_TRUE(s2.count.cwiseEqual(s.count).all());
  EXPECT_TRUE(s2.duration.cwiseEqual(s.duration).all());
  EXPECT_TRUE(
      features::fourier_features(eta, features::Representation::packed, features::Norm::ortho, 2)
          .cwiseEqual(f)
          .all());
  EXPECT_GE(g_calls, 3);  // every call polled
}

TEST_F(Interrupt, NetworkEvaluationStopsAndStaysUsable) {
  Network net = small_dense(20);
  const long n = 3000;
  const std::vector<float> x = random_floats(n * 20, 1), t = random_floats(n * 2, 2);
  std::vector<float> y(n * 2), y2(n * 2);
  net.predict(x.data(), n, y.data(), 2);
  const double loss = net.loss(x.data(), t.data(), n, LossKind::mse, 2);

  hook_every_item(1);
  EXPECT_THROW(net.predict(x.data(), n, y2.data(), 2), Interrupted);
  EXPECT_THROW(net.loss(x.data(), t.data(), n, LossKind::mse, 2), Interrupted);

  hook_every_item(0);
  net.predict(x.data(), n, y2.data(), 2);
  EXPECT_EQ(y2, y);
  EXPECT_EQ(net.loss(x.data(), t.data(), n, LossKind::mse, 2), loss);
  EXPECT_GE(g_calls, 2);
}

TEST_F(Interrupt, TrainingStopsInTheValidationLossWithTheBestParameters) {
  Network net = small_dense(20);
  const long n = 256, n_val = 4096;
  const std::vector<float> x = random_floats(n * 20, 3), y = random_floats(n * 2, 4);
  const std::vector<float> xv = random_floats(n_val * 20, 5), yv = random_floats(n_val * 2, 6);
  train::TrainConfig c;
  c.epochs = 3;
  c.n_threads = 2;
  nn::Adam adam(net.n_params(), c.optimizer);
  hook_every_item(1);  // the training steps do not poll; the first validation loss stops
  EXPECT_THROW(train::fit(net, adam, x.data(), y.data(), n, xv.data(), yv.data(), n_val, c),
               Interrupted);
  EXPECT_EQ(adam.steps(), 8);  // one complete epoch of 8 batches
  set_interrupt_hook(nullptr);
  std::vector<float> out(2);
  net.predict(x.data(), 1, out.data(), 1);
  EXPECT_TRUE(std::isfinite(out[0]) && std::isfinite(out[1]));
}

TEST(Threads, RangeIsCheckedWithTheValueAndTheRange) {
  EXPECT_EQ(resolve_threads(3), 3);
  EXPECT_GE(resolve_threads(0), 1);
  EXPECT_LE(resolve_threads(0), kMaxThreads);
  for (long long bad : {-1LL, static_cast<long long>(kMaxThreads) + 1, 100000LL, 1LL << 40}) {
    try {
      resolve_threads(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("[0, " + std::to_string(kMaxThreads) + "]"), std::string::npos) << what;
      EXPECT_NE(what.find(std::to_string(bad)), std::string::npos) << what;
    }
  }
}

TEST(Threads, EveryEntryPointRejectsTooManyThreads) {
  const FitzHughNagumo model;
  const RowMatrix theta = prior_theta(4);
  const RowMatrix x = random_rows(4, 16, 1);
  const std::vector<double> t(16, 0.0);
  const Eigen::VectorXd sigma = Eigen::VectorXd::Constant(4, 0.3),
                        rho = Eigen::VectorXd::Constant(4, 0.5);
  const int huge = 100000;
  EXPECT_THROW(simulate_batch(model, theta, short_grid(10), huge), std::invalid_argument);
  EXPECT_THROW(ar1_noise(sigma, rho, 16, 0, 0, huge), std::invalid_argument);
  std::vector<double> grid(16);
  for (std::size_t k = 0; k < grid.size(); ++k) grid[k] = static_cast<double>(k);
  EXPECT_THROW(spike_statistics(x, grid, 0.5, 1, 1000.0, huge), std::invalid_argument);
  EXPECT_THROW(
      features::fourier_features(x, features::Representation::packed, features::Norm::ortho, huge),
      std::invalid_argument);
  Network net = small_dense(16);
  const std::vector<float> xf = random_floats(4 * 16, 2), tf = random_floats(4 * 2, 3);
  std::vector<float> y(8);
  EXPECT_THROW(net.predict(xf.data(), 4, y.data(), huge), std::invalid_argument);
  EXPECT_THROW(net.loss(xf.data(), tf.data(), 4, LossKind::mse, huge), std::invalid_argument);
  EXPECT_THROW(net.forward_backward(xf.data(), tf.data(), 4, LossKind::mse, false, 0, 0, huge),
               std::invalid_argument);
  train::TrainConfig c;
  c.n_threads = huge;
  EXPECT_THROW(c.validate(), std::invalid_argument);
}

TEST(Threads, TheMaximumRunsAndChangesNoResult) {
  const FitzHughNagumo model;
  const RowMatrix theta = prior_theta(kMaxThreads + 8);  // enough samples for a full team
  const SimulatorOptions o = short_grid(5);
  const BatchResult one = simulate_batch(model, theta, o, 1);
  const BatchResult most = simulate_batch(model, theta, o, kMaxThreads);
  EXPECT_TRUE(most.u.cwiseEqual(one.u).all());

  const Eigen::VectorXd sigma = Eigen::VectorXd::Constant(kMaxThreads + 8, 0.3);
  const Eigen::VectorXd rho = Eigen::VectorXd::Constant(kMaxThreads + 8, 0.5);
  EXPECT_TRUE(ar1_noise(sigma, rho, 8, 1, 0, kMaxThreads)
                  .cwiseEqual(ar1_noise(sigma, rho, 8, 1, 0, 1))
                  .all());

  // a training run with a full team in every step (forward, backward, Adam)
  Network a = small_dense(16), b = small_dense(16);
  const long n = 64;
  const std::vector<float> x = random_floats(n * 16, 7), y = random_floats(n * 2, 8);
  train::TrainConfig c;
  c.epochs = 2;
  c.n_threads = 1;
  nn::Adam adam_a(a.n_params(), c.optimizer), adam_b(b.n_params(), c.optimizer);
  train::fit(a, adam_a, x.data(), y.data(), n, nullptr, nullptr, 0, c);
  c.n_threads = kMaxThreads;
  train::fit(b, adam_b, x.data(), y.data(), n, nullptr, nullptr, 0, c);
  for (long i = 0; i < a.n_params(); ++i) ASSERT_EQ(a.params()[i], b.params()[i]) << i;
}
