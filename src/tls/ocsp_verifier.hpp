#pragma once
// ocsp_verifier: the revocation check of a server's certificate against its OCSP responder,
// split around the query so that the query itself can run on the reactor (io/ocsp_query.hpp):
//
//   for_peer(ssl) after the handshake ──► url() and request(): what to POST, and where
//   ... the caller's non-blocking HTTP exchange ...
//   check(response) ──► {} (good), tls_certificate_revoked, ocsp_response_invalid
//
// wolfSSL does the OCSP work, in a certificate manager of the verifier's own: it builds the
// request (no nonce, so a response can be cached and reused until its nextUpdate), and checks
// the response: signed by the issuer or a responder it delegated to, about this certificate's
// id, not stale, and "good". Its lookups are synchronous through an I/O callback, so that
// callback never does I/O here: the first call records the request wolfSSL would send, the
// second hands back the response the caller fetched. The manager trusts what the session
// trusted (ca_file / ca_path, else the system's) plus the chain the server sent, which the
// handshake has already verified: the leaf's issuer may be an intermediate from that chain.
//
// Owner: the TLS transport, on one thread.

#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "uredis/result.hpp"
#include "uredis/tls/options.hpp"

namespace uredis::tls {

class ocsp_verifier {
 public:
  /// The query for the certificate `ssl`'s peer presented (after the handshake), to the
  /// responder o.ocsp_responder_url or, when empty, the one the certificate's AIA names.
  /// ocsp_responder_unavailable when there is none; tls_config_invalid when the CAs do not load.
  static result<ocsp_verifier> for_peer(WOLFSSL* ssl, const options& o);

  /// The responder's URL ("http://host:port/path").
  const std::string& url() const noexcept { return url_; }
  /// The DER OCSP request to POST (application/ocsp-request).
  const std::string& request() const noexcept { return request_; }

  /// Checks the responder's DER answer about the certificate: {} when it says good.
  std::error_code check(std::string_view response);

  /// Whether every answer in the DER `response` names a nextUpdate. One without it says the
  /// responder always has newer information (RFC 6960 4.2.2.1): it may not be reused.
  static bool names_next_update(std::string_view response);

 private:
  struct free_manager {
    void operator()(WOLFSSL_CERT_MANAGER* cm) const noexcept { wolfSSL_CertManagerFree(cm); }
  };

  static int on_lookup(void* self, const char* url, int url_size, unsigned char* request,
                       int request_size, unsigned char** response);
  static void on_free(void*, unsigned char*) {}  // the response stays the caller's
  int run_check();

  std::unique_ptr<WOLFSSL_CERT_MANAGER, free_manager> manager_;
  std::string leaf_;  // the server's certificate, DER
  std::string url_;
  std::string request_;
  std::string_view response_;  // check()'s argument while wolfSSL looks at it
};

}  // namespace uredis::tls
