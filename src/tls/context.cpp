#include "tls/context.hpp"

#include <string>

#include "tls/aes_gcm_offload.hpp"
#include "uredis/error.hpp"

namespace uredis::tls {
namespace {

// What an empty list leaves in place, so that setting one protocol's list does not silently
// drop the other protocol: wolfSSL takes TLS 1.2 and 1.3 suites in one list, where OpenSSL
// (and redis-py's options) keep them apart.
constexpr const char* default_tls13_suites =
    "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256";
constexpr const char* default_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::error_code invalid() {
  return make_error_code(errc::tls_config_invalid);
}

// Every mode but off asks for a staple (status_request) and has wolfSSL check the one that comes
// while it verifies the chain: signed by the issuer or a responder it delegated to, about this
// certificate, within thisUpdate..nextUpdate, and "good" (revoked fails the handshake). A
// staple can only be checked against a trusted issuer, so nothing is asked without verify_peer.
// wolfSSL's own lookups (wolfSSL_CTX_EnableOCSP) stay off: they would block the shard inside
// the handshake; ocsp_mode::responder asks after it, from the reactor (tls/ocsp_check.hpp).
std::error_code apply_ocsp(WOLFSSL_CTX* ctx, const options& o) {
  if (o.ocsp == ocsp_mode::off || !o.verify_peer) return {};
  if (wolfSSL_CTX_EnableOCSPStapling(ctx) != WOLFSSL_SUCCESS ||
      wolfSSL_CTX_UseOCSPStapling(ctx, WOLFSSL_CSR_OCSP, 0) != WOLFSSL_SUCCESS)
    return invalid();
  if (o.ocsp == ocsp_mode::must_staple && wolfSSL_CTX_EnableOCSPMustStaple(ctx) != WOLFSSL_SUCCESS)
    return invalid();
  return {};
}

std::error_code apply(WOLFSSL_CTX* ctx, const options& o) {
  const int min = o.min_version == protocol_version::tls1_3 ? WOLFSSL_TLSV1_3 : WOLFSSL_TLSV1_2;
  if (wolfSSL_CTX_SetMinVersion(ctx, min) != WOLFSSL_SUCCESS) return invalid();

  if (o.verify_peer) {
    if (!o.ca_file.empty() || !o.ca_path.empty()) {
      const char* file = o.ca_file.empty() ? nullptr : o.ca_file.c_str();
      const char* path = o.ca_path.empty() ? nullptr : o.ca_path.c_str();
      if (wolfSSL_CTX_load_verify_locations(ctx, file, path) != WOLFSSL_SUCCESS) return invalid();
    } else if (wolfSSL_CTX_load_system_CA_certs(ctx) != WOLFSSL_SUCCESS) {
      return invalid();  // no CA to trust: every server would be refused
    }
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, nullptr);
  } else {
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, nullptr);
  }

  if (const std::error_code ec = apply_ocsp(ctx, o)) return ec;

  // A certificate without its key (or the reverse) is a mistake, not "no client auth".
  if (o.cert_file.empty() != o.key_file.empty()) return invalid();
  if (!o.cert_file.empty()) {
    if (wolfSSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != WOLFSSL_SUCCESS ||
        wolfSSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), WOLFSSL_FILETYPE_PEM) !=
            WOLFSSL_SUCCESS ||
        wolfSSL_CTX_check_private_key(ctx) != WOLFSSL_SUCCESS)
      return invalid();
  }

  if (!o.ciphers.empty() || !o.ciphersuites.empty()) {
    std::string list = o.ciphersuites.empty() ? default_tls13_suites : o.ciphersuites;
    list += ':';
    list += o.ciphers.empty() ? default_tls12_ciphers : o.ciphers;
    if (wolfSSL_CTX_set_cipher_list(ctx, list.c_str()) != WOLFSSL_SUCCESS) return invalid();
  }
  return {};
}

}  // namespace

bool initialize_library() noexcept {
  static const bool initialized = wolfSSL_Init() == WOLFSSL_SUCCESS;
  return initialized;
}

result<context> context::client(const options& o) {
  if (!initialize_library()) return errc::tls_config_invalid;
  // The "v23" method negotiates the highest version both sides have; SetMinVersion bounds it.
  context c(wolfSSL_CTX_new(wolfSSLv23_client_method()));
  if (c.native() == nullptr) return errc::tls_config_invalid;
  if (const std::error_code ec = apply(c.native(), o)) return ec;
  // After initialize_library(): the first wolfSSL_Init empties the device table.
  if (o.aes_offload) {
    const int device = aes_gcm_offload::device_id();
    if (device != aes_gcm_offload::no_device &&
        wolfSSL_CTX_SetDevId(c.native(), device) != WOLFSSL_SUCCESS)
      return errc::tls_config_invalid;
  }
  return c;
}

}  // namespace uredis::tls
