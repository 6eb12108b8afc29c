#pragma once
// reactor: one shard's event loop. It owns the io_uring, the table of everything with an
// operation in flight, the list of connections with bytes to send this turn, and (optionally) the
// shard's mailbox, through which other threads hand it work.
//
// One turn:
//
//   1. drain    the tasks other threads posted to the mailbox run (they may queue commands)
//   2. flush    every connection that queued bytes since the last turn prepares ONE send SQE
//               (all the commands of the turn go out together: automatic pipelining)
//   3. submit   one io_uring_enter submits the SQEs and, if nothing is ready, nothing is queued
//               for the next turn and the mailbox agrees to sleep, waits for the next completion
//               that is not a send's (see "Quiet operations")
//   4. reap     each CQE goes to its target (io_target) through the slot table; a CQE whose
//               target has detached (a stale slot id: the generation differs) is dropped
//   5. timers   due timers fire
//   6. retire   objects retired during the turn (retire()) are destroyed
//
// Quiet operations: a send completes as soon as the kernel has taken the bytes, which is at
// once; waking up for that alone would cost a second io_uring_enter per request batch (one that
// sees the send's completion, one that waits for the reply). So a send is announced with
// begin_quiet() and its completion with end_quiet(), and a waiting turn waits for one
// completion more than there are quiet operations in flight: it ends on the reply (or a timer,
// or a mailbox post), and reaps the send's completion in the same pass. No send needs its
// completion to make progress (the kernel continues a short send itself: MSG_WAITALL). But a
// send can stay pending (a peer that does not read, more bytes than the socket holds), and
// then one completion (a post, a reply on another connection) would not end the wait. So the
// discount holds for quiet_grace from the first wait that counts on them, until none is left
// in flight; past it the turn waits for a single completion again. A batch whose reply takes
// longer than that costs one io_uring_enter more, and nothing waits longer than quiet_grace
// for a send.
//
// Deferred destruction: an object that must not be destroyed while its own code may still be on
// the stack (a connection closed from inside one of its completions) is handed to retire(),
// detached and inert, and destroyed at the end of the turn, when nothing of it runs any more.
//
// Completion handlers run user code (callbacks, coroutine resumes) that queues more commands:
// those are flushed at the start of the next turn, which then does not block. Tasks drained in
// step 1 are flushed in step 2 of the same turn.
//
// Mailbox wake-up: an IORING_OP_READ of wake_fd()'s 8-byte counter stays armed (re-armed after
// each wake-up), so a post to a sleeping shard completes it and submit_and_wait returns. Before
// blocking the reactor calls mailbox::begin_sleep() and after waking end_sleep() (the protocol
// in mailbox.hpp); a busy reactor never announces a sleep, so posts to it cost no syscall, and
// in busy_poll mode it never sleeps at all. Kernels that complete a read of an empty
// non-blocking eventfd with -EAGAIN instead of parking it get an IORING_OP_POLL_ADD followed
// by a plain read (mailbox::reset_wake). Both completions carry io::op::wake with the slot ids
// below (no slot-table entry), and an op::wake CQE with any other id (a MSG_RING from another
// ring) is a bare doorbell.
//
// Failure: io_uring_enter push-back (-EBUSY, -EAGAIN, -EINTR) is retried on the next turn; any
// other error means this ring can no longer submit (a closed fd, SINGLE_ISSUER violated...).
// The reactor records the first such error in error(), run() and run_until() return, and the
// shard's owner decides what to do (its connections cannot make progress: close them).
//
// Threading: a reactor belongs to the thread that created it (io_uring SINGLE_ISSUER) and must
// be destroyed there. Nothing here is thread-safe except posting to its mailbox.
//
// Kernel quirk (observed; the cause is not pinned down yet): a blocking syscall made on a
// thread shortly after a reactor (or a blocking_client) was destroyed there can fail with
// EINTR, most likely because the ring's teardown finishes asynchronously and queues task work
// on that thread. Retry EINTR, as for any signal (the tests' redis-server fixture does).
//
// Embedding: poll() runs one turn without blocking, for a caller with its own busy loop;
// run() turns until stop(); with busy_poll it never sleeps in the kernel.

#include <liburing.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>

#include "uredis/event/dispatcher.hpp"
#include "uredis/io/buffer_ring_options.hpp"
#include "uredis/io/op.hpp"
#include "uredis/io/ring.hpp"
#include "uredis/reactor/mailbox.hpp"
#include "uredis/reactor/timer.hpp"
#include "uredis/result.hpp"
#include "uredis/util/intrusive_list.hpp"
#include "uredis/util/slot_table.hpp"

namespace uredis::io {
class buffer_ring;  // internal (src/io/buffer_ring.hpp)
}  // namespace uredis::io

namespace uredis::reactor {

/// Anything with operations in flight on the ring.
class io_target {
 public:
  virtual void on_completion(io::op op, const io_uring_cqe& cqe) = 0;

 protected:
  ~io_target() = default;
};

/// Anything the reactor destroys at the end of the turn it was retired in (retire()).
class retirable {
 public:
  util::list_hook retire_hook;
  virtual ~retirable() = default;
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
  /// When nonzero (and create() is given no mailbox), the reactor creates and owns a mailbox
  /// with this many sender slots: other threads then post work to it through inbox().
  unsigned mailbox_senders = 0;
  /// Where the shard's timers read the time; null means the monotonic clock. Tests pass a
  /// manual_clock (and drive the reactor with poll()).
  const util::clock* clock = nullptr;
};

class resolver;

class reactor {
 public:
  /// Sets up the ring (and the mailbox, when options.mailbox_senders asks for one). Fails with a
  /// clear error when io_uring is unavailable (see io/ring.hpp). Call it on the thread that will
  /// run the reactor; it becomes current() there if that thread has no current reactor yet.
  static result<std::unique_ptr<reactor>> create(const reactor_options& options = {});
  /// The same, draining `inbox`, which the caller owns and which must outlive the reactor (the
  /// runtime owns its shards' mailboxes, since other shards post to them). One mailbox feeds
  /// one reactor.
  static result<std::unique_ptr<reactor>> create(const reactor_options& options, mailbox& inbox);

  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;
  ~reactor();

  /// The reactor created first on this thread and still alive, or null: the shard a coroutine
  /// or a task runs on, without threading a reference through every call.
  static reactor* current() noexcept;

  io::ring& ring() noexcept { return ring_; }
  /// The shard's timers. Due timers fire at the end of every turn; a reactor with nothing else
  /// to do sleeps no longer than until the earliest deadline.
  timer_wheel& timers() noexcept { return timers_; }
  /// The shard's event dispatcher: its connections emit to it, listeners on this shard register
  /// with it, and runtime::broadcast() emits on it from the shard's mailbox.
  event::dispatcher& events() noexcept { return events_; }
  /// The shared receive buffers for multishot recv; null when the kernel lacks them (then
  /// connections fall back to one-shot recv into their own buffer).
  io::buffer_ring* receive_buffers() noexcept { return buffers_.get(); }
  const reactor_options& options() const noexcept { return options_; }
  /// The mailbox drained every turn, or null when the reactor has none.
  mailbox* inbox() noexcept { return inbox_; }
  /// The shard's name resolver (reactor/resolver.hpp), created on first use with io::resolve:
  /// connections look host names up through it, so a slow DNS server stalls no loop turn.
  resolver& name_resolver();
  /// Replaces the shard's resolver with one made for this reactor: a lookup of your own (a
  /// service registry, a test's slow DNS). Call it before anything looks a name up: lookups
  /// pending on the old resolver are cancelled and never answered.
  void set_name_resolver(std::unique_ptr<resolver> r) noexcept;

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

  /// Takes ownership of `r` and destroys it at the end of the current turn (at once if the
  /// reactor is destroyed first). `r` must be allocated with new and inert: it gets no more
  /// completions, flushes or timers.
  void retire(retirable& r) noexcept { retired_.push_back(r); }

  /// A send was submitted whose completion alone must not end a wait (see "Quiet operations");
  /// end_quiet() when its completion is reaped, or when its owner gives up on it.
  void begin_quiet() noexcept { ++quiet_; }
  void end_quiet() noexcept {
    // All done: the grace starts again at the next wait. Not on partial progress: a send that
    // stays pending must not keep the grace alive for the other connections' sends.
    if (quiet_ > 0 && --quiet_ == 0) quiet_since_ = {};
  }
  /// How long a wait may count on the quiet operations in flight to complete by themselves.
  /// Not shorter: a timeout that is the CPU's next timer event reprograms the timer device on
  /// every batch (1 ms cost 18 ns per GET at -P 256 in a VM; 10 ms costs nothing measurable).
  static constexpr std::chrono::milliseconds quiet_grace{10};
  /// Quiet operations in flight.
  unsigned quiet() const noexcept { return quiet_; }

  /// One turn that never blocks: drains the mailbox, flushes, submits, reaps, and submits what
  /// the completions queued. Returns the number of completions handled.
  std::size_t poll();
  /// Turns until stop() or a fatal error(). Never sleeps with busy_poll.
  void run();
  /// Turns until `done()` is true or a fatal error(); for the blocking client, the runtime and
  /// tests. stop() does not end it.
  template <class Predicate>
  void run_until(Predicate&& done) {
    while (!done() && !error_)
      turn(/*may_block=*/!options_.busy_poll, /*in_run=*/false);
  }
  /// Makes run() return after the current turn (at once if called before run()). Call from
  /// this shard's thread (a completion handler or a mailbox task).
  void stop() noexcept { stopping_ = true; }

  /// The first io_uring_enter failure that is not push-back; empty while the ring is healthy.
  std::error_code error() const noexcept { return error_; }

  /// Completions dispatched since creation, and CQEs dropped for detached targets.
  std::uint64_t completions() const noexcept { return completions_; }
  std::uint64_t dropped_completions() const noexcept { return dropped_; }
  /// Objects built on this reactor that must be destroyed before it (every connection counts
  /// itself). Destroying a reactor while any is alive aborts the process with a message that
  /// names the fix, instead of leaving them to touch freed memory later (in release builds too:
  /// a counter is all it costs).
  void add_dependent() noexcept { ++dependents_; }
  void remove_dependent() noexcept { --dependents_; }
  std::size_t dependents() const noexcept { return dependents_; }

  /// Mailbox wake-ups received (an eventfd write reached the armed read): one per sleep a post
  /// interrupted, none while the reactor is busy.
  std::uint64_t wake_ups() const noexcept { return wake_ups_; }

 private:
  // The slot ids of the reactor's own op::wake operations (bits 0-55 of their user_data).
  static constexpr std::uint64_t wake_read_id = 1;
  static constexpr std::uint64_t wake_poll_id = 2;

  reactor(io::ring ring, const reactor_options& options);
  static result<std::unique_ptr<reactor>> finish_create(std::unique_ptr<reactor> r);

  std::size_t turn(bool may_block, bool in_run);
  void flush_all();
  void submit(bool wait);
  std::optional<util::clock::duration> time_to_next_timer() const noexcept;
  std::size_t reap();
  void destroy_retired() noexcept;
  void arm_wake() noexcept;
  void on_wake(const io_uring_cqe& cqe) noexcept;

  std::unique_ptr<mailbox> owned_inbox_;  // before ring_: its eventfd outlives the armed read
  mailbox* inbox_ = nullptr;              // owned_inbox_ or the caller's; null: none
  io::ring ring_;
  std::unique_ptr<io::buffer_ring> buffers_;  // after ring_: unregistered before it closes
  reactor_options options_;
  timer_wheel timers_;
  event::dispatcher events_;  // unlinks the listeners still registered when the reactor dies
  util::slot_table<io_target*> targets_;
  util::intrusive_list<flushable, &flushable::flush_hook> to_flush_;
  util::intrusive_list<retirable, &retirable::retire_hook> retired_;
  std::unique_ptr<resolver> resolver_;  // on first use; destroyed before the ring (~reactor)
  unsigned quiet_ = 0;
  std::chrono::steady_clock::time_point quiet_since_{};  // the first wait counting on them
  std::uint64_t completions_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t wake_ups_ = 0;
  std::size_t dependents_ = 0;
  std::uint64_t wake_count_ = 0;  // the armed read's target: the eventfd counter
  std::error_code error_;
  bool stopping_ = false;
  bool wake_armed_ = false;    // a read (or poll) on the mailbox's eventfd is in flight
  bool wake_by_poll_ = false;  // the kernel refused to park the read: poll, then read by hand
};

}  // namespace uredis::reactor
