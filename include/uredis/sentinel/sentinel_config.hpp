#pragma once
// sentinel_config: the Sentinel section of a connection's config. When `service` is set, the
// connection does not connect to config.host:port: it asks these Sentinels where the primary
// of `service` is (or one of its replicas: `role`), on every connect and reconnect, and
// follows it through failovers (sentinel/primary_locator.hpp says how). As a URL:
//
//   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db][?query]
//   rediss+sentinel://...   the same over TLS, for the data connection and the Sentinels
//
// (the form of redis-vl, LangChain and Prefect; the port defaults to 26379; the userinfo and
// the query are the data connection's, as for redis://, plus sentinel_username,
// sentinel_password and sentinel_timeout for the Sentinels themselves, and
// sentinel_role=primary|replica).
//
// TLS: the data connection speaks TLS when config.tls says so, like any other; the Sentinels
// when `tls` is set. A rediss+sentinel:// URL sets both from its ssl_* parameters (same CA,
// same client certificate): a TLS deployment's Sentinels listen on their tls-port too. A
// hand-filled config may reach plaintext Sentinels for a TLS primary, or the reverse.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "uredis/client/address_provider.hpp"
#include "uredis/tls/options.hpp"

namespace uredis::sentinel {

/// The port a Sentinel listens on unless told otherwise.
inline constexpr std::uint16_t default_port = 26379;

/// Which server of the service a connection wants.
enum class role : std::uint8_t {
  /// The primary; the handshake checks ROLE says master.
  primary,
  /// One of the replicas `SENTINEL replicas` lists and flags neither down nor disconnected, a
  /// different one on each connect (round robin from a random start, as redis-py's
  /// rotate_slaves); the primary when none is usable. The handshake checks ROLE says slave
  /// (master for the fallback). Writes fail with the replica's -READONLY, as values.
  replica,
};

struct sentinel_config {
  /// The name the Sentinels monitor the primary under (`sentinel monitor <service> ...`);
  /// empty: Sentinel is not used.
  std::string service;
  /// The Sentinels to ask, in this order at first (one that answers moves to the front).
  std::vector<endpoint> sentinels;
  /// Credentials for the Sentinels (their requirepass or ACL user), if they need any; the
  /// primary's are the connection's own.
  std::string username;
  std::optional<std::string> password;
  /// Bounds connecting to one Sentinel and its answer: a Sentinel slower than this is skipped
  /// for the next.
  std::chrono::milliseconds timeout{500};
  /// The server to connect to: the primary, or a replica (see role).
  sentinel::role role = sentinel::role::primary;
  /// Set: the Sentinels are reached over TLS, set up by these options; unset: plaintext.
  std::optional<tls::options> tls;

  bool enabled() const noexcept { return !service.empty(); }

  friend bool operator==(const sentinel_config&, const sentinel_config&) = default;
};

}  // namespace uredis::sentinel
