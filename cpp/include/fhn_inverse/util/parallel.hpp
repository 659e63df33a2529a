// Thread-count handling shared by every OpenMP entry point (simulation, noise, spikes, features,
// networks, training): one accepted range, 0 <= n_threads <= kMaxThreads, 0 meaning all cores.
// The bound keeps a request within what the OpenMP runtime can start: libgomp ends the whole
// process when it cannot create a thread, and a team of 10^5 threads crashes it.
#pragma once

#include <omp.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace fhn_inverse {

// Largest accepted thread count: above the hardware threads of today's largest nodes, far below
// the runtime's limits (the tests start a team of this size).
inline constexpr int kMaxThreads = 1024;

// n_threads as an int; throws std::invalid_argument unless 0 <= n_threads <= kMaxThreads.
inline int check_threads(long long n_threads) {
  if (n_threads < 0 || n_threads > kMaxThreads)
    throw std::invalid_argument("n_threads must be in [0, " + std::to_string(kMaxThreads) +
                                "] (0 = all cores), got " + std::to_string(n_threads));
  return static_cast<int>(n_threads);
}

// Threads of other processes that are running or runnable, from the text of /proc/stat
// ("procs_running": every running or runnable thread of the machine) less this process's own
// running threads (own_running, counted in it); 0 if it is smaller, -1 if the line is missing.
int other_running_threads(const std::string& proc_stat, int own_running);

// The cores a default team should use now: the cores this process may run on
// (omp_get_num_procs, at most kMaxThreads) less the threads other processes keep running, at
// least 1. Measured from /proc at most every 250 ms (Linux; elsewhere every core). A team that
// counts on cores another process holds waits at every synchronisation for its descheduled
// threads; one that leaves them runs at its full one-thread speed per thread.
// FHN_INVERSE_ADAPTIVE_THREADS=0 in the environment (read once) turns this off: every core.
int available_threads();

// The team size for n_threads (checked as above): 0 → the cores available now
// (available_threads), else n_threads. Results never depend on the team size.
inline int resolve_threads(long long n_threads) {
  return check_threads(n_threads) == 0 ? available_threads() : static_cast<int>(n_threads);
}

// A team never larger than its number of work items (the results do not depend on the team size).
inline int team_size(int threads, long long items) {
  return static_cast<int>(std::max(1LL, std::min(static_cast<long long>(threads), items)));
}

}  // namespace fhn_inverse
