#include "uredis/client/config.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <system_error>
#include <utility>

namespace uredis {
namespace {

// Parsing state shared by the helpers: the config being built and the first failure's reason.
struct url_parser {
  connection_config config;
  std::string_view reason;
  bool db_given = false;
  bool username_given = false;
  bool password_given = false;
  // cache_mode=optin leaves the mode at its default, so the value alone cannot tell.
  bool cache_mode_given = false;
  bool ssl_given = false;       // any ssl_* parameter: they need rediss://
  bool sentinel_given = false;  // any sentinel_* parameter: they need redis+sentinel://

  bool fail(std::string_view why) noexcept {
    reason = why;
    return false;
  }
};

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space in query values). A '%' not followed by two hex
// digits is an error rather than kept as is (Python's unquote keeps it): a password such as
// "50%off" must be written "50%25off", or it would silently mean something else elsewhere.
bool percent_decode(std::string_view in, std::string& out, bool plus_as_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

// Spaces and control characters never appear raw in a URL; they must be percent-encoded.
bool has_raw_control_or_space(std::string_view url) noexcept {
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return true;
  }
  return false;
}

// RFC 3986 reg-name characters, without the sub-delims no DNS name uses.
bool is_host_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Digits only, no sign, no spaces; the value must fit in an int.
bool parse_non_negative_int(std::string_view text, int& out) noexcept {
  if (text.empty()) return false;
  for (const char c : text)
    if (c < '0' || c > '9') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

bool parse_db(url_parser& p, std::string_view text) {
  if (p.db_given) return p.fail("the database is given twice (path and ?db=)");
  p.db_given = true;
  if (!parse_non_negative_int(text, p.config.db))
    return p.fail("the database is not a number in 0..2147483647");
  return true;
}

bool parse_port(url_parser& p, std::string_view text) {
  if (text.empty()) return p.fail("empty port after ':'");
  int port = 0;
  if (text.size() > 5 || !parse_non_negative_int(text, port) || port < 1 || port > 65535)
    return p.fail("port is not a number in 1..65535");
  p.config.port = static_cast<std::uint16_t>(port);
  return true;
}

bool parse_userinfo(url_parser& p, std::string_view userinfo) {
  const std::size_t colon = userinfo.find(':');
  const std::string_view user = userinfo.substr(0, colon);
  std::string decoded;
  if (!percent_decode(user, decoded, false))
    return p.fail("malformed percent-encoding in the username");
  // Empty parts mean "not given", as in redis-py: redis://:@host has no credentials.
  if (!decoded.empty()) {
    p.config.username = std::move(decoded);
    p.username_given = true;
  }
  if (colon != std::string_view::npos) {
    if (!percent_decode(userinfo.substr(colon + 1), decoded, false))
      return p.fail("malformed percent-encoding in the password");
    if (!decoded.empty()) {
      p.config.password = std::move(decoded);
      p.password_given = true;
    }
  }
  return true;
}

bool parse_ipv6_host(url_parser& p, std::string_view bracketed) {
  // bracketed = "[addr]" or "[addr%25zone]" (RFC 6874 zone identifier).
  std::string_view inside = bracketed.substr(1, bracketed.size() - 2);
  std::string_view zone;
  if (const auto pct = inside.find('%'); pct != std::string_view::npos) {
    if (inside.substr(pct, 3) != "%25" || pct + 3 == inside.size())
      return p.fail("malformed IPv6 zone (write [fe80::1%25eth0])");
    zone = inside.substr(pct + 3);
    inside = inside.substr(0, pct);
    for (const char c : zone)
      if (!is_host_char(c)) return p.fail("malformed IPv6 zone (write [fe80::1%25eth0])");
  }
  char address[64];  // the longest IPv6 text is 45 characters
  in6_addr parsed{};
  if (inside.empty() || inside.size() >= sizeof address)
    return p.fail("malformed IPv6 address in brackets");
  inside.copy(address, inside.size());
  address[inside.size()] = '\0';
  if (::inet_pton(AF_INET6, address, &parsed) != 1)
    return p.fail("malformed IPv6 address in brackets");
  p.config.host.assign(inside);
  if (!zone.empty()) {
    p.config.host.push_back('%');
    p.config.host.append(zone);
  }
  return true;
}

bool parse_host_port(url_parser& p, std::string_view hostport) {
  std::string_view host = hostport;
  std::string_view port;
  bool has_port = false;
  if (!hostport.empty() && hostport.front() == '[') {
    const std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) return p.fail("unclosed '[' in the host");
    if (!parse_ipv6_host(p, hostport.substr(0, close + 1))) return false;
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return p.fail("unexpected characters after ']'");
      port = after.substr(1);
      has_port = true;
    }
    return !has_port || parse_port(p, port);
  }
  if (const auto colon = hostport.find(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
    has_port = true;
  }
  if (!host.empty()) {
    std::string decoded;
    if (!percent_decode(host, decoded, false))
      return p.fail("malformed percent-encoding in the host");
    for (const char c : decoded)
      if (!is_host_char(c)) return p.fail("invalid character in the host");
    p.config.host = std::move(decoded);
  }
  return !has_port || parse_port(p, port);
}

bool parse_timeout_seconds(url_parser& p, std::string_view text, std::string_view name,
                           std::chrono::milliseconds& target) {
  // A year: anything longer is a typo, and the milliseconds must not overflow.
  constexpr double max_seconds = 365.0 * 24 * 3600;
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
      !std::isfinite(seconds) || seconds <= 0 || seconds > max_seconds)
    return p.fail(name);
  // Round up, so a tiny positive timeout never becomes 0 ms (no timeout at all).
  target = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
  return true;
}

// Digits only, no sign; at least 1 (0 would mean "no cache", which is what leaving it out says).
bool parse_cache_max_bytes(url_parser& p, std::string_view text) {
  std::size_t bytes = 0;
  bool digits_only = !text.empty();
  for (const char c : text)
    if (c < '0' || c > '9') digits_only = false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
  if (!digits_only || ec != std::errc{} || end != text.data() + text.size() || bytes == 0)
    return p.fail("cache_max_bytes is not a whole number of bytes >= 1");
  p.config.cache.max_bytes = bytes;
  return true;
}

// "default" is the server's default tracking (CLIENT TRACKING ON with no option), which
// cache_config calls tracked.
bool parse_cache_mode(url_parser& p, std::string_view text) {
  if (text == "optin") {
    p.config.cache.mode = cache::tracking_mode::optin;
  } else if (text == "default") {
    p.config.cache.mode = cache::tracking_mode::tracked;
  } else if (text == "bcast") {
    p.config.cache.mode = cache::tracking_mode::bcast;
  } else {
    return p.fail("cache_mode must be optin, default or bcast");
  }
  p.cache_mode_given = true;
  return true;
}

// Settings that only mean something together; checked once every parameter is read, so their
// order in the query does not matter.
bool check_cache_settings(url_parser& p) {
  const cache::cache_config& settings = p.config.cache;
  if (!settings.enabled()) {
    if (p.cache_mode_given) return p.fail("cache_mode needs cache_max_bytes");
    if (!settings.prefixes.empty()) return p.fail("cache_prefix needs cache_max_bytes");
    if (settings.max_ttl.count() > 0) return p.fail("cache_max_ttl needs cache_max_bytes");
  }
  if (!settings.prefixes.empty() && settings.mode != cache::tracking_mode::bcast)
    return p.fail("cache_prefix needs cache_mode=bcast");
  return true;
}

enum class parameter : std::uint8_t {
  db,
  username,
  password,
  client_name,
  protocol,
  socket_connect_timeout,
  socket_timeout,
  health_check_interval,
  cache_max_bytes,
  cache_mode,
  cache_prefix,
  cache_max_ttl,
  ssl_ca_certs,
  ssl_ca_path,
  ssl_certfile,
  ssl_keyfile,
  ssl_cert_reqs,
  ssl_check_hostname,
  sentinel_username,
  sentinel_password,
  sentinel_timeout,
  sentinel_role,
};

constexpr std::pair<std::string_view, parameter> parameters[] = {
    {"db", parameter::db},
    {"username", parameter::username},
    {"password", parameter::password},
    {"client_name", parameter::client_name},
    {"protocol", parameter::protocol},
    {"socket_connect_timeout", parameter::socket_connect_timeout},
    {"socket_timeout", parameter::socket_timeout},
    {"health_check_interval", parameter::health_check_interval},
    {"cache_max_bytes", parameter::cache_max_bytes},
    {"cache_mode", parameter::cache_mode},
    {"cache_prefix", parameter::cache_prefix},
    {"cache_max_ttl", parameter::cache_max_ttl},
    {"ssl_ca_certs", parameter::ssl_ca_certs},
    {"ssl_ca_path", parameter::ssl_ca_path},
    {"ssl_certfile", parameter::ssl_certfile},
    {"ssl_keyfile", parameter::ssl_keyfile},
    {"ssl_cert_reqs", parameter::ssl_cert_reqs},
    {"ssl_check_hostname", parameter::ssl_check_hostname},
    {"sentinel_username", parameter::sentinel_username},
    {"sentinel_password", parameter::sentinel_password},
    {"sentinel_timeout", parameter::sentinel_timeout},
    {"sentinel_role", parameter::sentinel_role},
};

// A path parameter: an empty one is a mistake (redis-py would pass "" on and fail later).
bool parse_path(url_parser& p, std::string value, std::string& target, std::string_view empty) {
  if (value.empty()) return p.fail(empty);
  target = std::move(value);
  return true;
}

// TLS settings that only mean something together, checked once every parameter is read.
bool check_ssl_settings(url_parser& p) {
  const tls::options& o = p.config.tls_options;
  if (p.ssl_given && !p.config.tls) return p.fail("the ssl_* parameters need a rediss:// URL");
  if (o.cert_file.empty() != o.key_file.empty())
    return p.fail("ssl_certfile and ssl_keyfile go together");
  return true;
}

bool parse_parameter(url_parser& p, parameter which, std::string value) {
  switch (which) {
    case parameter::db:
      return parse_db(p, value);
    // An empty string value means "not given", as for the userinfo (and parse_qs, which drops
    // blank values).
    case parameter::username:
      if (p.username_given) return p.fail("the username is given twice (userinfo and query)");
      if (!value.empty()) p.config.username = std::move(value);
      return true;
    case parameter::password:
      if (p.password_given) return p.fail("the password is given twice (userinfo and query)");
      if (!value.empty()) p.config.password = std::move(value);
      return true;
    case parameter::client_name:
      if (!value.empty()) p.config.client_name = std::move(value);
      return true;
    case parameter::protocol:
      if (value == "3") {
        p.config.protocol = resp_version::resp3;
      } else if (value == "2") {
        p.config.protocol = resp_version::resp2;
      } else {
        return p.fail("protocol must be 2 or 3");
      }
      return true;
    case parameter::socket_connect_timeout:
      return parse_timeout_seconds(
          p, value, "socket_connect_timeout is not a number of seconds in (0, 31536000]",
          p.config.connect_timeout);
    // redis-py's socket_timeout bounds each read; here it is every command's deadline.
    case parameter::socket_timeout:
      return parse_timeout_seconds(p, value,
                                   "socket_timeout is not a number of seconds in (0, 31536000]",
                                   p.config.command_timeout);
    case parameter::health_check_interval:
      return parse_timeout_seconds(
          p, value, "health_check_interval is not a number of seconds in (0, 31536000]",
          p.config.health_check_interval);
    case parameter::cache_max_bytes:
      return parse_cache_max_bytes(p, value);
    case parameter::cache_mode:
      return parse_cache_mode(p, value);
    // An empty prefix would silently mean "every key" in BCAST, the opposite of narrowing.
    case parameter::cache_prefix:
      if (value.empty()) return p.fail("cache_prefix is empty");
      p.config.cache.prefixes.push_back(std::move(value));
      return true;
    case parameter::cache_max_ttl:
      return parse_timeout_seconds(p, value,
                                   "cache_max_ttl is not a number of seconds in (0, 31536000]",
                                   p.config.cache.max_ttl);
    case parameter::ssl_ca_certs:
      return parse_path(p, std::move(value), p.config.tls_options.ca_file, "ssl_ca_certs is empty");
    case parameter::ssl_ca_path:
      return parse_path(p, std::move(value), p.config.tls_options.ca_path, "ssl_ca_path is empty");
    case parameter::ssl_certfile:
      return parse_path(p, std::move(value), p.config.tls_options.cert_file,
                        "ssl_certfile is empty");
    case parameter::ssl_keyfile:
      return parse_path(p, std::move(value), p.config.tls_options.key_file, "ssl_keyfile is empty");
    // redis-py's "optional" (verify only if the server sends a certificate) is refused: a TLS
    // server always sends one, so it would be "required" with a misleading name.
    case parameter::ssl_cert_reqs:
      if (value == "required") {
        p.config.tls_options.verify_peer = true;
      } else if (value == "none") {
        p.config.tls_options.verify_peer = false;
      } else {
        return p.fail("ssl_cert_reqs must be none or required");
      }
      return true;
    case parameter::ssl_check_hostname:
      if (value == "true") {
        p.config.tls_options.check_hostname = true;
      } else if (value == "false") {
        p.config.tls_options.check_hostname = false;
      } else {
        return p.fail("ssl_check_hostname must be true or false");
      }
      return true;
    case parameter::sentinel_username:
      if (!value.empty()) p.config.sentinel.username = std::move(value);
      return true;
    case parameter::sentinel_password:
      if (!value.empty()) p.config.sentinel.password = std::move(value);
      return true;
    case parameter::sentinel_timeout:
      return parse_timeout_seconds(p, value,
                                   "sentinel_timeout is not a number of seconds in (0, 31536000]",
                                   p.config.sentinel.timeout);
    // redis-py's names for the same choice are master and slave; these are the config's.
    case parameter::sentinel_role:
      if (value == "primary") {
        p.config.sentinel.role = sentinel::role::primary;
      } else if (value == "replica") {
        p.config.sentinel.role = sentinel::role::replica;
      } else {
        return p.fail("sentinel_role must be primary or replica");
      }
      return true;
  }
  return p.fail("unknown query parameter");
}

bool parse_query(url_parser& p, std::string_view query) {
  bool seen[std::size(parameters)] = {};
  std::string name;
  std::string value;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;  // "?a=1&&b=2" and a trailing '&', as parse_qs allows
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return p.fail("a query parameter has no '=value'");
    if (!percent_decode(pair.substr(0, eq), name, true) ||
        !percent_decode(pair.substr(eq + 1), value, true))
      return p.fail("malformed percent-encoding in the query");
    std::size_t index = 0;
    while (index < std::size(parameters) && parameters[index].first != name)
      ++index;
    if (index == std::size(parameters)) return p.fail("unknown query parameter");
    // BCAST takes several prefixes, one parameter each, as CLIENT TRACKING takes PREFIX.
    if (seen[index] && parameters[index].second != parameter::cache_prefix)
      return p.fail("a query parameter is given twice");
    seen[index] = true;
    if (name.starts_with("ssl_")) p.ssl_given = true;
    if (name.starts_with("sentinel_")) p.sentinel_given = true;
    if (!parse_parameter(p, parameters[index].second, std::move(value))) return false;
  }
  if (p.sentinel_given && !p.config.sentinel.enabled())
    return p.fail("the sentinel_* parameters need a redis+sentinel:// URL");
  return check_cache_settings(p) && check_ssl_settings(p);
}

// rediss+sentinel://: the Sentinels of a TLS deployment listen on their tls-port, with the
// same CA and the same client certificates as the data servers (redis-py takes a separate
// sentinel_kwargs for them; a URL has no room for a second set, and rarely needs one).
void share_tls_with_sentinels(url_parser& p) {
  if (p.config.tls && p.config.sentinel.enabled()) p.config.sentinel.tls = p.config.tls_options;
}

// "host[:port],host[:port]...": the Sentinels, each on port 26379 unless given. Read with the
// single-host parser (IPv6 in brackets too), then moved to the Sentinel list.
bool parse_sentinels(url_parser& p, std::string_view list) {
  if (list.empty()) return p.fail("a redis+sentinel:// URL needs at least one Sentinel host");
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    if (item.empty()) return p.fail("an empty Sentinel address in the list");
    p.config.host.clear();
    p.config.port = sentinel::default_port;
    if (!parse_host_port(p, item)) return false;
    if (p.config.host.empty()) return p.fail("a Sentinel address has no host");
    p.config.sentinel.sentinels.push_back({std::move(p.config.host), p.config.port});
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  // host and port are not used: the Sentinels name the primary.
  p.config.host = connection_config{}.host;
  p.config.port = connection_config{}.port;
  return true;
}

// "/service[/db]".
bool parse_sentinel_path(url_parser& p, std::string_view path) {
  const std::string_view usage =
      "a redis+sentinel:// URL needs the service name: redis+sentinel://host:26379/mymaster";
  if (path.size() < 2) return p.fail(usage);
  path.remove_prefix(1);
  const std::size_t slash = path.find('/');
  std::string service;
  if (!percent_decode(path.substr(0, slash), service, false))
    return p.fail("malformed percent-encoding in the service name");
  if (service.empty()) return p.fail(usage);
  p.config.sentinel.service = std::move(service);
  if (slash == std::string_view::npos) return true;
  const std::string_view db = path.substr(slash + 1);
  return db.empty() || parse_db(p, db);
}

bool parse(url_parser& p, std::string_view url) {
  if (has_raw_control_or_space(url))
    return p.fail("spaces and control characters must be percent-encoded");
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return p.fail("missing scheme (redis://...)");
  const std::string_view scheme = url.substr(0, scheme_end);
  const bool is_unix = equals_ignoring_case(scheme, "unix");
  const bool is_tls_sentinel = equals_ignoring_case(scheme, "rediss+sentinel");
  const bool is_sentinel = is_tls_sentinel || equals_ignoring_case(scheme, "redis+sentinel");
  if (equals_ignoring_case(scheme, "rediss") || is_tls_sentinel) {
    p.config.tls = true;
  } else if (!is_unix && !is_sentinel && !equals_ignoring_case(scheme, "redis")) {
    return p.fail(
        "unknown scheme: use redis://, rediss://, unix://, redis+sentinel:// or "
        "rediss+sentinel://");
  }

  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find('#') != std::string_view::npos)
    return p.fail("'#' is not allowed (a fragment, or a password that needs %23)");
  std::string_view query;
  bool has_query = false;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    has_query = true;
  }
  const std::size_t authority_end = rest.find('/');
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view path =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  // The last '@' ends the userinfo, as Python's urlparse has it: a raw '@' in a password works.
  std::string_view hostport = authority;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    if (!parse_userinfo(p, authority.substr(0, at))) return false;
    hostport = authority.substr(at + 1);
  }

  if (is_sentinel) {
    if (!parse_sentinels(p, hostport) || !parse_sentinel_path(p, path)) return false;
  } else if (is_unix) {
    if (!hostport.empty())
      return p.fail("a unix:// URL takes no host: write unix:///path/to/socket");
    if (path.empty()) return p.fail("a unix:// URL needs an absolute socket path");
    std::string decoded;
    if (!percent_decode(path, decoded, false))
      return p.fail("malformed percent-encoding in the socket path");
    if (decoded.find('\0') != std::string::npos)
      return p.fail("the socket path contains a NUL byte");
    if (decoded.size() > max_unix_socket_path)
      return p.fail("the socket path is longer than 107 bytes");
    p.config.unix_socket = std::move(decoded);
  } else {
    if (!parse_host_port(p, hostport)) return false;
    if (path.size() > 1) {
      if (!parse_db(p, path.substr(1))) return false;
    }
  }
  if (has_query && !parse_query(p, query)) return false;
  share_tls_with_sentinels(p);
  return true;
}

}  // namespace

result<connection_config> parse_url(std::string_view url, std::string_view* reason) {
  url_parser p;
  if (!parse(p, url)) {
    if (reason != nullptr) *reason = p.reason;
    return errc::invalid_url;
  }
  if (reason != nullptr) *reason = {};
  return std::move(p.config);
}

std::string redacted_url(const connection_config& config) {
  std::string out = config.sentinel.enabled()
                        ? (config.tls ? "rediss+sentinel://" : "redis+sentinel://")
                    : config.unix_socket.empty() ? (config.tls ? "rediss://" : "redis://")
                                                 : "unix://";
  // Whether there is a secret is worth saying (it explains an authentication error); what it
  // is never is.
  const bool secret = config.password.has_value() || config.credentials != nullptr;
  if (!config.username.empty() || secret) {
    out += config.username;
    if (secret) out += ":***";
    out += '@';
  }
  if (config.sentinel.enabled()) {
    const char* separator = "";
    for (const endpoint& s : config.sentinel.sentinels) {
      const bool ipv6 = s.host.find(':') != std::string::npos;
      out += separator;
      out += ipv6 ? "[" + s.host + "]" : s.host;
      out += ':' + std::to_string(s.port);
      separator = ",";
    }
    out += '/' + config.sentinel.service;
    if (config.db != 0) out += '/' + std::to_string(config.db);
    return out;
  }
  if (!config.unix_socket.empty()) {
    out += config.unix_socket;
  } else {
    const bool ipv6 = config.host.find(':') != std::string::npos;
    out += ipv6 ? "[" + config.host + "]" : config.host;
    out += ':' + std::to_string(config.port);
  }
  if (config.db != 0)
    out += (config.unix_socket.empty() ? "/" : "?db=") + std::to_string(config.db);
  return out;
}

}  // namespace uredis
