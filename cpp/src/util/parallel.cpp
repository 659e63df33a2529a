#include "fhn_inverse/util/parallel.hpp"

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace fhn_inverse {

int other_running_threads(const std::string& proc_stat, int own_running) {
  std::istringstream in(proc_stat);
  std::string key;
  long long value = 0;
  while (in >> key) {
    if (key == "procs_running" && (in >> value)) {
      const long long others = value - own_running;
      return static_cast<int>(std::clamp(others, 0LL, static_cast<long long>(kMaxThreads)));
    }
    in.ignore(1 << 20, '\n');
  }
  return -1;
}

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream text;
  text << f.rdbuf();
  return text.str();
}

// This process's threads in state R (running or runnable), from /proc/self/task/*/stat: the
// state is the first field after the command name's closing parenthesis. (POSIX opendir rather
// than std::filesystem, which would raise the portable wheel's libstdc++ floor to GCC 9's.)
int own_running_threads() {
  int running = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return 0;
  while (const dirent* task = readdir(dir)) {
    if (task->d_name[0] == '.') continue;
    const std::string stat = read_file(std::string("/proc/self/task/") + task->d_name + "/stat");
    const auto close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'R') ++running;
  }
  closedir(dir);
  return running;
}

int measure(int cores) {
#ifdef __linux__
  const int others = other_running_threads(read_file("/proc/stat"), own_running_threads());
  if (others >= 0) return std::clamp(cores - others, 1, cores);
#endif
  return cores;
}

}  // namespace

int available_threads() {
  // FHN_INVERSE_ADAPTIVE_THREADS=0 in the environment: every core, whatever else runs
  static const bool adaptive = [] {
    const char* v = std::getenv("FHN_INVERSE_ADAPTIVE_THREADS");
    return v == nullptr || std::string(v) != "0";
  }();
  if (!adaptive) return std::min(omp_get_num_procs(), kMaxThreads);
  using clock = std::chrono::steady_clock;
  constexpr long long kPeriodNs = 250'000'000;  // a fresh measurement at most every 250 ms
  static std::atomic<long long> next_ns{0};
  static std::atomic<int> cached{0};
  const int cores = std::min(omp_get_num_procs(), kMaxThreads);
  const long long now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
  long long due = next_ns.load(std::memory_order_relaxed);
  if (now >= due && next_ns.compare_exchange_strong(due, now + kPeriodNs))
    cached.store(measure(cores),
                 std::memory_order_relaxed);  // one caller measures; the others reuse
  const int value = cached.load(std::memory_order_relaxed);
  return value > 0 ? std::min(value, cores) : cores;
}

}  // namespace fhn_inverse
