// Layers: each one struct with forward and backward side by side (llm.c style).
// forward(x → y) may cache what backward needs in its per-chunk scratch; backward ADDS into the
// layer's parameter gradients dparams and WRITES dx (dx may be null for the first layer).
// Parameters and gradients are slices of the Network's flat buffers, viewed with Eigen::Map;
// layers hold no mutable state, so chunks of a batch run concurrently on the same layer.
// Constructors validate and throw std::invalid_argument naming the value and accepted range.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fhn_inverse/nn/tensor.hpp"
#include "fhn_inverse/random.hpp"

namespace fhn_inverse::nn {

// What a forward pass needs beyond the data: train/eval mode and the coordinates of the random
// draws (dropout), so masks depend on (seed, step, layer, chunk) and not on the thread.
struct Context {
  bool training = false;
  bool backward = false;  // a backward pass follows (layers keep what it needs even in eval mode)
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  long layer = 0;
  long chunk = 0;
  // This layer's pack() of its parameters, when the caller made one for this pass (once per
  // evaluation call or training step, so the repacking is spread over every chunk); null
  // otherwise.
  const float* packed = nullptr;
  // For a network's first layer, where it reads the caller's rows by index in place (Conv1D on
  // one-channel series): sample j of the chunk is row rows[j] of x; null: x holds the chunk.
  const long* rows = nullptr;
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
  virtual long n_params() const { return 0; }
  // Floats of scratch the layer needs for a chunk of n samples.
  virtual long scratch_size(long /*n*/) const { return 0; }
  // Floats of a repacked copy of the parameters that makes forward faster, and the repacking
  // (0: the layer has none). forward with it differs from forward without it by rounding only.
  virtual long packed_size() const { return 0; }
  virtual void pack(const float* /*params*/, float* /*packed*/) const {}
  // Glorot-uniform weights, zero biases; draws from rng in a fixed order.
  virtual void init_params(float* /*params*/, Rng& /*rng*/) const {}
  // x (n · in) → y (n · out), engine layout (see tensor.hpp).
  virtual void forward(const float* params, const float* x, float* y, long n, float* scratch,
                       const Context& ctx) const = 0;
  // dy (n · out) → dx (n · in), dparams = ∂loss/∂params (both overwritten).
  virtual void backward(const float* params, const float* x, const float* y, const float* dy,
                        float* dx, float* dparams, long n, float* scratch) const = 0;
  // Wide layers split one whole-batch pass into a fixed number of independent parts (disjoint
  // outputs), run by the threads of the caller's parallel region; the count depends only on
  // the layer's shape, so results do not depend on the thread count. 1 = not splittable.
  virtual long parts(bool /*backward*/) const { return 1; }
  virtual void forward_part(const float* /*params*/, const float* /*x*/, float* /*y*/, long /*n*/,
                            long /*part*/) const {}
  virtual void backward_part(const float* /*params*/, const float* /*x*/, const float* /*dy*/,
                             float* /*dx*/, float* /*dparams*/, long /*n*/, long /*part*/) const {}

 protected:
  Shape in_;
};

// y = W x + b.   x (N, Fin), W (Fout, Fin), b (Fout), y (N, Fout).
struct Dense : Layer {
  long units;
  Dense(Shape in, long units);
  std::string name() const override { return "Dense"; }
  Shape output_shape() const override { return Shape::vector(units); }
  long n_params() const override { return units * in_.length + units; }
  void init_params(float* params, Rng& rng) const override;
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
  // Split mode (set by the Network for wide maps): forward and dW by output rows (≥ 128 rows a
  // part, at most 4 parts), dX by input features likewise.
  bool split = false;
  // Whether this layer's products go to OpenBLAS (built with FHN_BLAS, both sizes ≥ 64).
  bool use_blas() const;
  // Few outputs (≤ 64) from many inputs (≥ 256), on AVX2/FMA builds: the first layer of a dense
  // map on a raw series. Such a layer packs Wᵀ (Fin rows of the outputs rounded up to 8), and
  // forward then runs a broadcast kernel over it.
  bool narrow() const;
  long packed_size() const override;
  void pack(const float* params, float* packed) const override;
  long parts(bool backward) const override;
  void forward_part(const float* params, const float* x, float* y, long n,
                    long part) const override;
  void backward_part(const float* params, const float* x, const float* dy, float* dx,
                     float* dparams, long n, long part) const override;
};

enum class Padding { valid, same };
Padding parse_padding(const std::string& name);
std::string padding_name(Padding p);

// Cross-correlation (PyTorch Conv1d): y[co, l] = b[co] + Σ_ci Σ_k W[co, ci, k] x[ci, l·s + k − pad].
// valid: Lout = ⌊(L − K)/s⌋ + 1; same (TensorFlow's rule): Lout = ⌈L/s⌉, total padding
// max((Lout − 1)s + K − L, 0), the smaller half on the left.
// Direct convolution over phase planes (conv1d.cpp): the zero-padded input row of each (ci, n)
// is split into s planes P_r[q] = x[q·s + r − pad], so tap k of outputs l… reads the run
// P_{k mod s}[l + ⌊k/s⌋ …]; no im2col matrix. Scratch: the planes (cached for backward), then
// the output gradient with zero margins.
struct Conv1D : Layer {
  long filters, kernel, stride;
  Padding padding;
  long out_length, pad_left;
  long plane_length;  // Q: floats per phase plane (a multiple of 8 with room for 16-wide runs)
  // Offsets of the runs each tap reads, from a series' first plane (tap ci·K + k) and, for the
  // input gradient of plane r, from its first dY row (taps (co, k ≡ r mod s), from dx_tap_start[r]).
  std::vector<long> taps, dx_taps, dx_tap_start;
  Conv1D(Shape in, long filters, long kernel, long stride, Padding padding);
  std::string name() const override { return "Conv1D"; }
  Shape output_shape() const override { return Shape::sequence(filters, out_length); }
  long n_params() const override { return filters * in_.channels * kernel + filters; }
  long scratch_size(long n) const override;
  void init_params(float* params, Rng& rng) const override;
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
};

// Average / maximum over windows of `pool` with `stride`, per channel; Lout = ⌊(L − pool)/stride⌋ + 1.
struct Pool1D : Layer {
  enum class Kind { average, maximum } kind;
  long pool, stride, out_length;
  Pool1D(Shape in, Kind kind, long pool, long stride);
  std::string name() const override { return kind == Kind::average ? "AvgPool1D" : "MaxPool1D"; }
  Shape output_shape() const override { return Shape::sequence(in_.channels, out_length); }
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
};

// (C, N, L) → (N, C·L), feature index c·L + l (PyTorch's nn.Flatten on (N, C, L)).
struct Flatten : Layer {
  explicit Flatten(Shape in);
  std::string name() const override { return "Flatten"; }
  Shape output_shape() const override { return Shape::vector(in_.size()); }
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
};

// Inverted dropout: in training, zero each value with probability `rate`, scale the rest by
// 1/(1 − rate); identity in evaluation. Mask drawn from Rng(seed, Stream::dropout, index of
// (step, layer, chunk)), two values per 64-bit draw (32-bit halves against rate · 2^32), cached
// in scratch.
struct Dropout : Layer {
  double rate;
  Dropout(Shape in, double rate);
  std::string name() const override { return "Dropout"; }
  Shape output_shape() const override { return in_; }
  long scratch_size(long n) const override { return n * in_.size(); }
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
};

}  // namespace fhn_inverse::nn
