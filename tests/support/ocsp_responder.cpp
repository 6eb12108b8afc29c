#include "ocsp_responder.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include "redis_server.hpp"

namespace uredis::test {

ocsp_responder::ocsp_responder(const test_certificates& certs, const ocsp_responses& responses,
                               const std::string& index_file, bool next_update,
                               std::string_view issuer)
    : port_(free_loopback_port()) {
  const std::string port = std::to_string(port_);
  const bool delegated = issuer == "ca";
  const std::string signer = delegated ? responses.signer_cert() : certs.cert(issuer);
  const std::string key = delegated ? responses.signer_key() : certs.key(issuer);
  const std::string ca = certs.cert(issuer);
  const std::string log = certs.dir() + "/ocsp_responder_" + port + ".log";
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) ::dup2(null, 0);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    // "-ndays 1" sets nextUpdate; a null in its place ends the list without it.
    ::execlp("openssl", "openssl", "ocsp", "-index", index_file.c_str(), "-port", port.c_str(),
             "-rsigner", signer.c_str(), "-rkey", key.c_str(), "-CA", ca.c_str(),
             next_update ? "-ndays" : nullptr, "1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("openssl ocsp exited during start-up");
    }
    // Not a probe connection: openssl 3.0's responder spins on a connection closed before it
    // sent a request, and serves no one after. It says when it listens.
    std::ifstream in(log);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (text.find("waiting for OCSP client connections") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop();
  throw std::runtime_error("openssl ocsp did not listen in time");
}

std::string ocsp_responder::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/";
}

void ocsp_responder::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace uredis::test
