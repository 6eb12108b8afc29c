#include "uredis/reactor/reactor.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "io/buffer_ring.hpp"
#include "io/user_data.hpp"
#include "uredis/reactor/resolver.hpp"

namespace uredis::reactor {
namespace {

// The reactor current() names on each thread. Set by the first reactor a thread creates, cleared
// when that reactor dies, so a private reactor made later on the same thread (the blocking
// client's) does not take the shard's place.
thread_local reactor* current_reactor = nullptr;

}  // namespace

result<std::unique_ptr<reactor>> reactor::create(const reactor_options& options) {
  io::ring_options ring_options;
  ring_options.entries = options.ring_entries;
  auto ring = io::ring::create(ring_options);
  if (!ring) return ring.error();
  std::unique_ptr<reactor> r(new reactor(std::move(*ring), options));
  if (options.mailbox_senders > 0) {
    auto inbox = mailbox::create(options.mailbox_senders);
    if (!inbox) return inbox.error();
    r->owned_inbox_ = std::move(*inbox);
    r->inbox_ = r->owned_inbox_.get();
  }
  return finish_create(std::move(r));
}

result<std::unique_ptr<reactor>> reactor::create(const reactor_options& options, mailbox& inbox) {
  io::ring_options ring_options;
  ring_options.entries = options.ring_entries;
  auto ring = io::ring::create(ring_options);
  if (!ring) return ring.error();
  std::unique_ptr<reactor> r(new reactor(std::move(*ring), options));
  r->inbox_ = &inbox;
  return finish_create(std::move(r));
}

result<std::unique_ptr<reactor>> reactor::finish_create(std::unique_ptr<reactor> r) {
  // Multishot recv needs both features; without them connections read into their own buffer.
  const io::ring_features& f = r->ring_.features();
  if (f.provided_buffer_ring && f.multishot_recv) {
    auto buffers = io::buffer_ring::create(r->ring_, r->options_.receive_buffers);
    if (!buffers) return buffers.error();
    r->buffers_ = std::make_unique<io::buffer_ring>(std::move(*buffers));
  }
  if (r->inbox_ != nullptr) r->arm_wake();
  if (current_reactor == nullptr) current_reactor = r.get();
  return r;
}

reactor::reactor(io::ring ring, const reactor_options& options)
    : ring_(std::move(ring)),
      options_(options),
      timers_(options.clock != nullptr ? *options.clock : util::default_clock()),
      targets_(64) {}

reactor::~reactor() {
  destroy_retired();
  if (dependents_ != 0) {
    // A connection still alive would touch this reactor when it goes: a use-after-free that
    // shows up far from its cause. Say what happened and how to fix it, then stop.
    std::fprintf(stderr,
                 "uredis: a reactor is being destroyed while %zu connection(s) built on it are "
                 "still alive. Destroy every connection (client, subscriber, blocking_client) "
                 "before its reactor; on a runtime, create them with runtime::make_local() or "
                 "destroy them in a runtime::at_stop() handler.\n",
                 dependents_);
    std::abort();
  }
  resolver_.reset();  // after the retired connections, whose lookups it would cancel
  if (current_reactor == this) current_reactor = nullptr;
  to_flush_.clear();
}

void reactor::destroy_retired() noexcept {
  while (!retired_.empty()) {
    retirable& r = retired_.front();
    retired_.pop_front();
    delete &r;
  }
}

resolver& reactor::name_resolver() {
  if (!resolver_) resolver_ = std::make_unique<resolver>(*this);
  return *resolver_;
}

void reactor::set_name_resolver(std::unique_ptr<resolver> r) noexcept {
  resolver_ = std::move(r);
}

reactor* reactor::current() noexcept {
  return current_reactor;
}

std::uint64_t reactor::attach(io_target& target) {
  return targets_.insert(&target);
}

void reactor::detach(std::uint64_t target_id) noexcept {
  targets_.erase(target_id);
}

void reactor::flush_all() {
  // A flush may schedule another (it never does today, but a send completing inline could):
  // take the list as it is now.
  while (!to_flush_.empty()) {
    flushable& f = to_flush_.front();
    to_flush_.pop_front();
    f.flush();
  }
}

void reactor::arm_wake() noexcept {
  io_uring_sqe* sqe = ring_.get_sqe();
  // No room: the next turn tries again, and does not sleep meanwhile (no doorbell to wake it).
  if (sqe == nullptr) return;
  if (wake_by_poll_) {
    io_uring_prep_poll_add(sqe, inbox_->wake_fd(), POLLIN);
    io_uring_sqe_set_data64(sqe, io::encode_user_data(wake_poll_id, io::op::wake));
  } else {
    // The offset is ignored: an eventfd is not seekable.
    io_uring_prep_read(sqe, inbox_->wake_fd(), &wake_count_, sizeof wake_count_, 0);
    io_uring_sqe_set_data64(sqe, io::encode_user_data(wake_read_id, io::op::wake));
  }
  wake_armed_ = true;
}

void reactor::on_wake(const io_uring_cqe& cqe) noexcept {
  const std::uint64_t id = io::decode_slot_id(cqe.user_data);
  if (id != wake_read_id && id != wake_poll_id) return;  // a MSG_RING doorbell: nothing to re-arm
  wake_armed_ = false;
  if (cqe.res >= 0) {
    ++wake_ups_;
    // After a poll the counter is still set: reset it, or the next poll fires at once.
    if (id == wake_poll_id) inbox_->reset_wake();
  } else if (cqe.res == -EAGAIN && id == wake_read_id) {
    // This kernel does not park a read on a non-blocking eventfd (see the header).
    wake_by_poll_ = true;
  }
  // Any other error (-ECANCELED, -EINTR) just re-arms; the tasks are drained next turn anyway.
  arm_wake();
}

std::size_t reactor::reap() {
  return ring_.for_each_cqe([this](const io_uring_cqe& cqe) {
    const io::op op = io::decode_op(cqe.user_data);
    if (op == io::op::probe) return;  // the ring's own start-up probe, finished late
    if (op == io::op::wake) return on_wake(cqe);
    io_target** target = targets_.find(io::decode_slot_id(cqe.user_data));
    if (target == nullptr) {
      // Its owner is gone; the operation finished without it. A receive buffer it carried
      // still has to go back to the kernel.
      ++dropped_;
      if (const auto bid = io::buffer_id(cqe); bid && buffers_) buffers_->recycle(*bid);
      return;
    }
    ++completions_;
    (*target)->on_completion(op, cqe);
  });
}

void reactor::submit(bool wait) {
  // Push-back (-EBUSY/-EAGAIN/-EINTR) comes back from the ring as success with nothing
  // submitted: the SQEs stay queued and the next turn retries. Anything else is fatal.
  result<unsigned> status = 0u;
  if (!wait) {
    status = ring_.submit();
  } else {
    // Sleep until a completion (one more than the quiet ones, during their grace) or the
    // earliest timer, whichever comes first.
    unsigned completions = 1;
    std::optional<util::clock::duration> timeout = time_to_next_timer();
    if (quiet_ > 0) {
      const auto now = std::chrono::steady_clock::now();
      if (quiet_since_ == std::chrono::steady_clock::time_point{}) quiet_since_ = now;
      const auto grace_left = quiet_since_ + quiet_grace - now;
      if (grace_left > grace_left.zero()) {
        completions += quiet_;
        const auto left = std::chrono::duration_cast<util::clock::duration>(grace_left);
        timeout = timeout ? std::min(*timeout, left) : left;
      }
    }
    if (!timeout)
      status = ring_.submit_and_wait(completions);
    else if (*timeout > util::clock::duration::zero())
      status = ring_.submit_and_wait(completions, *timeout);
    else
      status = ring_.submit();
  }
  if (!status && !error_) error_ = status.error();
}

std::optional<util::clock::duration> reactor::time_to_next_timer() const noexcept {
  const auto deadline = timers_.next_deadline();
  if (!deadline) return std::nullopt;
  return *deadline - timers_.now();
}

std::size_t reactor::turn(bool may_block, bool in_run) {
  if (inbox_ != nullptr) inbox_->drain();
  flush_all();
  if (inbox_ != nullptr && !wake_armed_) arm_wake();
  // Block only when nothing is queued for the next turn, nothing is ready now, a drained task
  // did not stop run(), the ring is healthy, and (with a mailbox) a post can wake us.
  bool wait =
      may_block && to_flush_.empty() && ring_.cq_ready() == 0 && !(in_run && stopping_) && !error_;
  if (wait && inbox_ != nullptr) wait = wake_armed_ && inbox_->begin_sleep();
  submit(wait);
  if (wait && inbox_ != nullptr) inbox_->end_sleep();
  const std::size_t handled = reap();
  timers_.advance();  // what the timers queue is flushed at the start of the next turn
  destroy_retired();
  return handled;
}

std::size_t reactor::poll() {
  const std::size_t handled = turn(/*may_block=*/false, /*in_run=*/false);
  // What the completions queued goes out now rather than a turn later.
  flush_all();
  submit(/*wait=*/false);
  return handled;
}

void reactor::run() {
  while (!stopping_ && !error_)
    turn(/*may_block=*/!options_.busy_poll, /*in_run=*/true);
  stopping_ = false;
}

}  // namespace uredis::reactor
