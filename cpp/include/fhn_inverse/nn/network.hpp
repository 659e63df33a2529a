// A sequential network: layers built from specs, one flat parameter buffer (P) and one flat
// gradient buffer (P) owned here, layers viewing their slices. A batch of n samples is split
// into chunks whose number depends only on n (never on the thread count); chunks run forward
// and backward concurrently (OpenMP), each with its own activation workspace and gradient
// buffer, and the chunk gradients are summed in a fixed order — results are bitwise identical
// for any thread count. All workspaces are sized at construction for max_batch; a training
// step allocates nothing. Inputs in user layout (N, C, L) or (N, F), outputs (N, Dout).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fhn_inverse/nn/activations.hpp"
#include "fhn_inverse/nn/layers.hpp"
#include "fhn_inverse/nn/losses.hpp"

namespace fhn_inverse::nn {

// One layer of the architecture. kind: dense | conv1d | avgpool1d | maxpool1d | flatten |
// dropout | relu | swish | silu | gelu | tanh | sigmoid. Fields a kind does not use are ignored.
struct LayerSpec {
  std::string kind;
  long units = 0;                  // dense
  long filters = 0, kernel = 0;    // conv1d
  long stride = 0;                 // conv1d (0 → 1), pooling (0 → pool)
  std::string padding = "valid";   // conv1d: valid | same
  long pool = 0;                   // pooling window
  double rate = 0.0;               // dropout
};

// A named parameter tensor inside the flat buffer (PyTorch layout).
struct ParamTensor {
  std::string name;                // "layers.<i>.weight" | "layers.<i>.bias"
  long offset = 0;                 // into the flat buffer
  std::vector<long> shape;
  long size() const;
};

class Network {
 public:
  // input: per-sample shape; seed: Glorot initialisation draws from Rng(seed, Stream::init, layer).
  Network(Shape input, const std::vector<LayerSpec>& specs, std::uint64_t seed = 0,
          long max_batch = 256, long max_chunks = 8);

  Shape input_shape() const { return input_; }
  Shape output_shape() const { return layers_.back()->output_shape(); }
  // True when whole-batch split GEMMs replace per-chunk execution (see forward_wide), except
  // in the training of large enough batches of maps with few enough parameters.
  bool wide() const { return wide_; }
  long n_params() const { return static_cast<long>(params_.size()); }
  long max_batch() const { return max_batch_; }
  const std::vector<LayerSpec>& specs() const { return specs_; }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  std::vector<ParamTensor> param_tensors() const;

  float* params() { return params_.data(); }
  const float* params() const { return params_.data(); }
  float* grads() { return grads_.data(); }
  void zero_grad();
  void init(std::uint64_t seed);
  // Resize the workspaces for a new maximum batch (allocates; never call inside a step).
  void set_max_batch(long max_batch);

  // Evaluation-mode forward: x (n, input) → y (n, Dout), any n (in blocks of at least max_batch).
  // predict and loss take n_threads in [0, kMaxThreads] and throw Interrupted when the interrupt
  // hook answers true (polled between blocks and chunks; see interrupt.hpp).
  void predict(const float* x, long n, float* y, int n_threads) const;
  // Evaluation-mode loss over any n samples (mean over all of them).
  double loss(const float* x, const float* t, long n, LossKind kind, int n_threads) const;
  // One batch (n <= max_batch): forward, loss, backward; grads_ OVERWRITTEN with ∂loss/∂params.
  // Returns the batch loss. With training = true dropout is active (masks from seed and step).
  // rows (if given): the batch is rows rows[0], ..., rows[n - 1] of x and t, gathered by the
  // chunks themselves (in parallel); else x and t hold the n rows of the batch.
  double forward_backward(const float* x, const float* t, long n, LossKind kind, bool training,
                          std::uint64_t seed, std::uint64_t step, int n_threads,
                          float* dx = nullptr, const long* rows = nullptr);

 private:
  struct Workspace {
    Buffer act;        // all activations: input (engine layout), then each layer
    Buffer dbuf[2];    // ping-pong gradients w.r.t. activations
    Buffer scratch;    // per-layer scratch, back to back
    Buffer grads;      // (P) this chunk's parameter gradients
    Buffer target;     // the chunk's targets, where gathered by row index
  };
  struct Plan {
    long chunks, size;             // number of chunks, samples per chunk (last may be shorter)
  };
  Plan plan(long n, bool eval) const;
  // A wide map trains n samples in chunks of >= 128 rows, one thread each (see network.cpp).
  bool chunked_wide(long n) const;
  void allocate();
  // Rows [r0, r0+nc) of the user's input x into the engine layout at a0, and the gradient g
  // w.r.t. those rows (engine layout) back into rows r0.. of the user's dx.
  // With rows, batch row j is row rows[j] of x (of t).
  void copy_in(const float* x, long r0, long nc, float* a0, const long* rows = nullptr) const;
  const float* gather_targets(Workspace& ws, const float* t, long r0, long nc, long d,
                              const long* rows) const;
  void copy_out_dx(const float* g, long r0, long nc, float* dx) const;
  // Forward of rows [r0, r0+nc) of x through the chunk workspace; returns the output pointer.
  // Wide maps (a Dense layer with ≥ 256 inputs and ≥ 256 outputs): the whole batch is one
  // chunk and every split layer's GEMMs run in fixed parts over the threads; called by every
  // thread of a parallel region. Same *input contract as forward_chunk.
  const float* forward_wide(Workspace& ws, const float* x, long n, const Context& ctx,
                            const float** input, const long* rows = nullptr) const;
  bool wide_ = false;
  // Vector maps (vector input: Dense, activations, Dropout, Flatten) evaluate through
  // forward_vector in sample chunks of up to kVectorEvalRows rows with two ping-pong buffers
  // per thread (eval_buf_), independent of the training workspaces: long rows for the products,
  // no per-layer activation storage, Dropout and Flatten skipped, activations in place.
  bool vector_eval_ = false;
  bool blas_layers_ = false;  // a Dense layer multiplies through OpenBLAS (Dense::use_blas)
  long vector_width_ = 0;     // vector maps: the widest layer output, floats per sample
  const float* forward_vector(const float* x, long nc, float* buf0, float* buf1) const;
  // Evaluation of n rows in blocks of eval_block_ and fixed chunks of each block, independent of
  // the thread count: emit(output rows, first row, count, chunk index) once per chunk (from any
  // thread), then block_done(chunks) once per block.
  template <class Emit, class BlockDone>
  void eval_chunks(const float* x, long n, int threads, Emit&& emit, BlockDone&& block_done) const;
  // *input (if given) receives where the first layer read its input.
  // With packed, layers read the copies pack_layers() made.
  const float* forward_chunk(Workspace& ws, const float* x, long r0, long nc,
                             const Context& ctx, const float** input = nullptr,
                             bool packed = false, const long* rows = nullptr) const;
  // Layer::pack of the current parameters into packed_, once per evaluation call or training
  // step (chunked path).
  void pack_layers() const;
  const float* packed_for(std::size_t layer) const {
    return packed_offset_[layer] < 0 ? nullptr : packed_.data() + packed_offset_[layer];
  }

  // Swish followed by average pooling of 2 with stride 2 runs backward as one pass in the
  // chunk path (swish_pool2_backward): pooled_[i] for such a swish layer i. (Forward stays two
  // passes: swish is bound by its σ arithmetic, and fusing the pooling into it was slower.)
  std::vector<char> pooled_;

  Shape input_;
  std::vector<LayerSpec> specs_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<long> param_offset_;   // per layer, into params_
  std::vector<long> act_offset_;     // per activation (n_layers + 1), floats, 64-byte aligned
  std::vector<long> scratch_offset_; // per layer, floats, 64-byte aligned
  std::vector<long> packed_offset_;  // per layer into packed_, -1 for layers without packing
  mutable Buffer packed_;
  Buffer params_, grads_;
  long max_batch_, max_chunks_, chunk_capacity_ = 0;
  long eval_block_ = 1;  // rows per evaluation block (>= max_batch_; see allocate)
  mutable std::vector<Workspace> workspaces_;
  mutable Buffer eval_buf_;  // vector maps: per thread two buffers of vector_width_ × rows
  // Held by predict, loss, forward_backward and set_max_batch: they share the workspaces, and
  // the Python bindings release the GIL in them, so calls from several threads take turns.
  std::unique_ptr<std::mutex> busy_ = std::make_unique<std::mutex>();
};

// Parses spec.kind for one layer on input shape `in`.
std::unique_ptr<Layer> make_layer(const LayerSpec& spec, Shape in);

// Sizes of an architecture without allocating its buffers: parameters and activation floats
// per sample. Throws std::invalid_argument for invalid specs or sizes beyond 2^31 elements (a
// hostile model file cannot make the loader allocate more than its own size says).
struct NetworkSize {
  long n_params = 0;
  long activations_per_sample = 0;
};
NetworkSize network_size(Shape input, const std::vector<LayerSpec>& specs);

}  // namespace fhn_inverse::nn
