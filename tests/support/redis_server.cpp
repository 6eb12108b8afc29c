#include "redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace uredis::test {
namespace {

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::runtime_error failure(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

std::string encode(const std::vector<std::string_view>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

// Reads until `buffer` holds one complete RESP reply; returns its length, or 0 if incomplete.
// A small recursive scanner is enough here: replies in test set-up are small and trusted.
std::size_t complete_reply(std::string_view b, std::size_t pos = 0) {
  if (pos >= b.size()) return 0;
  const auto lf = b.find("\r\n", pos);
  if (lf == std::string_view::npos) return 0;
  const char t = b[pos];
  const std::string_view header = b.substr(pos + 1, lf - pos - 1);
  std::size_t next = lf + 2;
  switch (t) {
    case '$':
    case '!':
    case '=': {
      const long long len = std::stoll(std::string{header});
      if (len < 0) return next;
      next += static_cast<std::size_t>(len) + 2;
      return next <= b.size() ? next : 0;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      long long n = std::stoll(std::string{header});
      if (t == '%' || t == '|') n *= 2;
      for (long long i = 0; i < n; ++i) {
        next = complete_reply(b, next);
        if (next == 0) return 0;
      }
      if (t == '|') return complete_reply(b, next);
      return next;
    }
    default:
      return next;
  }
}

}  // namespace

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw failure("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = 0;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};  // a test helper must never hang on a wedged server
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

std::uint16_t free_loopback_port() {
  const fd_guard fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (fd.get() < 0) throw failure("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    throw failure("bind");
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw failure("getsockname");
  return ntohs(addr.sin_port);
}

redis_server::redis_server(redis_server_options options) : options_(std::move(options)) {
  char dir_template[] = "/tmp/uredis-test-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) throw failure("mkdtemp");
  dir_ = dir_template;
  unix_socket_ = dir_ + "/redis.sock";
  port_ = free_loopback_port();
  plaintext_port_ = port_;
  while (options_.tls && plaintext_port_ == port_)
    plaintext_port_ = free_loopback_port();
  start();
}

redis_server::~redis_server() {
  if (running()) kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string redis_server::url() const {
  return (options_.tls ? "rediss://" : "redis://") + host_ + ":" + std::to_string(port_);
}

void redis_server::start() {
  if (running()) return;
  std::vector<std::string> args = {
      "redis-server",
      "--port",
      std::to_string(plaintext_port_),
      "--bind",
      host_,
      "--dir",
      dir_,
      "--unixsocket",
      unix_socket_,
      "--unixsocketperm",
      "700",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--logfile",
      dir_ + "/redis.log",
      // Tests send DEBUG SLEEP and friends.
      "--enable-debug-command",
      "yes",
  };
  if (options_.tls) {
    const redis_tls_options& t = *options_.tls;
    args.insert(args.end(), {"--tls-port", std::to_string(port_), "--tls-cert-file", t.cert_file,
                             "--tls-key-file", t.key_file, "--tls-ca-cert-file", t.ca_file,
                             "--tls-auth-clients", t.auth_clients ? "yes" : "no"});
  }
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  if (!options_.config_file.empty()) args.insert(args.begin() + 1, options_.config_file);
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  // The "parent death" signal fires when the forking THREAD ends, not the process: a server
  // (re)started from a short-lived thread (a fault test restarting it mid-run) would die with
  // that thread. So only the main thread's servers get it (they die with a crashed test);
  // the destructor stops the others.
  const bool from_main_thread = ::gettid() == ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw failure("fork");
  if (pid == 0) {
    if (from_main_thread) ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::execvp(argv[0], argv.data());
    ::_exit(127);  // redis-server is not on PATH
  }
  pid_ = pid;
  wait_ready();
}

void redis_server::wait_ready() {
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited during start-up (status " +
                               std::to_string(status) + "; is it on PATH?)\n" + log());
    }
    const int fd = connect_loopback(plaintext_port_);
    if (fd >= 0) {
      ::close(fd);
      // Accepting is not enough while the server loads: wait for a real answer (NOAUTH counts:
      // a password-protected server is up).
      const std::string reply = command({"PING"});
      if (!reply.empty() && reply.rfind("-LOADING", 0) != 0) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill();
  throw std::runtime_error("redis-server did not answer PING in time\n" + log());
}

void redis_server::stop() {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void redis_server::kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string redis_server::command(const std::vector<std::string_view>& args) const {
  const fd_guard fd{connect_loopback(plaintext_port_)};
  if (fd.get() < 0) return {};
  const std::string request = encode(args);
  // EINTR is routine here: io_uring rings in the same process interrupt blocking syscalls to
  // run their task work.
  ssize_t sent = 0;
  do {
    sent = ::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent != static_cast<ssize_t>(request.size())) return {};
  std::string reply;
  char chunk[4096];
  while (complete_reply(reply) == 0) {
    const ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return {};
    reply.append(chunk, static_cast<std::size_t>(n));
  }
  return reply;
}

std::string redis_server::log() const {
  std::ifstream in(dir_ + "/redis.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace uredis::test
