// Element-wise activations, forward and backward, through Eigen's vectorised array functions;
// swish's forward, the study's activation, as one fused pass (simd.hpp).
#include "fhn_inverse/nn/activations.hpp"

#include <algorithm>
#include <cmath>
#include <unsupported/Eigen/SpecialFunctions>

#include "simd.hpp"

namespace fhn_inverse::nn {

ActivationKind parse_activation(const std::string& name) {
  if (name == "relu") return ActivationKind::relu;
  if (name == "swish" || name == "silu") return ActivationKind::swish;
  if (name == "gelu") return ActivationKind::gelu;
  if (name == "tanh") return ActivationKind::tanh;
  if (name == "sigmoid") return ActivationKind::sigmoid;
  throw std::invalid_argument("activation must be one of relu, swish, silu, gelu, tanh, sigmoid; got '" +
                              name + "'");
}

bool is_activation(const std::string& name) {
  return name == "relu" || name == "swish" || name == "silu" || name == "gelu" || name == "tanh" ||
         name == "sigmoid";
}

std::string activation_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::relu: return "relu";
    case ActivationKind::swish: return "swish";
    case ActivationKind::gelu: return "gelu";
    case ActivationKind::tanh: return "tanh";
    case ActivationKind::sigmoid: return "sigmoid";
  }
  return "?";
}

void Activation::forward(const float*, const float* x_, float* y_, long n, float* scratch,
                         const Context& ctx) const {
  const long count = n * in_.size();
  ConstMapArr x(x_, count);
  MapArr y(y_, count);
  switch (kind) {
    case ActivationKind::relu: y = x.max(0.0f); break;
    case ActivationKind::swish: {  // y = x σ(x), σ kept for backward; one pass
      using namespace simd;
      float* s = scratch && ctx.backward ? scratch : nullptr;  // no cache in inference
      // four independent vectors per step: one σ is a long dependent chain (exp, reciprocal),
      // so interleaving four keeps both FMA pipes busy
      long i = 0;
      for (; i + 32 <= count; i += 32) {
        v8 xv[4], sg[4];
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) {
          xv[u] = load8(x_ + i + 8 * u);
          sg[u] = sigmoid8(xv[u]);
        }
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) {
          if (s) store8(s + i + 8 * u, sg[u]);
          store8(y_ + i + 8 * u, xv[u] * sg[u]);
        }
      }
      for (; i < count; i += 8) {
        const long m = std::min(8L, count - i);
        const v8 xv = load_first(x_ + i, m), sg = sigmoid8(xv);
        if (s) store_first(s + i, sg, m);
        store_first(y_ + i, xv * sg, m);
      }
      break;
    }
    case ActivationKind::gelu: y = 0.5f * x * (1.0f + (x * float(M_SQRT1_2)).erf()); break;
    case ActivationKind::tanh: y = x.tanh(); break;
    case ActivationKind::sigmoid: y = 1.0f / (1.0f + (-x).exp()); break;
  }
}

void Activation::backward(const float*, const float* x_, const float* y_, const float* dy_,
                          float* dx_, float*, long n, float* scratch) const {
  if (!dx_) return;
  const long count = n * in_.size();
  ConstMapArr x(x_, count), y(y_, count), dy(dy_, count);
  MapArr dx(dx_, count);
  constexpr float inv_sqrt_2pi = 0.3989422804014327f;
  switch (kind) {
    case ActivationKind::relu: dx = (x > 0.0f).select(dy, 0.0f); break;
    case ActivationKind::swish: {  // d/dx x σ(x) = σ(x) (1 + x (1 − σ(x))), σ cached by forward
      ConstMapArr sg(scratch, count);
      dx = dy * sg * (1.0f + x * (1.0f - sg));
      break;
    }
    case ActivationKind::gelu:
      dx = dy * (0.5f * (1.0f + (x * float(M_SQRT1_2)).erf()) +
                 x * inv_sqrt_2pi * (-0.5f * x.square()).exp());
      break;
    case ActivationKind::tanh: dx = dy * (1.0f - y.square()); break;
    case ActivationKind::sigmoid: dx = dy * y * (1.0f - y); break;
  }
}

void swish_pool2_backward(const float* z, const float* s, const float* dp, float* dz, long rows,
                          long m) {
  using namespace simd;
  const long mp = m / 2;
  for (long r = 0; r < rows; ++r) {
    const float* zr = z + r * m;
    const float* sr = s + r * m;
    const float* dr = dp + r * mp;
    float* out = dz + r * m;
    // dz = g σ (1 + z (1 − σ)) with g[l] = dp[l/2] / 2 for l < 2·⌊m/2⌋ and 0 after
    long i = 0;
    auto grad = [](v8 g, v8 zv, v8 sg) { return g * sg * (1.0f + zv * (1.0f - sg)); };
    for (; i + 16 <= 2 * mp; i += 16) {
      v8 lo, hi;
      repeat_pairs(load8(dr + i / 2) * 0.5f, lo, hi);
      store8(out + i, grad(lo, load8(zr + i), load8(sr + i)));
      store8(out + i + 8, grad(hi, load8(zr + i + 8), load8(sr + i + 8)));
    }
    for (; i < m; ++i) {
      const float g = i < 2 * mp ? dr[i / 2] * 0.5f : 0.0f;
      out[i] = g * sr[i] * (1.0f + zr[i] * (1.0f - sr[i]));
    }
  }
}

}  // namespace fhn_inverse::nn
