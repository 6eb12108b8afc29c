#include "openssl_stapling_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "redis_server.hpp"

namespace uredis::test {

openssl_stapling_server::openssl_stapling_server(const std::string& cert_file,
                                                 const std::string& key_file,
                                                 const std::string& ocsp_response_file)
    : port_(free_loopback_port()) {
  const std::string accept = "127.0.0.1:" + std::to_string(port_);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);  // s_server reads stdin: EOF there must not end it
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::execlp("openssl", "openssl", "s_server", "-quiet", "-accept", accept.c_str(), "-cert",
             cert_file.c_str(), "-key", key_file.c_str(), "-status_file",
             ocsp_response_file.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("openssl s_server exited during start-up");
    }
    const int fd = connect_loopback(port_);
    if (fd >= 0) {
      ::close(fd);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  throw std::runtime_error("openssl s_server did not listen in time");
}

openssl_stapling_server::~openssl_stapling_server() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

}  // namespace uredis::test
