#pragma once
// `openssl s_server` on a free loopback port, stapling whatever DER OCSP response it is given
// (-status_file), unchecked: the terminator for staples a careful server would refuse to send
// (haproxy checks that a response names its certificate before stapling it). It answers the
// TLS handshake only; nothing behind it speaks Redis. Stopped (SIGKILL) when the object dies;
// the child gets PR_SET_PDEATHSIG.

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace uredis::test {

class openssl_stapling_server {
 public:
  /// Throws std::runtime_error when it does not listen within seconds.
  openssl_stapling_server(const std::string& cert_file, const std::string& key_file,
                          const std::string& ocsp_response_file);
  ~openssl_stapling_server();
  openssl_stapling_server(const openssl_stapling_server&) = delete;
  openssl_stapling_server& operator=(const openssl_stapling_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }

 private:
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace uredis::test
