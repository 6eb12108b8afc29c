#pragma once
// The command line of uredis-cli, parsed into a plain struct before anything runs.
//
//   uredis-cli --decode < replies.resp              RESP bytes in, formatted replies out
//   uredis-cli [connection flags] CMD ARG...         one command, its reply printed
//   uredis-cli [connection flags] < commands.txt     one command per line, sent pipelined
//   uredis-cli [connection flags] --pipe < data      redis-cli's mass insertion (pipe_mode.hpp)
//
// The connection flags are redis-cli's: -h HOST, -p PORT, -s SOCKET, -a PASSWORD (or --pass),
// --user USER, -n DB, -u URL, -2, -3, --no-auth-warning, --no-raw (accepted; the output is
// always redis-cli's --no-raw format), and the TLS flags (tls_flags.hpp). As in redis-cli, the
// flags are read left to right and a later one overrides an earlier one (-u sets every field its
// URL names, -h after it replaces the host); -c follows cluster redirects as redis-cli -c does
// (redirect_follower.hpp; not with a Unix socket, as in redis-cli). The first argument that is not
// a flag starts the command. REDISCLI_AUTH supplies the password when no flag gave one.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tls_flags.hpp"
#include "uredis/sentinel/sentinel_config.hpp"

namespace uredis::cli {

enum class mode {
  decode,   // RESP bytes on stdin, formatted replies on stdout
  help,     // the usage text on stdout
  command,  // the command given in argv, then exit
  lines,    // commands read from stdin, one per line
  pipe,     // --pipe: stdin's bytes forwarded to the server, replies counted
};

/// Where to connect and how to set up the session, the way redis-cli does it.
struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string unix_socket;  // non-empty: connect here instead of host:port
  std::optional<std::string> user;
  std::optional<std::string> password;
  int db = 0;
  bool resp3 = false;    // -3: HELLO 3 after connecting; RESP2 otherwise (redis-cli's default)
  tools::tls_flags tls;  // --tls, --cacert, ... and rediss:// (tls_flags.hpp)
  /// -u redis+sentinel://...: the primary of a Sentinel service (host and port are then the
  /// primary found, once connected).
  sentinel::sentinel_config sentinel;
};

struct options {
  cli::mode mode = mode::help;
  server_options server;
  /// The command, for mode::command.
  std::vector<std::string> command;
  /// --pipe-timeout: seconds without a reply, once everything is sent, before --pipe gives up
  /// (0: never). redis-cli's default.
  int pipe_timeout = 30;
  /// -c: follow MOVED and ASK replies to the node they name (redirect_follower.hpp). --pipe
  /// ignores it, as redis-cli's does.
  bool cluster = false;
  /// Print redis-cli's warning about -a/-u passwords on stderr before connecting.
  bool warn_about_password = false;
};

/// The outcome of parsing argv: options, or a message saying what was wrong with them.
struct parsed_options {
  cli::options options;
  std::string error;  // empty on success
};

/// `env_password` is the value of REDISCLI_AUTH, or null when it is not set.
parsed_options parse_options(int argc, const char* const* argv, const char* env_password = nullptr);

/// The usage text, ending in a newline.
std::string_view usage() noexcept;

}  // namespace uredis::cli
