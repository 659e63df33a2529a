// Losses on network outputs y (N, Dout) and targets t (N, D), row-major.
// evaluate() returns the loss of n rows, each row's contribution divided by `normalizer`
// (pass the whole batch's size so that chunks of a batch add up to the batch mean), and, when
// dy is not null, WRITES dy = ∂loss/∂y for those rows. Sums are accumulated in double.
//   MSE:          mean over all N·D values of (y − t)² (PyTorch's MSELoss, reduction "mean").
//   Gaussian NLL: y = [μ (D), the D(D+1)/2 entries of a lower-triangular L row by row:
//                 (0,0), (1,0), (1,1), (2,0), …], diagonal stored as log L_ii; Σ = L Lᵀ;
//                 per sample ½‖L⁻¹(t − μ)‖² + Σ_i log L_ii + (D/2) log 2π, mean over N.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fhn_inverse/nn/tensor.hpp"

namespace fhn_inverse::nn {

// The built-in losses; registered losses (register_loss) take the values after them.
enum class LossKind : int { mse, gaussian_nll };

// A loss besides the built-in ones: its name, the network outputs it needs for D targets, the
// targets it reads for Dout outputs (throws std::invalid_argument when Dout fits no D), and its
// evaluate, as MSELoss::evaluate. One file defines it and calls register_loss once (for
// instance from a static initialiser), before training with it; not thread-safe.
struct LossEntry {
  std::string name;
  std::function<long(long targets)> output_size;
  std::function<long(long outputs)> target_size;
  std::function<double(const float* y, const float* t, float* dy, long n, long d,
                       double normalizer)>
      evaluate;
};
// Registers `entry` and returns its kind; throws for a name that is taken or an empty function.
LossKind register_loss(LossEntry entry);
// Every loss's name: the built-in ones, then the registered ones in order.
std::vector<std::string> loss_names();

LossKind parse_loss(const std::string& name);  // "mse" | "gaussian_nll" | a registered name
std::string loss_name(LossKind kind);
// Network outputs the loss needs for D targets: D (MSE) or D + D(D+1)/2 (Gaussian NLL).
long loss_output_size(LossKind kind, long targets);
// Targets the loss reads for Dout network outputs; throws when Dout fits no D.
long loss_target_size(LossKind kind, long outputs);

struct MSELoss {
  double evaluate(const float* y, const float* t, float* dy, long n, long d,
                  double normalizer) const;
};

struct GaussianNLLLoss {
  double evaluate(const float* y, const float* t, float* dy, long n, long d,
                  double normalizer) const;
};

// Dispatch on kind; d = number of targets.
double evaluate_loss(LossKind kind, const float* y, const float* t, float* dy, long n, long d,
                     double normalizer);

}  // namespace fhn_inverse::nn
