#pragma once
// connect_awaiter: `co_await c.connect()` on a cluster (cluster/client.hpp): reads the first
// topology from the seeds (cluster_client::connect) and resumes with how it went: success once
// a slot map was read, or the last seed's error once every seed failed. The awaiter keeps the
// outcome; cluster_client's callback is one pointer back to it.

#include <coroutine>
#include <optional>
#include <utility>

#include "uredis/cluster/cluster_client.hpp"
#include "uredis/result.hpp"

namespace uredis::cluster {

class [[nodiscard]] connect_awaiter {
 public:
  explicit connect_awaiter(cluster_client& c) noexcept : client_(&c) {}
  connect_awaiter(const connect_awaiter&) = delete;
  connect_awaiter& operator=(const connect_awaiter&) = delete;

  bool await_ready() const noexcept { return false; }
  /// Starts reading the topology; false (do not suspend) when it ended meanwhile.
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    client_->connect([this](const result<void>& outcome) { complete(outcome); });
    if (outcome_) return false;
    suspended_ = true;
    return true;
  }
  result<void> await_resume() { return std::move(*outcome_); }

 private:
  void complete(const result<void>& outcome) {
    outcome_.emplace(outcome);
    // Last: the coroutine may finish and free this awaiter.
    if (suspended_) awaiting_.resume();
  }

  cluster_client* client_;
  std::optional<result<void>> outcome_;
  std::coroutine_handle<> awaiting_;
  bool suspended_ = false;
};

}  // namespace uredis::cluster
