// The process-wide interrupt hook and the per-call poll; see interrupt.hpp.
#include "fhn_inverse/util/interrupt.hpp"

#include <omp.h>

namespace fhn_inverse {
namespace {

std::atomic<InterruptHook> hook_slot{nullptr};
std::atomic<long long> interval_ns{std::chrono::nanoseconds(kInterruptInterval).count()};

}  // namespace

InterruptHook set_interrupt_hook(InterruptHook hook, std::chrono::nanoseconds interval) noexcept {
  interval_ns.store(interval.count());
  return hook_slot.exchange(hook);
}

InterruptHook interrupt_hook() noexcept { return hook_slot.load(); }

InterruptPoll::InterruptPoll() noexcept
    : hook_(hook_slot.load()),
      interval_(interval_ns.load()),
      next_(std::chrono::steady_clock::now() + interval_) {}

bool InterruptPoll::stop() noexcept {
  if (stopped_.load(std::memory_order_relaxed)) return true;
  if (hook_ == nullptr || omp_get_thread_num() != 0) return false;
  if (std::chrono::steady_clock::now() < next_) return false;
  if (!hook_()) {
    next_ = std::chrono::steady_clock::now() + interval_;
    return false;
  }
  stopped_.store(true, std::memory_order_relaxed);
  return true;
}

void InterruptPoll::check() const {
  if (stopped_.load(std::memory_order_relaxed)) throw Interrupted();
}

}  // namespace fhn_inverse
