#pragma once
// resolver: host name lookups for one shard that never block a loop turn.
//
// getaddrinfo blocks for as long as DNS takes (seconds when a server is slow or gone), so a
// shard must never call it itself. A resolver runs it on a worker thread of its own and brings
// each answer back through its reactor's ring, to a callback on the reactor's thread:
//
//   reactor thread                                 worker thread (one per resolver, lazy)
//   --------------                                 --------------------------------------
//   resolve(req, host, port)
//     numeric or empty host: answered now
//     else: req joins pending_ (FIFO) --- queue ---> lookup(host, port)   (getaddrinfo: may
//                                        (mutex)        |                  block for seconds)
//                                                       v
//   on_completion(op::poll) <-- CQE <-- eventfd <--- done list (mutex)
//     re-arms the poll, then takes the done list: each answer goes to the request at the front
//     of pending_ if it has that answer's sequence number (else it was cancelled: dropped),
//     which leaves pending_ before its callback runs
//
// Answered now: resolve() returns the answer itself, and never runs the callback, when no DNS
// is needed (a numeric host, io::resolve_numeric) or the worker cannot be started (no thread or
// no eventfd: that errno's code). Otherwise it returns nullopt and the request is pending. So a
// process that only uses numeric addresses (or Unix sockets) never starts a thread.
//
// Guarantees for a pending request: its callback runs exactly once unless the request is
// cancelled first, on the reactor's thread, from the reactor's completion dispatch: never
// inside resolve(), cancel() or a destructor. After cancel(), or the request's or the
// resolver's destruction, it never runs. A request may
// be resolved again once it is not pending: after its callback started (from inside it, too) or
// after cancel(), even while the cancelled lookup is still running on the worker (that late
// answer is recognised by its sequence number and dropped). Lookups are answered in the order
// resolve() was called: one worker, one FIFO queue.
//
// A callback may resolve again (its own request or others), cancel any request, set its own
// request's callback or destroy its own request (touching nothing of either afterwards: the
// running callable is the one destroyed, as with a timer), or destroy the resolver (which
// cancels every other pending request, those answered in the same batch included).
//
// Ownership and threads: a resolver belongs to one reactor (which must outlive it) and is used
// only on that reactor's thread, like everything on a shard; so are its requests, which their
// callers own (embed them: neither copyable nor movable) and the resolver only links. The
// worker touches no request: it sees copies of the host and port, tagged with a sequence
// number. It shares its state (queue, done list, eventfd, lookup function) with the resolver
// through a shared_ptr and is detached, so destroying the resolver never waits: it marks the
// state closed and wakes the worker; a lookup in progress (getaddrinfo cannot be interrupted)
// finishes on the worker, which then drops its answer and exits, releasing the state. Lookups
// not yet started are dropped with it.
//
// The worker starts with every signal blocked (so a process's signal handlers never run on a
// thread they do not know of) and is named "uredis-resolve". Idle, it waits on a
// condition variable. A lookup costs a copy of the host (no heap for 15 characters or fewer)
// and two mutex hand-offs, one each way: lookups are rare (a connect, a reconnect), and the
// mutex is never held across a lookup.
//
// io_uring: the resolver waits for its eventfd with IORING_OP_POLL_ADD (op::poll), then resets
// the counter with a non-blocking read(2) (one syscall per batch of answers). A read SQE would be
// simpler but is unsafe here: its 8 bytes are copied into the caller's buffer by task work that
// runs on a later io_uring_enter, possibly after the resolver owning the buffer is gone. A poll
// writes no user memory. The resolver's destructor cancels its poll (best effort: if the submission
// queue is full, the poll stays parked, harmlessly, until the ring is destroyed).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>

#include "uredis/io/socket.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/result.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis::reactor {

/// Turns host:port into an address on the resolver's worker thread, one call at a time; the
/// default is io::resolve (getaddrinfo). Its error is the lookup's answer. It must not throw
/// (an exception ends the process) and its captures must stay valid until it is destroyed: with
/// the worker's state, on whichever of the reactor's and the worker's threads lets go last, so
/// possibly after the resolver (a lookup in progress then finishes first). Names only: numeric
/// hosts are answered without it.
using resolve_function =
    util::inline_function<result<io::socket_address>(std::string_view host, std::uint16_t port),
                          24>;

class resolver;

/// One caller-owned lookup, reusable (see the header comment). Not copyable or movable (the
/// resolver links it); embed it in its owner. Destroying a pending request cancels it.
class resolver_request {
 public:
  /// Bytes for the callback's captures: three pointers, as for a timer.
  static constexpr std::size_t callback_capacity = 24;
  using callback_type = util::inline_function<void(result<io::socket_address>), callback_capacity>;

  resolver_request() noexcept = default;
  explicit resolver_request(callback_type callback) noexcept : callback_(std::move(callback)) {}
  resolver_request(const resolver_request&) = delete;
  resolver_request& operator=(const resolver_request&) = delete;
  ~resolver_request() { cancel(); }

  /// Replaces the callback. Allowed while pending: the new one receives the answer.
  void set_callback(callback_type callback) noexcept { callback_ = std::move(callback); }

  /// True from a resolve() that returned nullopt until the callback starts or cancel().
  bool pending() const noexcept { return hook_.is_linked(); }

  /// Forgets a pending lookup in O(1): its callback will not run (the worker may still finish
  /// it; the answer is dropped). Returns whether the request was pending.
  bool cancel() noexcept {
    if (!pending()) return false;
    hook_.unlink();
    return true;
  }

 private:
  friend class resolver;

  util::list_hook hook_;  // on the resolver's pending_ list while pending
  callback_type callback_;
  std::uint64_t sequence_ = 0;  // matches the worker's answer to this lookup
};

// hook 16 + callback 32 + 8: small enough to embed in every connection.
static_assert(sizeof(resolver_request) <= 64, "resolver_request grew");

class resolver final : private io_target, private flushable {
 public:
  /// A resolver answering on `r`'s thread, looking names up with `lookup`. Starts no thread and
  /// creates no file descriptor: the first resolve() that needs the worker does.
  explicit resolver(reactor& r, resolve_function lookup = &io::resolve);
  resolver(const resolver&) = delete;
  resolver& operator=(const resolver&) = delete;
  /// Cancels every pending request (their callbacks never run) and lets the worker go without
  /// waiting for it.
  ~resolver();

  /// Starts looking host:port up for `request`. Returns the answer when it needs no DNS (see the
  /// header comment); the callback then does not run and the request stays idle. Otherwise
  /// returns nullopt: the request is pending and its callback will run on a later completion.
  /// Preconditions: the request is not pending and has a callback.
  std::optional<result<io::socket_address>> resolve(resolver_request& request,
                                                    std::string_view host, std::uint16_t port);

  /// Whether the worker thread was started (by a resolve() that needed it).
  bool worker_started() const noexcept { return state_ != nullptr; }
  /// Lookups handed to the worker since creation.
  std::uint64_t lookups_on_thread() const noexcept { return lookups_on_thread_; }

 private:
  struct worker_state;

  static void* run_worker(void* state) noexcept;
  std::error_code start_worker();
  void arm_poll() noexcept;
  void deliver();
  void on_completion(io::op op, const io_uring_cqe& cqe) override;
  void flush() override;  // retries arm_poll() when the submission queue was full

  reactor& reactor_;
  std::uint64_t slot_;
  resolve_function lookup_;              // moved into the worker's state when it starts
  std::shared_ptr<worker_state> state_;  // null until the worker starts
  util::intrusive_list<resolver_request, &resolver_request::hook_> pending_;  // sequence order
  std::uint64_t next_sequence_ = 0;
  std::uint64_t lookups_on_thread_ = 0;
  bool* destroyed_ = nullptr;  // while deliver() runs callbacks: set when one destroys *this
  bool poll_armed_ = false;
};

}  // namespace uredis::reactor
