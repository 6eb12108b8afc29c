#include "signal_relay.hpp"

#include <signal.h>

#include <atomic>
#include <cstdint>

namespace uredis::lock_tool {
namespace {

// One bit per signal number; lock-free atomics are safe to touch from a handler.
std::atomic<std::uint64_t> pending{0};
std::atomic<std::uint64_t> from_tty{0};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

constexpr int relayed[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};

void on_signal(int sig, siginfo_t* info, void*) {
  const std::uint64_t bit = std::uint64_t{1} << sig;
  // The kernel sends the terminal's signals (SI_KERNEL); kill(2) says SI_USER or SI_QUEUE.
  if (info != nullptr && info->si_code == SI_KERNEL)
    from_tty.fetch_or(bit, std::memory_order_relaxed);
  else
    from_tty.fetch_and(~bit, std::memory_order_relaxed);
  pending.fetch_or(bit, std::memory_order_release);
}

}  // namespace

void install_signal_relay() {
  struct sigaction sa {};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : relayed)
    ::sigaction(sig, &sa, nullptr);
}

std::optional<caught_signal> take_signal() noexcept {
  for (int sig : relayed) {
    const std::uint64_t bit = std::uint64_t{1} << sig;
    if ((pending.fetch_and(~bit, std::memory_order_acquire) & bit) != 0)
      return caught_signal{sig, (from_tty.load(std::memory_order_relaxed) & bit) != 0};
  }
  return std::nullopt;
}

}  // namespace uredis::lock_tool
