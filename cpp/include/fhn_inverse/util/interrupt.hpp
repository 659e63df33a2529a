// Cooperative interruption of long batch loops (Ctrl-C from Python). The core knows nothing of
// Python: a host (the bindings) installs a hook that answers "has the user asked to stop?".
// A batch call polls it through an InterruptPoll between work items — only on the calling
// thread (OpenMP thread 0, the one a host can answer for), at most every kInterruptInterval —
// and once the hook answers true every thread skips its remaining items and the call throws
// Interrupted after its parallel region. Polling only skips work: a call that is not interrupted
// returns exactly what it returned without polling. Without a hook nothing is ever interrupted.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>

namespace fhn_inverse {

// Thrown by a batch call whose interrupt hook answered true. The call's outputs are discarded;
// every object it used (networks, plans, options) stays valid and usable.
class Interrupted : public std::exception {
 public:
  const char* what() const noexcept override { return "interrupted"; }
};

// Answers true when the current call should stop. Runs on the calling thread only, while the
// other threads keep working; it must not throw.
using InterruptHook = bool (*)() noexcept;

// Polls call the hook at most once per interval, so a call pays for at most one hook call per
// interval, and a call shorter than one interval never calls it.
inline constexpr std::chrono::milliseconds kInterruptInterval{25};

// Installs the process-wide hook (nullptr removes it) and its polling interval; returns the
// previous hook. Calls already running keep the hook they started with.
InterruptHook set_interrupt_hook(InterruptHook hook,
                                 std::chrono::nanoseconds interval = kInterruptInterval) noexcept;
InterruptHook interrupt_hook() noexcept;

// One per batch call, shared by the threads of its parallel region:
//   InterruptPoll poll;
//   #pragma omp parallel for
//   for (i ...) { if (poll.stop()) continue; work(i); }
//   poll.check();  // outside the region: throws Interrupted when stopped
class InterruptPoll {
 public:
  InterruptPoll() noexcept;
  // Any thread, per work item: true once the hook has answered true. Thread 0 calls the hook
  // when the interval since its last call (or since construction) has passed.
  bool stop() noexcept;
  // Throws Interrupted when stop() has answered true; call outside parallel regions.
  void check() const;

 private:
  InterruptHook hook_;
  std::chrono::nanoseconds interval_;
  std::atomic<bool> stopped_{false};
  std::chrono::steady_clock::time_point next_;  // touched by thread 0 only
};

}  // namespace fhn_inverse
