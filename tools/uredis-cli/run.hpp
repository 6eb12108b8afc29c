#pragma once
// The network modes of uredis-cli: one command from the command line, or commands read from a
// file descriptor one per line.
//
// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR stream, on the command line or on stdin (after
// the replies of the commands before them are printed): see stream_mode.hpp.
//
// Lines are interpreted as redis-cli's prompt does (line_command.hpp) and their commands are
// sent pipelined: the next line is read without waiting for the replies of the previous ones,
// up to `max_in_flight` commands awaiting replies (then reading pauses until half have been
// answered), so any number of lines runs in bounded memory. Replies, and the lines the tool
// prints itself ("Invalid argument(s)"), come out in input order. When the input has nothing
// more to read for now (an interactive pipe), every reply due is printed before the tool
// waits for more input.
//
// Failures (commands from stdin): the tool rides them out instead of stopping. The connection
// reconnects with the library's retry policy (session.hpp) and resends what is safe to resend,
// as proto/session.hpp decides: commands never written, and read-only ones. Every command still
// gets exactly one line (or block) in its place, in input order:
//
//   its reply                                            it ran, maybe after a reconnect
//   (error) uredis-cli: not sent (REASON)                it never reached the server
//   (error) uredis-cli: no reply to this read (REASON)   a read-only command whose reply was
//                                                        lost and whose resends ran out: it
//                                                        changed nothing either way
//   (error) uredis-cli: may have run: the connection was lost after it was sent
//   (error) uredis-cli: may have run (REASON)            a write whose reply was lost (or a
//                                                        protocol error broke the connection):
//                                                        it ran once or not at all
//
// REASON is redis-cli's text for the error ("Connection refused"). When the policy gives up
// (its retries spent), the commands waiting fail as "not sent" and the next command starts a
// new round of reconnecting, so a long outage costs lines, never the rest of the input.
//
// Accounting: a "may have run" line is an effect nobody saw. For a stream of `INCR c`, the
// integers printed rise by one from line to line, except that between two of them the counter
// may also have risen once for each "may have run" line between them (never more); a server
// that restarted empty counts again from 1, and the "may have run" lines before its restart
// ran, if at all, on the server that is gone. The server's counter equals the last integer
// printed. Commands that change the connection's set-up (SELECT, AUTH, HELLO) are replayed on
// reconnect once they have succeeded (session_setup.hpp). A transaction is never split across
// connections: when the connection of an open MULTI or WATCH is lost, the commands still waiting
// fail instead of being resent, and the rest of that transaction is refused with
// "(error) uredis-cli: not sent (its transaction was lost with the connection)"
// (transaction_guard.hpp). Other state a command leaves on its connection (CLIENT SETNAME,
// CLIENT TRACKING) is not replayed.
//
// While the tool waits for more input, it keeps servicing the connection: a connection lost
// meanwhile is reconnected before the next line is sent, so that line runs normally instead of
// being written into a dead socket and counted as "may have run".
//
// Exit statuses: 0 when every command got a reply (error replies included, as redis-cli); 1
// when the server cannot be reached at first (one "Could not connect ..." line on stderr; the
// first connect is not retried), when a command failed as above, or for an unsupported command
// (line_command.hpp). A connection that ends during a SHUTDOWN is the server doing as asked:
// nothing is printed for it, nothing more is sent, and the status is 0.
//
// Cluster mode (-c): commands are sent one at a time, each followed through the cluster's MOVED
// and ASK replies to the node that serves it, as redis-cli -c does (redirect_follower.hpp).
//
// One command from the command line: as redis-cli, a lost connection ends the run with
// "Error: Server closed the connection" (or the like) on stderr and status 1; nothing is retried.

#include <cstddef>
#include <cstdio>

#include "options.hpp"

namespace uredis::cli {

inline constexpr int run_ok = 0;
inline constexpr int run_failed = 1;

/// Commands awaiting replies before reading pauses.
inline constexpr std::size_t max_in_flight = 64 * 1024;

/// mode::command: sends o.command and prints its reply.
int run_command(const options& o, std::FILE* out, std::FILE* err);

/// mode::lines: sends the commands read from `in_fd` and prints their replies.
int run_lines(const options& o, int in_fd, std::FILE* out, std::FILE* err);

}  // namespace uredis::cli
