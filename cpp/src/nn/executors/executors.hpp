// The network's execution strategies (network.hpp), each one forward and one backward walk over
// the network's steps. They hold no state of their own: the workspaces, buffers and offsets are
// the Network's.
#pragma once

#include "fhn_inverse/nn/network.hpp"

namespace fhn_inverse::nn {

// A batch in chunks (Network::plan), one workspace and gradient buffer per chunk, the chunks
// over the threads and their gradients summed in a fixed order.
class ChunkedExecutor {
 public:
  explicit ChunkedExecutor(const Network& net) : net_(net) {}
  // Forward of rows [r0, r0+nc) of x through ws; returns the output. *input (if given) receives
  // where the first layer read its input; with packed, layers with packed weights read them in
  // the network's packed copy (pack_layers; else they run forward_unpacked, to the same values);
  // with rows, batch row j is row rows[j] of x.
  const float* forward(Network::Workspace& ws, const float* x, long r0, long nc, const Context& ctx,
                       const float** input = nullptr, bool packed = false,
                       const long* rows = nullptr) const;
  // Backward of the chunk whose forward ran last in ws, from the loss gradient in ws.dbuf[0]:
  // parameter gradients into grads (overwritten); returns the index of the dbuf holding the
  // input gradient (computed only with need_dx).
  int backward(Network::Workspace& ws, const float* input, long nc, float* grads,
               bool need_dx) const;
  // One training step (Network::forward_backward's contract) into the network's grads.
  double step(Network& net, const float* x, const float* t, long n, LossKind kind, bool training,
              std::uint64_t seed, std::uint64_t step, int threads, float* dx, const long* rows,
              const Network::Update* update) const;

 private:
  const Network& net_;
};

// Maps with a wide dense layer: the whole batch as one chunk; every split product in a fixed
// number of parts over the threads, element-wise layers in fixed sample parts, the rest on one
// thread. forward and backward are called by every thread of a parallel region.
class WideExecutor {
 public:
  explicit WideExecutor(const Network& net) : net_(net) {}
  const float* forward(Network::Workspace& ws, const float* x, long n, const Context& ctx,
                       const float** input = nullptr, const long* rows = nullptr) const;
  // Parameter gradients straight into grads (every layer overwrites its own: no zeroing);
  // returns the index of the dbuf holding the input gradient.
  int backward(Network::Workspace& ws, const float* input, long n, float* grads,
               bool need_dx) const;
  double step(Network& net, const float* x, const float* t, long n, LossKind kind, bool training,
              std::uint64_t seed, std::uint64_t step, int threads, float* dx, const long* rows,
              const Network::Update* update) const;

 private:
  const Network& net_;
};

// Evaluation of vector maps: nc rows through two ping-pong buffers; layers whose evaluation is
// the identity (dropout, flatten) skipped, element-wise layers in place, no activation storage.
class VectorEvaluator {
 public:
  explicit VectorEvaluator(const Network& net) : net_(net) {}
  const float* forward(const float* x, long nc, float* buf0, float* buf1) const;

 private:
  const Network& net_;
};

}  // namespace fhn_inverse::nn
