#pragma once
// OCSP material for the revocation tests, made with the openssl command beside a
// test_certificates set (in its directory, removed with it):
//
//   ocsp_signer   a responder certificate signed by ca with extendedKeyUsage OCSPSigning: the
//                 delegated responder that signs every response made here
//   response()    a DER OCSP response about one of the set's certificates ("server", ...),
//                 saying good, revoked or unknown, valid for a day from now, or from a date
//                 long past (libfaketime makes openssl believe it is then: a stale response)
//   index()       an `openssl ocsp -index` database naming certificates good or revoked, for a
//                 real responder process
//
// Throws std::runtime_error (with openssl's output) when a command fails.

#include <string>
#include <string_view>
#include <vector>

#include "test_certificates.hpp"

namespace uredis::test {

enum class cert_status { good, revoked, unknown };

/// Where libfaketime's preload library lives (Debian's faketime package), for test processes
/// that must believe it is another date.
inline constexpr const char* faketime_library =
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

class ocsp_responses {
 public:
  explicit ocsp_responses(const test_certificates& certs);

  /// Writes a response about `cert` (issued by `issuer`) to `path` and returns the path.
  /// `signed_at`: empty for now, else a date for libfaketime ("2020-01-05 00:00:00"): the
  /// response is then valid for a day from it.
  std::string response(std::string_view cert, cert_status status, const std::string& path,
                       std::string_view issuer = "ca", std::string_view signed_at = "") const;

  /// Writes an index.txt naming each certificate with its status and returns its path.
  std::string index(const std::vector<std::pair<std::string, cert_status>>& entries,
                    const std::string& path) const;

  std::string signer_cert() const { return certs_->cert("ocsp_signer"); }
  std::string signer_key() const { return certs_->key("ocsp_signer"); }

 private:
  void run(const std::string& command) const;
  std::string serial(std::string_view cert) const;

  const test_certificates* certs_;
};

}  // namespace uredis::test
