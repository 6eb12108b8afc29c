#pragma once
// signal_relay: SIGINT, SIGTERM, SIGHUP and SIGQUIT caught instead of ending uredis-lock at once,
// so it can stop waiting, or pass them to the command and still release the lock once the
// command is gone. The handler only sets bits; run.cpp reads them from its reactor timer.
//
// A signal the terminal sent (Ctrl-C) went to the whole foreground process group, the command
// included: it is reported with from_terminal set, and not forwarded again.

#include <optional>

namespace uredis::lock_tool {

struct caught_signal {
  int number = 0;
  bool from_terminal = false;
};

/// Installs the handlers (once per process).
void install_signal_relay();

/// A signal caught since the last call (the lowest-numbered first), or nothing.
std::optional<caught_signal> take_signal() noexcept;

}  // namespace uredis::lock_tool
