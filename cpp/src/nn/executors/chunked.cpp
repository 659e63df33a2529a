// ChunkedExecutor: a batch in chunks over the threads (executors.hpp).
#include <algorithm>

#include <omp.h>

#include "executors.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::nn {

const float* ChunkedExecutor::forward(Network::Workspace& ws, const float* x, long r0, long nc,
                                      const Context& base, const float** input, bool packed,
                                      const long* rows) const {
  const Network& net = net_;
  float* a0 = ws.act.data();
  const long in_size = net.input_.size();
  // A first layer that reads its input only through a copy of its own reads the caller's rows
  // where they lie when the user layout equals the engine layout (vectors, one-channel
  // sequences), and rows given by index in place where it gathers them: the result does not
  // depend on where its input lies.
  const float* in0 = a0;
  const bool same_layout = !(net.input_.is_sequence() && net.input_.channels > 1);
  const LayerDescription& first = net.steps_[0].about;
  Context ctx = base;
  if (!rows && same_layout && first.reads_input_in_place) {
    in0 = x + r0 * in_size;
  } else if (rows && same_layout && first.gathers_rows) {
    in0 = x;
    ctx.rows = rows + r0;
  } else {
    net.copy_in(x, r0, nc, a0, rows);
  }
  if (input) *input = in0;
  const float* xi = in0;
  for (std::size_t i = 0; i < net.steps_.size(); ++i) {
    const Network::Step& s = net.steps_[i];
    if (i == 1) ctx.rows = nullptr;
    ctx.layer = s.spec;
    float* yi = a0 + s.act_offset;
    float* scratch = ws.scratch.data() + s.scratch_offset;
    if (s.about.packed && packed)
      s.about.packed->forward_packed(net.params_of(s), net.packed_for(s), xi, yi, nc);
    else if (s.about.packed)
      s.about.packed->forward_unpacked(net.params_of(s), xi, yi, nc, scratch);
    else
      s.layer->forward(net.params_of(s), xi, yi, nc, scratch, ctx);
    xi = yi;
  }
  return xi;
}

int ChunkedExecutor::backward(Network::Workspace& ws, const float* input, long nc, float* grads,
                              bool need_dx) const {
  const Network& net = net_;
  float* a0 = ws.act.data();
  // the output gradient: in gradient buffer dy_buf, or (dy_buf < 0) written over the activations
  // of the layer it belongs to by the layer after it (dx_over_input)
  int dy_buf = 0;
  const float* dy = ws.dbuf[0].data();
  for (long i = static_cast<long>(net.steps_.size()) - 1; i >= 0; --i) {
    const Network::Step& s = net.steps_[i];
    float* xi = i == 0 ? nullptr : a0 + net.steps_[i - 1].act_offset;
    float* dxi = nullptr;
    int dx_buf = -1;
    if (i > 0 && s.about.dx_over_input && !net.steps_[i - 1].about.backward_reads_output) {
      dxi = xi;
    } else if (i > 0 || need_dx) {
      dx_buf = dy_buf == 0 ? 1 : 0;
      dxi = ws.dbuf[dx_buf].data();
    }
    s.layer->backward(net.params_of(s), i == 0 ? input : xi, a0 + s.act_offset, dy, dxi,
                      grads + s.param_offset, nc, ws.scratch.data() + s.scratch_offset);
    dy = dxi;
    dy_buf = dx_buf;
  }
  return dy_buf;  // (the input gradient's buffer, where need_dx: never over the caller's rows)
}

double ChunkedExecutor::step(Network& net, const float* x, const float* t, long n, LossKind kind,
                             bool training, std::uint64_t seed, std::uint64_t step, int threads,
                             float* dx, const long* rows, const Network::Update* update) const {
  const long d = loss_target_size(kind, net.output_shape().size());
  const Network::Plan pl = net.plan(n, false);
  const long nchunks = pl.chunks, P = net.n_params();
  double part[64];
  // layers with packed weights (narrow Dense) run forward_unpacked: the packed values without
  // the copy, which would be made anew every step
  // a thread's chunks run in its own workspace (one per thread: what a chunk touches stays in
  // that core's cache from one chunk to the next); each chunk's gradient in the buffer of the
  // chunk's index, so that their sum does not depend on which thread ran which chunk
#pragma omp parallel num_threads(team_size(threads, nchunks))
  {
    Network::Workspace& ws = net.workspaces_[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
    for (long g = 0; g < nchunks; ++g) {
      const long r0 = g * pl.size, nc = std::min(pl.size, n - r0);
      Buffer& grads = net.workspaces_[g].grads;
      part[g] = 0.0;
      if (nc <= 0) {  // (every layer overwrites its parameters' gradients)
        std::fill(grads.begin(), grads.end(), 0.0f);
        continue;
      }
      Context ctx;
      ctx.training = training;
      ctx.backward = true;
      ctx.seed = seed;
      ctx.step = step;
      ctx.chunk = g;
      const float* in0 = nullptr;
      const float* out = forward(ws, x, r0, nc, ctx, &in0, false, rows);
      part[g] = evaluate_loss(kind, out, net.gather_targets(ws, t, r0, nc, d, rows),
                              ws.dbuf[0].data(), nc, d, static_cast<double>(n));
      const int cur = backward(ws, in0, nc, grads.data(), dx != nullptr);
      if (dx) net.copy_out_dx(ws.dbuf[cur].data(), r0, nc, dx);
    }
    // fixed-order sum of the chunk gradients, parallel over parameters; each block updated
    // right after its sum, while it is in L1
    constexpr long B = Network::kUpdateBlock;
#pragma omp for schedule(static)
    for (long k = 0; k < P; k += B) {
      const long e = std::min(P, k + B);
      for (long i = k; i < e; ++i) net.grads_[i] = net.workspaces_[0].grads[i];
      for (long g = 1; g < nchunks; ++g) {
        const float* src = net.workspaces_[g].grads.data();
        for (long i = k; i < e; ++i) net.grads_[i] += src[i];
      }
      if (update) (*update)(k, e);
    }
  }
  double total = 0.0;
  for (long g = 0; g < nchunks; ++g) total += part[g];
  return total;
}

}  // namespace fhn_inverse::nn
