// The network: building the layers from specs, the flat buffers and the parameter table, the
// workspaces, and the dispatch of evaluation and training to the executors (executors/).
#include "fhn_inverse/nn/network.hpp"

#include <omp.h>

#include <algorithm>
#include <mutex>
#include <cmath>
#include <cstring>
#include <map>

#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"
#include "executors/executors.hpp"
#include "executors/tuning.hpp"

namespace fhn_inverse::nn {

long ParamTensor::size() const {
  long s = 1;
  for (long d : shape) s *= d;
  return s;
}

namespace {

struct Registered {
  LayerFactory factory;
  std::vector<std::string> fields;
};

std::map<std::string, Registered>& registered_layers() {
  static std::map<std::string, Registered> factories;
  return factories;
}

// The built-in layers and the fields each reads; the activations read none.
const std::vector<LayerKind>& built_in_layers() {
  static const std::vector<LayerKind> kinds = {
      {"dense", {"units"}},
      {"conv1d", {"filters", "kernel", "stride", "padding"}},
      {"avgpool1d", {"pool", "stride"}},
      {"maxpool1d", {"pool", "stride"}},
      {"flatten", {}},
      {"dropout", {"rate"}}};
  return kinds;
}

const char* const kActivations[] = {"relu", "swish", "silu", "gelu", "tanh", "sigmoid"};

bool built_in_kind(const std::string& kind) {
  for (const auto& k : built_in_layers())
    if (k.kind == kind) return true;
  return is_activation(kind);
}

}  // namespace

void register_layer(const std::string& kind, LayerFactory factory,
                    std::vector<std::string> fields) {
  require(!kind.empty() && static_cast<bool>(factory), "a layer needs a kind name and a factory");
  require(!built_in_kind(kind) && !registered_layers().count(kind),
          "a layer kind '" + kind + "' exists already");
  static const std::vector<std::string> known = {"units",   "filters", "kernel", "stride",
                                                 "padding", "pool",    "rate"};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    require(std::find(known.begin(), known.end(), fields[i]) != known.end(),
            "layer '" + kind + "': unknown field '" + fields[i] +
                "' (one of units, filters, kernel, stride, padding, pool, rate)");
    require(std::find(fields.begin(), fields.begin() + static_cast<long>(i), fields[i]) ==
                fields.begin() + static_cast<long>(i),
            "layer '" + kind + "': field '" + fields[i] + "' named twice");
  }
  registered_layers().emplace(kind, Registered{std::move(factory), std::move(fields)});
}

std::vector<LayerKind> layer_kinds() {
  std::vector<LayerKind> out = built_in_layers();
  for (const char* a : kActivations) out.push_back({a, {}});
  for (const auto& [kind, r] : registered_layers()) out.push_back({kind, r.fields});
  return out;
}

std::unique_ptr<Layer> make_layer(const LayerSpec& s, Shape in) {
  if (const auto it = registered_layers().find(s.kind); it != registered_layers().end())
    return it->second.factory(s, in);
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
      "swish, silu, gelu, tanh, sigmoid; got '" +
      s.kind + "'");
}

NetworkSize network_size(Shape input, const std::vector<LayerSpec>& specs, long max_params) {
  constexpr long kMax = 1L << 31;
  require(max_params >= 0 && max_params <= kMax,
          "max_params must be in [0, 2^31], got " + std::to_string(max_params));
  auto small = [&](long v, const char* what) {
    require(v >= 0 && v <= kMax,
            std::string(what) + " must be in [0, 2^31], got " + std::to_string(v));
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
    // a layer's constructor builds tables that grow with its weights: bound them before it runs
    const double in = static_cast<double>(shape.is_sequence() ? shape.channels : shape.size());
    const double weights = s.kind == "conv1d" ? static_cast<double>(s.filters) * (in * s.kernel + 1)
                           : s.kind == "dense" ? static_cast<double>(s.units) * (in + 1)
                                               : 0.0;
    require(weights <= static_cast<double>(max_params),
            s.kind + " layer would hold " + std::to_string(static_cast<long long>(weights)) +
                " parameters, more than " + std::to_string(max_params));
    const auto layer = make_layer(s, shape);
    shape = layer->output_shape();
    small(shape.size(), "layer output size");
    small(layer->n_params(), "layer parameters");
    out.n_params += layer->n_params();
    out.activations_per_sample += shape.size();
    small(out.n_params, "network parameters");
    require(out.n_params <= max_params,
            "the network holds more than " + std::to_string(max_params) + " parameters");
    small(out.activations_per_sample, "activations per sample");
  }
  return out;
}

namespace {
// Swish followed by average pooling of 2 with stride 2 (the study's CNN): one layer.
bool swish_pool2(const std::vector<LayerSpec>& specs, std::size_t i) {
  if (i + 1 >= specs.size()) return false;
  const LayerSpec& a = specs[i];
  const LayerSpec& b = specs[i + 1];
  return (a.kind == "swish" || a.kind == "silu") && b.kind == "avgpool1d" && b.pool == 2 &&
         (b.stride == 0 || b.stride == 2);
}

// A convolution followed by swish, and then by average pooling of 2 with stride 2 or not, and
// then by Flatten or not: one layer (ConvSwishPool2 where it takes the convolution and no
// Flatten follows: the study's first block; else ConvSwish), and i moved to its last spec; else
// null.
std::unique_ptr<Layer> fused_conv(const std::vector<LayerSpec>& specs, std::size_t& i, Shape in) {
  const LayerSpec& s = specs[i];
  auto is = [&](std::size_t k, const char* kind) {
    return k < specs.size() && specs[k].kind == kind;
  };
  if (s.kind != "conv1d" || !(is(i + 1, "swish") || is(i + 1, "silu"))) return nullptr;
  const Conv1D conv(in, s.filters, s.kernel, s.stride == 0 ? 1 : s.stride,
                    parse_padding(s.padding));  // (as make_layer builds it)
  const bool pool = swish_pool2(specs, i + 1);
  const std::size_t last = pool ? i + 2 : i + 1;
  const bool flatten = is(last + 1, "flatten");
  if (pool && !flatten && ConvSwishPool2::takes(conv)) {
    i = last;
    return std::make_unique<ConvSwishPool2>(conv);
  }
  i = flatten ? last + 1 : last;
  return std::make_unique<ConvSwish>(conv, pool, flatten);
}
}  // namespace

namespace {
std::mutex tuning_mutex;
Tuning tuning_now = tuning::kDefault;
}  // namespace

Tuning default_tuning() { return tuning::kDefault; }

Tuning current_tuning() {
  std::lock_guard<std::mutex> hold(tuning_mutex);
  return tuning_now;
}

void set_tuning(const Tuning& t) {
  auto in = [](const char* name, long v, long lo, long hi) {
    require(v >= lo && v <= hi, std::string("tuning ") + name + " must be in [" +
                                    std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                                    std::to_string(v));
  };
  in("min_chunk", t.min_chunk, 1, 1L << 20);
  in("min_gemm_eval_chunk", t.min_gemm_eval_chunk, 1, 1L << 20);
  in("vector_eval_rows", t.vector_eval_rows, t.min_gemm_eval_chunk, 1L << 20);
  in("vector_eval_chunks", t.vector_eval_chunks, 1, 64);
  in("element_parts", t.element_parts, 1, 64);
  in("min_gemm_chunk", t.min_gemm_chunk, 1, 1L << 20);
  in("chunked_wide_params", t.chunked_wide_params, 0, 1L << 40);
  std::lock_guard<std::mutex> hold(tuning_mutex);
  tuning_now = t;
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
  require(max_chunks >= 1 && max_chunks <= 64,
          "max_chunks must be in [1, 64], got " + std::to_string(max_chunks));
  build(specs);
  init(seed);
  allocate();
}

void Network::build(const std::vector<LayerSpec>& specs) {
  Shape shape = input_;
  long p = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {  // the summary: the layers as specified
    const auto layer = make_layer(specs[i], shape);
    summary_.push_back({layer->name(), layer->output_shape(), layer->n_params()});
    shape = layer->output_shape();
  }
  require(!shape.is_sequence(),
          "the last layer must output a vector (add flatten and dense), got shape " + shape.str());
  shape = input_;
  long packed = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {  // the layers as run
    Step s;
    s.spec = static_cast<long>(i);
    if (swish_pool2(specs, i)) {
      s.layer = std::make_unique<SwishAvgPool2>(shape);
      ++i;
    } else if (auto conv = fused_conv(specs, i, shape)) {
      s.layer = std::move(conv);
    } else {
      s.layer = make_layer(specs[i], shape);
    }
    s.about = s.layer->describe();
    s.param_offset = p;
    p += s.layer->n_params();
    if (s.about.packed) {
      s.packed_offset = packed;
      packed += align_up(s.about.packed->packed_size());
    }
    wide_ = wide_ || s.about.wide;
    blas_layers_ = blas_layers_ || s.about.blas;
    vector_width_ = std::max(vector_width_, s.layer->output_shape().size());
    shape = s.layer->output_shape();
    steps_.push_back(std::move(s));
  }
  // a layer that writes planes before one that takes them: the two agree on the planes
  for (std::size_t i = 0; i + 1 < steps_.size(); ++i) {
    Step& a = steps_[i];
    Step& b = steps_[i + 1];
    if (!a.about.writes_planes || !b.about.input_planes) continue;
    a.layer->write_planes(*b.about.input_planes);
    b.layer->take_planes();
    a.about = a.layer->describe();
    b.about = b.layer->describe();
  }
  vector_eval_ = !input_.is_sequence();  // (no layer turns a vector into a sequence)
  packed_.assign(packed, 0.0f);
  params_.assign(p, 0.0f);
  grads_.assign(p, 0.0f);
}

std::vector<LayerSummary> Network::summary() const { return summary_; }

std::vector<const Layer*> Network::layers() const {
  std::vector<const Layer*> out;
  for (const auto& s : steps_) out.push_back(s.layer.get());
  return out;
}

std::vector<ParamTensor> Network::param_tensors() const {
  std::vector<ParamTensor> out;
  for (const auto& s : steps_) {
    long offset = s.param_offset;
    for (const auto& t : s.layer->params()) {
      out.push_back({"layers." + std::to_string(s.spec) + "." + t.name, offset, t.shape});
      offset += t.size();
    }
  }
  return out;
}

void Network::init(std::uint64_t seed) {
  for (const auto& s : steps_) {
    Rng rng(seed, Stream::init, s.spec);
    s.layer->init_params(params_.data() + s.param_offset, rng);
  }
}

void Network::set_max_batch(long max_batch) {
  require(max_batch >= 1, "max_batch must be >= 1, got " + std::to_string(max_batch));
  std::lock_guard<std::mutex> hold(*busy_);
  if (max_batch == max_batch_ && !workspaces_.empty()) return;
  max_batch_ = max_batch;
  allocate();
}

Network::Plan Network::plan(long n, bool eval) const {
  if (eval && vector_eval_) {
    const long size = std::clamp((n + tuning_.vector_eval_chunks - 1) / tuning_.vector_eval_chunks,
                                 tuning_.min_gemm_eval_chunk, tuning_.vector_eval_rows);
    return {std::max(1L, (n + size - 1) / size), size};
  }
  if (wide_ && (eval || !chunked_wide(n))) return {1, n};
  if (!eval && (blas_layers_ || wide_)) {
    const long chunks = n >= 2 * tuning_.min_gemm_chunk
                            ? n / tuning_.min_gemm_chunk
                            : std::min(2L, (n + tuning_.min_chunk - 1) / tuning_.min_chunk);
    const long c = std::max(1L, std::min(max_chunks_, chunks));
    return {c, (n + c - 1) / c};
  }
  const long min_chunk = eval && blas_layers_ ? tuning_.min_gemm_eval_chunk : tuning_.min_chunk;
  const long chunks = std::max(1L, std::min(max_chunks_, (n + min_chunk - 1) / min_chunk));
  return {chunks, (n + chunks - 1) / chunks};
}

bool Network::chunked_wide(long n) const {
  return wide_ && n_params() <= tuning_.chunked_wide_params && n >= 2 * tuning_.min_gemm_chunk;
}

void Network::allocate() {
  // every plan(n, eval), n <= max_batch, has chunk size <= plan(max_batch, eval).size or
  // <= its minimum chunk
  const Plan train = plan(max_batch_, false);
  const Plan eval = vector_eval_ ? train : plan(max_batch_, true);  // vector maps: eval_buf_
  // maps with OpenBLAS layers train batches below 2 · min_gemm_chunk in up to two chunks (wide
  // maps: one), larger ones in chunks of < 2 · min_gemm_chunk rows unless max_chunks binds; they
  // evaluate n rows in chunks of up to min(n, min_gemm_eval_chunk) rows unless max_chunks binds
  // (then ceil(n / max_chunks), largest at the largest n), a size that does not grow with n
  const bool blas_eval = blas_layers_ && !wide_ && !vector_eval_;
  chunk_capacity_ =
      std::max({train.size, eval.size, std::min(tuning_.min_chunk, max_batch_),
                blas_layers_ || wide_ ? std::min(max_batch_, 2 * tuning_.min_gemm_chunk - 1) : 0L,
                blas_eval ? std::min(max_batch_, tuning_.min_gemm_eval_chunk) : 0L});
  const long cap = chunk_capacity_;
  long act = align_up(input_.size() * cap), biggest = input_.size();
  long scratch = 0;
  for (auto& s : steps_) {
    s.act_offset = act;
    act += align_up(s.layer->output_floats() * cap);
    biggest = std::max(biggest, s.layer->output_floats());
    s.scratch_offset = scratch;
    scratch += align_up(s.layer->scratch_size(cap));
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
    eval_block_ = 64 * tuning_.vector_eval_rows;
  } else if (!wide_) {
    // (every n <= block then plans at most pl.chunks chunks of at most pl.size rows, or of
    // min(n, min_gemm_eval_chunk) rows with OpenBLAS layers)
    const long block = std::min(chunks, max_chunks_) * cap;
    const Plan pl = plan(block, true);
    if (block > max_batch_ && pl.chunks <= chunks && pl.size <= cap &&
        (!blas_eval || std::min(block, tuning_.min_gemm_eval_chunk) <= cap))
      eval_block_ = block;
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
  for (const auto& s : steps_)
    if (s.about.packed) s.about.packed->pack(params_of(s), packed_.data() + s.packed_offset);
}

template <class Emit, class BlockDone>
void Network::eval_chunks(const float* x, long n, int threads, Emit&& emit,
                          BlockDone&& block_done) const {
  pack_layers();
  InterruptPoll poll;  // between blocks and chunks; a wide block's split products run to the end
  for (long start = 0; start < n; start += eval_block_) {
    if (poll.stop()) break;
    const long nb = std::min(eval_block_, n - start);
    if (wide_ && !vector_eval_) {  // split products over the whole block
#pragma omp parallel num_threads(threads)
      {
        const float* out = WideExecutor(*this).forward(workspaces_[0], x + start * input_.size(),
                                                       nb, Context{}, nullptr);
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
        out = VectorEvaluator(*this).forward(xb + r0 * input_.size(), nc, b, b + stride);
      } else {
        Context ctx;
        ctx.chunk = g;
        // (one workspace per thread, as in training: the output is copied out by emit)
        out = ChunkedExecutor(*this).forward(workspaces_[omp_get_thread_num()], xb, r0, nc, ctx,
                                             nullptr, true);
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
  eval_chunks(
      x, n, resolve_threads(n_threads),
      [&](const float* out, long row, long count, long) {
        std::memcpy(y + row * dout, out, sizeof(float) * count * dout);
      },
      [](long) {});
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
                                 int n_threads, float* dx, const long* rows, const Update* update) {
  if (n < 1 || n > max_batch_)  // checked before building the message: no allocation per step
    throw std::invalid_argument("batch size must be in [1, max_batch = " +
                                std::to_string(max_batch_) + "], got " + std::to_string(n));
  std::lock_guard<std::mutex> hold(*busy_);
  const int threads = resolve_threads(n_threads);
  if (wide_ && !chunked_wide(n))  // one chunk, split products, gradients straight into grads_
    return WideExecutor(*this).step(*this, x, t, n, kind, training, seed, step, threads, dx, rows,
                                    update);
  return ChunkedExecutor(*this).step(*this, x, t, n, kind, training, seed, step, threads, dx, rows,
                                     update);
}

}  // namespace fhn_inverse::nn
