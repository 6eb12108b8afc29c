#pragma once
// private_server: a throw-away redis-server for runs given no -h/-p/-s. It is started from PATH
// on a free loopback port, in a fresh temporary directory, with persistence off (--save '',
// --appendonly no); the destructor stops it (SIGTERM, then waits) and removes the directory,
// as does a signal that ends the process, and the server dies with the process however it ends
// (signal_cleanup.hpp).
//
// With TLS (start(true)) it makes a CA and a server certificate for 127.0.0.1 and localhost in
// that directory with `openssl` (on PATH) and listens for TLS only; clients trust ca_file().
//
// Invariant: after start() succeeds the server accepts connections on 127.0.0.1:port().

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace uredis::bench {

/// A loopback TCP port that was free when asked (0 when none could be had).
std::uint16_t free_loopback_port();
/// Runs a program from PATH with its output discarded; true when it exits 0.
bool run_quietly(const std::vector<std::string>& args);

class private_server {
 public:
  private_server() = default;
  ~private_server();
  private_server(const private_server&) = delete;
  private_server& operator=(const private_server&) = delete;

  /// Starts the server (`tls`: TLS only, see above), with `extra` arguments after the
  /// others; on failure returns false and sets `error`.
  bool start(std::string& error, bool tls = false, const std::vector<std::string>& extra = {});
  /// Its temporary directory (the server's --dir).
  const std::string& dir() const noexcept { return dir_; }
  /// With TLS: the PEM file of the CA that signed the server's certificate.
  std::string ca_file() const { return dir_ + "/ca.crt"; }
  std::uint16_t port() const noexcept { return port_; }
  /// The server's CPU time so far (user + system, every thread: the sum of
  /// /proc/<pid>/task/*/schedstat's first field, nanoseconds on a CPU); nullopt when it cannot
  /// be read (not started, no schedstat in this kernel). Allocates (directory listing).
  std::optional<std::chrono::nanoseconds> cpu_time() const;
  /// Stops the server (SIGTERM, then waits) and removes its directory; the destructor's work,
  /// also done by signal_cleanup's thread when a signal ends the process.
  void stop() noexcept;

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string dir_;
};

}  // namespace uredis::bench
