#pragma once
// The network modes of uredis-cli: one command from the command line, or commands read from a
// file descriptor one per line.
//
// Lines are interpreted as redis-cli's prompt does (line_command.hpp) and their commands are
// sent pipelined: the next line is read without waiting for the replies of the previous ones,
// up to `max_in_flight` commands awaiting replies (then reading pauses until half have been
// answered), so any number of lines runs in bounded memory. Replies, and the lines the tool
// prints itself ("Invalid argument(s)"), come out in input order. When the input has nothing
// more to read for now (an interactive pipe), every reply due is printed before the tool
// waits for more input.
//
// Exit statuses (redis-cli's): 0 once every command has had its reply, error replies
// included; 1 when the server cannot be reached (one "Could not connect ..." line on stderr;
// redis-cli's prompt would retry for every later line instead), when the connection fails
// while replies are due ("Error: Server closed the connection" on stderr, nothing more is
// sent), or for an unsupported command (line_command.hpp). A connection that ends during a
// SHUTDOWN is the server doing as asked: nothing is printed and the status is 0.

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
