#pragma once
// tracking_step: the handshake step that turns CLIENT TRACKING on for a cached connection, on
// every connect and reconnect (a new socket starts untracked; invalidations the old one would
// have had are lost, which is why a reconnect also flushes the cache).
//
//   RESP3       CLIENT TRACKING ON [OPTIN | BCAST [PREFIX p]...]       invalidations in band
//   RESP2       CLIENT TRACKING ON REDIRECT <id> [OPTIN | BCAST ...]   invalidations published
//               on __redis__:invalidate to the subscriber connection <id>
//
// The reply must be +OK; an error reply (a prefix overlapping another, a REDIRECT to a
// connection that is gone) fails the handshake with the server's error. On RESP2 without a
// redirect target (set_redirect) the step writes nothing and tracking stays off: active()
// says whether the last handshake turned it on, so the cache serves nothing it cannot keep
// fresh.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "uredis/cache/cache_config.hpp"
#include "uredis/proto/handshake_step.hpp"

namespace uredis::cache {

class tracking_step final : public proto::handshake_step {
 public:
  explicit tracking_step(cache_config config) : config_(std::move(config)) {}

  /// The client id of the connection RESP2 invalidations are redirected to (nullopt: none).
  void set_redirect(std::optional<std::int64_t> client_id) noexcept { redirect_ = client_id; }
  /// Tracking no longer reaches its redirect target (it lost its socket): off until the next
  /// +OK this step reads.
  void reset() noexcept { active_ = false; }
  /// Whether the last handshake turned tracking on.
  bool active() const noexcept { return active_; }
  const cache_config& config() const noexcept { return config_; }

  std::size_t write(resp::encoder& out, const proto::handshake_params& params,
                    proto::resp_version protocol) override;
  result<void> on_node(const resp::node& n, std::size_t reply) override;

 private:
  cache_config config_;
  std::optional<std::int64_t> redirect_;
  bool active_ = false;
};

}  // namespace uredis::cache
