#include "uredis/reactor/reactor.hpp"

#include <utility>

namespace uredis::reactor {

result<std::unique_ptr<reactor>> reactor::create(const reactor_options& options) {
  io::ring_options ring_options;
  ring_options.entries = options.ring_entries;
  auto ring = io::ring::create(ring_options);
  if (!ring) return ring.error();
  std::unique_ptr<reactor> r(new reactor(std::move(*ring), options));
  // Multishot recv needs both features; without them connections read into their own buffer.
  const io::ring_features& f = r->ring_.features();
  if (f.provided_buffer_ring && f.multishot_recv) {
    auto buffers = io::buffer_ring::create(r->ring_, options.receive_buffers);
    if (!buffers) return buffers.error();
    r->buffers_.emplace(std::move(*buffers));
  }
  return r;
}

reactor::reactor(io::ring ring, const reactor_options& options)
    : ring_(std::move(ring)), options_(options), targets_(64) {}

reactor::~reactor() {
  to_flush_.clear();
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

std::size_t reactor::reap() {
  return ring_.for_each_cqe([this](const io_uring_cqe& cqe) {
    const io::op op = io::decode_op(cqe.user_data);
    if (op == io::op::probe) return;  // the ring's own start-up probe, finished late
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

std::size_t reactor::turn(bool may_block) {
  flush_all();
  // Block only when nothing is queued for the next turn and nothing is ready now.
  const bool wait = may_block && to_flush_.empty() && ring_.cq_ready() == 0;
  if (wait) {
    (void)ring_.submit_and_wait(1);
  } else {
    (void)ring_.submit();
  }
  return reap();
}

std::size_t reactor::poll() {
  const std::size_t handled = turn(false);
  // What the completions queued goes out now rather than a turn later.
  flush_all();
  (void)ring_.submit();
  return handled;
}

void reactor::run() {
  stopping_ = false;
  while (!stopping_)
    turn(!options_.busy_poll);
}

}  // namespace uredis::reactor
