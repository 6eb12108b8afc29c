#pragma once
// single_server_lock: tool_lock on one Redis server, a lock::distributed_lock with its watchdog
// on one connection, woken by releases through lock::wakeups on that same connection (RESP3;
// a server that only speaks RESP2 leaves the lock polling on its jittered retry timer).

#include <memory>
#include <optional>

#include "tool_lock.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/lock/distributed_lock.hpp"
#include "uredis/lock/wakeups.hpp"

namespace uredis::lock_tool {

class single_server_lock final : public tool_lock {
 public:
  single_server_lock(reactor::reactor& r, connection_config server, std::string name,
                     lock::lock_options options);
  /// Lets a release still in flight finish (briefly), then closes the connection.
  ~single_server_lock() override;

  void connect(std::function<void(result<void>)> done) override;
  void acquire(std::chrono::milliseconds wait, std::function<void(result<bool>)> done) override;
  void cancel_acquire() override;
  void release(std::function<void(result<void>)> done) override;
  void on_lost(std::function<void(std::error_code)> f) override;
  std::uint64_t fencing_token() const override;
  void remaining(std::function<void(result<std::int64_t>)> done) override;
  std::string where() const override;

 private:
  void build_lock();

  reactor::reactor& reactor_;
  std::string name_;
  lock::lock_options options_;
  connection conn_;
  // Made once connected, when the protocol is known; destroyed before the connection.
  std::optional<lock::wakeups> wake_;
  std::optional<lock::distributed_lock> lock_;
  // The callers' callbacks live here: the library's callbacks hold only `this`.
  std::function<void(result<bool>)> acquired_;
  std::function<void(result<void>)> released_;
  std::function<void(std::error_code)> lost_;
};

}  // namespace uredis::lock_tool
