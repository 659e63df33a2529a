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

namespace {

using Clock = std::chrono::steady_clock;

// Reports progress between batches at most every `interval` seconds.
struct Reporter {
  Reporter(const ProgressFn& f, double every, Clock::time_point start = Clock::now())
      : fn(f), interval(every), last(start) {}
  const ProgressFn& fn;
  double interval;
  Clock::time_point last;
  Progress pr;
  long samples_before = 0;  // samples of the epoch trained on in earlier blocks
};

struct Pass {
  double sum = 0.0;  // batch losses weighted by batch sizes
  long seen = 0;
  double lr = 0.0;
  bool interrupted = false;
};

// One pass of mini-batches over the n samples listed in `order`: forward, backward, clipping and
// an optimizer step per batch at the learning rate of the optimizer's global step.
Pass run_batches(nn::Network& net, nn::Adam& optimizer, const float* x, const float* y, long n,
                 const long* order, long batch, const TrainConfig& config,
                 const nn::Schedule& schedule, std::vector<float>& step_loss, Reporter& rep) {
  Pass p;
  const long batches = (n + batch - 1) / batch;
  p.lr = schedule.at(optimizer.steps());
  for (long b = 0; b < batches; ++b) {
    const long start = b * batch, nb = std::min(batch, n - start);
    // the network's chunks gather their rows of x and y themselves, in parallel
    p.lr = schedule.at(optimizer.steps());
    const auto step = static_cast<std::uint64_t>(optimizer.steps());
    double loss;
    if (config.clip_norm > 0.0) {  // (clipping needs every gradient first)
      loss = net.forward_backward(x, y, nb, config.loss, true, config.seed, step, config.n_threads,
                                  nullptr, order + start);
      nn::clip_grad_norm(net.grads(), net.n_params(), config.clip_norm);
      optimizer.step(net.params(), net.grads(), p.lr, resolve_threads(config.n_threads));
    } else {  // Adam block by block inside the step, as each block's gradient sum is done
      struct {
        nn::Adam& opt;
        nn::Adam::Coefficients c;
        float* params;
        const float* grads;
      } u{optimizer, optimizer.next(p.lr), net.params(), net.grads()};
      // (one reference captured: std::function holds it without allocating)
      const nn::Network::Update update = [&u](long lo, long hi) {
        u.opt.apply(u.c, u.params, u.grads, lo, hi);
      };
      loss = net.forward_backward(x, y, nb, config.loss, true, config.seed, step, config.n_threads,
                                  nullptr, order + start, &update);
      optimizer.advance();
    }
    step_loss.push_back(static_cast<float>(loss));
    p.sum += loss * nb;
    p.seen += nb;
    const auto now = Clock::now();
    if (rep.fn && std::chrono::duration<double>(now - rep.last).count() >= rep.interval) {
      rep.last = now;
      rep.pr.batch = b + 1;
      rep.pr.samples = rep.samples_before + p.seen;
      rep.pr.loss = p.sum / p.seen;
      rep.pr.lr = p.lr;
      rep.pr.epoch_end = false;
      if (!rep.fn(rep.pr)) {
        p.interrupted = true;
        break;
      }
    }
  }
  return p;
}

void check_sizes(const nn::Network& net, nn::Adam& optimizer, const TrainConfig& config, long n) {
  config.validate();
  require(n >= 1, "training set must have >= 1 sample, got " + std::to_string(n));
  require(optimizer.m().size() == static_cast<std::size_t>(net.n_params()),
          "optimizer size " + std::to_string(optimizer.m().size()) +
              " does not match the network's parameter count " + std::to_string(net.n_params()));
  nn::loss_target_size(config.loss, net.output_shape().size());  // throws for a wrong output size
}

}  // namespace

BlockResult fit_block(nn::Network& net, nn::Adam& optimizer, const float* x, const float* y, long n,
                      const TrainConfig& config, std::uint64_t block, long steps_per_epoch,
                      long total_steps, const ProgressFn& progress) {
  check_sizes(net, optimizer, config, n);
  require(steps_per_epoch >= 1,
          "steps_per_epoch must be >= 1, got " + std::to_string(steps_per_epoch));
  require(total_steps >= 1, "total_steps must be >= 1, got " + std::to_string(total_steps));
  const long batch = std::min(config.batch_size, n);
  if (net.max_batch() < batch) net.set_max_batch(batch);
  nn::Schedule schedule = config.schedule;
  schedule.steps_per_epoch = steps_per_epoch;
  schedule.total_steps = total_steps;
  std::vector<long> order(n);
  if (config.shuffle) {
    shuffle_order(config.seed, static_cast<long>(block), order.data(), n);
  } else {
    for (long i = 0; i < n; ++i) order[i] = i;
  }
  BlockResult r;
  r.step_loss.reserve((n + batch - 1) / batch);
  Reporter rep{progress, config.progress_interval};
  rep.pr.epoch = static_cast<long>(block);
  rep.pr.batches = (n + batch - 1) / batch;
  rep.pr.val_loss = std::numeric_limits<double>::quiet_NaN();
  const Pass p =
      run_batches(net, optimizer, x, y, n, order.data(), batch, config, schedule, r.step_loss, rep);
  r.loss = p.seen > 0 ? p.sum / p.seen : std::numeric_limits<double>::quiet_NaN();
  r.samples = p.seen;
  r.lr = p.lr;
  r.interrupted = p.interrupted;
  return r;
}

namespace {

// Early stopping and restore-best: tracks the monitored loss (the validation loss where there is
// validation data, else the training loss) and keeps a copy of the best epoch's parameters.
struct EarlyStopping {
  EarlyStopping(const nn::Network& net, const TrainConfig& config, bool has_val)
      : keep_best(has_val && config.restore_best),
        patience(config.patience),
        min_delta(config.min_delta),
        best(net.n_params()) {}

  // Records epoch `epoch`'s monitored loss; true when training should stop (patience ran out).
  bool update(long epoch, double monitored, const nn::Network& net, History& h) {
    if (std::isfinite(monitored) && monitored < best_val - min_delta) {
      best_val = monitored;
      h.best_epoch = epoch;
      since_best = 0;
      if (keep_best) std::memcpy(best.data(), net.params(), sizeof(float) * net.n_params());
      return false;
    }
    ++since_best;
    return patience > 0 && since_best >= patience;
  }

  // The best epoch's parameters back into the network, where they were kept.
  void restore(nn::Network& net, const History& h) const {
    if (keep_best && h.best_epoch >= 0)
      std::memcpy(net.params(), best.data(), sizeof(float) * net.n_params());
  }

  bool keep_best;
  long patience;
  double min_delta;
  std::vector<float> best;
  double best_val = std::numeric_limits<double>::infinity();
  long since_best = 0;
};

// The epoch's record in the history.
void record_epoch(History& h, double train_loss, double val, double lr, Clock::time_point t0) {
  h.loss.push_back(train_loss);
  h.val_loss.push_back(val);
  h.lr.push_back(lr);
  h.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
}

}  // namespace

namespace {

// What the epoch loop keeps besides the history: the stream's shape and the schedule over it.
struct Plan {
  long n_blocks = 0, steps_per_epoch = 0, max_batch = 0;
  nn::Schedule schedule;
};

Plan plan(const std::vector<long>& block_sizes, const TrainConfig& config) {
  require(!block_sizes.empty(), "a training needs at least one block");
  Plan pl;
  pl.n_blocks = static_cast<long>(block_sizes.size());
  for (long n : block_sizes) {
    require(n >= 1, "every block must have >= 1 sample, got " + std::to_string(n));
    const long batch = std::min(config.batch_size, n);
    pl.steps_per_epoch += (n + batch - 1) / batch;
    pl.max_batch = std::max(pl.max_batch, batch);
  }
  pl.schedule = config.schedule;
  pl.schedule.steps_per_epoch = pl.steps_per_epoch;
  pl.schedule.total_steps = pl.steps_per_epoch * config.epochs;
  return pl;
}

}  // namespace

// Long: the one epoch loop of every training, arrays and streams alike: blocks, validation,
// early stopping, the history and progress read best in one place (each a call or a few lines).
History fit_blocks(nn::Network& net, nn::Adam& optimizer, const BlockSource& source,
                   const std::vector<long>& block_sizes, const float* x_val, const float* y_val,
                   long n_val, const TrainConfig& config, const ProgressFn& progress) {
  check_sizes(net, optimizer, config, block_sizes.empty() ? 0 : block_sizes.front());
  const Plan pl = plan(block_sizes, config);
  if (net.max_batch() < pl.max_batch) net.set_max_batch(pl.max_batch);
  const bool has_val = n_val > 0 && x_val && y_val;
  EarlyStopping early(net, config, has_val);
  std::vector<long> order;
  History h;
  h.step_loss.reserve(pl.steps_per_epoch * config.epochs);
  const auto t0 = Clock::now();
  Reporter rep{progress, config.progress_interval, t0};
  rep.pr.epochs = config.epochs;
  rep.pr.batches = pl.steps_per_epoch;
  rep.pr.val_loss = std::numeric_limits<double>::quiet_NaN();
  bool stop = false;
  for (long epoch = 0; epoch < config.epochs && !stop; ++epoch) {
    Pass sum;  // the epoch's batch losses weighted by batch sizes, over its blocks
    double wait = 0.0;
    rep.pr.epoch = epoch;
    for (long k = 0; k < pl.n_blocks && !stop; ++k) {
      const auto asked = Clock::now();
      const Block b = source(epoch, k);
      wait += std::chrono::duration<double>(Clock::now() - asked).count();
      if (b.n <= 0) {  // the source stopped (its error, or Ctrl-C, is the caller's to raise)
        stop = h.interrupted = true;
        break;
      }
      require(b.n == block_sizes[k], "block " + std::to_string(k) + " of epoch " +
                                         std::to_string(epoch) + " has " + std::to_string(b.n) +
                                         " samples, expected " + std::to_string(block_sizes[k]));
      order.resize(b.n);
      const long key = epoch * pl.n_blocks + k;
      if (config.shuffle) {
        shuffle_order(config.seed, key, order.data(), b.n);
      } else {
        for (long i = 0; i < b.n; ++i) order[i] = i;
      }
      rep.samples_before = sum.seen;
      const Pass p =
          run_batches(net, optimizer, b.x, b.y, b.n, order.data(), std::min(config.batch_size, b.n),
                      config, pl.schedule, h.step_loss, rep);
      sum.sum += p.sum;
      sum.seen += p.seen;
      sum.lr = p.lr;
      h.samples += p.seen;
      if (p.interrupted) stop = h.interrupted = true;
    }
    if (stop) break;
    const double train_loss = sum.sum / sum.seen;
    double val = std::numeric_limits<double>::quiet_NaN();
    if (has_val) {
      try {
        val = net.loss(x_val, y_val, n_val, config.loss, config.n_threads);
      } catch (const Interrupted&) {  // as for a stop between batches: the best epoch's parameters
        early.restore(net, h);
        throw;
      }
    }
    record_epoch(h, train_loss, val, sum.lr, t0);
    h.wait_seconds.push_back(wait);
    if (early.update(epoch, has_val ? val : train_loss, net, h)) stop = h.stopped_early = true;
    if (progress) {
      rep.last = Clock::now();
      rep.pr.batch = pl.steps_per_epoch;
      rep.pr.samples = sum.seen;
      rep.pr.loss = train_loss;
      rep.pr.val_loss = val;
      rep.pr.lr = sum.lr;
      rep.pr.epoch_end = true;
      if (!progress(rep.pr)) stop = h.interrupted = true;
    }
  }
  early.restore(net, h);
  return h;
}

History fit(nn::Network& net, nn::Adam& optimizer, const float* x, const float* y, long n,
            const float* x_val, const float* y_val, long n_val, const TrainConfig& config,
            const ProgressFn& progress) {
  check_sizes(net, optimizer, config, n);
  const BlockSource same = [&](long, long) { return Block{x, y, n}; };
  return fit_blocks(net, optimizer, same, {n}, x_val, y_val, n_val, config, progress);
}

}  // namespace fhn_inverse::train
