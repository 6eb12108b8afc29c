#pragma once
// child: the command uredis-lock runs under the lock, started with posix_spawnp and watched
// without blocking: poll() is waitpid(WNOHANG), which run.cpp calls from a reactor timer, so
// the reactor (and the lock's watchdog on it) keeps running the whole time.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uredis::lock_tool {

class child {
 public:
  child() = default;
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  /// Starts `command` (its first word looked up on PATH, as a shell does) with `env_entry`
  /// ("NAME=value") added to this process's environment, replacing any NAME already there.
  /// Returns 0, or the errno that kept it from running (ENOENT: not found).
  int start(const std::vector<std::string>& command, std::string_view env_entry);
  /// Whether it has exited (reaping it): its status as a shell reports it, the exit code or
  /// 128 + the number of the signal that killed it.
  std::optional<int> poll();
  /// Sends `sig` while it runs (not after it was reaped: the pid may be reused by then).
  void signal(int sig) const;
  bool running() const noexcept { return pid_ > 0 && !status_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace uredis::lock_tool
