// The layers with parameters or a shape of their own: Dense, Conv1D, pooling, Flatten, Dropout,
// and swish followed by average pooling of 2 as one layer (built by the Network for the study's
// CNN). Activations are in activations.hpp. The contract they all keep is in layer.hpp; each is
// implemented in its own file under src/nn/layers/, its fast kernels in src/nn/kernels/.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fhn_inverse/nn/layer.hpp"

namespace fhn_inverse::nn {

// y = W x + b.   x (N, Fin), W (Fout, Fin), b (Fout), y (N, Fout).
// Backends: Eigen's GEMM (the reference path); OpenBLAS where both sizes are >= 64 (use_blas);
// on AVX2/FMA builds, broadcast kernels for few outputs (<= 64) from many inputs (>= 256), the
// first layer of a dense map on a raw series (narrow), which forward runs from a packed Wᵀ.
struct Dense : Layer, PackedWeights, SplitProducts {
  long units;
  Dense(Shape in, long units);
  std::string name() const override { return "Dense"; }
  Shape output_shape() const override { return Shape::vector(units); }
  std::vector<ParamShape> params() const override;
  void init_params(float* params, Rng& rng) const override;
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
  LayerDescription describe() const override;
  // Y = W X + b through Eigen, whatever the backend: what the fast paths are tested against.
  void forward_reference(const float* params, const float* x, float* y, long n) const;
  bool use_blas() const;
  bool narrow() const;
  // PackedWeights (narrow layers): Wᵀ, Fin rows of the outputs rounded up to 8.
  long packed_size() const override;
  void pack(const float* params, float* packed) const override;
  void forward_packed(const float* params, const float* packed, const float* x, float* y,
                      long n) const override;
  void forward_unpacked(const float* params, const float* x, float* y, long n,
                        float* scratch) const override;
  long scratch_size(long n) const override;
  // SplitProducts (wide maps): forward and dW by output rows (>= 128 rows a part, at most 4
  // parts), dX by input features likewise.
  long parts(bool backward) const override;
  void forward_part(const float* params, const float* x, float* y, long n,
                    long part) const override;
  void backward_part(const float* params, const float* x, const float* dy, float* dx,
                     float* dparams, long n, long part) const override;
};

enum class Padding { valid, same };
Padding parse_padding(const std::string& name);

// The floats per vector of the network kernels in this build: 16 where AVX-512 is on, else 8.
long kernel_float_lanes();

// Cross-correlation (PyTorch Conv1d): y[co, l] = b[co] + Σ_ci Σ_k W[co, ci, k] x[ci, l·s + k −
// pad]. valid: Lout = ⌊(L − K)/s⌋ + 1; same (TensorFlow's rule): Lout = ⌈L/s⌉, total padding
// max((Lout − 1)s + K − L, 0), the smaller half on the left.
// Direct convolution over phase planes (conv1d.cpp): the zero-padded input row of each (ci, n)
// is split into s planes P_r[q] = x[q·s + r − pad], so tap k of outputs l… reads the run
// P_{k mod s}[l + ⌊k/s⌋ …]; no im2col matrix. Scratch: the planes (cached for backward), then
// the output gradient with zero margins.
struct Conv1D : Layer {
  long filters, kernel, stride;
  Padding padding;
  long out_length, pad_left;
  long plane_length;  // Q: floats per phase plane (a multiple of the vector width, with room for
                      // runs)
  // Offsets of the runs each tap reads, from a series' first plane (tap ci·K + k) and, for the
  // input gradient of plane r, from its first dY row (taps (co, k ≡ r mod s), from
  // dx_tap_start[r]).
  std::vector<long> taps, dx_taps, dx_tap_start;
  // Its input as phase planes (the layout forward splits each row into), and whether the layer
  // before writes them (take_planes: forward reads x as planes, backward writes dx so).
  PlaneLayout input_layout;
  bool planes_in = false;
  Conv1D(Shape in, long filters, long kernel, long stride, Padding padding);
  void take_planes() override;
  std::string name() const override { return "Conv1D"; }
  Shape output_shape() const override { return Shape::sequence(filters, out_length); }
  std::vector<ParamShape> params() const override;
  // Whether backward computes dW with output channels in the vector lanes (AVX-512 builds,
  // filters a multiple of 16), from a transposed copy of dY in scratch.
  bool channel_lanes() const;
  long scratch_size(long n) const override;
  void init_params(float* params, Rng& rng) const override;
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
  LayerDescription describe() const override;
  // The same cross-correlation by plain loops over (sample, filter, position, channel, tap) in
  // double: what the phase-plane kernels are tested against.
  void forward_reference(const float* params, const float* x, float* y, long n) const;
  // Backward series by series (in groups of series_group()), each series' output gradient
  // written just before it is read (defined in src/nn/layers/conv_series.hpp; Conv1D::backward
  // and ConvSwish run it): fill(j, rows) returns kernels::GradRows whose dy finds dY[c, j, ·] at
  // dy + c·ld_co, and the group's next series' rows ld_j after them. With dx, fill must write
  // them into `rows` as padded rows (row c at c·padded_width(): padded_lead() zeros, Lout values,
  // zeros to the row's end, which the input gradient reads), with ld_j = filters ·
  // padded_width().
  template <class Fill>
  void backward_series(const float* params, const float* x, Fill&& fill, float* dx, float* dparams,
                       long n, float* scratch) const;
  long series_group(long n) const;  // (of a chunk of n)
  long padded_lead() const;
  long padded_width() const;  // plane_length + padded_lead()
  // Scratch after the planes: one group's padded rows, the input gradient's weights (forward's
  // transposed weights before them), dY transposed (channel_lanes), the rows' sums of db, dW's
  // accumulators.
  struct ScratchLayout {
    float *rows, *wr, *T, *sums, *acc;
  };
  ScratchLayout scratch_layout(long n, float* scratch) const;
};

// Average / maximum over windows of `pool` with `stride`, per channel; Lout = ⌊(L − pool)/stride⌋
// + 1.
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
  LayerDescription describe() const override;
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
  LayerDescription describe() const override;
};

// Swish followed by average pooling of 2 with stride 2 (the study's CNN), built by the Network
// in place of the two: forward is one pass from the input to the pair means of swish's output
// (kernels::swish_pool2_forward: σ kept in scratch, swish's output not stored), and backward one
// pass from the pooled gradient to the input's, without the gradient of swish's output between
// (kernels::swish_pool2_backward). Same arithmetic as the two layers.
struct SwishAvgPool2 : Layer {
  long out_length;
  explicit SwishAvgPool2(Shape in);
  std::string name() const override { return "swish+AvgPool1D"; }
  Shape output_shape() const override { return Shape::sequence(in_.channels, out_length); }
  long scratch_size(long n) const override { return n * in_.size(); }
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
};

// What the fused convolution layers below share: the convolution (its shape, parameters and
// reference), the output length, and the next convolution's planes where the network pairs them
// (the output written straight into those planes, and their gradient read there).
struct FusedConv : Layer {
  Conv1D conv;
  long out_length = 0;
  PlaneLayout out_layout;
  bool planes_out = false;
  explicit FusedConv(const Conv1D& c) : Layer(c.input_shape()), conv(c) {}
  std::vector<ParamShape> params() const override { return conv.params(); }
  void init_params(float* params, Rng& rng) const override { conv.init_params(params, rng); }
  void write_planes(const PlaneLayout& layout) override;
  long output_floats() const override;
};

// A one-channel Conv1D followed by swish and average pooling of 2 with stride 2 (the study's
// first block), built by the Network in place of the three where the kernel is at most 4 taps:
// forward runs the convolution over 2s phase planes of the input row, so that the two outputs
// of each pooled position land in one lane of two accumulators, and applies swish and the pair
// mean in registers (kernels/conv_pool.hpp); the convolution's output is never stored. Backward
// recomputes z from the planes and takes dW and db from dz in the same pass. Forward gives the
// three layers' bits; the gradients differ from them by rounding (their order of summation).
// Scratch: the planes and σ (kept for backward), then dz for the input gradient.
struct ConvSwishPool2 : FusedConv {       // (out_length: Lp = ⌊Lout/2⌋)
  long plane_length;                      // Q
  std::vector<long> even_taps, odd_taps;  // offsets of each tap's run from a series' planes
  explicit ConvSwishPool2(const Conv1D& conv);
  // Whether the fused layer takes this convolution (one input channel, at most 4 taps, two
  // outputs or more to pool).
  static bool takes(const Conv1D& conv);
  std::string name() const override { return "Conv1D+swish+AvgPool1D"; }
  Shape output_shape() const override { return Shape::sequence(conv.filters, out_length); }
  long scratch_size(long n) const override;
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
  LayerDescription describe() const override;
};

// A Conv1D followed by swish, or by swish and average pooling of 2 with stride 2, as one layer
// (built by the Network where ConvSwishPool2 does not take the convolution: the study's second
// and third convolutions, the third with the Flatten after it). Forward is the convolution into
// scratch, then swish (and the pooling) as SwishAvgPool2 or Activation would run it: the same bits.
// Backward writes swish's input gradient straight into the convolution's padded gradient rows, from
// which the convolution's backward reads it (Conv1D::backward_from), instead of writing it for the
// convolution to copy. With `flatten` (a Flatten after them), it writes its output as the flattened
// vectors (N, C·L) and reads their gradient there, which Flatten would have copied. Scratch: the
// convolution's, then its output z and σ(z).
struct ConvSwish : FusedConv {
  bool pool;     // average pooling of 2 after swish
  bool flatten;  // Flatten after them
  ConvSwish(const Conv1D& conv, bool pool, bool flatten = false);
  std::string name() const override;
  Shape output_shape() const override {
    return flatten ? Shape::vector(conv.filters * out_length)
                   : Shape::sequence(conv.filters, out_length);
  }
  long scratch_size(long n) const override;
  void forward(const float* params, const float* x, float* y, long n, float* scratch,
               const Context& ctx) const override;
  void backward(const float* params, const float* x, const float* y, const float* dy, float* dx,
                float* dparams, long n, float* scratch) const override;
  LayerDescription describe() const override;
  void take_planes() override;
};

}  // namespace fhn_inverse::nn
