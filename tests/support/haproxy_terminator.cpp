#include "haproxy_terminator.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ocsp_responses.hpp"
#include "redis_server.hpp"

namespace uredis::test {
namespace {

void copy(const std::string& from, const std::string& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace

haproxy_terminator::haproxy_terminator(const haproxy_options& options) {
  char dir_template[] = "/tmp/uredis-haproxy-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = dir_template;
  // haproxy wants the certificate and key in one file, the staple and issuer beside it.
  const std::string pem = dir_ + "/server.pem";
  {
    std::ofstream out(pem);
    out << std::ifstream(options.cert_file).rdbuf() << std::ifstream(options.key_file).rdbuf();
  }
  if (!options.ocsp_response_file.empty()) copy(options.ocsp_response_file, pem + ".ocsp");
  if (!options.issuer_file.empty()) copy(options.issuer_file, pem + ".issuer");

  port_ = free_loopback_port();
  {
    std::ofstream cfg(dir_ + "/haproxy.cfg");
    cfg << "global\n  log stderr local0 warning\n"
        << "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n"
        << "  timeout server 60s\n"
        << "frontend tls\n  bind 127.0.0.1:" << port_ << " ssl crt " << pem << "\n"
        << "  default_backend redis\n"
        << "backend redis\n  server r 127.0.0.1:" << options.backend_port << "\n";
  }

  const std::string log_path = dir_ + "/haproxy.log";
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (!options.fake_time.empty()) {
      ::setenv("LD_PRELOAD", faketime_library, 1);
      ::setenv("FAKETIME", ("@" + options.fake_time).c_str(), 1);
    }
    const std::string cfg = dir_ + "/haproxy.cfg";
    ::execlp("haproxy", "haproxy", "-db", "-f", cfg.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);  // haproxy is not on PATH
  }
  pid_ = pid;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("haproxy exited during start-up (is it installed?)\n" + log());
    }
    const int fd = connect_loopback(port_);
    if (fd >= 0) {
      ::close(fd);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string output = log();
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  throw std::runtime_error("haproxy did not listen in time\n" + output);
}

haproxy_terminator::~haproxy_terminator() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string haproxy_terminator::log() const {
  std::ifstream in(dir_ + "/haproxy.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace uredis::test
