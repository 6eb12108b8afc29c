#pragma once
// Streaming commands: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR, as redis-cli runs them.
// After the command, every frame the server sends is printed as it arrives (and flushed), in
// redis-cli's --no-raw format, until the tool is interrupted or the connection ends:
//
//   Reading messages... (press Ctrl-C to quit)      first, for the three SUBSCRIBEs only
//   1) "subscribe"                                  each confirmation and message, RESP2
//   2) "ch"                                         arrays and RESP3 pushes alike
//   3) (integer) 1
//   OK                                              MONITOR: its +OK, then one status line
//   1700000000.123456 [0 127.0.0.1:5000] "GET" "k"  per command the server runs
//
// An error reply ends the stream (redis-cli's "(error) ERR wrong number of arguments ..."):
// the next command, if any, runs as usual. A connection that ends prints "Error: Server closed
// the connection" (or the like) on stderr, and the run ends with status 1. SIGINT keeps its
// default action, as in redis-cli's one-shot mode: the process ends (status 130) with
// everything received so far printed. (redis-cli's prompt, reading commands from stdin, instead
// catches it and exits 0; uredis-cli does not imitate that.)
//
// Why a plain socket and not the library's connection: the tool prints every frame as the
// server sent it, confirmations and MONITOR's lines included, in redis-cli's format; the
// library's pubsub::subscriber hands a program each message's channel and payload, and its
// connection refuses MONITOR and the subscribe family sent as raw commands
// (errc::not_one_reply). The stream is read over a raw_connection (raw_connection.hpp) set up
// like the tool's session (over TLS when it is), parsed with resp::parse_reply_tree and printed
// with the tool's formatter, like every other reply.

#include <cstdio>
#include <optional>
#include <span>
#include <string>

#include "session.hpp"
#include "uredis/cluster/redirect.hpp"

namespace uredis::cli {

/// True when `args` is a command that streams (one of the four above).
bool starts_stream(std::span<const std::string> args) noexcept;

enum class stream_end {
  error_reply,      // the server refused the command: carry on with the next one
  connection_lost,  // the message is printed on stderr; the run ends with status 1
  redirected,       // cluster mode: a MOVED or ASK reply, not printed (redirect_follower.hpp)
};

/// Runs `args` on a new connection set up like `s` (s.setup()), printing what the server
/// sends to `out` until the stream ends. Cluster mode: with `redirect`, a MOVED or ASK reply
/// (SSUBSCRIBE to a node that does not serve the channel's slot) is stored there instead of
/// printed; `asking` sends ASKING first (its +OK is not printed).
stream_end run_stream(session& s, std::span<const std::string> args, std::FILE* out, std::FILE* err,
                      std::optional<cluster::redirect>* redirect = nullptr, bool asking = false);

}  // namespace uredis::cli
