#pragma once
// runtime: N shards, each a thread running its own reactor, optionally pinned to a core, and
// the mailboxes through which they (and the thread that owns the runtime) hand each other work.
//
//   owner thread --submit_to(s, fn)--+          shard 0: thread, reactor, mailbox 0
//   shard i      --submit_to(s, fn)--+--> mailbox s --> shard s runs fn on its own thread
//
// Mailboxes: one per shard, with shards + 1 sender slots. Shard i posts through slot i (so each
// ordered pair of shards has its own single-producer/single-consumer queue), and every thread
// that is not a shard of this runtime posts through the last slot, the "external" one. That slot
// is single-producer too: only ONE non-shard thread may call submit_to() at a time — the thread
// that owns the runtime (created it, or received it with a happens-before hand-over). Posting
// never locks and never allocates; it makes a syscall only when the target shard sleeps.
//
// Each shard creates its reactor on its own thread (io_uring SINGLE_ISSUER: the creating thread
// is the only one allowed to submit), and destroys it there. On a shard thread,
// reactor::reactor::current() is that shard's reactor and current_shard() its index.
//
// Shutdown (stop(), or the destructor), with the stop request seen by each shard at the end of
// a loop turn:
//
//   1. each shard runs the tasks posted to it so far, then its at_stop() handlers (this is where
//      connections are closed: every command still pending completes, with
//      errc::connection_closed if its reply had not arrived), and submits what they queued;
//   2. it keeps turning (running tasks, doing I/O) until every shard has finished step 1, so the
//      replies that step 1 sends across shards (a failed command reported to the shard that
//      asked for it) are delivered;
//   3. from then on submit_to() refuses new tasks (returns false); each shard runs what is left
//      in its mailbox — every task accepted before is run, none is dropped — runs at_stop()
//      handlers registered meanwhile, destroys its reactor, and its thread ends.
//
// Everything a shard owns that refers to its reactor (connections above all) must be closed or
// destroyed by an at_stop() handler: the reactor dies at the end of step 3. make_local() does
// that for you; a connection still alive when its reactor dies aborts the process with a message
// saying so (reactor::dependents()). A task that was refused in step 3 is the caller's to fail
// (submit_to returned false).
//
// A shard whose ring fails (reactor::error()) stops the whole runtime the same way; error()
// tells why. Stopping may be requested from any thread (request_stop()); waiting for the threads
// (wait(), stop(), the destructor) only from the owner thread, never from a shard.

#include <atomic>
#include <cassert>
#include <memory>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "uredis/event/events.hpp"
#include "uredis/reactor/mailbox.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/result.hpp"
#include "uredis/util/spsc_queue.hpp"

namespace uredis {

struct runtime_options {
  /// Number of shards: at least 1, at most std::thread::hardware_concurrency().
  unsigned shards = 1;
  /// Pin shard i to the i-th CPU this process may run on (core i when nothing restricts it).
  bool pin = false;
  /// Shards spin instead of sleeping in the kernel (reactor_options::busy_poll, for all shards).
  bool busy_poll = false;
  /// Each shard's reactor. Its mailbox_senders is ignored: the runtime owns the mailboxes.
  reactor::reactor_options reactor{};
};

class runtime {
 public:
  /// A unit of work for a shard: 64 bytes of capture (see mailbox::task).
  using task_fn = reactor::mailbox::task;
  /// current_shard() on a thread that is not a shard.
  static constexpr unsigned no_shard = ~0u;

  /// Starts the shards and returns once each has set up its reactor. Fails, having stopped the
  /// shards that did start, with: std::errc::invalid_argument for 0 shards, for more shards than
  /// hardware threads, or for pin with more shards than CPUs this process may use; the error of
  /// the first shard that could not pin itself or set up io_uring (io/ring.hpp names the cause:
  /// errc::io_uring_disabled, ...); or the error of a thread that could not be started.
  static result<std::unique_ptr<runtime>> create(const runtime_options& options = {});

  /// stop(). Must not run on one of this runtime's shards (it joins them).
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  unsigned shard_count() const noexcept { return static_cast<unsigned>(shards_.size()); }

  /// The index of the shard running on this thread, or no_shard.
  static unsigned current_shard() noexcept;
  /// Whether the calling thread is one of this runtime's shards.
  bool on_shard() const noexcept;
  /// False once the runtime is in the last phase of shutdown: from then on submit_to() refuses
  /// every task, so a refusal is final rather than a full queue.
  bool accepting() const noexcept {
    return phase_.load(std::memory_order_acquire) != phase::draining;
  }

  /// Queues `fn` to run on shard `shard`'s thread, from a shard of this runtime or from the
  /// owner thread (see above). Tasks from one sender run in the order it posted them. Returns
  /// false, leaving `fn` with the caller, when this sender's queue to that shard is full
  /// (mailbox::capacity_per_sender tasks: retry once the shard has drained, or push back) or
  /// when the runtime is in the last phase of shutdown.
  bool submit_to(unsigned shard, task_fn&& fn) noexcept;

  /// Posts a copy of `fn` to every shard, in index order, stopping at the first refusal;
  /// returns how many shards accepted it (shards [0, n)). `fn` is copied once per shard.
  template <class F>
  unsigned run_on_all(const F& fn) {
    for (unsigned s = 0; s < shard_count(); ++s)
      if (!submit_to(s, task_fn(fn))) return s;
    return shard_count();
  }

  /// Emits a copy of `e` on every shard's event dispatcher (reactor::events()), this one's
  /// included, each on its own thread when it next drains its mailbox: a task per shard, so the
  /// call never allocates and never waits. Every shard is tried, even after a refusal; returns
  /// false when any shard refused (its queue from this sender was full, or the runtime is in the
  /// last phase of shutdown), true when every shard will emit it. Same callers as submit_to().
  template <class E>
  bool broadcast(const E& e) noexcept {
    static_assert(
        !std::is_same_v<E, event::push_received> && !std::is_same_v<E, event::cache_invalidated> &&
            !std::is_same_v<E, event::node_added> && !std::is_same_v<E, event::node_removed> &&
            !std::is_same_v<E, event::sentinel_primary_discovered> &&
            !std::is_same_v<E, event::sentinel_primary_switched>,
        "runtime::broadcast: push_received, cache_invalidated, node_added, node_removed and the "
        "sentinel_* events point at memory that lives only while their own shard dispatches them");
    static_assert(std::is_trivially_copyable_v<E>,
                  "runtime::broadcast: the event is copied into another shard's mailbox");
    // Runs on the target shard, whose reactor is current() there (see above).
    auto emit = [e] { reactor::reactor::current()->events().emit(e); };
    static_assert(task_fn::can_store<decltype(emit)>,
                  "runtime::broadcast: the event does not fit a mailbox task's capture");
    bool all = true;
    for (unsigned s = 0; s < shard_count(); ++s)
      all = submit_to(s, task_fn(emit)) && all;
    return all;
  }

  /// Registers `fn` to run on this shard during shutdown (step 1, or step 3 if registered after
  /// step 1), most recent first. Call on a shard of this runtime; false anywhere else.
  bool at_stop(task_fn&& fn);

  /// Creates a T on the calling shard (one of this runtime's) and keeps it there: the runtime
  /// destroys it on this shard in shutdown step 1 (newest first, through at_stop()), before the
  /// shard's reactor goes. The place for what a shard keeps for its whole life, its clients
  /// above all: nothing to remember at shutdown. The reference is valid until then.
  template <class T, class... Args>
  T& make_local(Args&&... args) {
    assert(on_shard() && "runtime::make_local: call it on a shard of this runtime");
    auto owned = std::make_unique<T>(std::forward<Args>(args)...);
    T& local = *owned;
    at_stop(task_fn([p = owned.get()] { delete p; }));
    owned.release();  // only once at_stop() holds it: a throw above leaves nothing behind
    return local;
  }

  /// Asks every shard to stop (the shutdown above) and returns at once. Any thread; idempotent.
  void request_stop() noexcept;
  /// Blocks until every shard has stopped and its thread has ended (after request_stop(), from
  /// this or another thread, or a shard failure). Owner thread only.
  void wait();
  /// request_stop(), then wait().
  void stop();

  /// The first shard failure (a ring error while running); empty if none. Read it after wait().
  std::error_code error() const noexcept;

 private:
  // running -> stopping (request_stop) -> draining (every shard finished step 1)
  enum class phase : int { running, stopping, draining };

  // One shard's state. Over-aligned so one shard's writes do not share lines with another's.
  struct alignas(util::false_sharing_range) shard {
    std::unique_ptr<reactor::mailbox> inbox;  // read by every sender, set before the threads run
    std::thread thread;                       // owner thread only
    std::vector<task_fn> stop_handlers;       // this shard's thread only
    std::error_code setup_error;  // written by the shard before it counts itself started_
    std::error_code run_error;    // written by the shard, read after its thread is joined
    int cpu = -1;                 // pin target, or -1
    // This shard's submit_to() calls between their phase check and their push; on a line of
    // its own, away from `inbox`, which every sender reads.
    alignas(util::false_sharing_range) std::atomic<unsigned> posting{0};
  };

  explicit runtime(unsigned shards);

  void shard_main(unsigned index, reactor::reactor_options options);
  void run_stop_handlers(shard& s);
  void arrive() noexcept;
  void await_draining(reactor::reactor* r) noexcept;
  void await_posts_in_flight() const noexcept;

  std::vector<shard> shards_;
  unsigned spawned_ = 0;  // threads actually started (owner thread only)

  // Written rarely (start-up, shutdown), read by every submit_to(): on a line of its own.
  alignas(util::false_sharing_range) std::atomic<phase> phase_{phase::running};
  std::atomic<unsigned> started_{0};  // shards done with set-up (success or failure)
  std::atomic<unsigned> arrived_{0};  // shards done with shutdown step 1
  // The owner thread's submit_to() calls between phase and post (shards count their own).
  alignas(util::false_sharing_range) std::atomic<unsigned> outside_posting_{0};
};

}  // namespace uredis
