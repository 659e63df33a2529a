// Measurement noise. AR(1), stationary from the first grid point:
//   η_0 = σ z_0,   η_k = ρ η_{k−1} + σ √(1 − ρ²) z_k,   z_k ~ N(0, 1) i.i.d.,
// so every η_k has standard deviation σ and corr(η_k, η_{k−1}) = ρ. σ is the *stationary*
// standard deviation of η (not the innovation's); ρ = 0 is i.i.d. Gaussian noise N(0, σ²).
// Sample i uses the stream (seed, Stream::noise, first_index + i).
// Shapes: sigma, rho (N); output (N, L) row-major.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "fhn_inverse/simulate/simulator.hpp"

namespace fhn_inverse::simulate {

// Validates σ ≥ 0 finite and ρ ∈ (−1, 1) for every sample.
void validate_noise_parameters(const Eigen::VectorXd& sigma, const Eigen::VectorXd& rho);

// n_threads in [0, kMaxThreads] (0 = all cores; parallel.hpp); throws Interrupted when the
// interrupt hook answers true (interrupt.hpp). Thread-count independent.
RowMatrix ar1_noise(const Eigen::VectorXd& sigma, const Eigen::VectorXd& rho, long length,
                    std::uint64_t seed, std::uint64_t first_index = 0, int n_threads = 0);

}  // namespace fhn_inverse::simulate
