#pragma once
// transaction_guard: keeps the commands of a transaction from running on another connection
// than the one their MULTI or WATCH ran on, when uredis-cli reconnects (run.hpp).
//
// The library resends a command that was never written on the new connection, and a read-only
// one in any case. That is right for a command alone, and wrong inside a transaction: MULTI's
// queue and WATCH's guard die with the connection, so `INCR b` behind a lost `MULTI; INCR a`
// would run at once, outside the transaction, and an EXEC behind a lost WATCH would run
// unguarded. The guard follows the commands the tool sends, in order:
//
//   MULTI ... EXEC | DISCARD        a transaction is open from MULTI until EXEC or DISCARD
//   WATCH ... EXEC | DISCARD | UNWATCH   keys are watched until one of these
//
// When the connection is lost while either is open, or while a command sent inside one still
// waits for its reply, the tool fails every command still waiting (rather than let the library
// resend them), and the guard refuses, without sending them, the commands that belonged to the
// lost state: the rest of an open transaction up to and including its EXEC or DISCARD; after a
// lost WATCH, a transaction that follows (MULTI up to its EXEC or DISCARD; UNWATCH instead just
// ends it). Everything else is sent as usual.

#include <span>
#include <string>

namespace uredis::cli {

class transaction_guard {
 public:
  /// What to do with a command about to be sent.
  enum class verdict {
    send,         // an ordinary command
    send_inside,  // part of an open transaction or WATCH: count it until its reply
    refuse,       // it belongs to a transaction lost with its connection: do not send it
  };

  /// Judges the next command (they must come in the order they are sent).
  verdict on_send(std::span<const std::string> args) noexcept;

  /// The connection was lost. True if the state it carried matters: the caller must then fail
  /// every command still waiting for a reply (`waiting_inside`: commands judged send_inside
  /// that still wait).
  bool on_connection_lost(std::size_t waiting_inside) noexcept;

  bool in_multi() const noexcept { return multi_ == state::open; }
  bool watching() const noexcept { return watch_ == state::open; }

 private:
  enum class state : unsigned char { none, open, lost };
  state multi_ = state::none;
  state watch_ = state::none;
};

}  // namespace uredis::cli
