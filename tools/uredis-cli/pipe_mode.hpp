#pragma once
// --pipe: redis-cli's mass-insertion mode. The bytes on stdin (raw RESP, or inline commands,
// which the server reads too) go to the server as they are, unparsed; the replies are counted,
// not printed, and each error reply's text goes to stderr on a line of its own. At the end of
// the input the tool sends `ECHO <20 random bytes>`, and the reply carrying the same bytes
// says every reply before it has arrived (CRLF goes first, to end an inline command the input
// left unterminated). It prints redis-cli's lines:
//
//   All data transferred. Waiting for the last reply...     (stdout, once everything is sent)
//   Last reply received from server.                        (stdout)
//   errors: N, replies: M                                   (stdout; the ECHO is not counted)
//
// If no reply comes for `pipe_timeout` seconds once everything is sent (0: wait forever),
// "No replies for S seconds: exiting." goes to stderr and counts as an error. A connection that
// fails prints "Error reading from the server: ..." or "Error writing to the server: ..." and
// exits 1 (redis-cli 7.0 prints nothing when the server closes the connection, e.g. after a
// protocol error in a truncated input; uredis-cli says so). Exit status: 1 if there were
// errors, 0 otherwise.
//
// How: one non-blocking socket (raw_connection.hpp, over TLS with --tls or rediss://) and
// poll() over it and stdin; input is read
// and sent in chunks of up to `pipe_chunk` bytes while replies are read as they come, so the
// server never waits on a full socket for the tool. The replies are walked with resp::parser,
// node by node, without building them: nothing is allocated per reply.

#include <cstddef>
#include <cstdio>

#include "options.hpp"

namespace uredis::cli {

// Big enough that a read of the input and a send take few system calls; the server reads
// 16 KiB at a time anyway, and the time measured is the server's (docs/PERFORMANCE.md).
inline constexpr std::size_t pipe_chunk = 256 * 1024;

/// mode::pipe: forwards `in_fd` to the server and counts the replies.
int run_pipe(const options& o, int in_fd, std::FILE* out, std::FILE* err);

}  // namespace uredis::cli
