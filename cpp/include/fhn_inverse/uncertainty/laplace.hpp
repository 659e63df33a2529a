// Local Gaussians N(θ̄, C) by the Laplace approximation (spec/paper.md, "Local Gaussians"):
//   C = H⁻¹,   H = Jᵀ Γ⁻¹ J + Γpr⁻¹   (Gauss–Newton; the exact Hessian on noise-free data at θ̄),
// J the forward sensitivities of the observed series (sensitivities.hpp), Γpr⁻¹ the prior's
// precision and Γ the covariance of stationary AR(1) noise with standard deviation s and lag-1
// correlation ρ, Γ_jk = s² ρ^|j−k|. Its precision is O(n) through the whitening W:
//   Γ⁻¹ = Wᵀ W / s_ε²,   s_ε² = s² (1 − ρ²),   (Wx)_0 = √(1 − ρ²) x_0,   (Wx)_k = x_k − ρ x_{k−1},
// so Wη has i.i.d. N(0, s_ε²) entries and Jᵀ Γ⁻¹ J = (WJ)ᵀ(WJ) / s_ε². The same W turns a
// least-squares fit into the generalised least squares of AR(1) noise.
// Shapes: theta (N, P); s, rho (N); information and cov (N, P·P) row-major, i.e. (N, P, P).
// A model observing K quantities (simulate/observation.hpp) takes s, rho (N·K), row-major (N, K):
// the channels' noises are independent, so the information sums their terms.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fhn_inverse/models/list.hpp"
#include "fhn_inverse/simulate/free_set.hpp"
#include "fhn_inverse/simulate/simulator.hpp"

namespace fhn_inverse::uncertainty {

using simulate::RowMatrix;

// out = W x for one series of length n (out may be x itself).
void ar1_whiten(const double* x, std::size_t n, double rho, double* out);

// Every row i of X (N, L) whitened with rho[i]. Validates ρ ∈ (−1, 1) and finite X.
RowMatrix ar1_whiten_rows(const RowMatrix& X, const Eigen::VectorXd& rho, int n_threads = 0);

struct LaplaceResult {
  RowMatrix information;            // (N, P·P): Jᵀ Γ⁻¹ J, the data's Fisher information
  RowMatrix cov;                    // (N, P·P): (information + prior_precision)⁻¹; NaN if that
                                    // is not positive definite or the trajectory failed
  std::vector<std::int8_t> status;  // (N) simulate::Status of the sensitivity integration
};

// Laplace covariances at every θ of theta (N, P), one trajectory with sensitivities per sample;
// J is never stored (H accumulates while integrating). s > 0 and ρ ∈ (−1, 1) per sample;
// prior_precision (P × P) symmetric positive semi-definite (zero: no prior term).
// A template on the model, instantiated for every model of models/list.hpp.
template <class Model>
LaplaceResult laplace_batch(const Model& model, const RowMatrix& theta,
                            const simulate::SimulatorOptions& options, const Eigen::VectorXd& s,
                            const Eigen::VectorXd& rho, const Eigen::MatrixXd& prior_precision,
                            int n_threads = 0);

namespace detail {
// The checks of laplace_batch's arguments for P quantities, and that the prior precision is
// positive semi-definite: std::invalid_argument naming the value.
// s and rho hold channels values per sample (row-major (N, channels): one per observed quantity).
void validate_laplace_arguments(const RowMatrix& theta, std::size_t P, const Eigen::VectorXd& s,
                                const Eigen::VectorXd& rho, const Eigen::MatrixXd& prior_precision,
                                std::size_t channels = 1);
void check_semi_definite(const Eigen::MatrixXd& prior_precision);
}  // namespace detail

// The same for rows z (N, k) of a free set (simulate/free_set.hpp): covariances (N, k·k) of the
// free quantities, prior_precision k × k. The default free set is laplace_batch itself.
template <class Model>
LaplaceResult laplace_free(const Model& base, const simulate::FreeSet& free, const RowMatrix& z,
                           const simulate::SimulatorOptions& options, const Eigen::VectorXd& s,
                           const Eigen::VectorXd& rho, const Eigen::MatrixXd& prior_precision,
                           int n_threads = 0);

}  // namespace fhn_inverse::uncertainty
