#include "options.hpp"

#include <charconv>
#include <cstdint>

#include "tls_flags.hpp"
#include "uredis/lock/scripts.hpp"

namespace uredis::lock_tool {
namespace {

// A year: far beyond any sensible lock, and far from overflowing a time_point when added to one.
constexpr std::int64_t max_ms = 365LL * 24 * 3600 * 1000;
// Below this the watchdog's margins (ttl/3 between renewals, ttl/100 + 2 ms of drift) leave
// nothing to work with.
constexpr std::int64_t min_ttl_ms = 10;

bool parse_ms(std::string_view text, std::int64_t& out) {
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end && out >= 0 && out <= max_ms;
}

bool parse_port(std::string_view text, std::uint16_t& out) {
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end && out != 0;
}

// -u URL: the URL names the whole server (-a and --user are applied over it at the end).
std::string apply_url(std::string_view url, connection_config& server) {
  std::string_view reason;
  result<connection_config> parsed = parse_url(url, &reason);
  if (!parsed) return "invalid URL '" + std::string(url) + "': " + std::string(reason);
  server = std::move(*parsed);
  return {};
}

std::string apply_redlock(const std::string_view whole, std::vector<connection_config>& servers) {
  servers.clear();
  std::string_view list = whole;
  while (true) {
    const std::size_t comma = list.find(',');
    const std::string_view url = list.substr(0, comma);
    if (url.empty()) return "--redlock: empty URL in '" + std::string(whole) + "'";
    connection_config server;
    if (std::string error = apply_url(url, server); !error.empty()) return "--redlock: " + error;
    servers.push_back(std::move(server));
    if (comma == std::string_view::npos) return {};
    list.remove_prefix(comma + 1);
  }
}

bool takes_value(std::string_view option) {
  return option == "-u" || option == "-h" || option == "-p" || option == "-s" || option == "-a" ||
         option == "--user" || option == "--ttl" || option == "--wait" || option == "--redlock";
}

}  // namespace

parsed_options parse_options(int argc, const char* const* argv) {
  parsed_options parsed;
  options& o = parsed.options;
  bool server_given = false;
  std::string user, password;  // -a and --user, applied to every server at the end
  bool user_given = false, password_given = false;
  tools::tls_flags tls;  // the TLS flags, laid over every server at the end
  auto fail = [&parsed](std::string message) {
    parsed.error = std::move(message);
    return parsed;
  };

  int i = 1;
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {  // the name follows, even one that starts with '-'
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // the name
    if (arg == "--help") {
      o.mode = mode::help;
      return parsed;
    }
    if (arg == "--no-wait") {
      o.wait = lock::no_wait;
      continue;
    }
    if (arg == "--status") {
      o.mode = mode::status;
      continue;
    }
    std::string_view value;
    bool has_value = false;
    if (const std::size_t eq = arg.find('='); arg.starts_with("--") && eq != arg.npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    {
      // The TLS flags, given as "--cacert FILE" or "--cacert=FILE".
      const std::string name(arg), given(value);
      const char* split[] = {argv[0], name.c_str(), given.c_str()};
      int at = 1;
      std::string error;
      const tools::flag_match m = has_value ? tools::apply_tls_flag(3, split, at, tls, error)
                                            : tools::apply_tls_flag(argc, argv, i, tls, error);
      if (m == tools::flag_match::error) return fail(error);
      if (m == tools::flag_match::applied) {
        if (has_value && at != 2) return fail("option '" + name + "' takes no value");
        continue;
      }
    }
    if (!takes_value(arg)) return fail("unknown option '" + std::string(arg) + "'");
    if (!has_value) {
      if (i + 1 >= argc) return fail("option '" + std::string(arg) + "' needs a value");
      value = argv[++i];
    }
    std::int64_t ms = 0;
    if (arg == "--ttl") {
      if (!parse_ms(value, ms) || ms < min_ttl_ms)
        return fail("--ttl '" + std::string(value) + "' is not a number of milliseconds in " +
                    std::to_string(min_ttl_ms) + ".." + std::to_string(max_ms));
      o.ttl = std::chrono::milliseconds(ms);
    } else if (arg == "--wait") {
      if (!parse_ms(value, ms))
        return fail("--wait '" + std::string(value) + "' is not a number of milliseconds in 0.." +
                    std::to_string(max_ms) + " (leave it out to wait forever)");
      o.wait = std::chrono::milliseconds(ms);
    } else if (arg == "-u") {
      if (std::string error = apply_url(value, o.server); !error.empty()) return fail(error);
      server_given = true;
    } else if (arg == "-h") {
      o.server.host = value;
      o.server.unix_socket.clear();
      server_given = true;
    } else if (arg == "-p") {
      if (!parse_port(value, o.server.port))
        return fail("port '" + std::string(value) + "' is not a number in 1..65535");
      o.server.unix_socket.clear();
      server_given = true;
    } else if (arg == "-s") {
      if (value.empty() || value[0] != '/' || value.size() > max_unix_socket_path)
        return fail("socket '" + std::string(value) + "' is not an absolute path of at most " +
                    std::to_string(max_unix_socket_path) + " bytes");
      o.server.unix_socket = value;
      server_given = true;
    } else if (arg == "-a") {
      password = value;
      password_given = true;
    } else if (arg == "--user") {
      user = value;
      user_given = true;
    } else {  // --redlock
      if (std::string error = apply_redlock(value, o.redlock); !error.empty()) return fail(error);
    }
  }

  if (i >= argc) return fail("no lock name given");
  o.name = argv[i++];
  if (o.name.empty()) return fail("the lock name is empty");
  // The fencing counter must share the name's cluster slot; scripts.hpp says which names fail.
  if (lock::fence_key(o.name).empty())
    return fail("lock name '" + o.name + "' cannot have a fencing counter in its slot (braces?)");
  if (i < argc && std::string_view(argv[i]) == "--") {
    ++i;
  } else if (i < argc && argv[i][0] == '-') {
    return fail("option '" + std::string(argv[i]) + "' after the lock name: options go before it");
  }
  for (; i < argc; ++i)
    o.command.emplace_back(argv[i]);

  // Redlock's majority needs an odd number of independent servers, three at least.
  if (!o.redlock.empty() && (o.redlock.size() < 3 || o.redlock.size() % 2 == 0))
    return fail("--redlock needs an odd number of servers, at least 3 (got " +
                std::to_string(o.redlock.size()) + ")");
  if (!o.redlock.empty() && server_given)
    return fail("--redlock names the servers: it does not go with -u, -h, -p or -s");
  if (o.mode == mode::status && !o.command.empty())
    return fail("--status takes a lock name and no command");
  if (o.mode == mode::run && o.command.empty()) return fail("no command given");

  // -a and --user apply to every server, whatever their order with -u.
  auto credentials = [&](connection_config& server) {
    if (password_given) server.password = password;
    if (user_given) server.username = user;
  };
  credentials(o.server);
  for (connection_config& server : o.redlock)
    credentials(server);
  // The TLS flags too, over what each URL says.
  if (std::string error = tools::check_tls_flags(tls); !error.empty()) return fail(error);
  tools::overlay(tls, o.server);
  for (connection_config& server : o.redlock)
    tools::overlay(tls, server);
  return parsed;
}

std::string describe(const connection_config& server) {
  if (!server.unix_socket.empty()) return server.unix_socket;
  if (server.host.find(':') != std::string::npos)  // an IPv6 address
    return "[" + server.host + "]:" + std::to_string(server.port);
  return server.host + ":" + std::to_string(server.port);
}

std::string_view usage() noexcept {
  return R"(usage: uredis-lock [connection] [--ttl MS] [--wait MS | --no-wait] NAME [--] COMMAND [ARGS...]
       uredis-lock [connection] --status NAME
       uredis-lock --help

Acquires the Redis lock NAME, runs COMMAND while it is held (renewing it every ttl/3), then
releases it and exits with COMMAND's exit status. COMMAND finds the lock's fencing token, a
number that grows with every acquisition of NAME, in $UREDIS_LOCK_TOKEN.

connection:
  -u URL                 redis[s]://[[user]:pass@]host[:port][/db][?ssl_...] or
                         unix:///path.sock
  -h HOST, -p PORT       the server (default 127.0.0.1:6379)
  -s SOCKET              a Unix socket instead of host and port
  -a PASSWORD            the password (AUTH)
  --user USER            the ACL user
  --redlock URL,URL,...  a Redlock over an odd number (3 or more) of independent servers
TLS (redis-cli's flags; they apply to every server):
  --tls                  speak TLS (as rediss:// does)
  --sni HOST             server name indication; the certificate must name it
  --cacert FILE          CA certificate file to verify with (default: the system's CAs)
  --cacertdir DIR        directory of trusted CA certificates (hashed names)
  --cert FILE, --key FILE  client certificate and its key (tls-auth-clients)
  --insecure             skip verifying the server's certificate (still encrypted)
  --tls-ciphers LIST     TLS 1.2 ciphers; --tls-ciphersuites LIST: TLS 1.3 suites
  --ocsp MODE            certificate revocation: stapling, must-staple or responder
lock:
  --ttl MS               how long the server keeps the lock without a renewal (default 10000)
  --wait MS              give up after waiting MS for another holder (default: wait forever)
  --no-wait              give up at once when another holder has it (--wait 0)
  --status               print "held, ttl N ms" or "free" for NAME, and run nothing
  --help                 this text

exit status:
  COMMAND's own; 128+N when it was killed by signal N
  75   the lock was not acquired in time, or was lost while COMMAND ran (COMMAND got SIGTERM)
  1    the server could not be reached, or failed
  2    bad arguments
  126, 127   COMMAND could not be run, or was not found
)";
}

}  // namespace uredis::lock_tool
