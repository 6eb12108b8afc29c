#include "options.hpp"

#include <charconv>
#include <climits>

#include "uredis/client/config.hpp"

namespace uredis::cli {
namespace {

template <class Int>
bool parse_number(std::string_view text, Int& out) {
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end;
}

// Applies a -u URL: every field the URL can carry, as redis-cli's -u does.
std::string apply_url(std::string_view url, server_options& server, bool& password_given) {
  std::string_view reason;
  const result<connection_config> parsed = parse_url(url, &reason);
  if (!parsed) return "invalid URL '" + std::string(url) + "': " + std::string(reason);
  tools::apply_url_tls(*parsed, server.tls);
  server.host = parsed->host;
  server.port = parsed->port;
  server.unix_socket = parsed->unix_socket;
  server.db = parsed->db;
  server.sentinel = parsed->sentinel;
  if (!parsed->username.empty()) server.user = parsed->username;
  if (parsed->password) {
    server.password = parsed->password;
    password_given = true;
  }
  return {};
}

}  // namespace

parsed_options parse_options(int argc, const char* const* argv, const char* env_password) {
  parsed_options parsed;
  options& o = parsed.options;
  bool decode = false;
  bool pipe = false;
  bool help = false;
  bool resp2 = false;
  bool password_given = false;
  bool no_auth_warning = false;
  auto fail = [&parsed](std::string message) {
    parsed.error = std::move(message);
    return parsed;
  };

  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.empty() || arg[0] != '-') break;  // the command starts here
    std::string tls_error;
    const tools::flag_match tls = tools::apply_tls_flag(argc, argv, i, o.server.tls, tls_error);
    if (tls == tools::flag_match::error) return fail(std::move(tls_error));
    if (tls == tools::flag_match::applied) continue;
    // Options that take a value.
    if (arg == "-h" || arg == "-p" || arg == "-s" || arg == "-a" || arg == "--pass" ||
        arg == "--user" || arg == "-n" || arg == "-u" || arg == "--pipe-timeout") {
      if (i + 1 >= argc) return fail("option '" + std::string(arg) + "' needs a value");
      const std::string_view value = argv[++i];
      if (arg == "-h") {
        o.server.host = value;
      } else if (arg == "-p") {
        if (!parse_number(value, o.server.port) || o.server.port == 0)
          return fail("port '" + std::string(value) + "' is not a number in 1..65535");
      } else if (arg == "-s") {
        o.server.unix_socket = value;
      } else if (arg == "-a" || arg == "--pass") {
        o.server.password = std::string(value);
        password_given = true;
      } else if (arg == "--user") {
        o.server.user = std::string(value);
      } else if (arg == "--pipe-timeout") {
        if (!parse_number(value, o.pipe_timeout) || o.pipe_timeout < 0)
          return fail("--pipe-timeout '" + std::string(value) + "' is not a number of seconds");
      } else if (arg == "-n") {
        if (!parse_number(value, o.server.db))
          return fail("database '" + std::string(value) + "' is not a number");
      } else {  // -u
        if (std::string error = apply_url(value, o.server, password_given); !error.empty())
          return fail(std::move(error));
      }
    } else if (arg == "-2") {
      resp2 = true;
    } else if (arg == "-3") {
      o.server.resp3 = true;
    } else if (arg == "-c") {
      o.cluster = true;
    } else if (arg == "--no-raw") {
      // The only output format there is.
    } else if (arg == "--no-auth-warning") {
      no_auth_warning = true;
    } else if (arg == "--pipe") {
      pipe = true;
    } else if (arg == "--decode") {
      decode = true;
    } else if (arg == "--help" || arg == "-?") {
      help = true;
    } else {
      return fail("unknown option '" + std::string(arg) + "'");
    }
  }
  if (resp2 && o.server.resp3) return fail("options -2 and -3 are mutually exclusive");
  // A redirect names a host and port; redis-cli refuses the pair too.
  if (o.cluster && !o.server.unix_socket.empty())
    return fail("options -c and -s (or a unix:// URL) are mutually exclusive");
  if (std::string error = tools::check_tls_flags(o.server.tls); !error.empty())
    return fail(std::move(error));

  if (help) {
    o.mode = mode::help;
    return parsed;
  }
  if (decode) {
    if (i < argc)
      return fail("--decode takes no command (unexpected '" + std::string(argv[i]) + "')");
    o.mode = mode::decode;
    return parsed;
  }
  if (pipe) {
    if (i < argc)
      return fail("--pipe takes no command (unexpected '" + std::string(argv[i]) + "')");
    o.mode = mode::pipe;
  }
  for (; i < argc; ++i)
    o.command.emplace_back(argv[i]);
  if (!pipe) o.mode = o.command.empty() ? mode::lines : mode::command;
  if (!o.server.password && env_password != nullptr) o.server.password = env_password;
  o.warn_about_password = password_given && !no_auth_warning;
  return parsed;
}

namespace {

constexpr std::string_view usage_head =
    "usage: uredis-cli [options] [command [arg ...]]\n"
    "       uredis-cli [options] --pipe < commands\n"
    "       uredis-cli --decode < replies.resp\n"
    "\n"
    "With a command, sends it and prints its reply. Without one, reads commands from stdin,\n"
    "one per line (quoted as redis-cli reads them), sends them pipelined and prints the\n"
    "replies in order. Replies print exactly as `redis-cli --no-raw` prints them.\n"
    "\n"
    "Commands from stdin ride out a lost connection: it is reconnected, what is safe to\n"
    "resend is resent, and a command without a reply gets a line saying whether it was\n"
    "not sent or may have run (exit status 1). SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and\n"
    "MONITOR print every message as it arrives, until Ctrl-C or the connection ends.\n"
    "\n"
    "  -h HOST            server host (default 127.0.0.1)\n"
    "  -p PORT            server port (default 6379)\n"
    "  -s SOCKET          server Unix socket (overrides -h and -p)\n"
    "  -a PASSWORD        password for AUTH (also --pass; or the REDISCLI_AUTH variable)\n"
    "  --user USER        ACL user for AUTH (with -a)\n"
    "  -n DB              database number\n"
    "  -u URL             redis[s]://[[user]:password@]host[:port][/db][?ssl_...] or\n"
    "                     unix://[...@]/path, or\n"
    "                     redis+sentinel://[...@]host[:port][,host[:port]...]/service[/db]\n"
    "  -2                 RESP2 (the default)\n"
    "  -3                 RESP3 (HELLO 3 after connecting)\n"
    "  -c                 cluster mode: follow MOVED and ASK redirects to the node they\n"
    "                     name, as redis-cli -c (commands from stdin then run one at a\n"
    "                     time, and each redirect prints \"-> Redirected to slot ...\")\n"
    "  --no-raw           accepted: the output is always redis-cli's --no-raw format\n"
    "  --no-auth-warning  no warning about passwords on the command line\n";

constexpr std::string_view usage_tail =
    "  --decode           read RESP2/RESP3 replies from stdin and print each one exactly\n"
    "                     as `redis-cli --no-raw` would; exit 1 on malformed or truncated\n"
    "                     input\n"
    "  --pipe             send stdin (raw RESP, or inline commands) to the server as is,\n"
    "                     count the replies and print redis-cli's summary\n"
    "                     (\"errors: N, replies: M\"); exit 1 if any reply was an error\n"
    "  --pipe-timeout S   with --pipe: give up when no reply came for S seconds once\n"
    "                     everything was sent (default 30; 0: wait forever)\n"
    "  --help             show this text\n";

}  // namespace

std::string_view usage() noexcept {
  static const std::string text =
      std::string(usage_head) + tools::tls_usage(21) + std::string(usage_tail);
  return text;
}

}  // namespace uredis::cli
