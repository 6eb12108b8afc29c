#pragma once
// tls::session_cache: the last TLS session one connection's server handed out, kept so that the
// next connect can resume it (an abbreviated handshake: no certificate chain, no signature).
//
//   connect ──► offer(ssl, name) ──► ClientHello carries the ticket / session id, if the kept
//                                     session was made with the server known as `name`
//   first reads after the handshake ──► capture(ssl, name) ──► kept (replacing the old one)
//   handshake fails while a session was offered ──► clear(): the next connect is a full one
//
// TLS 1.3 tickets come after the handshake (NewSessionTicket records, read along with the first
// replies), so a session is taken only once it can be resumed: with a ticket under TLS 1.3,
// with a ticket or a session id under TLS 1.2. A server that refuses the offer (restarted, new
// ticket keys, ticket expired) simply runs a full handshake: wolfSSL falls back by itself.
//
// Owner: the TLS transport, one per connection (never shared: a ticket is bearer credentials
// for the session, and one connection resumes it at a time).

#include <string>
#include <string_view>

#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>

namespace uredis::tls {

class session_cache {
 public:
  session_cache() = default;
  ~session_cache() { clear(); }
  session_cache(const session_cache&) = delete;
  session_cache& operator=(const session_cache&) = delete;

  /// Keeps the session `ssl` holds now if it can be resumed, made with the server known as
  /// `name` (the name its certificate was checked against); true when one was kept.
  bool capture(WOLFSSL* ssl, std::string_view name);
  /// Asks for a ticket in the handshake `ssl` is about to run and offers the kept session, if
  /// there is one and it was made with the server known as `name`: resuming skips the
  /// certificate check, so a session made for one name must never open a connection to another
  /// (RFC 8446 4.6.1). One made for another name is forgotten. True when one was offered. Call
  /// after the session is made and before its handshake starts.
  bool offer(WOLFSSL* ssl, std::string_view name) noexcept;
  /// Forgets the kept session.
  void clear() noexcept;

  bool empty() const noexcept { return session_ == nullptr; }

 private:
  WOLFSSL_SESSION* session_ = nullptr;  // one reference, ours (wolfSSL_get1_session)
  std::string name_;                     // the server name session_ was made with
};

}  // namespace uredis::tls
