#include "uredis/reactor/mailbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

namespace uredis::reactor {

result<std::unique_ptr<mailbox>> mailbox::create(unsigned senders) {
  return create(senders, wake_strategy{});
}

result<std::unique_ptr<mailbox>> mailbox::create(unsigned senders, wake_strategy strategy) {
  assert(senders > 0);
  const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return std::error_code(errno, std::system_category());
  return std::unique_ptr<mailbox>(new mailbox(senders, fd, strategy));
}

mailbox::mailbox(unsigned senders, int wake_fd, wake_strategy strategy)
    : queues_(new queue[senders]), senders_(senders), wake_fd_(wake_fd), strategy_(strategy) {}

mailbox::~mailbox() {
  // queues_ destroys the unrun tasks (spsc_queue's destructor) after the fd is closed: a task's
  // destructor cannot reach this mailbox any more anyway.
  ::close(wake_fd_);
}

bool mailbox::post(unsigned sender, task&& t) noexcept {
  assert(sender < senders_);
  if (!queues_[sender].try_push(std::move(t))) return false;
  // F_p of the protocol (header): orders the tail store above before the sleeping_ load below.
  // Release/acquire alone would let the load move before the store (a store-load reordering),
  // and the owner could block on a queue it saw empty while this sender saw it awake.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // The plain load first: a busy owner costs a sender no read-modify-write on a shared line.
  if (sleeping_.load(std::memory_order_relaxed) &&
      sleeping_.exchange(false, std::memory_order_relaxed)) {
    // Relaxed is enough: the task itself is published by the queue's release/acquire, and the
    // eventfd write is only a doorbell.
    if (strategy_.wake != nullptr) {
      strategy_.wake(strategy_.context, sender);
    } else {
      wake();
    }
  }
  return true;
}

void mailbox::wake() noexcept {
  const std::uint64_t one = 1;
  // Fails only with EAGAIN when the counter would pass 2^64 - 2, which cannot happen: the owner
  // resets it on every wake-up. Nothing else to do with an error here.
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void mailbox::reset_wake() noexcept {
  std::uint64_t count;
  // EAGAIN when the counter is already zero: the fd is non-blocking, so this never waits.
  [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof count);
}

std::size_t mailbox::drain() {
  std::size_t ran = 0;
  for (unsigned s = 0; s < senders_; ++s) {
    queue& q = queues_[s];
    // Only what is queued now: size() is a lower bound for the consumer, so each of these pops
    // succeeds (unless a task drained this mailbox itself, hence the check).
    for (std::size_t n = q.size(); n > 0; --n) {
      std::optional<task> t = q.try_pop();
      if (!t) break;
      ++ran;
      (*t)();
    }
  }
  return ran;
}

bool mailbox::empty() const noexcept {
  for (unsigned s = 0; s < senders_; ++s) {
    if (!queues_[s].empty()) return false;
  }
  return true;
}

bool mailbox::begin_sleep() noexcept {
  sleeping_.store(true, std::memory_order_relaxed);
  // F_c of the protocol (header): orders the flag store before the queue loads in empty().
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (empty()) return true;
  sleeping_.store(false, std::memory_order_relaxed);
  return false;
}

}  // namespace uredis::reactor
