#pragma once
// redirect_follower: uredis-cli -c, following a Redis Cluster's redirects the way redis-cli -c
// (7.0) does, so that both print the same bytes.
//
// Each command is sent (`repeat` times, as "3 GET k" asks) and its reply awaited before the
// next one goes out. A MOVED or ASK reply (cluster/redirect.hpp parses it) is not printed.
// Instead:
//
//   -> Redirected to slot [N] located at HOST:PORT    on stdout, for commands read from stdin
//                                                      (redis-cli's prompt prints it); nothing
//                                                      for a command on the command line
//   the connection is dropped and one is opened to HOST:PORT, set up like the first one (AUTH,
//   SELECT, HELLO 3 from the command line; session::move_to); after ASK, ASKING is sent first;
//   the command is sent again, `repeat` times (rounds answered before the redirect do not
//   count, as in redis-cli)
//
// There is no slot map: the connection stays on the last node a redirect named, and the next
// command goes there (and may be redirected again), as in redis-cli.
//
// When that node cannot be reached, "Could not connect to Redis at HOST:PORT: REASON" goes to
// stderr and the command is not sent (status 1). Commands from stdin go on: each following
// command first tries that node again (printing the same line while it stays down), never the
// node the run started on, as redis-cli does. When the node refuses a set-up step (-n N: a
// cluster has only database 0), its line ("SELECT 1 failed: ERR SELECT is not allowed in
// cluster mode") is followed by redis-cli's "Error: " with an empty reason, the command is not
// sent (status 1), and the following commands run on that node. ASKING refused prints
// "ASKING failed: TEXT" and "Error: " the same way.
//
// One difference, on purpose: redis-cli follows redirects forever; here the 17th redirect of
// one command is printed as the error it is, so that servers that keep pointing at each other
// cannot hang the tool.

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "reply_printer.hpp"
#include "session.hpp"
#include "stream_mode.hpp"
#include "uredis/cluster/slot_map.hpp"

namespace uredis::cli {

class redirect_follower {
 public:
  /// Redirects followed for one command before its reply is printed as it is.
  static constexpr int max_redirects = 16;

  /// `announce`: print the "-> Redirected ..." line (commands from stdin).
  redirect_follower(session& s, reply_printer& printer, std::FILE* err, bool announce) noexcept
      : session_(s), printer_(printer), err_(err), announce_(announce) {}

  /// Sends `args` `repeat` times, following redirects as above, and waits for the replies.
  void issue(const std::vector<std::string>& args, long repeat);

  /// Runs a streaming command (stream_mode.hpp) on the current node, following a redirect
  /// (SSUBSCRIBE) as above: redis-cli prints its "Reading messages..." line again on the new
  /// node. stream_end::error_reply also when the node could not be reached (status 1 set).
  stream_end stream(const std::vector<std::string>& args, std::FILE* out);

 private:
  // Connects to the node the last redirect named. False (the reason printed, the run's status
  // set) when the command cannot be sent.
  bool connected();
  // connected(), then ASKING if the last redirect was an ASK.
  bool ready_to_send();
  // Prints the "-> Redirected ..." line (when announcing) and aims the next command at `to`.
  void follow(cluster::redirect to);

  session& session_;
  reply_printer& printer_;
  std::FILE* err_;
  bool announce_;
  std::optional<cluster::node_address> reconnect_to_;  // where the next command must go first
  bool asking_ = false;  // the last redirect was an ASK: ASKING before the next command
};

}  // namespace uredis::cli
