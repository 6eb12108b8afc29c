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
// REASON is the operating system's text for the errno the connect failed with ("Connection
// refused", "No such file or directory" for a socket path that does not exist), or the
// resolver's ("Name or service not known"), as redis-cli prints them.

#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "options.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/result.hpp"

namespace uredis::cli {

class session {
 public:
  /// A session with its reactor; null, after printing why on `err`, when io_uring is unavailable.
  static std::unique_ptr<session> create(const server_options& server, std::FILE* err);

  /// Connects and runs the set-up steps above, printing redis-cli's messages on `err`. False
  /// when the server could not be reached (the message is printed).
  bool open();

  uredis::connection& connection() noexcept { return *connection_; }
  reactor::reactor& loop() noexcept { return *reactor_; }
  const server_options& server() const noexcept { return server_; }

  /// What redis-cli would print for a connection that failed with `ec` ("Connection refused",
  /// "Server closed the connection", ...).
  std::string error_text(const std::error_code& ec) const;

 private:
  session(std::unique_ptr<reactor::reactor> r, const server_options& server, std::FILE* err);

  // Sends one command and runs the reactor until its reply is in.
  result<resp::reply> call(std::span<const std::string> args);
  // One set-up step: false (after printing "PREFIX failed: TEXT") when the server refused it, or
  // (after printing "Error: ...") when the connection failed.
  bool step(std::span<const std::string> args, const std::string& prefix, bool& broken);

  server_options server_;
  std::FILE* err_;
  std::unique_ptr<reactor::reactor> reactor_;
  std::unique_ptr<uredis::connection> connection_;
};

}  // namespace uredis::cli
