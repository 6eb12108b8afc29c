#pragma once
// session: uredis-cli's one connection to the server, with the private reactor that drives it on
// the calling thread.
//
// The session is set up the way redis-cli sets up its own, so that what it prints matches:
//
//   connect (RESP2, nothing else)  failure: "Could not connect to Redis at HOST:PORT: REASON"
//                                  (or "... at SOCKET: REASON"), and the session is unusable
//   AUTH [user] password           if a password was given; an error reply prints
//                                  "AUTH failed: TEXT" and the set-up stops there
//   SELECT db                      if db != 0; an error prints "SELECT DB failed: TEXT" and stops
//   HELLO 3                        with -3; an error prints "HELLO 3 failed: TEXT"
//
// A step that fails on the server's side leaves a usable session, as in redis-cli: the commands
// that follow run unauthenticated, in db 0, or in RESP2, and get the server's answer to that.
// (The library's connection would run the same steps as one handshake and fail the connect
// instead; the tool runs them itself to keep redis-cli's behaviour.)
//
// Reconnecting (commands from stdin): the connection then uses the library's retry policy
// (retry::retry_policy's default, redis-py's: 10 retries, exponential backoff with jitter): a
// lost connection is reconnected, set up again as above (session_setup.hpp), and the commands
// it held are resent or failed as proto/session.hpp decides. The first connect is not retried
// (session_config::retry_first_connect = false), as redis-cli does not: a server that is not
// there is reported at once.
//
// Cluster mode (-c, redirect_follower.hpp): move_to() drops the connection and opens one to the
// node a MOVED or ASK named, set up the same way (AUTH, SELECT, HELLO 3 from the command line),
// as redis-cli reconnects on a redirect. From then on server() names that node.
//
// REASON is the operating system's text for the errno the connect failed with ("Connection
// refused", "No such file or directory" for a socket path that does not exist), or the
// resolver's ("Name or service not known"), as redis-cli prints them.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "options.hpp"
#include "session_setup.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/result.hpp"
#include "uredis/sentinel/primary_locator.hpp"

namespace uredis::cli {

class session {
 public:
  /// A session with its reactor; null, after printing why on `err`, when io_uring is unavailable.
  /// `max_waiting`: commands that may wait for a reconnect (with `reconnect`).
  static std::unique_ptr<session> create(const server_options& server, std::FILE* err,
                                         bool reconnect = false, std::size_t max_waiting = 0);

  enum class opened {
    ready,        // connected, every set-up step succeeded
    refused,      // connected, but a set-up step was refused (its message printed)
    unreachable,  // not connected (the message printed): no connection until the next move_to
  };

  /// Connects and runs the set-up steps above, printing redis-cli's messages on `err`. False
  /// when the server could not be reached (the message is printed).
  bool open() { return open_steps() != opened::unreachable; }

  /// Drops the connection and opens one to `host`:`port` over TCP (TLS as configured), set up
  /// as open() does it.
  opened move_to(const std::string& host, std::uint16_t port);

  /// With reconnect: connects again when the library gave up on the connection (its retries
  /// spent), so that the next command gets another round of retries. True if it did.
  bool revive();

  /// What is set up on the connection; update it when a command changes it.
  session_setup& setup() noexcept { return setup_; }

  uredis::connection& connection() noexcept { return *connection_; }
  reactor::reactor& loop() noexcept { return *reactor_; }
  const server_options& server() const noexcept { return server_; }

  /// What redis-cli would print for a connection that failed with `ec` ("Connection refused",
  /// "Server closed the connection", ...).
  std::string error_text(const std::error_code& ec) const;

  /// Sends one command and runs the reactor until its reply is in.
  result<resp::reply> call(std::span<const std::string> args);

 private:
  session(std::unique_ptr<reactor::reactor> r, const server_options& server, std::FILE* err,
          bool reconnect, std::size_t max_waiting);

  // A connection to server_, with the retry policy the mode wants.
  void make_connection();
  opened open_steps();
  // One set-up step: false (after printing "PREFIX failed: TEXT") when the server refused it, or
  // (after printing "Error: ...") when the connection failed.
  bool step(std::span<const std::string> args, const std::string& prefix, bool& broken);

  server_options server_;
  std::FILE* err_;
  bool reconnect_;
  std::size_t max_waiting_;
  std::error_code opening_failure_;  // what ended the connection during open()
  session_setup setup_;
  // Registered with the connection when it reconnects; one per connection, since a closed
  // connection keeps it on its list until it is freed.
  std::unique_ptr<replay_step> replay_;
  std::unique_ptr<reactor::reactor> reactor_;
  // -u redis+sentinel://: where the primary is (kept to name it to the raw connections).
  std::shared_ptr<sentinel::primary_locator> locator_;
  std::unique_ptr<uredis::connection> connection_;
};

}  // namespace uredis::cli
