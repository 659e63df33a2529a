// A sequential network: the model — layers built from specs, one flat parameter buffer (P) and
// one flat gradient buffer (P) owned here, layers viewing their slices, the parameter table —
// and the workspaces its executors run in (src/nn/executors/):
//   ChunkedExecutor  a batch in chunks whose number depends only on n (never on the thread
//                    count), run concurrently (OpenMP), each with its own workspace and
//                    gradient buffer, the chunk gradients summed in a fixed order;
//   WideExecutor     maps with a wide dense layer: the whole batch as one chunk, every product
//                    split into a fixed number of parts over the threads;
//   VectorEvaluator  evaluation of vector maps in long row chunks through two buffers.
// Results are bitwise identical for any thread count. All workspaces are sized at
// construction for max_batch; a training step allocates nothing. Inputs in user layout
// (N, C, L) or (N, F), outputs (N, Dout).
#pragma once

#include <cstdint>
#include <functional>
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
  long units = 0;                 // dense
  long filters = 0, kernel = 0;   // conv1d
  long stride = 0;                // conv1d (0 → 1), pooling (0 → pool)
  std::string padding = "valid";  // conv1d: valid | same
  long pool = 0;                  // pooling window
  double rate = 0.0;              // dropout
};

// A named parameter tensor inside the flat buffer (PyTorch layout).
struct ParamTensor {
  std::string name;  // "layers.<i>.weight" | "layers.<i>.bias"
  long offset = 0;   // into the flat buffer
  std::vector<long> shape;
  long size() const;
};

// One row of a network's summary: a layer of the architecture as specified.
struct LayerSummary {
  std::string name;
  Shape output;
  long n_params = 0;
};

// How a network splits a batch into chunks and parts (executors/tuning.hpp has each field's
// meaning and the measured defaults). A network keeps the tuning it was built with; results
// depend on it (the chunking fixes the summation order), never on the thread count.
struct Tuning {
  long min_chunk, min_gemm_eval_chunk, vector_eval_rows, vector_eval_chunks, element_parts,
      min_gemm_chunk, chunked_wide_params;
};
// The tuning that networks built from now on take: the defaults of this core's level unless
// set_tuning changed them. set_tuning is for benchmarks that sweep the constants (it checks every
// field, std::invalid_argument naming the first one out of range); networks already built keep
// theirs.
Tuning current_tuning();
Tuning default_tuning();
void set_tuning(const Tuning& t);

class Network {
 public:
  // input: per-sample shape; seed: Glorot initialisation draws from Rng(seed, Stream::init, layer).
  Network(Shape input, const std::vector<LayerSpec>& specs, std::uint64_t seed = 0,
          long max_batch = 256, long max_chunks = 8);

  Shape input_shape() const { return input_; }
  Shape output_shape() const { return steps_.back().layer->output_shape(); }
  // True when whole-batch split products replace per-chunk execution (WideExecutor), except
  // in the training of large enough batches of maps with few enough parameters.
  bool wide() const { return wide_; }
  long n_params() const { return static_cast<long>(params_.size()); }
  long max_batch() const { return max_batch_; }
  const std::vector<LayerSpec>& specs() const { return specs_; }
  // One row per layer of the architecture (as specified, before any fusion).
  std::vector<LayerSummary> summary() const;
  std::vector<ParamTensor> param_tensors() const;
  // The layers as built and run: the specified ones, with swish followed by average pooling of
  // 2 fused into one SwishAvgPool2, and into one ConvSwishPool2 with a one-channel convolution
  // before them.
  std::vector<const Layer*> layers() const;

  float* params() { return params_.data(); }
  const float* params() const { return params_.data(); }
  float* grads() { return grads_.data(); }
  void init(std::uint64_t seed);
  // Resize the workspaces for a new maximum batch (allocates; never call inside a step).
  void set_max_batch(long max_batch);
  // Whether the wide executor splits products into parts (default true); false runs each
  // product whole on one thread — the reference the split products are tested against.
  void set_split_products(bool on) { split_products_ = on; }

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
  // update (if given): called once for each block [lo, hi) of a fixed partition of the
  // parameters into blocks of kUpdateBlock, from the step's own threads, as soon as the block's
  // gradients are final (an optimizer's element-wise step, while they are in cache; blocks run
  // in parallel, so update must touch only [lo, hi)).
  using Update = std::function<void(long lo, long hi)>;
  static constexpr long kUpdateBlock = 1024;
  double forward_backward(const float* x, const float* t, long n, LossKind kind, bool training,
                          std::uint64_t seed, std::uint64_t step, int n_threads,
                          float* dx = nullptr, const long* rows = nullptr,
                          const Update* update = nullptr);

 private:
  friend class ChunkedExecutor;
  friend class WideExecutor;
  friend class VectorEvaluator;

  // A layer as run: its index in the architecture (names, dropout streams), its slices.
  struct Step {
    std::unique_ptr<Layer> layer;
    LayerDescription about;
    long spec = 0;            // index of its (first) spec
    long param_offset = 0;    // into params_
    long act_offset = 0;      // its output, into a workspace's activations
    long scratch_offset = 0;  // into a workspace's scratch
    long packed_offset = -1;  // into packed_, -1 without packed weights
  };
  struct Workspace {
    Buffer act;      // all activations: input (engine layout), then each step's output
    Buffer dbuf[2];  // ping-pong gradients w.r.t. activations
    Buffer scratch;  // per-step scratch, back to back
    Buffer grads;    // (P) this chunk's parameter gradients
    Buffer target;   // the chunk's targets, where gathered by row index
  };
  struct Plan {
    long chunks, size;  // number of chunks, samples per chunk (last may be shorter)
  };
  Plan plan(long n, bool eval) const;
  // A wide map trains n samples in chunks of >= tuning_.min_gemm_chunk rows, one thread each
  // (see executors/tuning.hpp).
  bool chunked_wide(long n) const;
  void build(const std::vector<LayerSpec>& specs);
  void allocate();
  // Rows [r0, r0+nc) of the user's input x into the engine layout at a0, and the gradient g
  // w.r.t. those rows (engine layout) back into rows r0.. of the user's dx.
  // With rows, batch row j is row rows[j] of x (of t).
  void copy_in(const float* x, long r0, long nc, float* a0, const long* rows = nullptr) const;
  const float* gather_targets(Workspace& ws, const float* t, long r0, long nc, long d,
                              const long* rows) const;
  void copy_out_dx(const float* g, long r0, long nc, float* dx) const;
  // Evaluation of n rows in blocks of eval_block_ and fixed chunks of each block, independent of
  // the thread count: emit(output rows, first row, count, chunk index) once per chunk (from any
  // thread), then block_done(chunks) once per block.
  template <class Emit, class BlockDone>
  void eval_chunks(const float* x, long n, int threads, Emit&& emit, BlockDone&& block_done) const;
  // PackedWeights::pack of the current parameters into packed_, once per evaluation call.
  void pack_layers() const;
  const float* packed_for(const Step& s) const { return packed_.data() + s.packed_offset; }
  const float* params_of(const Step& s) const { return params_.data() + s.param_offset; }

  bool wide_ = false;
  bool split_products_ = true;
  // Vector maps (vector input) evaluate through VectorEvaluator, in row chunks with two
  // ping-pong buffers per thread (eval_buf_), independent of the training workspaces.
  bool vector_eval_ = false;
  bool blas_layers_ = false;  // a layer multiplies through OpenBLAS
  long vector_width_ = 0;     // vector maps: the widest layer output, floats per sample

  Shape input_;
  std::vector<LayerSpec> specs_;
  std::vector<LayerSummary> summary_;
  std::vector<Step> steps_;
  long act_size_ = 0, scratch_size_ = 0;  // per workspace (floats)
  mutable Buffer packed_;
  Buffer params_, grads_;
  long max_batch_, max_chunks_, chunk_capacity_ = 0;
  Tuning tuning_ = current_tuning();
  long eval_block_ = 1;  // rows per evaluation block (>= max_batch_; see allocate)
  mutable std::vector<Workspace> workspaces_;
  mutable Buffer eval_buf_;  // vector maps: per thread two buffers of vector_width_ × rows
  // Held by predict, loss, forward_backward and set_max_batch: they share the workspaces, and
  // the Python bindings release the GIL in them, so calls from several threads take turns.
  std::unique_ptr<std::mutex> busy_ = std::make_unique<std::mutex>();
};

// Parses spec.kind for one layer on input shape `in`.
std::unique_ptr<Layer> make_layer(const LayerSpec& spec, Shape in);

// A layer kind besides the built-in ones: a factory from its spec (LayerSpec's fields) and its
// input shape, and the names of the LayerSpec fields it reads (units, filters, kernel, stride,
// padding, pool, rate), which the Python side checks and fills. One file defines the layer and
// calls register_layer once (for instance from a static initialiser) before networks with it are
// built; not thread-safe. Throws for an empty factory, a kind that is built in or registered
// already, or an unknown or repeated field name.
using LayerFactory = std::function<std::unique_ptr<Layer>(const LayerSpec& spec, Shape in)>;
void register_layer(const std::string& kind, LayerFactory factory,
                    std::vector<std::string> fields = {});

// A kind networks can be built of, with the LayerSpec fields it reads.
struct LayerKind {
  std::string kind;
  std::vector<std::string> fields;
};
// The built-in kinds (layers, then activations), then the registered ones in name order.
std::vector<LayerKind> layer_kinds();

// Sizes of an architecture without allocating its buffers: parameters and activation floats
// per sample. Throws std::invalid_argument for invalid specs or sizes beyond 2^31 elements (a
// hostile model file cannot make the loader allocate more than its own size says): each
// dense and conv1d layer's weights are bounded by max_params before the layer is built, and so
// is the total.
struct NetworkSize {
  long n_params = 0;
  long activations_per_sample = 0;
};
NetworkSize network_size(Shape input, const std::vector<LayerSpec>& specs,
                         long max_params = 1L << 31);

}  // namespace fhn_inverse::nn
