#pragma once
// sentinel_config: the Sentinel section of a connection's config. When `service` is set, the
// connection does not connect to config.host:port: it asks these Sentinels where the primary
// of `service` is, on every connect and reconnect, and follows it through failovers
// (sentinel/primary_locator.hpp says how). As a URL:
//
//   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db][?query]
//
// (the form of redis-vl, LangChain and Prefect; the port defaults to 26379; the userinfo and
// the query are the data connection's, as for redis://, plus sentinel_username,
// sentinel_password and sentinel_timeout for the Sentinels themselves).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "uredis/client/address_provider.hpp"

namespace uredis::sentinel {

/// The port a Sentinel listens on unless told otherwise.
inline constexpr std::uint16_t default_port = 26379;

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

  bool enabled() const noexcept { return !service.empty(); }

  friend bool operator==(const sentinel_config&, const sentinel_config&) = default;
};

}  // namespace uredis::sentinel
