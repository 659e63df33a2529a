// The default team size: other processes' running threads read from /proc/stat.
#include <gtest/gtest.h>
#include <omp.h>

#include <string>

#include "fhn_inverse/util/parallel.hpp"

using fhn_inverse::available_threads;
using fhn_inverse::other_running_threads;

TEST(Parallel, OtherRunningThreadsParsesProcStat) {
  const std::string stat =
      "cpu  2255 34 2290 22625563 6290 127 456 0 0 0\n"
      "cpu0 1132 34 1441 11311718 3675 127 438 0 0 0\n"
      "intr 114930548 113199788 3 0 5 263 0 4 [... many more]\n"
      "ctxt 1990473\nbtime 1062191376\nprocesses 2915\nprocs_running 5\nprocs_blocked 0\n";
  EXPECT_EQ(other_running_threads(stat, 2), 3);
  EXPECT_EQ(other_running_threads(stat, 5), 0);
  EXPECT_EQ(other_running_threads(stat, 9), 0);  // never negative
  EXPECT_EQ(other_running_threads("cpu 1 2 3\nprocesses 7\n", 1), -1);
  EXPECT_EQ(other_running_threads("", 1), -1);
}

TEST(Parallel, AvailableThreadsIsWithinTheCores) {
  const int cores = std::min(omp_get_num_procs(), fhn_inverse::kMaxThreads);
  for (int i = 0; i < 3; ++i) {
    const int n = available_threads();
    EXPECT_GE(n, 1);
    EXPECT_LE(n, cores);
    const int r = fhn_inverse::resolve_threads(0);
    EXPECT_GE(r, 1);
    EXPECT_LE(r, cores);
  }
  EXPECT_EQ(fhn_inverse::resolve_threads(3), 3);
}
