// WideExecutor: whole-batch products split over the threads (executors.hpp).
#include <algorithm>

#include "executors.hpp"

namespace fhn_inverse::nn {

namespace {
// Element-wise layers on vectors run in fixed sample parts over the threads.
bool sample_parts(const Layer& l, const LayerDescription& about) {
  return about.elementwise && !l.input_shape().is_sequence();
}
}  // namespace

const float* WideExecutor::forward(Network::Workspace& ws, const float* x, long n,
                                   const Context& base, const float** input,
                                   const long* rows) const {
  const Network& net = net_;
  float* a0 = ws.act.data();
  const bool direct = !rows && !(net.input_.is_sequence() && net.input_.channels > 1) &&
                      net.steps_[0].about.reads_input_in_place;
  const float* in0 = direct ? x : a0;
  if (input) *input = in0;
  if (!direct) {
#pragma omp single
    net.copy_in(x, 0, n, a0, rows);
  }
  Context ctx = base;
  const float* xi = in0;
  for (const Network::Step& s : net.steps_) {
    ctx.layer = s.spec;
    const Layer& L = *s.layer;
    const float* p = net.params_of(s);
    float* yi = a0 + s.act_offset;
    float* scratch = ws.scratch.data() + s.scratch_offset;
    const long parts = net.split_products_ && s.about.split ? s.about.split->parts(false) : 1;
    if (parts > 1) {
#pragma omp for schedule(dynamic, 1)
      for (long q = 0; q < parts; ++q) s.about.split->forward_part(p, xi, yi, n, q);
    } else if (sample_parts(L, s.about)) {  // part q draws dropout masks as chunk q
      const long f = L.input_shape().size(),
                 step = (n + net.tuning_.element_parts - 1) / net.tuning_.element_parts;
#pragma omp for schedule(static)
      for (long q = 0; q < net.tuning_.element_parts; ++q) {
        const long r0 = q * step, nc = std::min(step, n - r0);
        if (nc <= 0) continue;
        Context c = ctx;
        c.chunk = q;
        L.forward(p, xi + r0 * f, yi + r0 * f, nc, scratch + r0 * f, c);
      }
    } else {
#pragma omp single
      L.forward(p, xi, yi, n, scratch, ctx);
    }
    xi = yi;
  }
  return xi;
}

int WideExecutor::backward(Network::Workspace& ws, const float* input, long n, float* grads,
                           bool need_dx) const {
  const Network& net = net_;
  const float* a0 = ws.act.data();
  int cur = 0;
  for (long i = static_cast<long>(net.steps_.size()) - 1; i >= 0; --i) {
    const Network::Step& s = net.steps_[i];
    const Layer& L = *s.layer;
    float* dxi = i > 0 || need_dx ? ws.dbuf[1 - cur].data() : nullptr;
    const float* xi = i == 0 ? input : a0 + net.steps_[i - 1].act_offset;
    const float* yi = a0 + s.act_offset;
    const float* dyi = ws.dbuf[cur].data();
    float* scratch = ws.scratch.data() + s.scratch_offset;
    const long parts = net.split_products_ && s.about.split ? s.about.split->parts(true) : 1;
    if (parts > 1) {
#pragma omp for schedule(dynamic, 1)
      for (long q = 0; q < parts; ++q)
        s.about.split->backward_part(net.params_of(s), xi, dyi, dxi, grads + s.param_offset, n, q);
    } else if (sample_parts(L, s.about)) {  // the forward's sample parts
      const long f = L.input_shape().size(),
                 step = (n + net.tuning_.element_parts - 1) / net.tuning_.element_parts;
#pragma omp for schedule(static)
      for (long q = 0; q < net.tuning_.element_parts; ++q) {
        const long r0 = q * step, nc = std::min(step, n - r0);
        if (nc <= 0) continue;
        L.backward(nullptr, xi + r0 * f, yi + r0 * f, dyi + r0 * f, dxi ? dxi + r0 * f : nullptr,
                   nullptr, nc, scratch + r0 * f);
      }
    } else {
#pragma omp single
      L.backward(net.params_of(s), xi, yi, dyi, dxi, grads + s.param_offset, n, scratch);
    }
    cur = 1 - cur;
  }
  return cur;
}

double WideExecutor::step(Network& net, const float* x, const float* t, long n, LossKind kind,
                          bool training, std::uint64_t seed, std::uint64_t step, int threads,
                          float* dx, const long* rows, const Network::Update* update) const {
  const long d = loss_target_size(kind, net.output_shape().size());
  double loss_value = 0.0;
  Network::Workspace& ws = net.workspaces_[0];
#pragma omp parallel num_threads(threads)
  {
    Context ctx;
    ctx.training = training;
    ctx.backward = true;
    ctx.seed = seed;
    ctx.step = step;
    const float* in0 = nullptr;
    const float* out = forward(ws, x, n, ctx, &in0, rows);
#pragma omp single
    loss_value = evaluate_loss(kind, out, net.gather_targets(ws, t, 0, n, d, rows),
                               ws.dbuf[0].data(), n, d, static_cast<double>(n));
    const int cur = backward(ws, in0, n, net.grads_.data(), dx != nullptr);
#pragma omp single
    if (dx) net.copy_out_dx(ws.dbuf[cur].data(), 0, n, dx);
    // (the single's barrier: every gradient is final)
    if (update) {
      const long P = net.n_params();
      constexpr long B = Network::kUpdateBlock;
#pragma omp for schedule(static)
      for (long k = 0; k < P; k += B) (*update)(k, std::min(P, k + B));
    }
  }
  return loss_value;
}

}  // namespace fhn_inverse::nn
