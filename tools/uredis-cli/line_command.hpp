#pragma once
// line_command: what one line of stdin asks for, by the rules of redis-cli's prompt (which is
// what redis-cli applies to commands piped into it):
//
//   ""  or blanks only       nothing
//   bad quoting              print "Invalid argument(s)"
//   N CMD ARG...             CMD sent N times (N a positive decimal; else print "Invalid
//                            redis-cli repeat command option value.")
//   quit, exit               stop reading
//   :set hints|nohints       nothing (a prompt preference); other ":..." print redis-cli's
//                            "unknown redis-cli ..." line
//   restart                  print "Use 'restart' only in Lua debugging mode."
//   clear                    print the terminal's clear-screen sequence
//   anything else            the command, split as split_args() does
//
// Commands redis-cli serves itself or turns into a mode of its own are refused as unsupported:
// HELP and ? (the command help), CONNECT HOST PORT, and SYNC, PSYNC (its replica mode). The
// same commands are refused when given on the command line. (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE
// and MONITOR are commands here; the run streams them, stream_mode.hpp.)

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace uredis::cli {

enum class line_kind {
  nothing,
  print,  // `text` goes to stdout, in order with the replies
  quit,
  command,      // send `args`, `repeat` times
  unsupported,  // `text` names what is not supported
};

struct line_command {
  line_kind kind = line_kind::nothing;
  std::string text;
  long repeat = 1;
};

/// Interprets `line` (without its newline). For line_kind::command, `args` holds the command,
/// its repeat count removed; otherwise its content is unspecified. (`args` is a parameter so
/// that its capacity is reused from line to line.)
line_command interpret_line(std::string_view line, std::vector<std::string>& args);

/// The reason uredis-cli refuses `args` (one of the commands listed above), or "" if it does not.
std::string unsupported_reason(std::span<const std::string> args);

}  // namespace uredis::cli
