#pragma once
// A real redis-server for integration tests: started from PATH on a free loopback port (and a
// Unix socket) in its own temporary directory, with no persistence, and stopped when the
// object dies. Tests kill and restart it to inject faults; a restart keeps the port, so a
// client reconnecting to the same address finds the new process.
//
// The child gets PR_SET_PDEATHSIG, so a crashed test never leaves a server behind.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uredis::test {

/// A TLS listener: port() is then the TLS port, and a plaintext port (plaintext_port())
/// stays open for the fixture's own use (readiness, command()).
struct redis_tls_options {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;  // the CA client certificates must come from
  /// --tls-auth-clients: true makes a client certificate mandatory.
  bool auth_clients = false;
};

struct redis_server_options {
  /// Extra configuration, as redis-server command-line pairs: {"--requirepass", "secret"}.
  std::vector<std::string> args;
  /// A configuration file, passed first (a Sentinel needs one it can rewrite); empty: none.
  std::string config_file = {};
  /// How long start() waits for the server to answer PING.
  std::chrono::milliseconds start_timeout{10000};
  /// Set: the server also listens for TLS (see redis_tls_options).
  std::optional<redis_tls_options> tls = std::nullopt;
};

class redis_server {
 public:
  /// Starts the server; throws std::runtime_error (with the server's log) if it does not come up.
  explicit redis_server(redis_server_options options = {});
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  const std::string& host() const noexcept { return host_; }
  /// The port clients use: the TLS port for a TLS server.
  std::uint16_t port() const noexcept { return port_; }
  /// The plaintext port (port() unless the server has TLS).
  std::uint16_t plaintext_port() const noexcept { return plaintext_port_; }
  const std::string& unix_socket() const noexcept { return unix_socket_; }
  const std::string& dir() const noexcept { return dir_; }
  /// "redis://127.0.0.1:PORT" (rediss:// for a TLS server)
  std::string url() const;
  bool running() const noexcept { return pid_ > 0; }

  /// (Re)starts the server on the same port and socket.
  void start();
  /// SIGTERM, then waits for the process to exit.
  void stop();
  /// SIGKILL, then waits: the fault a crash or an OOM kill produces.
  void kill();

  /// Sends one command (RESP-encoded from `args`) on a fresh blocking connection and returns
  /// the raw reply bytes (one reply). For test set-up and assertions, never the code under test.
  std::string command(const std::vector<std::string_view>& args) const;

  /// The server's log file so far, for failure messages.
  std::string log() const;

 private:
  void wait_ready();

  redis_server_options options_;
  std::string host_ = "127.0.0.1";
  std::uint16_t port_ = 0;
  std::uint16_t plaintext_port_ = 0;
  std::string dir_;
  std::string unix_socket_;
  pid_t pid_ = -1;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
std::uint16_t free_loopback_port();

/// A blocking socket connected to 127.0.0.1:port (EINTR retried), with 5 s send and receive
/// timeouts so a test never hangs on a wedged peer; -1 when the connect fails.
int connect_loopback(std::uint16_t port);

}  // namespace uredis::test
