#include "tls/session_cache.hpp"

namespace uredis::tls {
namespace {

// Whether a client could offer `s` again: TLS 1.3 resumes only from a ticket (RFC 8446 2.2),
// TLS 1.2 from a ticket (RFC 5077) or from the id the server keeps in its cache.
bool resumable(WOLFSSL* ssl, WOLFSSL_SESSION* s) noexcept {
  if (wolfSSL_SESSION_has_ticket(s) == 1) return true;
  if (wolfSSL_version(ssl) == TLS1_3_VERSION) return false;
  unsigned int id_length = 0;
  wolfSSL_SESSION_get_id(s, &id_length);
  return id_length > 0;
}

}  // namespace

bool session_cache::capture(WOLFSSL* ssl, std::string_view name) {
  if (ssl == nullptr || !wolfSSL_is_init_finished(ssl)) return false;
  WOLFSSL_SESSION* s = wolfSSL_get1_session(ssl);
  if (s == nullptr) return false;
  if (!resumable(ssl, s)) {
    wolfSSL_SESSION_free(s);
    return false;
  }
  clear();
  session_ = s;
  name_ = name;
  return true;
}

bool session_cache::offer(WOLFSSL* ssl, std::string_view name) noexcept {
  if (ssl == nullptr) return false;
  // TLS 1.2 servers hand out a ticket only to a client that asks (RFC 5077); TLS 1.3 ones
  // always do. Resuming by session id alone was refused by redis-server in our tests.
  wolfSSL_UseSessionTicket(ssl);
  if (session_ != nullptr && name != name_) clear();
  if (session_ == nullptr) return false;
  // Refused when the session has expired by its own lifetime: then forget it, a full
  // handshake follows.
  if (wolfSSL_set_session(ssl, session_) != WOLFSSL_SUCCESS) {
    clear();
    return false;
  }
  return true;
}

void session_cache::clear() noexcept {
  if (session_ != nullptr) wolfSSL_SESSION_free(session_);
  session_ = nullptr;
}

}  // namespace uredis::tls
