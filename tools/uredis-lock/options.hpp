#pragma once
// The command line of uredis-lock, parsed into a plain struct before anything runs.
//
//   uredis-lock [connection flags] [--ttl MS] [--wait MS | --no-wait] NAME [--] COMMAND [ARGS...]
//   uredis-lock [connection flags] --status NAME
//   uredis-lock --help
//
// Connection flags: -u URL (parse_url's forms), -h HOST, -p PORT, -s SOCKET, -a PASSWORD,
// --user USER, or --redlock URL,URL,... (several independent servers), and redis-cli's TLS
// flags (tls_flags.hpp), which apply to every server. As in uredis-cli they are
// read left to right and a later one overrides an earlier one (-h after -u replaces the host);
// -a and --user apply to every server, over what a URL says.
// Long options also take their value after '=' (--ttl=300). Options come before NAME: the
// first argument that is not an option is NAME (after a "--" it may start with '-'), an
// optional "--" follows it, and everything after that is the command, untouched.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "uredis/client/config.hpp"
#include "uredis/lock/machine.hpp"

namespace uredis::lock_tool {

enum class mode {
  run,     // acquire NAME, run the command, release
  status,  // --status: print whether NAME is held, and its ttl
  help,    // --help: the usage text on stdout
};

struct options {
  lock_tool::mode mode = mode::run;
  /// The server (-u, -h, -p, -s, -a, --user). Retries and the protocol are run.cpp's choice.
  connection_config server;
  /// --redlock: the servers of a Redlock, in order (empty: one server, `server`).
  std::vector<connection_config> redlock;
  /// --ttl: how long the server keeps the lock without a renewal.
  std::chrono::milliseconds ttl{10'000};
  /// --wait / --no-wait: lock::no_wait, a duration, or lock::wait_forever (the default).
  std::chrono::milliseconds wait = lock::wait_forever;
  std::string name;
  /// The command and its arguments (mode::run).
  std::vector<std::string> command;
};

/// The outcome of parsing argv: options, or a message saying what was wrong with them.
struct parsed_options {
  lock_tool::options options;
  std::string error;  // empty on success
};

parsed_options parse_options(int argc, const char* const* argv);

/// The usage text, ending in a newline.
std::string_view usage() noexcept;

/// Where `server` is, for messages: "127.0.0.1:6379" or the socket's path.
std::string describe(const connection_config& server);

}  // namespace uredis::lock_tool
