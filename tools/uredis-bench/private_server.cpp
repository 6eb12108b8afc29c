#include "private_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "signal_cleanup.hpp"

namespace uredis::bench {

// Asks the kernel for a free port by binding port 0. (Another process may take it before
// redis-server binds it; start() then fails, which is rare and visible.)
std::uint16_t free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

namespace {

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool run_quietly(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    unblock_signals_for_exec();
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
    }
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

namespace {

// A CA (ca.crt) and a certificate it signed for 127.0.0.1 and localhost (server.crt,
// server.key) in `dir`, valid for a day: the run needs them for minutes.
bool make_certificates(const std::string& dir, std::string& error) {
  const std::string ext = dir + "/server.ext";
  {
    std::ofstream out(ext);
    out << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    if (!out) {
      error = "cannot write " + ext;
      return false;
    }
  }
  const std::vector<std::vector<std::string>> steps = {
      {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
       "/CN=uredis-bench CA", "-keyout", dir + "/ca.key", "-out", dir + "/ca.crt"},
      {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
       dir + "/server.key", "-out", dir + "/server.csr"},
      {"openssl", "x509", "-req", "-days", "1", "-in", dir + "/server.csr", "-CA", dir + "/ca.crt",
       "-CAkey", dir + "/ca.key", "-CAcreateserial", "-extfile", ext, "-out", dir + "/server.crt"},
  };
  for (const auto& step : steps) {
    if (!run_quietly(step)) {
      error = "cannot make a TLS certificate with `openssl " + step[1] + "` (is openssl on PATH?)";
      return false;
    }
  }
  return true;
}

}  // namespace

bool private_server::start(std::string& error, bool tls, const std::vector<std::string>& extra) {
  char tmpl[] = "/tmp/uredis-bench.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    error = std::string{"mkdtemp: "} + std::strerror(errno);
    return false;
  }
  dir_ = tmpl;
  guard(*this);  // from here a signal removes the directory (the CA's key goes in it)
  port_ = free_loopback_port();
  if (port_ == 0) {
    error = "no free loopback port";
    return false;
  }
  const std::string port = std::to_string(port_);
  const std::string log = dir_ + "/redis.log";
  std::vector<const char*> argv{"redis-server", "--bind",    "127.0.0.1",    "--dir", dir_.c_str(),
                                "--save",       "",          "--appendonly", "no",    "--daemonize",
                                "no",           "--logfile", log.c_str()};
  const std::string cert = dir_ + "/server.crt";
  const std::string key = dir_ + "/server.key";
  const std::string ca = ca_file();
  if (tls) {
    if (!make_certificates(dir_, error)) return false;
    // TLS only: a client that forgot --tls is refused rather than measured in clear text.
    argv.insert(argv.end(), {"--port", "0", "--tls-port", port.c_str(), "--tls-cert-file",
                             cert.c_str(), "--tls-key-file", key.c_str(), "--tls-ca-cert-file",
                             ca.c_str(), "--tls-auth-clients", "no"});
  } else {
    argv.insert(argv.end(), {"--port", port.c_str()});
  }
  for (const std::string& e : extra)
    argv.push_back(e.c_str());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    error = std::string{"fork: "} + std::strerror(errno);
    return false;
  }
  if (pid_ == 0) {
    unblock_signals_for_exec();
    // However uredis-bench ends (SIGKILL, an abort), the server ends with it (signal_cleanup.hpp).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);  // it ended before the line above
    ::execvp(argv[0], const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error = "redis-server exited at start (is it on PATH?), see " + log;
      return false;
    }
    if (accepts(port_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error = "redis-server did not accept connections within 10 s";
  return false;
}

std::optional<std::chrono::nanoseconds> private_server::cpu_time() const {
  if (pid_ <= 0) return std::nullopt;
  std::error_code ec;
  std::filesystem::directory_iterator tasks("/proc/" + std::to_string(pid_) + "/task", ec);
  if (ec) return std::nullopt;
  std::int64_t total = 0;
  bool any = false;
  for (const auto& task : tasks) {
    std::ifstream in(task.path() / "schedstat");
    std::int64_t on_cpu = 0;
    if (!(in >> on_cpu)) continue;  // a thread that just exited
    total += on_cpu;
    any = true;
  }
  if (!any) return std::nullopt;
  return std::chrono::nanoseconds(total);
}

private_server::~private_server() {
  unguard(*this);
  stop();
}

void private_server::stop() noexcept {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace uredis::bench
