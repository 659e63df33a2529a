// Mini-batch training loop with validation, early stopping and progress callbacks.
#include "fhn_inverse/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::train {

using nn::require;

void TrainConfig::validate() const {
  require(epochs >= 1, "epochs must be >= 1, got " + std::to_string(epochs));
  require(batch_size >= 1, "batch_size must be >= 1, got " + std::to_string(batch_size));
  require(clip_norm >= 0.0, "clip_norm must be >= 0, got " + std::to_string(clip_norm));
  require(patience >= 0, "patience must be >= 0, got " + std::to_string(patience));
  require(min_delta >= 0.0, "min_delta must be >= 0, got " + std::to_string(min_delta));
  check_threads(n_threads);
  require(progress_interval > 0.0,
          "progress_interval must be > 0, got " + std::to_string(progress_interval));
  optimizer.validate();
  schedule.validate();
}

void shuffle_order(std::uint64_t seed, long epoch, long* order, long n) {
  for (long i = 0; i < n; ++i) order[i] = i;
  Rng rng(seed, Stream::shuffle, static_cast<std::uint64_t>(epoch));
  for (long i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
}

std::vector<long> epoch_order(std::uint64_t seed, long epoch, long n) {
  std::vector<long> order(n);
  shuffle_order(seed, epoch, order.data(), n);
  return order;
}

History fit(nn::Network& net, nn::Adam& optimizer, const float* x, const float* y, long n,
            const float* x_val, const float* y_val, long n_val, const TrainConfig& config,
            const ProgressFn& progress) {
  config.validate();
  require(n >= 1, "training set must have >= 1 sample, got " + std::to_string(n));
  require(optimizer.m().size() == static_cast<std::size_t>(net.n_params()),
          "optimizer size " + std::to_string(optimizer.m().size()) +
              " does not match the network's parameter count " + std::to_string(net.n_params()));
  using clock = std::chrono::steady_clock;
  nn::loss_target_size(config.loss, net.output_shape().size());  // throws for a wrong output size
  const long batch = std::min(config.batch_size, n);
  const long batches = (n + batch - 1) / batch;
  if (net.max_batch() < batch) net.set_max_batch(batch);
  nn::Schedule schedule = config.schedule;
  schedule.steps_per_epoch = batches;
  schedule.total_steps = batches * config.epochs;

  // everything the loop needs, allocated once
  std::vector<float> best(net.n_params());
  std::vector<long> order(n);
  History h;
  h.loss.reserve(config.epochs);
  h.val_loss.reserve(config.epochs);
  h.lr.reserve(config.epochs);
  h.seconds.reserve(config.epochs);
  h.step_loss.reserve(batches * config.epochs);
  double best_val = std::numeric_limits<double>::infinity();
  long since_best = 0;
  const bool has_val = n_val > 0 && x_val && y_val;
  const auto t0 = clock::now();
  auto last_report = t0;
  Progress pr;
  pr.epochs = config.epochs;
  pr.batches = batches;
  pr.val_loss = std::numeric_limits<double>::quiet_NaN();
  bool stop = false;

  for (long epoch = 0; epoch < config.epochs && !stop; ++epoch) {
    if (config.shuffle) {
      shuffle_order(config.seed, epoch, order.data(), n);
    } else {
      for (long i = 0; i < n; ++i) order[i] = i;
    }
    double sum = 0.0;
    long seen = 0;
    double lr = schedule.at(optimizer.steps());
    for (long b = 0; b < batches; ++b) {
      const long start = b * batch, nb = std::min(batch, n - start);
      // the network's chunks gather their rows of x and y themselves, in parallel
      const double loss = net.forward_backward(
          x, y, nb, config.loss, true, config.seed, static_cast<std::uint64_t>(optimizer.steps()),
          config.n_threads, nullptr, order.data() + start);
      if (config.clip_norm > 0.0) nn::clip_grad_norm(net.grads(), net.n_params(), config.clip_norm);
      lr = schedule.at(optimizer.steps());
      optimizer.step(net.params(), net.grads(), lr, resolve_threads(config.n_threads));
      h.step_loss.push_back(static_cast<float>(loss));
      sum += loss * nb;
      seen += nb;
      const auto now = clock::now();
      if (progress && std::chrono::duration<double>(now - last_report).count() >=
                          config.progress_interval) {
        last_report = now;
        pr.epoch = epoch;
        pr.batch = b + 1;
        pr.loss = sum / seen;
        pr.lr = lr;
        pr.epoch_end = false;
        if (!progress(pr)) {
          stop = true;
          h.interrupted = true;
          break;
        }
      }
    }
    if (h.interrupted) break;
    const double train_loss = sum / seen;
    double val = std::numeric_limits<double>::quiet_NaN();
    if (has_val) {
      try {
        val = net.loss(x_val, y_val, n_val, config.loss, config.n_threads);
      } catch (const Interrupted&) {  // as for a stop between batches: the best epoch's parameters
        if (config.restore_best && h.best_epoch >= 0)
          std::memcpy(net.params(), best.data(), sizeof(float) * net.n_params());
        throw;
      }
    }
    h.loss.push_back(train_loss);
    h.val_loss.push_back(val);
    h.lr.push_back(lr);
    h.seconds.push_back(std::chrono::duration<double>(clock::now() - t0).count());
    const double monitored = has_val ? val : train_loss;
    if (std::isfinite(monitored) && monitored < best_val - config.min_delta) {
      best_val = monitored;
      h.best_epoch = epoch;
      since_best = 0;
      if (has_val && config.restore_best)
        std::memcpy(best.data(), net.params(), sizeof(float) * net.n_params());
    } else {
      ++since_best;
      if (config.patience > 0 && since_best >= config.patience) {
        stop = true;
        h.stopped_early = true;
      }
    }
    if (progress) {
      last_report = clock::now();
      pr.epoch = epoch;
      pr.batch = batches;
      pr.loss = train_loss;
      pr.val_loss = val;
      pr.lr = lr;
      pr.epoch_end = true;
      if (!progress(pr)) {
        stop = true;
        h.interrupted = true;
      }
    }
  }
  if (has_val && config.restore_best && h.best_epoch >= 0)
    std::memcpy(net.params(), best.data(), sizeof(float) * net.n_params());
  return h;
}

}  // namespace fhn_inverse::train
