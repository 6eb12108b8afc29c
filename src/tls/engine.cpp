#include "tls/engine.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>
#include <string>
#include <utility>

#include "uredis/error.hpp"

#ifdef FP_ECC
#include <wolfssl/wolfcrypt/ecc.h>
#endif

namespace uredis::tls {
namespace {

// Debian's wolfSSL is built with FP_ECC: each thread that runs an ECDHE handshake fills a
// fixed-point cache of its own, which only wc_ecc_fp_free() on that thread releases. A shard
// thread that ends would leak it (megabytes, reported by LeakSanitizer), so every thread that
// starts a session gets this guard, whose destructor frees the cache as the thread exits.
struct thread_ecc_cache_release {
  thread_ecc_cache_release() noexcept = default;
  thread_ecc_cache_release(const thread_ecc_cache_release&) = delete;
  thread_ecc_cache_release& operator=(const thread_ecc_cache_release&) = delete;
  ~thread_ecc_cache_release() {
#ifdef FP_ECC
    wc_ecc_fp_free();
#endif
  }
};

void release_ecc_cache_at_thread_exit() noexcept {
  thread_local thread_ecc_cache_release guard;
  (void)guard;  // odr-use: constructs it once per thread, destroyed at thread exit
}

bool is_ip_address(const std::string& name) noexcept {
  unsigned char address[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), address) == 1 ||
         ::inet_pton(AF_INET6, name.c_str(), address) == 1;
}

// The causes wolfSSL names for a refused certificate, by the fix each needs.
std::error_code certificate_error(int code) noexcept {
  switch (code) {
    case ASN_NO_SIGNER_E:
    case ASN_SELF_SIGNED_E:
      return make_error_code(errc::tls_certificate_untrusted);
    case ASN_AFTER_DATE_E:
    case ASN_BEFORE_DATE_E:
      return make_error_code(errc::tls_certificate_expired);
    case DOMAIN_NAME_MISMATCH:
    case IPADDR_MISMATCH:
      return make_error_code(errc::tls_host_name_mismatch);
    // The staple's verdicts (tls/context.cpp asks for one). "Unknown" only fails a must-staple
    // handshake, where wolfSSL reports a missing staple with the same code.
    case OCSP_CERT_REVOKED:
      return make_error_code(errc::tls_certificate_revoked);
    case OCSP_CERT_UNKNOWN:
      return make_error_code(errc::ocsp_staple_missing);
    case BAD_CERTIFICATE_STATUS_ERROR:
    case OCSP_INVALID_STATUS:
    case OCSP_LOOKUP_FAIL:
    case ASN_OCSP_CONFIRM_E:
    case BAD_OCSP_RESPONDER:
      return make_error_code(errc::ocsp_response_invalid);
    default:
      return {};
  }
}

}  // namespace

std::error_code engine::start(WOLFSSL_CTX* ctx, role r, const peer_name& peer) {
  reset();
  release_ecc_cache_at_thread_exit();
  role_ = r;
  if (!plaintext_) plaintext_ = std::make_unique<char[]>(max_record_plaintext);
  in_.reserve(max_record_ciphertext);
  ssl_ = wolfSSL_new(ctx);
  if (ssl_ == nullptr) return make_error_code(errc::tls_config_invalid);
  wolfSSL_SSLSetIORecv(ssl_, &engine::on_receive);
  wolfSSL_SSLSetIOSend(ssl_, &engine::on_send);
  wolfSSL_SetIOReadCtx(ssl_, this);
  wolfSSL_SetIOWriteCtx(ssl_, this);
  if (r == role::client && !peer.name.empty()) {
    const std::string name(peer.name);  // wolfSSL wants NUL-terminated names
    const bool ip = is_ip_address(name);
    // RFC 6066 3: SNI carries host names only, never a literal address.
    if (!ip && wolfSSL_UseSNI(ssl_, WOLFSSL_SNI_HOST_NAME, name.data(),
                              static_cast<unsigned short>(name.size())) != WOLFSSL_SUCCESS)
      return make_error_code(errc::tls_config_invalid);
    if (peer.check) {
      // A name is matched against the DNS names (and the CN); an address against the IP
      // addresses of the subjectAltName, which check_domain_name does not look at.
      const int ok =
          ip ? wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(wolfSSL_get0_param(ssl_), name.c_str())
             : wolfSSL_check_domain_name(ssl_, name.c_str());
      if (ok != WOLFSSL_SUCCESS) return make_error_code(errc::tls_config_invalid);
    }
  }
  return {};
}

void engine::reset() noexcept {
  if (ssl_ != nullptr) wolfSSL_free(ssl_);
  ssl_ = nullptr;
  cipher_contexts_.clear();
  done_ = false;
  in_.clear();
  out_.clear();
}

result<bool> engine::handshake() {
  if (done_) return true;
  const aes_gcm_offload::scope offload(cipher_contexts_);
  const int ret = role_ == role::client ? wolfSSL_connect(ssl_) : wolfSSL_accept(ssl_);
  if (ret == WOLFSSL_SUCCESS) {
    done_ = true;
    return true;
  }
  const int e = wolfSSL_get_error(ssl_, ret);
  if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE) return false;
  return error_of(ret);
}

result<std::string_view> engine::read() {
  const aes_gcm_offload::scope offload(cipher_contexts_);
  const int ret = wolfSSL_read(ssl_, plaintext_.get(), static_cast<int>(max_record_plaintext));
  if (ret > 0) return std::string_view(plaintext_.get(), static_cast<std::size_t>(ret));
  const int e = wolfSSL_get_error(ssl_, ret);
  if (e == WOLFSSL_ERROR_WANT_READ || e == WOLFSSL_ERROR_WANT_WRITE) return std::string_view{};
  return error_of(ret);
}

std::error_code engine::encrypt(std::string_view plaintext) {
  // wolfSSL_write takes an int: a (theoretical) 2 GiB batch goes in a few calls.
  constexpr std::size_t max_write = INT_MAX / 2;
  const aes_gcm_offload::scope offload(cipher_contexts_);
  while (!plaintext.empty()) {
    const std::size_t n = std::min(plaintext.size(), max_write);
    const int ret = wolfSSL_write(ssl_, plaintext.data(), static_cast<int>(n));
    // The send callback takes everything, so a write is whole or failed, never partial.
    if (ret != static_cast<int>(n)) return error_of(ret);
    plaintext.remove_prefix(n);
  }
  return {};
}

void engine::take_output(util::byte_buffer& into) noexcept {
  into.clear();
  std::swap(into, out_);
}

int engine::on_receive(WOLFSSL*, char* buffer, int size, void* self) {
  util::byte_buffer& in = static_cast<engine*>(self)->in_;
  if (in.empty()) return WOLFSSL_CBIO_ERR_WANT_READ;
  const std::size_t n = std::min(in.size(), static_cast<std::size_t>(size));
  std::memcpy(buffer, in.data().data(), n);
  in.consume(n);
  return static_cast<int>(n);
}

int engine::on_send(WOLFSSL*, char* buffer, int size, void* self) {
  try {
    static_cast<engine*>(self)->out_.append({buffer, static_cast<std::size_t>(size)});
  } catch (const std::bad_alloc&) {  // an exception must not cross wolfSSL's C frames
    return WOLFSSL_CBIO_ERR_GENERAL;
  }
  return size;
}

std::error_code engine::error_of(int ret) const noexcept {
  const int e = wolfSSL_get_error(ssl_, ret);
  if (e == WOLFSSL_ERROR_ZERO_RETURN) return make_error_code(errc::connection_closed);
  if (const std::error_code ec = certificate_error(e)) return ec;
  switch (e) {
    case FATAL_ERROR:  // the peer sent a fatal alert
      return make_error_code(errc::tls_peer_alert);
    case VERIFY_CERT_ERROR: {
      // Some verification paths report only "verify failed": the verify result says why.
      const long why = wolfSSL_get_verify_result(ssl_);
      if (why == X509_V_ERR_CERT_HAS_EXPIRED || why == X509_V_ERR_CERT_NOT_YET_VALID)
        return make_error_code(errc::tls_certificate_expired);
      if (why == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
          why == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
          why == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
        return make_error_code(errc::tls_certificate_untrusted);
      return make_error_code(errc::tls_certificate_rejected);
    }
    default:
      return make_error_code(done_ ? errc::tls_record_invalid : errc::tls_handshake_failed);
  }
}

}  // namespace uredis::tls
