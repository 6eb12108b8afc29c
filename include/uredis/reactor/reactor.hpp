#pragma once
// reactor: one shard's event loop. It owns the io_uring, the table of everything with an
// operation in flight, and the list of connections with bytes to send this turn.
//
// One turn:
//
//   1. flush    every connection that queued bytes since the last turn prepares ONE send SQE
//               (all the commands of the turn go out together: automatic pipelining)
//   2. submit   one io_uring_enter submits the SQEs and, if nothing is ready and the caller
//               allows it, waits for the next completion
//   3. reap     each CQE goes to its target (io_target) through the slot table; a CQE whose
//               target has detached (a stale slot id: the generation differs) is dropped
//
// Completion handlers run user code (callbacks, coroutine resumes) that queues more commands:
// those are flushed at the start of the next turn, which then does not block.
//
// Threading: a reactor belongs to the thread that created it (io_uring SINGLE_ISSUER). Nothing
// here is thread-safe; cross-shard work goes through mailboxes.
//
// Embedding: poll() runs one turn without blocking, for a caller with its own busy loop;
// run() turns until stop(); with busy_poll it never sleeps in the kernel.

#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "uredis/io/buffer_ring.hpp"
#include "uredis/io/ring.hpp"
#include "uredis/io/user_data.hpp"
#include "uredis/result.hpp"
#include "uredis/util/intrusive_list.hpp"
#include "uredis/util/slot_table.hpp"

namespace uredis::reactor {

/// Anything with operations in flight on the ring.
class io_target {
 public:
  virtual void on_completion(io::op op, const io_uring_cqe& cqe) = 0;

 protected:
  ~io_target() = default;
};

/// Anything that queues bytes during a turn and sends them at its end.
class flushable {
 public:
  util::list_hook flush_hook;
  virtual void flush() = 0;

 protected:
  ~flushable() = default;
};

struct reactor_options {
  /// Submission queue size; completions get twice as many.
  unsigned ring_entries = 256;
  /// run() spins instead of sleeping in the kernel: a core for the lowest latency.
  bool busy_poll = false;
  /// The shard's receive buffers (multishot recv), when the kernel has provided-buffer rings.
  io::buffer_ring_options receive_buffers{};
};

class reactor {
 public:
  /// Sets up the ring. Fails with a clear error when io_uring is unavailable (see io/ring.hpp).
  static result<std::unique_ptr<reactor>> create(const reactor_options& options = {});

  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;
  ~reactor();

  io::ring& ring() noexcept { return ring_; }
  /// The shared receive buffers for multishot recv; null when the kernel lacks them (then
  /// connections fall back to one-shot recv into their own buffer).
  io::buffer_ring* receive_buffers() noexcept { return buffers_ ? &*buffers_ : nullptr; }
  const reactor_options& options() const noexcept { return options_; }

  /// Registers a target; the id goes into the user_data of its SQEs (sqe()).
  std::uint64_t attach(io_target& target);
  /// Unregisters a target: completions still in flight for it will be dropped.
  void detach(std::uint64_t target_id) noexcept;

  /// A free SQE (the io::prep_* helpers fill it, user_data included); nullptr only when the
  /// submission queue is full and the kernel accepts nothing: the caller fails the operation.
  io_uring_sqe* sqe() noexcept { return ring_.get_sqe(); }

  /// Asks for f.flush() at the start of the next turn (once, however often it is asked).
  void schedule_flush(flushable& f) noexcept {
    if (!f.flush_hook.is_linked()) to_flush_.push_back(f);
  }

  /// One turn that never blocks. Returns the number of completions handled.
  std::size_t poll();
  /// Turns until stop() (or until nothing is left to wait for, which never happens while a
  /// connection is open).
  void run();
  /// Turns until `done()` is true; for the blocking client and tests.
  template <class Predicate>
  void run_until(Predicate&& done) {
    while (!done())
      turn(/*may_block=*/!options_.busy_poll);
  }
  /// Makes run() return after the current turn. Call from this shard's thread.
  void stop() noexcept { stopping_ = true; }

  /// Completions dispatched since creation, and CQEs dropped for detached targets.
  std::uint64_t completions() const noexcept { return completions_; }
  std::uint64_t dropped_completions() const noexcept { return dropped_; }

 private:
  reactor(io::ring ring, const reactor_options& options);

  std::size_t turn(bool may_block);
  void flush_all();
  std::size_t reap();

  io::ring ring_;
  std::optional<io::buffer_ring> buffers_;  // after ring_: unregistered before it closes
  reactor_options options_;
  util::slot_table<io_target*> targets_;
  util::intrusive_list<flushable, &flushable::flush_hook> to_flush_;
  std::uint64_t completions_ = 0;
  std::uint64_t dropped_ = 0;
  bool stopping_ = false;
};

}  // namespace uredis::reactor
