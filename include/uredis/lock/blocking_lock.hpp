#pragma once
// blocking_lock: a distributed_lock for the blocking API, shaped like redis-py's Lock.
//
//   uredis::blocking_client c{"redis://127.0.0.1:6379"};
//   uredis::lock::blocking_lock l{c, "orders", {.ttl = 10s}};
//   if (l.acquire(5s)) {                   // false: not acquired in time
//     write(l.fencing_token(), ...);
//     l.release();                         // throws lock_not_owned_error if it expired
//   }
//
// Waiting runs the client's reactor on the calling thread; with RESP3 a release wakes the
// waiter through a subscription on the client's own connection (lock/wakeups.hpp), with RESP2
// it retries on the jittered timer.
//
// The watchdog is off by default (options.watchdog = false), as in redis-py: it could renew
// only while a call runs the reactor, so a lock held across other work would expire anyway and
// a renewal would only mislead. Choose a ttl that covers the work, or call extend() or
// reacquire(); a program that wants renewal while it works runs a reactor (the callback or
// coroutine API; uredis-lock does).
//
// Errors are thrown as the exceptions of exceptions.hpp: lock_not_owned_error for a release or
// extend of a lock this owner does not hold; connection errors as connection_error...
// Same thread rules as blocking_client. Destroying a held lock releases it (one round trip).

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "uredis/client/blocking_client.hpp"
#include "uredis/lock/distributed_lock.hpp"
#include "uredis/lock/wakeups.hpp"

namespace uredis::lock {

/// lock_options with the watchdog off: blocking_lock's defaults.
inline lock_options without_watchdog(lock_options o = {}) noexcept {
  o.watchdog = false;
  return o;
}

class blocking_lock {
 public:
  blocking_lock(blocking_client& client, std::string name,
                lock_options options = without_watchdog());
  /// Releases the lock if held, waiting for the answer (errors are swallowed).
  ~blocking_lock();
  blocking_lock(const blocking_lock&) = delete;
  blocking_lock& operator=(const blocking_lock&) = delete;

  /// Acquires, waiting up to `wait` (no_wait, a duration, or wait_forever); false when not
  /// acquired in time.
  bool acquire(std::chrono::milliseconds wait = wait_forever);
  /// Releases; throws lock_not_owned_error when the key was no longer ours.
  void release();
  /// Adds `ms` to the ttl, or sets it to `ms` when `replace_ttl`.
  void extend(std::chrono::milliseconds ms, bool replace_ttl = false);
  /// Sets the ttl back to the full options().ttl.
  void reacquire();

  /// Whether anyone holds the lock (asks the server).
  bool locked();
  /// How long the lock's key has left, whoever holds it: nullopt when nobody does,
  /// milliseconds::max() for a lock without ttl (asks the server).
  std::optional<std::chrono::milliseconds> remaining_ttl();
  /// Held by this owner, by its own account.
  bool owned() const noexcept { return lock_.owned(); }
  std::uint64_t fencing_token() const noexcept { return lock_.fencing_token(); }
  std::string_view token() const noexcept { return lock_.token(); }
  distributed_lock& async() noexcept { return lock_; }

 private:
  template <class T>
  T wait_for(std::optional<result<T>>& outcome);

  blocking_client* client_;
  std::unique_ptr<wakeups> wake_;  // RESP3 only
  distributed_lock lock_;
};

}  // namespace uredis::lock
