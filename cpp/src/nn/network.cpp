// Sequential network over flat buffers; chunked, thread-count-independent batch execution.
#include "fhn_inverse/nn/network.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fhn_inverse/interrupt.hpp"
#include "fhn_inverse/simulate/parallel.hpp"

namespace fhn_inverse::nn {

namespace {
// Samples per chunk below which a batch is not split further: small, so that a batch of 32 still
// feeds two cores. Evaluation shares this chunking (hence the workspaces' size) unless the map
// is a vector map (see Network::forward_vector) or has OpenBLAS layers, whose products want long
// rows: those evaluate in chunks of >= 128. A convolutional map keeps the training chunks: its
// workspaces hold far more per sample.
constexpr long kMinChunk = 16;
constexpr long kMinGemmEvalChunk = 128;
// Vector maps evaluate in chunks of n / kVectorEvalChunks rows, clamped to
// [kMinGemmEvalChunk, kVectorEvalRows]: rows long enough that a product's packing of the weights
// is amortised, and at most 64 chunks per block (Network::loss's partial sums).
constexpr long kVectorEvalRows = 512;
constexpr long kVectorEvalChunks = 8;
// On the wide path, element-wise layers on vector activations (activations, dropout) run in this
// many fixed sample parts over the threads instead of on one thread while the other waits.
constexpr long kElementParts = 4;
// Maps with OpenBLAS layers train in chunks of at least kMinGemmChunk rows (a batch of
// 2 · kMinGemmChunk or more; smaller batches in two chunks, or one below 2 · kMinChunk):
// longer products and fewer chunk gradients to sum. Wide maps train that way when their
// gradients are small enough that a gradient buffer per chunk stays in a shared cache (then no
// thread waits for another between layers); larger maps, and batches below 2 · kMinGemmChunk,
// split every product over the threads instead (forward_wide).
constexpr long kMinGemmChunk = 128;
constexpr long kChunkedWideParams = 1L << 22;

bool elementwise(const Layer& l) {
  return !l.input_shape().is_sequence() &&
         (dynamic_cast<const Activation*>(&l) || dynamic_cast<const Dropout*>(&l));
}
}

long ParamTensor::size() const {
  long s = 1;
  for (long d : shape) s *= d;
  return s;
}

std::unique_ptr<Layer> make_layer(const LayerSpec& s, Shape in) {
  if (s.kind == "dense") return std::make_unique<Dense>(in, s.units);
  if (s.kind == "conv1d")
    return std::make_unique<Conv1D>(in, s.filters, s.kernel, s.stride == 0 ? 1 : s.stride,
                                    parse_padding(s.padding));
  if (s.kind == "avgpool1d" || s.kind == "maxpool1d") {
    require(s.pool >= 1, s.kind + " pool must be >= 1, got " + std::to_string(s.pool));
    return std::make_unique<Pool1D>(
        in, s.kind == "avgpool1d" ? Pool1D::Kind::average : Pool1D::Kind::maximum, s.pool,
        s.stride == 0 ? s.pool : s.stride);
  }
  if (s.kind == "flatten") return std::make_unique<Flatten>(in);
  if (s.kind == "dropout") return std::make_unique<Dropout>(in, s.rate);
  if (is_activation(s.kind)) return std::make_unique<Activation>(in, parse_activation(s.kind));
  throw std::invalid_argument(
      "layer kind must be one of dense, conv1d, avgpool1d, maxpool1d, flatten, dropout, relu, "
      "swish, silu, gelu, tanh, sigmoid; got '" + s.kind + "'");
}

NetworkSize network_size(Shape input, const std::vector<LayerSpec>& specs) {
  constexpr long kMax = 1L << 31;
  auto small = [&](long v, const char* what) {
    require(v >= 0 && v <= kMax, std::string(what) + " must be in [0, 2^31], got " + std::to_string(v));
  };
  small(input.channels, "input channels");
  small(input.length, "input length");
  small(input.size(), "input size");
  NetworkSize out;
  out.activations_per_sample = input.size();
  Shape shape = input;
  for (const auto& s : specs) {
    small(s.units, "units");
    small(s.filters, "filters");
    small(s.kernel, "kernel");
    small(s.stride, "stride");
    small(s.pool, "pool");
    const auto layer = make_layer(s, shape);
    shape = layer->output_shape();
    small(shape.size(), "layer output size");
    small(layer->n_params(), "layer parameters");
    out.n_params += layer->n_params();
    out.activations_per_sample += shape.size();
    small(out.n_params, "network parameters");
    small(out.activations_per_sample, "activations per sample");
  }
  return out;
}

Network::Network(Shape input, const std::vector<LayerSpec>& specs, std::uint64_t seed,
                 long max_batch, long max_chunks)
    : input_(input), specs_(specs), max_batch_(max_batch), max_chunks_(max_chunks) {
  configure_blas();
  require(input.length >= 1 && input.channels >= 0,
          "input shape must have length >= 1 and channels >= 0, got " + input.str());
  require(!specs.empty(), "a network needs at least one layer, got 0");
  require(max_batch >= 1, "max_batch must be >= 1, got " + std::to_string(max_batch));
  network_size(input, specs);  // size checks before anything is allocated
  require(max_chunks >= 1 && max_chunks <= 64, "max_chunks must be in [1, 64], got " + std::to_string(max_chunks));
  Shape shape = input;
  long p = 0;
  for (const auto& spec : specs) {
    layers_.push_back(make_layer(spec, shape));
    param_offset_.push_back(p);
    p += layers_.back()->n_params();
    shape = layers_.back()->output_shape();
  }
  require(!shape.is_sequence(),
          "the last layer must output a vector (add flatten and dense), got shape " + shape.str());
  for (auto& l : layers_)
    if (auto d = dynamic_cast<Dense*>(l.get())) {
      wide_ = wide_ || (d->units >= 256 && d->input_shape().length >= 256);
      blas_layers_ = blas_layers_ || d->use_blas();
    }
  if (wide_)
    for (auto& l : layers_)
      if (auto d = dynamic_cast<Dense*>(l.get())) d->split = true;
  vector_eval_ = !input.is_sequence() &&
                 std::all_of(layers_.begin(), layers_.end(), [](const std::unique_ptr<Layer>& l) {
                   return !l->output_shape().is_sequence() &&
                          (dynamic_cast<const Dense*>(l.get()) || elementwise(*l) ||
                           dynamic_cast<const Flatten*>(l.get()));
                 });
  for (auto& l : layers_) vector_width_ = std::max(vector_width_, l->output_shape().size());
  pooled_.assign(layers_.size(), 0);
  for (std::size_t i = 0; i + 1 < layers_.size(); ++i) {
    const auto* act = dynamic_cast<const Activation*>(layers_[i].get());
    const auto* pool = dynamic_cast<const Pool1D*>(layers_[i + 1].get());
    pooled_[i] = act && act->kind == ActivationKind::swish && pool &&
                 pool->kind == Pool1D::Kind::average && pool->pool == 2 && pool->stride == 2;
  }
  long packed = 0;
  for (auto& l : layers_) {
    packed_offset_.push_back(l->packed_size() > 0 ? packed : -1);
    packed += align_up(l->packed_size());
  }
  packed_.assign(packed, 0.0f);
  params_.assign(p, 0.0f);
  grads_.assign(p, 0.0f);
  init(seed);
  allocate();
}

std::vector<ParamTensor> Network::param_tensors() const {
  std::vector<ParamTensor> out;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer* l = layers_[i].get();
    const std::string prefix = "layers." + std::to_string(i) + ".";
    if (auto d = dynamic_cast<const Dense*>(l)) {
      out.push_back({prefix + "weight", param_offset_[i], {d->units, d->input_shape().length}});
      out.push_back({prefix + "bias", param_offset_[i] + d->units * d->input_shape().length,
                     {d->units}});
    } else if (auto c = dynamic_cast<const Conv1D*>(l)) {
      const long nw = c->filters * c->input_shape().channels * c->kernel;
      out.push_back({prefix + "weight", param_offset_[i],
                     {c->filters, c->input_shape().channels, c->kernel}});
      out.push_back({prefix + "bias", param_offset_[i] + nw, {c->filters}});
    }
  }
  return out;
}

void Network::init(std::uint64_t seed) {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    Rng rng(seed, Stream::init, i);
    layers_[i]->init_params(params_.data() + param_offset_[i], rng);
  }
}

void Network::zero_grad() { std::fill(grads_.begin(), grads_.end(), 0.0f); }

void Network::set_max_batch(long max_batch) {
  require(max_batch >= 1, "max_batch must be >= 1, got " + std::to_string(max_batch));
  std::lock_guard<std::mutex> hold(*busy_);
  if (max_batch == max_batch_ && !workspaces_.empty()) return;
  max_batch_ = max_batch;
  allocate();
}

Network::Plan Network::plan(long n, bool eval) const {
  if (eval && vector_eval_) {
    const long size = std::clamp((n + kVectorEvalChunks - 1) / kVectorEvalChunks,
                                 kMinGemmEvalChunk, kVectorEvalRows);
    return {std::max(1L, (n + size - 1) / size), size};
  }
  if (wide_ && (eval || !chunked_wide(n))) return {1, n};
  if (!eval && (blas_layers_ || wide_)) {
    const long chunks =
        n >= 2 * kMinGemmChunk ? n / kMinGemmChunk : std::min(2L, (n + kMinChunk - 1) / kMinChunk);
    const long c = std::max(1L, std::min(max_chunks_, chunks));
    return {c, (n + c - 1) / c};
  }
  const long min_chunk = eval && blas_layers_ ? kMinGemmEvalChunk : kMinChunk;
  const long chunks = std::max(1L, std::min(max_chunks_, (n + min_chunk - 1) / min_chunk));
  return {chunks, (n + chunks - 1) / chunks};
}

bool Network::chunked_wide(long n) const {
  return wide_ && n_params() <= kChunkedWideParams && n >= 2 * kMinGemmChunk;
}

void Network::allocate() {
  // every plan(n, eval), n <= max_batch, has chunk size <= plan(max_batch, eval).size or
  // <= its minimum chunk
  const Plan train = plan(max_batch_, false);
  const Plan eval = vector_eval_ ? train : plan(max_batch_, true);  // vector maps: eval_buf_
  // maps with OpenBLAS layers train batches below 2 · kMinGemmChunk in up to two chunks (wide
  // maps: one), larger ones in chunks of < 2 · kMinGemmChunk rows unless max_chunks binds
  chunk_capacity_ = std::max({train.size, eval.size, std::min(kMinChunk, max_batch_),
                              blas_layers_ || wide_ ? std::min(max_batch_, 2 * kMinGemmChunk - 1) : 0L});
  const long cap = chunk_capacity_;
  act_offset_.assign(1, 0);
  long act = align_up(input_.size() * cap), biggest = input_.size();
  long scratch = 0;
  scratch_offset_.clear();
  for (const auto& l : layers_) {
    act_offset_.push_back(act);
    act += align_up(l->output_shape().size() * cap);
    biggest = std::max(biggest, l->output_shape().size());
    scratch_offset_.push_back(scratch);
    scratch += align_up(l->scratch_size(cap));
  }
  // wide maps have one workspace for whole-batch training (and evaluation, unless a vector
  // map), or one per chunk where chunked_wide(max_batch)
  const bool chunked = !wide_ || chunked_wide(max_batch_);
  const long chunks = wide_ ? train.chunks : std::max(train.chunks, eval.chunks);
  workspaces_.assign(chunks, Workspace{});
  // evaluation blocks: vector maps as many rows as 64 chunks hold; others as many rows as every
  // workspace's capacity holds at once (one parallel region per block, chunks handed out
  // dynamically), where the plan of such a block fits
  eval_block_ = max_batch_;
  if (vector_eval_) {
    eval_block_ = 64 * kVectorEvalRows;
  } else if (!wide_) {
    const long block = std::min(chunks, max_chunks_) * cap;
    const Plan pl = plan(block, true);
    if (block > max_batch_ && pl.chunks <= chunks && pl.size <= cap) eval_block_ = block;
  }
  for (auto& ws : workspaces_) {
    ws.act.assign(act, 0.0f);
    ws.dbuf[0].assign(biggest * cap, 0.0f);
    ws.dbuf[1].assign(biggest * cap, 0.0f);
    ws.scratch.assign(std::max(scratch, 1L), 0.0f);
    ws.grads.assign(chunked ? params_.size() : 0, 0.0f);  // else written straight into grads_
    ws.target.assign(output_shape().size() * cap, 0.0f);  // >= loss_target_size · rows
  }
}

void Network::copy_in(const float* x, long r0, long nc, float* a0, const long* rows) const {
  const long in_size = input_.size();
  if (input_.is_sequence() && input_.channels > 1) {  // (N, C, L) → (C, nc, L)
    const long c = input_.channels, l = input_.length;
    for (long j = 0; j < nc; ++j) {
      const float* row = x + (rows ? rows[r0 + j] : r0 + j) * in_size;
      for (long ci = 0; ci < c; ++ci)
        std::memcpy(a0 + (ci * nc + j) * l, row + ci * l, sizeof(float) * l);
    }
  } else if (rows) {
    for (long j = 0; j < nc; ++j)
      std::memcpy(a0 + j * in_size, x + rows[r0 + j] * in_size, sizeof(float) * in_size);
  } else {
    std::memcpy(a0, x + r0 * in_size, sizeof(float) * nc * in_size);
  }
}

const float* Network::gather_targets(Workspace& ws, const float* t, long r0, long nc, long d,
                                     const long* rows) const {
  if (!rows) return t + r0 * d;
  for (long j = 0; j < nc; ++j)
    std::memcpy(ws.target.data() + j * d, t + rows[r0 + j] * d, sizeof(float) * d);
  return ws.target.data();
}

void Network::copy_out_dx(const float* g, long r0, long nc, float* dx) const {
  const long in_size = input_.size();
  if (input_.is_sequence() && input_.channels > 1) {  // (C, nc, L) → rows r0.. of (N, C, L)
    const long c = input_.channels, l = input_.length;
    for (long j = 0; j < nc; ++j)
      for (long ci = 0; ci < c; ++ci)
        std::memcpy(dx + (r0 + j) * in_size + ci * l, g + (ci * nc + j) * l, sizeof(float) * l);
  } else {
    std::memcpy(dx + r0 * in_size, g, sizeof(float) * nc * in_size);
  }
}

void Network::pack_layers() const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (packed_offset_[i] >= 0)
      layers_[i]->pack(params_.data() + param_offset_[i], packed_.data() + packed_offset_[i]);
}

const float* Network::forward_chunk(Workspace& ws, const float* x, long r0, long nc,
                                    const Context& base, const float** input,
                                    bool packed, const long* rows) const {
  float* a0 = ws.act.data();
  const long in_size = input_.size();
  // A first Dense or Conv1D layer reads the caller's rows in place when the user layout equals
  // the engine layout (vectors, one-channel sequences): both repack their input anyway, so the
  // result does not depend on where it lies.
  // A first Conv1D layer also reads rows given by index in place (Context::rows; its backward
  // reads only its planes).
  const float* in0 = a0;
  const bool same_layout = !(input_.is_sequence() && input_.channels > 1);
  const bool conv_first = dynamic_cast<const Conv1D*>(layers_[0].get()) != nullptr;
  const bool direct =
      !rows && same_layout && (conv_first || dynamic_cast<const Dense*>(layers_[0].get()));
  Context ctx = base;
  if (direct) {
    in0 = x + r0 * in_size;
  } else if (rows && same_layout && conv_first) {
    in0 = x;
    ctx.rows = rows + r0;
  } else {
    copy_in(x, r0, nc, a0, rows);
  }
  if (input) *input = in0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (i == 1) ctx.rows = nullptr;
    ctx.layer = static_cast<long>(i);
    ctx.packed = packed ? packed_for(i) : nullptr;
    layers_[i]->forward(params_.data() + param_offset_[i], i == 0 ? in0 : a0 + act_offset_[i],
                        a0 + act_offset_[i + 1], nc, ws.scratch.data() + scratch_offset_[i],
                        ctx);
  }
  return a0 + act_offset_.back();
}

const float* Network::forward_wide(Workspace& ws, const float* x, long n, const Context& base,
                                   const float** input, const long* rows) const {
  float* a0 = ws.act.data();
  const bool direct = !rows && !(input_.is_sequence() && input_.channels > 1) &&
                      dynamic_cast<const Dense*>(layers_[0].get());
  const float* in0 = direct ? x : a0;
  if (input) *input = in0;
  if (!direct) {
#pragma omp single
    copy_in(x, 0, n, a0, rows);
  }
  Context ctx = base;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    ctx.layer = static_cast<long>(i);
    const Layer& L = *layers_[i];
    const float* p = params_.data() + param_offset_[i];
    const float* xi = i == 0 ? in0 : a0 + act_offset_[i];
    float* yi = a0 + act_offset_[i + 1];
    const long parts = L.parts(false);
    if (parts > 1) {
#pragma omp for schedule(dynamic, 1)
      for (long q = 0; q < parts; ++q) L.forward_part(p, xi, yi, n, q);
    } else if (elementwise(L)) {  // sample parts; part q draws dropout masks as chunk q
      const long f = L.input_shape().size(), step = (n + kElementParts - 1) / kElementParts;
      float* scratch = ws.scratch.data() + scratch_offset_[i];
#pragma omp for schedule(static)
      for (long q = 0; q < kElementParts; ++q) {
        const long r0 = q * step, nc = std::min(step, n - r0);
        if (nc <= 0) continue;
        Context c = ctx;
        c.chunk = q;
        L.forward(p, xi + r0 * f, yi + r0 * f, nc, scratch + r0 * f, c);
      }
    } else {
#pragma omp single
      L.forward(p, xi, yi, n, ws.scratch.data() + scratch_offset_[i], ctx);
    }
  }
  return a0 + act_offset_.back();
}

const float* Network::forward_vector(const float* x, long nc, float* buf0, float* buf1) const {
  // evaluation: Dropout and Flatten (on vectors) are the identity; activations run in place
  const float* in = x;
  Context ctx;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& L = *layers_[i];
    if (dynamic_cast<const Dropout*>(&L) || dynamic_cast<const Flatten*>(&L)) continue;
    ctx.layer = static_cast<long>(i);
    ctx.packed = packed_for(i);
    // element-wise layers overwrite their input once it is one of the buffers; others alternate
    float* mine = in == buf0 ? buf0 : in == buf1 ? buf1 : nullptr;
    float* out = mine && elementwise(L) ? mine : mine == buf0 ? buf1 : buf0;
    L.forward(params_.data() + param_offset_[i], in, out, nc, nullptr, ctx);
    in = out;
  }
  if (in == x) {  // no layer computed anything (a map of identities)
    std::memcpy(buf0, x, sizeof(float) * nc * output_shape().size());
    in = buf0;
  }
  return in;
}

template <class Emit, class BlockDone>
void Network::eval_chunks(const float* x, long n, int threads, Emit&& emit,
                          BlockDone&& block_done) const {
  pack_layers();
  InterruptPoll poll;  // between blocks and chunks; a wide block's split products run to the end
  for (long start = 0; start < n; start += eval_block_) {
    if (poll.stop()) break;
    const long nb = std::min(eval_block_, n - start);
    if (wide_ && !vector_eval_) {  // split GEMMs over the whole block
#pragma omp parallel num_threads(threads)
      {
        const float* out = forward_wide(workspaces_[0], x + start * input_.size(), nb, Context{},
                                        nullptr);
#pragma omp single
        emit(out, start, nb, 0L);
      }
      block_done(1L);
      continue;
    }
    const Plan pl = plan(nb, true);
    const int team = team_size(threads, pl.chunks);
    const long stride = align_up(vector_width_ * pl.size);
    if (vector_eval_ && static_cast<long>(eval_buf_.size()) < 2 * team * stride)
      eval_buf_.assign(2 * team * stride, 0.0f);
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
    for (long g = 0; g < pl.chunks; ++g) {
      const long r0 = g * pl.size, nc = std::min(pl.size, nb - r0);
      if (nc <= 0 || poll.stop()) continue;
      const float* xb = x + start * input_.size();
      const float* out;
      if (vector_eval_) {
        float* b = eval_buf_.data() + 2 * omp_get_thread_num() * stride;
        out = forward_vector(xb + r0 * input_.size(), nc, b, b + stride);
      } else {
        Context ctx;
        ctx.chunk = g;
        out = forward_chunk(workspaces_[g], xb, r0, nc, ctx, nullptr, true);
      }
      emit(out, start + r0, nc, g);
    }
    block_done(pl.chunks);
  }
  poll.check();
}

void Network::predict(const float* x, long n, float* y, int n_threads) const {
  std::lock_guard<std::mutex> hold(*busy_);
  const long dout = output_shape().size();
  eval_chunks(x, n, resolve_threads(n_threads), [&](const float* out, long row, long count, long) {
    std::memcpy(y + row * dout, out, sizeof(float) * count * dout);
  }, [](long) {});
}

double Network::loss(const float* x, const float* t, long n, LossKind kind, int n_threads) const {
  std::lock_guard<std::mutex> hold(*busy_);
  const long d = loss_target_size(kind, output_shape().size());
  double total = 0.0;
  double part[64] = {};
  eval_chunks(
      x, n, resolve_threads(n_threads),
      [&](const float* out, long row, long count, long g) {
        part[g] = evaluate_loss(kind, out, t + row * d, nullptr, count, d, static_cast<double>(n));
      },
      [&](long chunks) {  // fixed-order sum per block
        for (long g = 0; g < chunks; ++g) total += part[g];
        std::fill(part, part + chunks, 0.0);
      });
  return total;
}

double Network::forward_backward(const float* x, const float* t, long n, LossKind kind,
                                 bool training, std::uint64_t seed, std::uint64_t step,
                                 int n_threads, float* dx, const long* rows) {
  if (n < 1 || n > max_batch_)  // checked before building the message: no allocation per step
    throw std::invalid_argument("batch size must be in [1, max_batch = " +
                                std::to_string(max_batch_) + "], got " + std::to_string(n));
  std::lock_guard<std::mutex> hold(*busy_);
  const int threads = resolve_threads(n_threads);
  const long dout = output_shape().size();
  const long d = loss_target_size(kind, dout);
  const Plan pl = plan(n, false);
  const long P = n_params();
  double part[64];
  const long nchunks = pl.chunks;
  if (wide_ && !chunked_wide(n)) {  // one chunk, split GEMMs, gradients straight into grads_
    // (every layer overwrites its parameters' gradients: no zeroing)
    double loss_value = 0.0;
    Workspace& ws = workspaces_[0];
#pragma omp parallel num_threads(threads)
    {
      Context ctx;
      ctx.training = training;
      ctx.backward = true;
      ctx.seed = seed;
      ctx.step = step;
      const float* in0 = nullptr;
      const float* out = forward_wide(ws, x, n, ctx, &in0, rows);
      float* a0 = ws.act.data();
#pragma omp single
      loss_value = evaluate_loss(kind, out, gather_targets(ws, t, 0, n, d, rows),
                                 ws.dbuf[0].data(), n, d, static_cast<double>(n));
      int cur = 0;
      for (long i = static_cast<long>(layers_.size()) - 1; i >= 0; --i) {
        const bool need_dx = i > 0 || dx != nullptr;
        float* dxi = need_dx ? ws.dbuf[1 - cur].data() : nullptr;
        const Layer& L = *layers_[i];
        const float* xi = i == 0 ? in0 : a0 + act_offset_[i];
        const long parts = L.parts(true);
        if (parts > 1) {
#pragma omp for schedule(dynamic, 1)
          for (long q = 0; q < parts; ++q)
            L.backward_part(params_.data() + param_offset_[i], xi, ws.dbuf[cur].data(), dxi,
                            grads_.data() + param_offset_[i], n, q);
        } else if (elementwise(L)) {  // the forward's sample parts
          const long f = L.input_shape().size(), step = (n + kElementParts - 1) / kElementParts;
          const float* yi = a0 + act_offset_[i + 1];
          const float* dyi = ws.dbuf[cur].data();
          float* scratch = ws.scratch.data() + scratch_offset_[i];
#pragma omp for schedule(static)
          for (long q = 0; q < kElementParts; ++q) {
            const long r0 = q * step, nc = std::min(step, n - r0);
            if (nc <= 0) continue;
            L.backward(nullptr, xi + r0 * f, yi + r0 * f, dyi + r0 * f, dxi ? dxi + r0 * f : nullptr,
                       nullptr, nc, scratch + r0 * f);
          }
        } else {
#pragma omp single
          L.backward(params_.data() + param_offset_[i], xi, a0 + act_offset_[i + 1],
                     ws.dbuf[cur].data(), dxi, grads_.data() + param_offset_[i], n,
                     ws.scratch.data() + scratch_offset_[i]);
        }
        cur = 1 - cur;
      }
#pragma omp single
      if (dx) copy_out_dx(ws.dbuf[cur].data(), 0, n, dx);
    }
    return loss_value;
  }
  // layers with a packed copy of their weights (narrow Dense) run forward from it: packed once
  // per step, read by every chunk
  pack_layers();
#pragma omp parallel num_threads(threads)
  {
#pragma omp for schedule(dynamic, 1)
    for (long g = 0; g < nchunks; ++g) {
      const long r0 = g * pl.size, nc = std::min(pl.size, n - r0);
      Workspace& ws = workspaces_[g];
      part[g] = 0.0;
      if (nc <= 0) {  // (every layer overwrites its parameters' gradients)
        std::fill(ws.grads.begin(), ws.grads.end(), 0.0f);
        continue;
      }
      Context ctx;
      ctx.training = training;
      ctx.backward = true;
      ctx.seed = seed;
      ctx.step = step;
      ctx.chunk = g;
      const float* in0 = nullptr;
      const float* out = forward_chunk(ws, x, r0, nc, ctx, &in0, true, rows);
      float* dy = ws.dbuf[0].data();
      part[g] = evaluate_loss(kind, out, gather_targets(ws, t, r0, nc, d, rows), dy, nc, d,
                              static_cast<double>(n));
      float* a0 = ws.act.data();
      int cur = 0;
      for (long i = static_cast<long>(layers_.size()) - 1; i >= 0; --i) {
        if (i > 0 && pooled_[i - 1]) {  // the pooling and the swish before it, in one pass
          --i;
          if (i > 0 || dx) {
            const Shape sh = layers_[i]->input_shape();
            swish_pool2_backward(i == 0 ? in0 : a0 + act_offset_[i],
                                 ws.scratch.data() + scratch_offset_[i], ws.dbuf[cur].data(),
                                 ws.dbuf[1 - cur].data(), sh.channels * nc, sh.length);
          }
          cur = 1 - cur;
          continue;
        }
        const bool need_dx = i > 0 || dx != nullptr;
        float* dxi = need_dx ? ws.dbuf[1 - cur].data() : nullptr;
        layers_[i]->backward(params_.data() + param_offset_[i], i == 0 ? in0 : a0 + act_offset_[i],
                             a0 + act_offset_[i + 1], ws.dbuf[cur].data(), dxi,
                             ws.grads.data() + param_offset_[i], nc,
                             ws.scratch.data() + scratch_offset_[i]);
        cur = 1 - cur;
      }
      if (dx) copy_out_dx(ws.dbuf[cur].data(), r0, nc, dx);
    }
    // fixed-order sum of the chunk gradients, parallel over parameters
#pragma omp for schedule(static)
    for (long k = 0; k < P; k += 1024) {
      const long e = std::min(P, k + 1024);
      for (long i = k; i < e; ++i) grads_[i] = workspaces_[0].grads[i];
      for (long g = 1; g < nchunks; ++g) {
        const float* src = workspaces_[g].grads.data();
        for (long i = k; i < e; ++i) grads_[i] += src[i];
      }
    }
  }
  double total = 0.0;
  for (long g = 0; g < nchunks; ++g) total += part[g];
  return total;
}

}  // namespace fhn_inverse::nn
