#pragma once
// mailbox: the inbox of one shard, fed by the other shards (and by any thread the runtime gives a
// sender slot). It is how `submit_to(shard, fn)` and cross-shard broadcasts reach a shard.
//
//   sender 0 --spsc_queue--+
//   sender 1 --spsc_queue--+--> drain() on the owning shard runs every task, per-sender FIFO
//   ...                    |
//   sender N-1 ------------+    post() writes wake_fd() (an eventfd) only if the owner may sleep
//
// One bounded lock-free single-producer/single-consumer queue per sender, so a post is a few
// plain stores and never contends with another sender. Tasks from one sender run in the order
// that sender posted them; tasks from different senders have no order between them.
//
// Threads: each sender index is used by one thread at a time (it is the producer side of its
// queue); the runtime gives shard i the index i, and a dedicated index to any other thread that
// may post. Everything under "consumer side" runs on the owning shard's thread only.
//
// Bounded: each queue holds `capacity_per_sender` tasks. post() returns false when the sender's
// queue is full and leaves the task with the caller, who chooses what to do: retry on a later loop
// turn (the owner is draining, the room comes back), apply backpressure to its own users, or fail
// the operation. Nothing is dropped silently and nothing allocates.
//
// Waking the owner. A busy shard polls drain() every loop turn and needs no signal; a shard about
// to block in the kernel must be woken by the next post. The protocol, with a `sleeping_` flag:
//
//   owner (consumer)                           sender (producer)
//   ----------------                           -----------------
//   begin_sleep():                             post():
//     sleeping_ = true                           push the task (release store of the queue tail)
//     fence(seq_cst)                 (F_c)       fence(seq_cst)                          (F_p)
//     if any queue is non-empty:                 if sleeping_ and exchange(sleeping_, false):
//        sleeping_ = false; return false            wake (eventfd write)
//     return true  --> block on wake_fd()
//   end_sleep(): sleeping_ = false  (after waking)
//
// No lost wake-up: the two seq_cst fences are totally ordered. If F_p comes first, the owner's
// emptiness check after F_c sees the task and it does not block. If F_c comes first, the sender's
// load after F_p sees sleeping_ == true (or a later value: only an exchange that woke the owner,
// or a store by an owner that is awake and will check again before blocking). Among the senders
// that see `true`, the exchange lets exactly one pay for the eventfd write; the others skip the
// syscall, and a busy owner (flag false) costs a sender no syscall at all. What remains is the
// fence: one full barrier per post (mfence on x86); moving it to the rarely-taken sleep side with
// membarrier(2), as Seastar does, is an option if a benchmark ever shows it matters.
//
// Spurious wake-ups are possible and harmless (a sender may write the eventfd for an owner that
// saw the task itself and never blocked; the next sleep then returns at once and finds nothing).
//
// The eventfd is created non-blocking. The reactor keeps an io_uring read armed on wake_fd()
// (io_uring parks a read on a non-blocking eventfd until it is written, and the read resets the
// counter; tested on 6.x. Older kernels may complete it with -EAGAIN instead: then arm an
// IORING_OP_POLL_ADD first and read after it fires). A loop built on poll(2)/epoll instead calls
// reset_wake() after wake_fd() reports readable.
//
// Wake strategy: the eventfd write can be replaced per mailbox by a `wake_strategy` hook, e.g.
// an IORING_OP_MSG_RING from the sender shard's ring straight into the owner's completion queue
// (no read to re-arm, no eventfd). TODO(reactor): the MSG_RING strategy belongs with the ring,
// which the reactor owns (the hook must submit on the *sender's* ring, from the sender's thread,
// which SINGLE_ISSUER allows); senders without a ring (non-shard threads) keep the eventfd, so
// the owner keeps its eventfd read armed either way.

#include <atomic>
#include <cstddef>
#include <memory>

#include "uredis/result.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/spsc_queue.hpp"

namespace uredis::reactor {

class mailbox {
 public:
  /// The unit of cross-shard work. 64 bytes of capture: a few pointers and integers, or a pointer
  /// to larger state the sender keeps alive until the task has run.
  using task = util::inline_function<void(), 64>;

  /// Tasks one sender can have queued. 256 * sizeof(task) (80 bytes) = 20 KiB per ordered pair
  /// of shards: 5 MiB for 16 shards, and deep enough that a sender needs a burst of 256 posts
  /// within one of the owner's loop turns to see `false`.
  static constexpr std::size_t capacity_per_sender = 256;

  /// How a post wakes a sleeping owner. With `wake` null (the default) it writes the eventfd. A
  /// hook runs on the sender's thread with the sender's index; it must make the owner's blocking
  /// wait return (or call mailbox::wake(), for senders it cannot serve another way).
  struct wake_strategy {
    void (*wake)(void* context, unsigned sender) noexcept = nullptr;
    void* context = nullptr;
  };

  /// A mailbox with `senders` sender slots (at least 1), woken through its eventfd. Fails only if
  /// the eventfd cannot be created (the process or system ran out of file descriptors): the
  /// error is errno's.
  static result<std::unique_ptr<mailbox>> create(unsigned senders);
  /// The same, woken through `strategy` (see wake_strategy).
  static result<std::unique_ptr<mailbox>> create(unsigned senders, wake_strategy strategy);

  /// Closes the eventfd and destroys the tasks never run, without running them. No sender may be
  /// posting any more (the runtime stops them first).
  ~mailbox();

  mailbox(const mailbox&) = delete;
  mailbox& operator=(const mailbox&) = delete;

  /// Number of sender slots; valid sender indexes are [0, senders()).
  unsigned senders() const noexcept { return senders_; }

  // --- sender side (the thread that owns index `sender`) ------------------------------------

  /// Queues `t` to run on the owner's thread and wakes the owner if it may be sleeping. Returns
  /// false, leaving `t` untouched, when this sender's queue is full (see "Bounded" above).
  /// Never allocates; a syscall only when the owner sleeps.
  bool post(unsigned sender, task&& t) noexcept;

  /// Wakes the owner unconditionally (an eventfd write): for a wake_strategy that cannot reach
  /// the owner itself, and for shutdown.
  void wake() noexcept;

  // --- consumer side (the owning shard's thread) -------------------------------------------

  /// Runs the tasks that were queued when the call started, sender by sender, and returns how
  /// many ran. Tasks posted while it runs wait for the next call, so a flood of posts (or a task
  /// that posts to its own shard) cannot keep the owner from its other work. A task must not
  /// throw; if it does, the exception propagates and the remaining tasks stay queued.
  std::size_t drain();

  /// True when no task is queued, as seen now (a sender may post right after).
  bool empty() const noexcept;

  /// Announces that the owner is about to block. True: nothing is queued and every later post
  /// will wake it, so it may block (on wake_fd() among its other events), then call end_sleep().
  /// False: tasks are queued, the announcement is withdrawn, and it should drain() instead.
  bool begin_sleep() noexcept;

  /// The owner is awake again: posts stop waking it.
  void end_sleep() noexcept { sleeping_.store(false, std::memory_order_relaxed); }

  /// The eventfd that becomes readable when a post (or wake()) wakes the owner.
  int wake_fd() const noexcept { return wake_fd_; }

  /// Reads the eventfd so that it stops being readable, for loops that use poll(2) or epoll.
  /// Never blocks. (A reactor reading wake_fd() through io_uring does not need it.)
  void reset_wake() noexcept;

 private:
  using queue = util::spsc_queue<task, capacity_per_sender>;

  mailbox(unsigned senders, int wake_fd, wake_strategy strategy);

  // Read-only after construction, read by every sender.
  std::unique_ptr<queue[]> queues_;
  unsigned senders_;
  int wake_fd_;
  wake_strategy strategy_;

  // Written by the owner around each sleep and by the one sender that wakes it; on its own line
  // so that those writes do not disturb the read-only fields above.
  alignas(util::false_sharing_range) std::atomic<bool> sleeping_{false};
};

}  // namespace uredis::reactor
