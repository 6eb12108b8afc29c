#pragma once
// private_server: a throw-away redis-server for runs given no -h/-p/-s. It is started from PATH
// on a free loopback port, in a fresh temporary directory, with persistence off (--save '',
// --appendonly no); the destructor stops it (SIGTERM, then waits) and removes the directory.
//
// Invariant: after start() succeeds the server accepts connections on 127.0.0.1:port().

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace uredis::bench {

class private_server {
 public:
  private_server() = default;
  ~private_server();
  private_server(const private_server&) = delete;
  private_server& operator=(const private_server&) = delete;

  /// Starts the server; on failure returns false and sets `error`.
  bool start(std::string& error);
  std::uint16_t port() const noexcept { return port_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string dir_;
};

}  // namespace uredis::bench
