// The training loop: shuffled mini-batches (order from Rng(seed, Stream::shuffle, epoch)),
// Adam/AdamW with a learning-rate schedule, optional gradient clipping, per-epoch validation,
// early stopping with restore-best, per-epoch history. Labels arrive already scaled (the Python
// estimator owns label scaling). Everything is allocated before the first step. A progress
// callback runs between batches at most every `progress_interval` seconds and after every epoch;
// it returns false to stop — the loop then ends after the current complete optimizer step,
// leaving the parameters consistent (restored to the best epoch when restore_best is set).
// The validation loss polls the interrupt hook (interrupt.hpp): Interrupted leaves fit with the
// parameters restored the same way.
// Shapes: x (N, C, L) or (N, F) row-major; y (N, D) row-major.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "fhn_inverse/nn/losses.hpp"
#include "fhn_inverse/nn/network.hpp"
#include "fhn_inverse/nn/optimizers.hpp"

namespace fhn_inverse::train {

struct TrainConfig {
  long epochs = 100;
  long batch_size = 32;
  nn::LossKind loss = nn::LossKind::mse;
  nn::AdamConfig optimizer;
  nn::Schedule schedule;
  double clip_norm = 0.0;    // 0: no clipping
  long patience = 0;         // epochs without improvement before stopping; 0: never stop
  double min_delta = 0.0;    // improvement needed to reset patience
  bool restore_best = true;  // with validation data: parameters of the best epoch at the end
  bool shuffle = true;
  std::uint64_t seed = 0;          // shuffling and dropout
  int n_threads = 0;               // in [0, kMaxThreads]; 0: all cores
  double progress_interval = 0.2;  // seconds between progress callbacks
  void validate() const;
};

struct Progress {
  long epoch = 0, epochs = 0;   // epoch in progress (0-based) and total
  long batch = 0, batches = 0;  // batches done in this epoch and per epoch
  double loss = 0.0;            // running mean training loss of this epoch
  double val_loss = 0.0;        // last validation loss (NaN before the first)
  double lr = 0.0;
  long samples = 0;  // samples trained on in this epoch so far
  bool epoch_end = false;
};

struct History {
  std::vector<double> loss, val_loss, lr, seconds;  // per epoch
  std::vector<double> wait_seconds;                 // per epoch: time spent waiting for blocks
  std::vector<float> step_loss;                     // per optimizer step
  long samples = 0;                                 // samples trained on, in all
  long best_epoch = -1;
  bool stopped_early = false, interrupted = false;
};

using ProgressFn = std::function<bool(const Progress&)>;

// Shuffled order of n samples for one epoch (Fisher–Yates over Rng(seed, shuffle, epoch),
// starting from the identity), written into order[0..n).
void shuffle_order(std::uint64_t seed, long epoch, long* order, long n);
std::vector<long> epoch_order(std::uint64_t seed, long epoch, long n);

// What one block of a streamed training did.
struct BlockResult {
  double loss = 0.0;  // mean training loss over the block's samples
  long samples = 0;   // samples trained on (fewer than n when interrupted)
  double lr = 0.0;    // learning rate of the last step
  bool interrupted = false;
  std::vector<float> step_loss;  // per optimizer step
};

// One pass of shuffled mini-batches over a block of n samples, for training that streams its
// data (from a store, or simulated while it trains): the block's order is
// shuffle_order(seed, block, ...) and the learning rate the schedule's at the optimizer's global
// step, with the epoch length and total steps of the whole stream given by the caller; the caller
// owns epochs, validation and early stopping. One block per epoch, keyed by the epoch, with the
// fit's epoch length and total, makes exactly the steps of fit() without validation.
BlockResult fit_block(nn::Network& net, nn::Adam& optimizer, const float* x, const float* y, long n,
                      const TrainConfig& config, std::uint64_t block, long steps_per_epoch,
                      long total_steps, const ProgressFn& progress = nullptr);

// A block of training data, valid until the source is asked for the next one.
struct Block {
  const float* x = nullptr;
  const float* y = nullptr;
  long n = 0;  // samples; 0: the source stopped (training ends as if interrupted)
};

// Block k of epoch e, asked for in order (e = 0, 1, …; k = 0 … blocks − 1 within each epoch).
using BlockSource = std::function<Block(long epoch, long k)>;

// The training loop, for data in blocks: every epoch is one pass over `block_sizes.size()` blocks
// of the given sizes (the same every epoch) from `source`; block k of epoch e is shuffled by the
// key e · blocks + k, the schedule runs over the stream's steps per epoch (each block in batches
// of min(batch_size, n)), and validation, early stopping, restore-best, the history and progress
// are per epoch as described at the top. History::wait_seconds is the time spent in `source`.
History fit_blocks(nn::Network& net, nn::Adam& optimizer, const BlockSource& source,
                   const std::vector<long>& block_sizes, const float* x_val, const float* y_val,
                   long n_val, const TrainConfig& config, const ProgressFn& progress = nullptr);

// Training on arrays: fit_blocks with one block, the whole of x and y, every epoch.
History fit(nn::Network& net, nn::Adam& optimizer, const float* x, const float* y, long n,
            const float* x_val, const float* y_val, long n_val, const TrainConfig& config,
            const ProgressFn& progress = nullptr);

}  // namespace fhn_inverse::train
