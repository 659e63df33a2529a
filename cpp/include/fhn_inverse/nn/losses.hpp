// Losses on network outputs y (N, Dout) and targets t (N, D), row-major.
// evaluate() returns the loss of n rows, each row's contribution divided by `normalizer`
// (pass the whole batch's size so that chunks of a batch add up to the batch mean), and, when
// dy is not null, WRITES dy = ∂loss/∂y for those rows. Sums are accumulated in double.
//   MSE:          mean over all N·D values of (y − t)² (PyTorch's MSELoss, reduction "mean").
//   Gaussian NLL: y = [μ (D), the D(D+1)/2 entries of a lower-triangular L row by row:
//                 (0,0), (1,0), (1,1), (2,0), …], diagonal stored as log L_ii; Σ = L Lᵀ;
//                 per sample ½‖L⁻¹(t − μ)‖² + Σ_i log L_ii + (D/2) log 2π, mean over N.
#pragma once

#include <string>

#include "fhn_inverse/nn/tensor.hpp"

namespace fhn_inverse::nn {

enum class LossKind { mse, gaussian_nll };

LossKind parse_loss(const std::string& name);  // "mse" | "gaussian_nll"
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
