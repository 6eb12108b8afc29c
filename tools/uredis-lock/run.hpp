#pragma once
// What uredis-lock does once its command line is parsed: --status, or acquire, run, release.
//
// The reactor runs the whole time: while waiting for the lock, while the command runs (the
// lock's watchdog renews it on the reactor's timers) and while releasing. A 10 ms reactor timer
// polls for the command's exit (waitpid WNOHANG) and for signals caught (signal_relay.hpp): the
// simplest way to watch both without blocking the loop, at the cost of 100 wake-ups a second
// and up to 10 ms between the command's exit and the release.

#include <cstdio>

#include "options.hpp"

namespace uredis::lock_tool {

inline constexpr int exit_failure = 1;    // the server could not be reached, or failed
inline constexpr int exit_usage = 2;      // bad arguments (flock's)
inline constexpr int exit_tempfail = 75;  // EX_TEMPFAIL: not acquired in time, or lost
inline constexpr int exit_cannot_run = 126;
inline constexpr int exit_not_found = 127;

/// Runs `o` (mode::run or mode::status); messages go to `err`, --status's answer to `out`.
/// Returns the exit status.
int run(const options& o, std::FILE* out, std::FILE* err);

}  // namespace uredis::lock_tool
