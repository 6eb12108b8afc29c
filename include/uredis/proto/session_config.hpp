#pragma once
// session_config: how a session (session.hpp) sets its connection up and what it does when
// things fail, as a plain struct. connection_config (client/config.hpp) extends it with where
// the server is and who to be there.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "uredis/proto/exec_options.hpp"
#include "uredis/proto/handshake_step.hpp"
#include "uredis/retry/retry_policy.hpp"

namespace uredis::proto {

/// How a session sets itself up and what it does when things fail.
struct session_config {
  resp_version protocol = resp_version::resp3;
  /// Set with CLIENT SETNAME (HELLO ... SETNAME) when present and not empty.
  std::optional<std::string> client_name;
  /// Selected with SELECT after authentication when not 0.
  int db = 0;
  /// Bounds one attempt to set a connection up: the connect and the handshake together.
  std::chrono::milliseconds connect_timeout{5000};
  /// How failures are retried: reconnecting, paced by the policy's backoff, and resending the
  /// commands its rules allow. The default is redis-py's: 10 retries, exponential backoff with
  /// jitter, 10 ms base, 1 s cap. retry::retry_policy::never() turns reconnection off.
  retry::retry_policy retry;
  /// Whether `retry` also covers the first connect: failures before the session was ever
  /// ready. false: the first failure of that connect() ends it at once, its callback getting
  /// the error (errc::connection_refused for nothing listening, errc::timeout, the server's
  /// refusal), as redis-cli and redis-plus-plus fail; the policy is not consulted. true: retried
  /// like a lost connection, as redis-py does. Unset: the API's default, true for connection
  /// and client (a service started alongside its server waits for it), false for
  /// blocking_client (a script is told at once; set true to make it wait). Once the session
  /// has been ready, every later failure and connect() follows `retry`, whatever this says.
  std::optional<bool> retry_first_connect;
  /// The default deadline of every command (exec_options::timeout overrides it); 0: none.
  std::chrono::milliseconds command_timeout{0};
  /// A blocking command (BLPOP and friends) gets its server-side timeout plus this margin as its
  /// deadline instead (no deadline when it blocks forever).
  std::chrono::milliseconds blocking_timeout_margin{500};
  /// When a ready connection has received nothing for this long, it sends a PING, which must be
  /// answered within the same interval or the connection is recycled (reconnected); 0: off.
  std::chrono::milliseconds health_check_interval{0};
  /// Commands that may wait while the connection is down and reconnecting; past that, new
  /// commands fail at once with errc::queue_full.
  std::size_t max_queued_while_disconnected = 16384;

  friend bool operator==(const session_config&, const session_config&) = default;
};

/// A command's deadline, from when it is issued: the caller's timeout first; else a blocking
/// command's own (server-side + margin, none when it blocks forever); else the config's
/// default. 0: none. (A cluster client, which holds commands itself, reads it the same way.)
template <class Command>
std::chrono::milliseconds command_timeout_for(const Command& command, const exec_options& o,
                                              const session_config& config) {
  if (o.timeout.count() >= 0) return o.timeout;
  if constexpr (requires { command.blocking_timeout(); }) {
    const std::chrono::milliseconds server = command.blocking_timeout();
    return server.count() == 0 ? server : server + config.blocking_timeout_margin;
  } else {
    return config.command_timeout;
  }
}

}  // namespace uredis::proto
