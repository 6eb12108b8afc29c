#pragma once
// signal_cleanup: what uredis-bench must not leave behind when a signal ends it: its private
// redis-servers and their temporary directories.
//
// watch_signals() (once, in main, before any other thread is started) blocks SIGINT, SIGTERM
// and SIGHUP (those the process was not started ignoring) and waits for them on a thread of its
// own. When one comes, that
// thread stops every private_server still registered (SIGTERM, wait, remove its directory),
// then ends the process by the same signal, so that the shell sees what it sent.
//
// A death no handler sees (SIGKILL, an abort) leaves no server running either: each server is
// started with PR_SET_PDEATHSIG (private_server.cpp). Its directory then stays in /tmp.

namespace uredis::bench {

class private_server;

/// Starts the watching thread; later calls do nothing.
void watch_signals();
/// private_server's registration: start() adds the server, its destructor removes it before
/// stopping it (so that the watching thread and the destructor never stop it both).
void guard(private_server& s);
void unguard(private_server& s);
/// For a forked child, before exec: the signal mask a fresh process has (the blocked signals
/// would otherwise be inherited by redis-server, which SIGTERM must stop).
void unblock_signals_for_exec() noexcept;

}  // namespace uredis::bench
