#pragma once
// connection_config: everything a connection needs to reach one Redis server and set up its
// session, as a plain struct (fill it in code) or parsed from a URL (parse_url).
//
// Invariants a parsed config always satisfies (a hand-filled one should too; the connection
// trusts them): port in 1..65535; db >= 0; connect_timeout > 0; unix_socket is empty (TCP to
// host:port) or an absolute path shorter than sockaddr_un's sun_path.
//
// URL forms (redis-py's, with a documented subset of its query parameters):
//
//   redis://[[username]:password@]host[:port][/db][?query]
//   rediss://...                          the same, with tls = true
//   unix://[[username]:password@]/absolute/path.sock[?query]
//
//   host      a name, an IPv4 address, or an IPv6 address in brackets: redis://[::1]:6380.
//             Empty (redis:// or redis://:6380) means the default host.
//   userinfo  "user:pass", ":pass" (password only: the server's default user) or "user"
//             (a user with no password: `nopass` ACL users). Percent-decoded: write '/', '?',
//             '#' and '%' as %2F, %3F, %23, %25. The first ':' ends the user and the last '@'
//             the userinfo, so a raw ':' or '@' in a password works.
//   /db       decimal database index ("/" alone means 0).
//   query     name=value pairs joined by '&', values percent-decoded with '+' as a space
//             (form encoding, as Python's parse_qs does):
//               db=N                      database index (not together with a /db path)
//               username=U, password=P    credentials (not together with URL userinfo)
//               client_name=NAME          CLIENT SETNAME at connect
//               protocol=2|3              RESP version (3 with fall-back, or 2 only)
//               socket_connect_timeout=S  connect timeout in seconds, e.g. 0.25
//               socket_timeout=S          every command's deadline (command_timeout), seconds
//               health_check_interval=S   health_check_interval, seconds
//             An empty value for username, password or client_name means "not given"; for
//             the numbers it is an error. A parameter given twice, an unknown parameter, or
//             one without '=' is an error too.
//
// Everything else is an error (errc::invalid_url): another scheme, a bad or empty port, a db that
// is not a non-negative int, a fragment ('#'), spaces or control characters, malformed %XX.
// Differences from redis-py, where it silently guesses: it ignores a bad /db path, takes the
// first of repeated parameters, decodes query values twice, and passes unknown parameters on
// to the connection constructor (which throws). uredis rejects all of these up front.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "uredis/result.hpp"
#include "uredis/retry/retry_policy.hpp"

namespace uredis {

/// Which RESP version a connection speaks.
enum class resp_version : std::uint8_t {
  resp3,  // HELLO 3 (with AUTH and SETNAME); RESP2 when the server has no HELLO (Redis < 6)
  resp2,  // RESP2 only: HELLO is never sent
};

struct connection_config {
  /// Name or address to connect to over TCP (ignored when unix_socket is set).
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// Path of a Unix socket; empty means TCP to host:port.
  std::string unix_socket;
  /// ACL user; empty means the default user.
  std::string username;
  /// Sent with AUTH (HELLO ... AUTH) when set, or when a username is set (as "").
  std::optional<std::string> password;
  /// Selected with SELECT after authentication when not 0.
  int db = 0;
  /// Set with CLIENT SETNAME (HELLO ... SETNAME) when present and not empty.
  std::optional<std::string> client_name;
  resp_version protocol = resp_version::resp3;
  /// Bounds one attempt to set a connection up: the TCP connect and the handshake together.
  std::chrono::milliseconds connect_timeout{5000};
  bool tcp_nodelay = true;
  /// rediss:// URLs: the connection must use TLS. (Parsed now; TLS comes with a later issue.)
  bool tls = false;

  // Resilience (client/connection.hpp says how these play together).

  /// How failures are retried: reconnecting, paced by the policy's backoff, and resending the
  /// commands its rules allow. The default is redis-py's: 10 retries, exponential backoff with
  /// jitter, 10 ms base, 1 s cap. retry::retry_policy::never() turns reconnection off.
  retry::retry_policy retry;
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

  friend bool operator==(const connection_config&, const connection_config&) = default;
};

/// The longest Unix socket path a config may hold: sockaddr_un::sun_path (108 bytes on Linux)
/// less the terminating NUL.
inline constexpr std::size_t max_unix_socket_path = 107;

/// Parses a redis://, rediss:// or unix:// URL (see the header comment) into a config whose
/// other fields keep their defaults. On failure returns errc::invalid_url and, if `reason` is
/// given, points it at a static sentence saying what is wrong (e.g. "port is not a number in
/// 1..65535"). Never throws except std::bad_alloc.
result<connection_config> parse_url(std::string_view url, std::string_view* reason = nullptr);

}  // namespace uredis
