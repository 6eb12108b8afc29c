#pragma once
// tool_lock: the lock uredis-lock holds, behind the few operations the tool needs, so the
// single-server distributed_lock (single_server_lock.hpp) and a Redlock over several servers
// can take turns under the same run logic (run.cpp).
//
// Everything runs on the reactor the lock was made with; callbacks run from it. The tool calls,
// in order: connect, then acquire (maybe cancel_acquire), then release, at most once each.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "options.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/result.hpp"

namespace uredis::lock_tool {

class tool_lock {
 public:
  virtual ~tool_lock() = default;

  /// Connects to the server(s), failing fast: `done` with success, or why not.
  virtual void connect(std::function<void(result<void>)> done) = 0;
  /// Acquires, waiting up to `wait` (lock::no_wait, a duration, lock::wait_forever): `done(true)`
  /// when held, `done(false)` when not in time or cancelled, or an error.
  virtual void acquire(std::chrono::milliseconds wait, std::function<void(result<bool>)> done) = 0;
  /// Stops a waiting acquire: it completes with false.
  virtual void cancel_acquire() = 0;
  /// Releases: `done` with success, or errc::lock_not_owned when it was no longer ours.
  virtual void release(std::function<void(result<void>)> done) = 0;
  /// Runs `f(why)` when a held lock is lost (the renewals failed or found it taken).
  virtual void on_lost(std::function<void(std::error_code)> f) = 0;
  /// The fencing token of the acquisition; 0 before it.
  virtual std::uint64_t fencing_token() const = 0;
  /// The server's view (--status): the lock's remaining ttl in ms, -1 when held with no ttl,
  /// -2 when free (PTTL's answers).
  virtual void remaining(std::function<void(result<std::int64_t>)> done) = 0;
  /// Where the lock lives, for messages ("127.0.0.1:6379").
  virtual std::string where() const = 0;
};

/// The lock `o` asks for, on `r`; null with `error` set when it cannot be built.
std::unique_ptr<tool_lock> make_tool_lock(reactor::reactor& r, const options& o,
                                          std::string& error);

}  // namespace uredis::lock_tool
