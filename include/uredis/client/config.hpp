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
//   redis+sentinel://[[username]:password@]host[:port][,host[:port]...]/service[/db][?query]
//                                         the primary of `service`, found through these
//                                         Sentinels (port 26379 unless given) and followed
//                                         through failovers: config.sentinel. The userinfo and
//                                         the query are the primary's, as for redis://, plus
//                                         sentinel_username, sentinel_password (for the
//                                         Sentinels), sentinel_timeout (seconds) and
//                                         sentinel_role=primary|replica (replica: one of the
//                                         replicas the Sentinels list, in turn, or the primary
//                                         when none is up). The form redis-vl, LangChain and
//                                         Prefect read.
//   rediss+sentinel://...                 the same over TLS, set up by the ssl_* parameters,
//                                         for the data servers and the Sentinels alike (their
//                                         tls-port): config.tls and config.sentinel.tls.
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
//               cache_max_bytes=N         client-side cache on, bounded to N >= 1 bytes
//               cache_mode=optin|default|bcast
//                                         tracking mode (cache::tracking_mode optin, tracked,
//                                         bcast; lower case only)
//               cache_prefix=P            a BCAST key prefix; the one parameter that may repeat
//                                         (each adds a prefix, in order); needs cache_mode=bcast
//               cache_max_ttl=S           cap on how long an entry is served, seconds
//               ssl_ca_certs=FILE         tls_options.ca_file (PEM CAs to trust)
//               ssl_ca_path=DIR           tls_options.ca_path (hashed CA directory)
//               ssl_certfile=FILE         tls_options.cert_file (client certificate)
//               ssl_keyfile=FILE          tls_options.key_file (its private key)
//               ssl_cert_reqs=none|required
//                                         tls_options.verify_peer (redis-py's "optional" is
//                                         refused: a client cannot half-verify a server)
//               ssl_check_hostname=true|false
//                                         tls_options.check_hostname
//             The ssl_* parameters need rediss:// or rediss+sentinel:// (they would silently
//             do nothing on a plaintext connection), and ssl_certfile and ssl_keyfile go
//             together.
//             An empty value for username, password or client_name means "not given"; for
//             the numbers and cache_prefix it is an error. A parameter given twice (other than
//             cache_prefix), an unknown parameter, or one without '=' is an error too, and so
//             is cache_mode, cache_prefix or cache_max_ttl without cache_max_bytes (a cache
//             setting that would silently do nothing).
//
// Everything else is an error (errc::invalid_url): another scheme, a bad or empty port, a db that
// is not a non-negative int, a fragment ('#'), spaces or control characters, malformed %XX.
// Differences from redis-py, where it silently guesses: it ignores a bad /db path, takes the
// first of repeated parameters, decodes query values twice, and passes unknown parameters on
// to the connection constructor (which throws). uredis rejects all of these up front.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "uredis/auth/credentials.hpp"
#include "uredis/cache/cache_config.hpp"
#include "uredis/client/address_provider.hpp"
#include "uredis/proto/session_config.hpp"
#include "uredis/result.hpp"
#include "uredis/sentinel/sentinel_config.hpp"
#include "uredis/tls/options.hpp"

namespace uredis {

using proto::resp_version;

/// Where the server is, how to reach it and who to be there; the session's settings
/// (proto::session_config: protocol, client name, db, timeouts, retry policy, health checks,
/// queue bound) are its base.
struct connection_config : proto::session_config {
  /// Name or address to connect to over TCP (ignored when unix_socket is set).
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// Path of a Unix socket; empty means TCP to host:port.
  std::string unix_socket;
  /// ACL user; empty means the default user.
  std::string username;
  /// Sent with AUTH (HELLO ... AUTH) when set, or when a username is set (as "").
  std::optional<std::string> password;
  /// Asked for credentials on every connect and reconnect instead of username and password
  /// (auth/credentials.hpp); it may answer later. Shared: a provider may serve many
  /// connections (on one shard each, or safe for several).
  std::shared_ptr<auth::credentials_provider> credentials;
  /// TCP_NODELAY (Nagle off): a pipelining client batches by itself.
  bool tcp_nodelay = true;
  /// rediss:// URLs: the connection speaks TLS (wolfSSL), set up by tls_options. A failed TLS
  /// handshake fails the connect with a tls_* code; it never falls back to plaintext.
  bool tls = false;
  /// How TLS is set up when `tls` is on: CAs, client certificate, verification, suites.
  uredis::tls::options tls_options;
  /// Client-side caching; off (max_bytes 0) unless asked for.
  cache::cache_config cache;
  /// Asked where to connect on every connect and reconnect, instead of host and port
  /// (client/address_provider.hpp); it may answer later, and move the connection. Shared: one
  /// provider may serve several connections of its shard.
  std::shared_ptr<address_provider> address;
  /// Redis Sentinel (redis+sentinel:// URLs): the primary of sentinel.service (or one of its
  /// replicas: sentinel.role), found through these Sentinels and followed through failovers
  /// (sentinel/primary_locator.hpp). With `tls`, the data connection is TLS. When
  /// enabled and `address` is not set, the connection makes a locator of its own.
  sentinel::sentinel_config sentinel;

  friend bool operator==(const connection_config&, const connection_config&) = default;
};

/// The longest Unix socket path a config may hold: sockaddr_un::sun_path (108 bytes on Linux)
/// less the terminating NUL.
inline constexpr std::size_t max_unix_socket_path = 107;

/// The config as a URL for logs and messages, with its secrets redacted: a password (or
/// credentials from a provider) shows as "***", and nothing else of them. The user, host, port
/// (or socket path) and db are shown as they are, not percent-encoded: it is for reading, not
/// for parse_url(). E.g. "redis://app:***@10.0.0.1:6380/2", "unix:///run/redis.sock".
std::string redacted_url(const connection_config& config);

/// Parses a redis://, rediss://, unix://, redis+sentinel:// or rediss+sentinel:// URL (see the
/// header comment) into a config whose other fields keep their defaults. On failure returns
/// errc::invalid_url and, if `reason` is given, points it at a static sentence saying what is wrong
/// (e.g. "port is not a number in 1..65535"). Never throws except std::bad_alloc.
result<connection_config> parse_url(std::string_view url, std::string_view* reason = nullptr);

}  // namespace uredis
