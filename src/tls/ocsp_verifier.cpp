#include "tls/ocsp_verifier.hpp"

#include <wolfssl/ocsp.h>

#include <climits>
#include <new>
#include <vector>

#include "uredis/error.hpp"

namespace uredis::tls {
namespace {

// Debian's (and most distributions') hashed CA directory, when no CA is configured: the
// session used the system's store then (context.cpp).
constexpr const char* system_ca_path = "/etc/ssl/certs";

}  // namespace

result<ocsp_verifier> ocsp_verifier::for_peer(WOLFSSL* ssl, const options& o) {
  WOLFSSL_X509_CHAIN* chain = wolfSSL_get_peer_chain(ssl);
  const int count = chain == nullptr ? 0 : wolfSSL_get_chain_count(chain);
  if (count < 1) return errc::ocsp_response_invalid;  // nothing to ask about

  ocsp_verifier v;
  v.manager_.reset(wolfSSL_CertManagerNew());
  if (!v.manager_) return errc::tls_config_invalid;
  WOLFSSL_CERT_MANAGER* cm = v.manager_.get();
  const char* file = o.ca_file.empty() ? nullptr : o.ca_file.c_str();
  const char* path = o.ca_path.empty() ? nullptr : o.ca_path.c_str();
  if (file == nullptr && path == nullptr) path = system_ca_path;
  if (wolfSSL_CertManagerLoadCA(cm, file, path) != WOLFSSL_SUCCESS) return errc::tls_config_invalid;
  // The chain past the leaf: the issuer may be among it. Only what chains up to the trusted
  // CAs becomes a signer here, the nearest to them first (passes until none is added): the
  // handshake may have accepted the leaf by another path, skipping a certificate it could not
  // verify (wolfSSL's alternate chains), and a certificate the server merely sent must not
  // vouch for an OCSP response. One that does not load (a root sent again) is not needed.
  std::vector<bool> trusted(static_cast<std::size_t>(count), false);
  for (bool added = true; added;) {
    added = false;
    for (int i = 1; i < count; ++i) {
      const auto index = static_cast<std::size_t>(i);
      const unsigned char* der = wolfSSL_get_chain_cert(chain, i);
      const int length = wolfSSL_get_chain_length(chain, i);
      if (trusted[index] || wolfSSL_CertManagerVerifyBuffer(
                                cm, der, length, WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
        continue;
      trusted[index] = true;
      added = wolfSSL_CertManagerLoadCABuffer(cm, der, length, WOLFSSL_FILETYPE_ASN1) ==
                  WOLFSSL_SUCCESS ||
              added;
    }
  }
  v.leaf_.assign(reinterpret_cast<const char*>(wolfSSL_get_chain_cert(chain, 0)),
                 static_cast<std::size_t>(wolfSSL_get_chain_length(chain, 0)));

  // No nonce: a response about the certificate stays valid for every connection until its
  // nextUpdate, which is what lets a shard cache it.
  int flags = WOLFSSL_OCSP_NO_NONCE;
  if (!o.ocsp_responder_url.empty()) flags |= WOLFSSL_OCSP_URL_OVERRIDE;
  if (wolfSSL_CertManagerEnableOCSP(cm, flags) != WOLFSSL_SUCCESS) return errc::tls_config_invalid;
  if (!o.ocsp_responder_url.empty() &&
      wolfSSL_CertManagerSetOCSPOverrideURL(cm, o.ocsp_responder_url.c_str()) != WOLFSSL_SUCCESS)
    return errc::tls_config_invalid;

  // The first lookup only records what wolfSSL would send, and where.
  v.run_check();
  if (v.request_.empty() || v.url_.empty()) return errc::ocsp_responder_unavailable;
  return v;
}

std::error_code ocsp_verifier::check(std::string_view response) {
  if (response.empty() || response.size() > INT_MAX)
    return make_error_code(errc::ocsp_response_invalid);
  response_ = response;
  const int ret = run_check();
  response_ = {};
  switch (ret) {
    case WOLFSSL_SUCCESS:
      return {};
    case OCSP_CERT_REVOKED:
      return make_error_code(errc::tls_certificate_revoked);
    default:  // not signed right, about another certificate, stale, "unknown", or not OCSP
      return make_error_code(errc::ocsp_response_invalid);
  }
}

bool ocsp_verifier::names_next_update(std::string_view response) {
  if (response.empty() || response.size() > INT_MAX) return false;
  const auto* der = reinterpret_cast<const unsigned char*>(response.data());
  OcspResponse* decoded =
      wolfSSL_d2i_OCSP_RESPONSE(nullptr, &der, static_cast<int>(response.size()));
  if (decoded == nullptr) return false;
  const int count = wolfSSL_OCSP_resp_count(decoded);
  bool named = count > 0;
  for (int i = 0; named && i < count; ++i) {
    WOLFSSL_ASN1_TIME* next_update = nullptr;
    wolfSSL_OCSP_single_get0_status(wolfSSL_OCSP_resp_get0(decoded, i), nullptr, nullptr, nullptr,
                                    &next_update);
    named = next_update != nullptr && next_update->length > 0;  // absent: left empty
  }
  wolfSSL_OCSP_RESPONSE_free(decoded);
  return named;
}

int ocsp_verifier::run_check() {
  WOLFSSL_CERT_MANAGER* cm = manager_.get();
  // The callback's context is set on every call: the verifier may have moved since the last.
  if (wolfSSL_CertManagerSetOCSP_Cb(cm, &ocsp_verifier::on_lookup, &ocsp_verifier::on_free, this) !=
      WOLFSSL_SUCCESS)
    return WOLFSSL_FATAL_ERROR;
  return wolfSSL_CertManagerCheckOCSP(cm, reinterpret_cast<unsigned char*>(leaf_.data()),
                                      static_cast<int>(leaf_.size()));
}

int ocsp_verifier::on_lookup(void* self, const char* url, int url_size, unsigned char* request,
                             int request_size, unsigned char** response) {
  auto* v = static_cast<ocsp_verifier*>(self);
  if (v->response_.empty()) {
    try {
      if (url != nullptr && url_size > 0) v->url_.assign(url, static_cast<std::size_t>(url_size));
      if (request != nullptr && request_size > 0)
        v->request_.assign(reinterpret_cast<const char*>(request),
                           static_cast<std::size_t>(request_size));
    } catch (const std::bad_alloc&) {  // an exception must not cross wolfSSL's C frames
      v->request_.clear();
    }
    return WOLFSSL_CBIO_ERR_GENERAL;  // "no answer": this call only wanted the request
  }
  // wolfSSL reads the response and hands it to on_free, which leaves it alone.
  *response = reinterpret_cast<unsigned char*>(const_cast<char*>(v->response_.data()));
  return static_cast<int>(v->response_.size());
}

}  // namespace uredis::tls
