#pragma once
// redlock_lock: tool_lock over several independent servers, a lock::redlock (the Redlock
// algorithm) on one connection per server, all on the tool's reactor.
//
// Connecting succeeds when a majority of the servers answers: Redlock works on with a minority
// down (a server refused at the start is not retried: its commands fail at once, as a dead
// instance's do). Waiting retries on Redlock's jittered timer; there are no release notices.

#include <memory>
#include <optional>
#include <vector>

#include "tool_lock.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/lock/redlock.hpp"

namespace uredis::lock_tool {

class redlock_lock final : public tool_lock {
 public:
  redlock_lock(reactor::reactor& r, const std::vector<connection_config>& servers, std::string name,
               lock::lock_options options);
  /// Lets a release still in flight finish (briefly), then closes the connections.
  ~redlock_lock() override;

  void connect(std::function<void(result<void>)> done) override;
  void acquire(std::chrono::milliseconds wait, std::function<void(result<bool>)> done) override;
  void cancel_acquire() override;
  void release(std::function<void(result<void>)> done) override;
  void on_lost(std::function<void(std::error_code)> f) override;
  std::uint64_t fencing_token() const override;
  void remaining(std::function<void(result<std::int64_t>)> done) override;
  std::string where() const override;

 private:
  std::size_t quorum() const noexcept { return conns_.size() / 2 + 1; }

  reactor::reactor& reactor_;
  std::string name_;
  lock::lock_options options_;
  std::vector<std::unique_ptr<connection>> conns_;
  std::optional<lock::redlock> lock_;  // made once connected; destroyed before the connections
  std::function<void(result<bool>)> acquired_;
  std::function<void(result<void>)> released_;
  std::function<void(std::error_code)> lost_;
};

}  // namespace uredis::lock_tool
