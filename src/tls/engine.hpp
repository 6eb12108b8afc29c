#pragma once
// tls::engine: one TLS session with no I/O of its own (sans-I/O). Ciphertext comes in through
// on_ciphertext() and goes out through take_output(); in between, wolfSSL runs on memory
// callbacks:
//
//   on_ciphertext(bytes) ──► in_  ──(recv callback: WANT_READ when empty)──► wolfSSL
//   handshake() / read() / encrypt()                                            │
//   take_output() ◄── out_ ◄──(send callback: always takes all of it)──────────┘
//
// Because the send callback never refuses, wolfSSL never has to repeat a write: encrypt() is
// one wolfSSL_write of everything given (as few records as the record size allows), and a
// handshake step or a read that answers the peer (alerts, key updates) leaves its bytes in out_
// too. The caller moves them to the wire when it can; take_output() swaps buffers, so the bytes
// being sent stay put while new records accumulate, and neither buffer is reallocated once
// they have grown to the connection's working size.
//
// Errors map onto uredis::errc (tls_*): the certificate's failures by cause, an alert from the
// peer, a peer that does not speak TLS. After an error the engine is unusable until start().
//
// Owner: the TLS transport (or a test), on one thread. The context outlives the session.

#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "tls/aes_gcm_offload.hpp"
#include "uredis/result.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::tls {

enum class role : std::uint8_t { client, server };

/// Whom a client expects to reach.
struct peer_name {
  /// A DNS name or an IP address; empty: none (no SNI, no name check).
  std::string_view name;
  /// Verify that the certificate names `name` (only meaningful when the context verifies).
  bool check = true;
};

class engine {
 public:
  /// The largest plaintext one TLS record carries (RFC 8446 5.1): read() never returns more.
  static constexpr std::size_t max_record_plaintext = 16384;
  /// The largest record on the wire: a header and 2^14 + 256 bytes (RFC 8446 5.2). The input
  /// buffer holds one from the start, so a partial record waiting for its end does not make it
  /// grow under a steady load.
  static constexpr std::size_t max_record_ciphertext = 5 + 16384 + 256;

  engine() = default;
  ~engine() { reset(); }
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// Begins a session on `ctx` (dropping any previous one). A client sends the name as SNI
  /// (unless it is an IP address) and, with `peer.check`, requires the certificate to name it.
  std::error_code start(WOLFSSL_CTX* ctx, role r, const peer_name& peer = {});
  /// Drops the session and any buffered bytes.
  void reset() noexcept;

  /// Ciphertext from the peer, kept until wolfSSL reads it.
  void on_ciphertext(std::string_view bytes) { in_.append(bytes); }

  /// Runs the handshake as far as the input allows: true once it is complete, false while it
  /// needs more ciphertext (send the output first: the peer may be waiting for it).
  result<bool> handshake();
  bool handshake_done() const noexcept { return done_; }
  /// The completed handshake resumed an earlier session (session_cache.hpp offered it).
  bool resumed() const noexcept { return done_ && wolfSSL_session_reused(ssl_) == 1; }
  /// The wolfSSL session, for what works on it directly (session_cache, ocsp_verifier); null
  /// before start().
  WOLFSSL* native() const noexcept { return ssl_; }

  /// The next plaintext decrypted from the input (at most max_record_plaintext bytes), empty
  /// when more ciphertext is needed; valid until the next call or reset(). EOF (close_notify)
  /// is errc::connection_closed. Precondition: handshake_done().
  result<std::string_view> read();

  /// Encrypts all of `plaintext` into the output (one wolfSSL_write). Precondition:
  /// handshake_done().
  std::error_code encrypt(std::string_view plaintext);

  /// Ciphertext waiting to be sent.
  bool has_output() const noexcept { return !out_.empty(); }
  /// Moves the waiting ciphertext into `into` (cleared first) by swapping buffers.
  void take_output(util::byte_buffer& into) noexcept;

  /// Records this engine encrypted or decrypted through the AES-GCM offload (0 when its
  /// context has no device: aes_gcm_offload.hpp).
  std::uint64_t offloaded_records() const noexcept { return cipher_contexts_.operations(); }

 private:
  static int on_receive(WOLFSSL* ssl, char* buffer, int size, void* self);
  static int on_send(WOLFSSL* ssl, char* buffer, int size, void* self);
  std::error_code error_of(int ret) const noexcept;

  WOLFSSL* ssl_ = nullptr;
  role role_ = role::client;
  bool done_ = false;
  util::byte_buffer in_;
  util::byte_buffer out_;
  std::unique_ptr<char[]> plaintext_;  // read()'s buffer, one record's worth, made on start()
  // The offload device's EVP contexts for this session's keys, installed (aes_gcm_offload::
  // scope) around every wolfSSL call that may encrypt or decrypt a record.
  aes_gcm_offload::cipher_contexts cipher_contexts_;
};

}  // namespace uredis::tls
