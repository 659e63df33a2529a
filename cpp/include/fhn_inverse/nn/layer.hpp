// The layer contract. A layer is a shape, its parameters, its scratch, a forward and a backward:
//
//   forward(params, x → y, n, scratch, ctx): y for a chunk of n samples in the engine layout
//     (tensor.hpp); it may keep in scratch what backward needs (when ctx.backward).
//   backward(params, x, y, dy → dx, dparams, n, scratch): OVERWRITES dparams with ∂loss/∂params
//     of the chunk and dx with ∂loss/∂x (dx may be null: the first layer); it reads the scratch
//     of the forward of the same chunk.
//
// Parameters and gradients are slices of the Network's flat buffers; layers hold no mutable
// state, so chunks of a batch run concurrently on the same layer. Constructors validate and
// throw std::invalid_argument naming the value and the accepted range.
//
// A layer describes itself to the network's executors (describe()): which of its activations
// may be computed element by element, whether evaluation is the identity, whether it reads its
// input where it lies; and two optional capabilities of the wide dense layers — a packed copy
// of the weights for a faster forward, and whole-batch products split into a fixed number of
// parts. No executor asks what type a layer is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fhn_inverse/nn/tensor.hpp"
#include "fhn_inverse/util/random.hpp"

namespace fhn_inverse::nn {

// What a forward pass needs beyond the data: train/eval mode and the coordinates of the random
// draws (dropout), so masks depend on (seed, step, layer, chunk) and not on the thread.
struct Context {
  bool training = false;
  bool backward = false;  // a backward pass follows (layers keep what it needs even in eval mode)
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  long layer = 0;  // the layer's index in the architecture (its spec)
  long chunk = 0;
  // For a first layer whose description says gathers_rows: sample j of the chunk is row
  // rows[j] of x (the training batch, read by index in place); null: x holds the chunk.
  const long* rows = nullptr;
};

// A parameter tensor of a layer, PyTorch's name and layout ("weight" (out, in[, K]), "bias").
struct ParamShape {
  std::string name;
  std::vector<long> shape;
  long size() const;
};

class Layer;

// A repacked copy of the parameters that makes forward faster (made once per evaluation call
// or training step, read by every chunk); forward_packed differs from forward by rounding only.
class PackedWeights {
 public:
  virtual long packed_size() const = 0;
  virtual void pack(const float* params, float* packed) const = 0;
  virtual void forward_packed(const float* params, const float* packed, const float* x, float* y,
                              long n) const = 0;
  // forward_packed's values (the same bits) from the parameters as they lie, in the layer's
  // scratch: what a training step runs, whose weights change every step.
  virtual void forward_unpacked(const float* params, const float* x, float* y, long n,
                                float* scratch) const = 0;

 protected:
  ~PackedWeights() = default;
};

// Whole-batch products in a fixed number of independent parts (disjoint outputs), run by the
// threads of the caller's parallel region; the count depends only on the layer's shape, so
// results do not depend on the thread count. The layer's own forward/backward are the same
// products in one part.
class SplitProducts {
 public:
  virtual long parts(bool backward) const = 0;
  virtual void forward_part(const float* params, const float* x, float* y, long n,
                            long part) const = 0;
  virtual void backward_part(const float* params, const float* x, const float* dy, float* dx,
                             float* dparams, long n, long part) const = 0;

 protected:
  ~SplitProducts() = default;
};

// A sequence as a convolution's phase planes (Conv1D): for series j and channel c, `stride`
// planes of `plane_length` floats, plane r at ((j·C + c)·stride + r)·plane_length, holding
// x[q·stride + r − pad] at q (0 where that index falls outside [0, length)).
struct PlaneLayout {
  long channels = 0, length = 0, stride = 1, plane_length = 0, pad = 0;
  long floats() const { return channels * stride * plane_length; }  // per sample
};

// A layer's self-description for the executors.
struct LayerDescription {
  // Each output value depends on the input value at the same place only (activations, dropout):
  // on vectors it may run in place and over sample parts.
  bool elementwise = false;
  // Evaluation (no training, no backward) leaves a vector input unchanged (dropout, flattening
  // a vector): the vector evaluator skips it.
  bool eval_identity = false;
  // Forward reads its input only through a copy or repacking of its own, so a first layer may
  // read the caller's rows where they lie (dense, convolution).
  bool reads_input_in_place = false;
  // Forward takes Context::rows (a first layer reading the training batch by row index).
  bool gathers_rows = false;
  // A product big enough to split over the threads (a dense layer of >= 256 inputs and outputs).
  bool wide = false;
  // Its products go to OpenBLAS, which wants long rows.
  bool blas = false;
  const PackedWeights* packed = nullptr;  // null: none
  const SplitProducts* split = nullptr;   // null: none
  // The layout in which the layer can take its input, and give its input gradient, after
  // take_planes() (a convolution's phase planes); null: none. The network pairs it with a layer
  // before that writes_planes, which then writes them itself: no split of rows into planes, and
  // no merge of the input gradient back, between the two.
  const PlaneLayout* input_planes = nullptr;
  // The layer can write its output, and read its output gradient, in such a layout after
  // write_planes().
  bool writes_planes = false;
  // Backward may be given its input x as dx: it writes the input gradient over the input (a
  // convolution that takes planes: each series' planes are spent once its weight gradient is
  // done), so that a training step touches no separate buffer for it.
  bool dx_over_input = false;
  // Backward reads the layer's own output y. Where it does not, the executor may let the layer
  // after it write its input gradient over that output (dx_over_input).
  bool backward_reads_output = true;
};

// Glorot & Bengio (2010) uniform: U(−a, a), a = √(6 / (fan_in + fan_out)), drawn in order.
void glorot_uniform(float* w, long count, long fan_in, long fan_out, Rng& rng);

class Layer {
 public:
  explicit Layer(Shape in) : in_(in) {}
  virtual ~Layer() = default;
  virtual std::string name() const = 0;
  Shape input_shape() const { return in_; }
  virtual Shape output_shape() const = 0;
  // Parameter tensors in the order of the layer's slice of the flat buffer.
  virtual std::vector<ParamShape> params() const { return {}; }
  long n_params() const;
  // Floats of scratch the layer needs for a chunk of n samples.
  virtual long scratch_size(long /*n*/) const { return 0; }
  // Glorot-uniform weights, zero biases; draws from rng in a fixed order.
  virtual void init_params(float* /*params*/, Rng& /*rng*/) const {}
  virtual void forward(const float* params, const float* x, float* y, long n, float* scratch,
                       const Context& ctx) const = 0;
  virtual void backward(const float* params, const float* x, const float* y, const float* dy,
                        float* dx, float* dparams, long n, float* scratch) const = 0;
  virtual LayerDescription describe() const { return {}; }
  // Configuration by the network, once, before any pass (describe() says which a layer takes):
  // take the input as the planes of describe().input_planes; write the output in `layout`.
  virtual void take_planes() {}
  virtual void write_planes(const PlaneLayout& /*layout*/) {}
  // Floats per sample of the output as stored (the planes' after write_planes()).
  virtual long output_floats() const { return output_shape().size(); }

 protected:
  Shape in_;
};

}  // namespace fhn_inverse::nn
