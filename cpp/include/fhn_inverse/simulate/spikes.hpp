// Spike statistics of observed series (spec/paper.md, "Reference data").
// A spike is an upward crossing of the threshold between grid points k−1 and k
// (u[k−1] < thr ≤ u[k]) after which u stays ≥ thr on at least `min_points` consecutive grid
// points (u[k], …, u[k+min_points−1]). A single excursion that never returns below the threshold
// is the excited steady state, not a spike.
// Rate = count / (t_last − t_first) · time_units_per_second (time in ms: 1000).
// Duration (our convention): mean over spikes of the time above the threshold, crossings located
// by linear interpolation between grid points, cut at the window's end; 0 without spikes, and the
// window length for the excited steady state.
// Shapes: u (N, L) row-major, t (L); outputs (N).
#pragma once

#include <Eigen/Core>
#include <vector>

#include "fhn_inverse/simulate/simulator.hpp"

namespace fhn_inverse::simulate {

struct SpikeStatistics {
  Eigen::VectorXi count;     // (N)
  Eigen::VectorXd rate;      // (N) spikes per second
  Eigen::VectorXd duration;  // (N) mean spike duration, time units of t
};

// n_threads in [0, kMaxThreads] (0 = all cores; parallel.hpp); throws Interrupted when the
// interrupt hook answers true (interrupt.hpp). Thread-count independent.
SpikeStatistics spike_statistics(const RowMatrixRef& u, const std::vector<double>& t,
                                 double threshold = 0.5, int min_points = 3,
                                 double time_units_per_second = 1000.0, int n_threads = 0);

}  // namespace fhn_inverse::simulate
