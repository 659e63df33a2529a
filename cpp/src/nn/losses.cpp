// MSE and Gaussian negative log-likelihood with a Cholesky-parameterised covariance, and the
// list of losses registered beside them.
#include "fhn_inverse/nn/losses.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace fhn_inverse::nn {

namespace {

constexpr int kBuiltIn = 2;  // mse, gaussian_nll

std::vector<LossEntry>& registered() {
  static std::vector<LossEntry> entries;
  return entries;
}

const LossEntry* entry_of(LossKind kind) {
  const int i = static_cast<int>(kind) - kBuiltIn;
  if (i < 0) return nullptr;
  if (i >= static_cast<int>(registered().size()))
    throw std::invalid_argument("no loss of kind " + std::to_string(static_cast<int>(kind)));
  return &registered()[i];
}

}  // namespace

std::vector<std::string> loss_names() {
  std::vector<std::string> out = {"mse", "gaussian_nll"};
  for (const auto& e : registered()) out.push_back(e.name);
  return out;
}

LossKind register_loss(LossEntry entry) {
  for (const auto& name : loss_names())
    if (name == entry.name)
      throw std::invalid_argument("a loss named '" + entry.name + "' is registered already");
  if (entry.name.empty() || !entry.output_size || !entry.target_size || !entry.evaluate)
    throw std::invalid_argument("a loss needs a name, output_size, target_size and evaluate");
  registered().push_back(std::move(entry));
  return static_cast<LossKind>(kBuiltIn + static_cast<int>(registered().size()) - 1);
}

LossKind parse_loss(const std::string& name) {
  if (name == "mse") return LossKind::mse;
  if (name == "gaussian_nll") return LossKind::gaussian_nll;
  for (std::size_t i = 0; i < registered().size(); ++i)
    if (registered()[i].name == name) return static_cast<LossKind>(kBuiltIn + static_cast<int>(i));
  std::string names;
  for (const auto& n : loss_names()) names += (names.empty() ? "'" : ", '") + n + "'";
  throw std::invalid_argument("loss must be one of " + names + ", got '" + name + "'");
}

std::string loss_name(LossKind kind) {
  if (const LossEntry* e = entry_of(kind)) return e->name;
  return kind == LossKind::mse ? "mse" : "gaussian_nll";
}

long loss_output_size(LossKind kind, long d) {
  if (const LossEntry* e = entry_of(kind)) return e->output_size(d);
  return kind == LossKind::mse ? d : d + d * (d + 1) / 2;
}

long loss_target_size(LossKind kind, long outputs) {
  if (const LossEntry* e = entry_of(kind)) return e->target_size(outputs);
  if (kind == LossKind::mse) return outputs;
  for (long d = 1; d <= outputs; ++d)
    if (d + d * (d + 1) / 2 == outputs) return d;
  throw std::invalid_argument("gaussian_nll needs D + D(D+1)/2 outputs (2, 5, 9, 14, ...), got " +
                              std::to_string(outputs));
}

double MSELoss::evaluate(const float* y, const float* t, float* dy, long n, long d,
                         double normalizer) const {
  const double scale = 1.0 / (normalizer * static_cast<double>(d));
  const float g = static_cast<float>(2.0 * scale);
  double sum = 0.0;
  for (long i = 0; i < n * d; ++i) {
    const float r = y[i] - t[i];
    sum += static_cast<double>(r) * r;
    if (dy) dy[i] = g * r;
  }
  return sum * scale;
}

// Per sample, with r = t − μ, z = L⁻¹ r (forward substitution) and w = L⁻ᵀ z:
//   f = ½ zᵀz + Σ log L_ii + (D/2) log 2π,
//   ∂f/∂μ = −w,  ∂f/∂L_ij = −w_i z_j (i > j),  ∂f/∂L_ii = −w_i z_i + 1/L_ii, and the
//   log-parameterised diagonal multiplies the latter by L_ii.
double GaussianNLLLoss::evaluate(const float* y, const float* t, float* dy, long n, long d,
                                 double normalizer) const {
  const long dout = loss_output_size(LossKind::gaussian_nll, d);
  const double log_2pi = std::log(2.0 * M_PI);
  double L[16 * 16], z[16], w[16];
  if (d > 16)
    throw std::invalid_argument("gaussian_nll supports at most 16 targets, got " +
                                std::to_string(d));
  double total = 0.0;
  for (long s = 0; s < n; ++s) {
    const float* ys = y + s * dout;
    const float* ts = t + s * d;
    const float* tri = ys + d;
    double log_det = 0.0;
    for (long i = 0, k = 0; i < d; ++i)
      for (long j = 0; j <= i; ++j, ++k) {
        if (i == j) {
          L[i * d + j] = std::exp(static_cast<double>(tri[k]));
          log_det += tri[k];
        } else {
          L[i * d + j] = tri[k];
        }
      }
    for (long i = 0; i < d; ++i) {  // z = L⁻¹ (t − μ)
      double acc = static_cast<double>(ts[i]) - ys[i];
      for (long j = 0; j < i; ++j) acc -= L[i * d + j] * z[j];
      z[i] = acc / L[i * d + i];
    }
    for (long i = d - 1; i >= 0; --i) {  // w = L⁻ᵀ z
      double acc = z[i];
      for (long j = i + 1; j < d; ++j) acc -= L[j * d + i] * w[j];
      w[i] = acc / L[i * d + i];
    }
    double q = 0.0;
    for (long i = 0; i < d; ++i) q += z[i] * z[i];
    total += 0.5 * q + log_det + 0.5 * static_cast<double>(d) * log_2pi;
    if (dy) {
      float* g = dy + s * dout;
      for (long i = 0; i < d; ++i) g[i] = static_cast<float>(-w[i] / normalizer);
      for (long i = 0, k = 0; i < d; ++i)
        for (long j = 0; j <= i; ++j, ++k) {
          const double dl = -w[i] * z[j];
          const double v = i == j ? (dl + 1.0 / L[i * d + i]) * L[i * d + i] : dl;
          g[d + k] = static_cast<float>(v / normalizer);
        }
    }
  }
  return total / normalizer;
}

double evaluate_loss(LossKind kind, const float* y, const float* t, float* dy, long n, long d,
                     double normalizer) {
  if (kind == LossKind::mse) return MSELoss{}.evaluate(y, t, dy, n, d, normalizer);
  if (const LossEntry* e = entry_of(kind)) return e->evaluate(y, t, dy, n, d, normalizer);
  return GaussianNLLLoss{}.evaluate(y, t, dy, n, d, normalizer);
}

}  // namespace fhn_inverse::nn
