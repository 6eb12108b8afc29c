#pragma once
// A real OCSP responder for the revocation tests: `openssl ocsp -index ... -port ...` on a free
// port, answering from an index.txt (ocsp_responses::index) with responses signed by the
// delegated responder certificate, valid for a day (or, with `next_update` false, carrying no
// nextUpdate: "newer information is always available", RFC 6960 4.2.2.1). Stopped (SIGKILL) when
// the object dies or on stop(); the child gets PR_SET_PDEATHSIG. openssl ocsp listens on every
// address (it takes a port only); the tests reach it over loopback.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "ocsp_responses.hpp"
#include "test_certificates.hpp"

namespace uredis::test {

class ocsp_responder {
 public:
  /// Answers about the certificates in `index_file`; throws std::runtime_error when it does
  /// not listen within seconds.
  /// `issuer`: the CA whose certificates it answers about; ca's answers are signed by the
  /// delegated responder, another CA's by that CA itself.
  ocsp_responder(const test_certificates& certs, const ocsp_responses& responses,
                 const std::string& index_file, bool next_update = true,
                 std::string_view issuer = "ca");
  ~ocsp_responder() { stop(); }
  ocsp_responder(const ocsp_responder&) = delete;
  ocsp_responder& operator=(const ocsp_responder&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// "http://127.0.0.1:PORT/"
  std::string url() const;
  void stop();

 private:
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace uredis::test
