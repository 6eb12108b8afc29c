#pragma once
// raw_tls_stream: TLS over raw_connection's non-blocking socket, for --pipe and the streaming
// commands. It drives the library's sans-I/O engine (tls/engine.hpp) with the same context
// (tls/context.hpp) the session's connection builds from the same tls::options: verification,
// the name check and SNI, client certificates, ciphers and OCSP stapling all behave alike.
// ocsp_mode::responder is checked here too, blocking, after the handshake (raw_ocsp_check.hpp).
//
// No thread and no I/O loop of its own: the handshake waits with poll(), and afterwards
// send_some() and receive() never block, so the caller's poll() loop stays in charge. Two
// rules keep that loop right:
//
//   - send_some() takes the plaintext at once and encrypts it; ciphertext the socket did not
//     take waits here (output_pending()), and the caller polls for POLLOUT until it is out.
//   - receive() decrypts every whole record it has read, so no plaintext ever waits inside the
//     engine while the socket looks idle to poll().
//
// Owner: raw_connection; the descriptor stays the connection's.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "tls/context.hpp"
#include "tls/engine.hpp"
#include "uredis/tls/options.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::cli {

class raw_tls_stream {
 public:
  /// Runs the handshake on the connected socket `fd`, waiting up to `timeout` for it (a peer
  /// that never answers, like a plaintext server waiting for a line, is errc::timeout). `host`
  /// is the name the certificate must carry (and the SNI) unless options.server_name says
  /// another. Errors also: errc::tls_config_invalid, the tls_* failures of the handshake,
  /// errc::tls_peer_not_tls for a plaintext server that answers, errc::connection_closed, an
  /// errno.
  static std::unique_ptr<raw_tls_stream> open(int fd, const tls::options& options,
                                              std::string_view host,
                                              std::chrono::milliseconds timeout,
                                              std::error_code& ec);

  raw_tls_stream(const raw_tls_stream&) = delete;
  raw_tls_stream& operator=(const raw_tls_stream&) = delete;

  /// Encrypts all of `plaintext` and sends what the socket takes now; the rest waits.
  std::error_code send_some(std::string_view plaintext);
  /// Sends waiting ciphertext, as much as the socket takes now.
  std::error_code flush();
  /// Ciphertext is waiting: poll for POLLOUT and flush().
  bool output_pending() const noexcept { return !wire_.empty(); }

  /// Reads what the socket has now and appends its plaintext to `into` (possibly nothing: the
  /// socket had nothing, or only part of a record), going on while the socket has more and
  /// fewer than `want` bytes were appended. errc::connection_closed at EOF (or
  /// close_notify).
  std::error_code receive(std::string& into, std::size_t want);

 private:
  explicit raw_tls_stream(int fd, tls::context ctx) noexcept : fd_(fd), context_(std::move(ctx)) {}

  std::error_code handshake(const tls::options& options, std::chrono::milliseconds timeout);
  // Moves the engine's new ciphertext behind what already waits in wire_.
  void collect_output();
  // Reads once from the socket into the engine; `got` false when nothing was there.
  std::error_code read_ciphertext(bool& got);

  int fd_;
  tls::context context_;  // declared before the engine: its session goes first
  tls::engine engine_;
  util::byte_buffer wire_;   // ciphertext not yet taken by the socket
  util::byte_buffer taken_;  // scratch: each recv()'s bytes, or output behind what waits
  std::string early_;        // plaintext decrypted with the handshake, not yet received
  std::error_code ended_;    // the failure met after plaintext receive() returned: the next one
  bool first_bytes_judged_ = false;
};

}  // namespace uredis::cli
