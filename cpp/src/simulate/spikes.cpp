// Spike counting, rate and duration; see spikes.hpp for the rule and the conventions.
#include "fhn_inverse/simulate/spikes.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "fhn_inverse/util/interrupt.hpp"
#include "fhn_inverse/util/parallel.hpp"

namespace fhn_inverse::simulate {
namespace {

struct RowStatistics {
  int count = 0;
  double duration = 0.0;
};

// Time where the segment (t0, u0)–(t1, u1) crosses thr.
double crossing(double t0, double u0, double t1, double u1, double thr) {
  return t0 + (thr - u0) / (u1 - u0) * (t1 - t0);
}

RowStatistics row_statistics(const double* u, const std::vector<double>& t, double thr,
                             int min_points) {
  const long L = static_cast<long>(t.size());
  RowStatistics s;
  double total = 0.0;
  int excursions = 0;
  bool last_excursion_open = false;
  for (long k = 1; k < L; ++k) {
    if (!(u[k - 1] < thr && u[k] >= thr)) continue;
    ++excursions;
    long end = k;  // first index back below thr, or L
    while (end < L && u[end] >= thr) ++end;
    last_excursion_open = end == L;
    if (end - k < min_points) continue;
    const double t_up = crossing(t[k - 1], u[k - 1], t[k], u[k], thr);
    const double t_down =
        end < L ? crossing(t[end - 1], u[end - 1], t[end], u[end], thr) : t[L - 1];
    ++s.count;
    total += t_down - t_up;
    k = end;
  }
  const bool starts_above = L > 0 && u[0] >= thr;
  if (excursions == 1 && last_excursion_open && s.count == 1) {
    s.count = 0;  // a single excursion that never returns: the excited steady state
    total = 0.0;
  }
  if (s.count > 0) {
    s.duration = total / s.count;
  } else if ((excursions == 1 && last_excursion_open) || (excursions == 0 && starts_above)) {
    s.duration = t[L - 1] - t[0];
  }
  return s;
}

}  // namespace

SpikeStatistics spike_statistics(const RowMatrixRef& u, const std::vector<double>& t,
                                 double threshold, int min_points, double time_units_per_second,
                                 int n_threads) {
  const Eigen::Index N = u.rows();
  if (N < 1) throw std::invalid_argument("u must hold at least 1 series, got 0");
  if (static_cast<std::size_t>(u.cols()) != t.size() || t.size() < 2)
    throw std::invalid_argument("t must have the series length " + std::to_string(u.cols()) +
                                " (>= 2), got " + std::to_string(t.size()));
  for (std::size_t k = 1; k < t.size(); ++k)
    if (!(t[k] > t[k - 1]))
      throw std::invalid_argument("t must be strictly increasing, but t[" + std::to_string(k) +
                                  "] = " + std::to_string(t[k]));
  if (!std::isfinite(threshold))
    throw std::invalid_argument("threshold must be finite, got " + std::to_string(threshold));
  if (min_points < 1)
    throw std::invalid_argument("min_points must be >= 1, got " + std::to_string(min_points));
  if (!(time_units_per_second > 0.0))
    throw std::invalid_argument("time_units_per_second must be > 0, got " +
                                std::to_string(time_units_per_second));
  const int threads = team_size(resolve_threads(n_threads), N);
  SpikeStatistics out{Eigen::VectorXi(N), Eigen::VectorXd(N), Eigen::VectorXd(N)};
  const double window = t.back() - t.front();
  InterruptPoll poll;
#pragma omp parallel for schedule(static) num_threads(threads)
  for (Eigen::Index i = 0; i < N; ++i) {
    if (poll.stop()) continue;
    const RowStatistics s = row_statistics(u.row(i).data(), t, threshold, min_points);
    out.count[i] = s.count;
    out.rate[i] = s.count / window * time_units_per_second;
    out.duration[i] = s.duration;
  }
  poll.check();
  return out;
}

}  // namespace fhn_inverse::simulate
