#pragma once
// tls_transport: a transport (transport.hpp) that speaks TLS over a tcp_transport, with a
// sans-I/O tls::engine in between. Everything is driven by completions; nothing blocks.
//
//   open()  ──► tcp open ──► tcp connected ──► ClientHello out ──► ... handshake records in and
//               out ... ──► on_transport_connected (only once the handshake is complete)
//   send(plaintext) ──► encrypt (one write) ──► one tcp send ──► on_transport_sent
//   tcp data ──► decrypt ──► on_transport_data(plaintext), one record at a time
//   errors ──► on_transport_failed (tls_* codes: a refused certificate by its cause)
//
// The plaintext given to send() is encrypted at once, so the caller's bytes are free as soon as
// send() returns; on_transport_sent still waits for the ciphertext to be out, which is what
// paces the caller. Records the engine writes on its own (alerts, key-update answers) join the
// next tcp send, or start one when none is in flight.
//
// The TLS context (CAs, client certificate) is built on the first open and kept for the
// reconnects; a file that does not load makes open() fail with errc::tls_config_invalid.
//
// With tls::ocsp_mode::responder, "connected" waits for one more step after the handshake: the
// server certificate's OCSP responder is asked (io/ocsp_query.hpp, on the same ring) unless the
// shard's cache (tls/ocsp_cache.hpp) holds an answer that still checks, and the answer must
// say good. Until then nothing is reported and records from the server wait in the engine, so
// no command can go out before the check passes. The check ends before the setup's deadline
// (expect_setup_by), so that the error says what stalled. wolfSSL does not say whether a staple
// came (it checks one in the handshake if it does), so the responder is asked either way.
//
// Reconnects resume the last session (tls::session_cache; tls::options::session_resumption),
// taken once the first reads after a handshake have brought its ticket, and only offered to the
// server name it was made with; resumed() says whether
// the current handshake did. A server whose first bytes cannot start a TLS record is a
// plaintext server: the connect fails at once with errc::tls_peer_not_tls. An end of stream in
// the middle of the handshake is errc::connection_closed, retried like any dropped connection.
//
// Owner: the connection's I/O shell. `tls_options` and `host` must outlive the transport (the
// shell's config).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

#include "io/ocsp_query.hpp"
#include "io/tcp_transport.hpp"
#include "io/transport.hpp"
#include "tls/context.hpp"
#include "tls/engine.hpp"
#include "tls/ocsp_verifier.hpp"
#include "tls/session_cache.hpp"
#include "uredis/tls/options.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::io {

class tls_transport final : public transport, private transport_events, private ocsp_query_events {
 public:
  /// `host` is the name the server's certificate must carry (unless tls_options.server_name
  /// says otherwise). `loop` runs OCSP responder queries; without one, ocsp_mode::responder
  /// fails every connect with errc::ocsp_responder_unavailable.
  tls_transport(ring& r, buffer_ring* buffers, transport_events& events,
                const tcp_transport::options& tcp, const tls::options& tls_options,
                std::string_view host, reactor::reactor* loop = nullptr);
  ~tls_transport() override { close(); }

  /// The name the next opens check (an address provider's answer changes it between connects);
  /// it must outlive them, as `host` does.
  void expect_host(std::string_view host) noexcept { host_ = host; }
  /// The deadline of the setup the next open belongs to (the session's). The responder check
  /// ends just before it: as ocsp_responder_unavailable when the responder had its whole
  /// ocsp_responder_timeout, as errc::timeout (retried) when the deadline cut it short.
  void expect_setup_by(std::chrono::steady_clock::time_point deadline) noexcept {
    setup_deadline_ = deadline;
  }
  tls_transport(const tls_transport&) = delete;
  tls_transport& operator=(const tls_transport&) = delete;

  std::error_code open(const socket_address& address, std::uint64_t target) override;
  std::error_code send(std::string_view bytes) override;
  void close() noexcept override;
  void on_completion(op o, const io_uring_cqe& cqe) override { tcp_.on_completion(o, cqe); }

  bool is_open() const noexcept override { return tcp_.is_open(); }
  bool sending() const noexcept override { return user_send_; }
  bool tls_resumed() const noexcept override { return resumed_; }

 private:
  // The tcp_transport's reports.
  void on_transport_connected() override;
  void on_transport_data(std::string_view bytes) override;
  void on_transport_sent() override;
  void on_transport_failed(std::error_code ec) override;

  // The responder's reports.
  void on_ocsp_answer(std::string_view body) override;
  void on_ocsp_failed(std::error_code ec) override;

  // The name the server's certificate is checked against (and its sessions kept under).
  std::string_view server_name() const noexcept;
  void advance_handshake();
  void start_responder_check();
  void report_connected();
  void deliver_plaintext();
  std::error_code flush_output();
  void fail(std::error_code ec);

  tcp_transport tcp_;
  transport_events* events_;
  const tls::options* options_;
  std::string_view host_;
  std::chrono::steady_clock::time_point setup_deadline_ =
      std::chrono::steady_clock::time_point::max();
  // When the responder check under way ends because the setup's deadline is near, if it does.
  std::optional<std::chrono::steady_clock::time_point> cut_short_;
  reactor::reactor* loop_;
  std::optional<tls::context> context_;         // built on the first open
  std::optional<ocsp_query> query_;             // made on the first responder check, then reused
  std::optional<tls::ocsp_verifier> verifier_;  // the responder check under way
  tls::engine engine_;
  tls::session_cache sessions_;   // the last resumable session, offered on the next open
  util::byte_buffer wire_;        // the ciphertext of the tcp send in flight
  std::uint64_t generation_ = 0;  // counts close()s: a report's handler may close the stream
  bool tcp_sending_ = false;
  bool user_send_ = false;  // a send() not yet reported
  bool checking_ = false;   // handshake done, the responder check is not: not connected yet
  // Per stream (reset by close()):
  bool first_bytes_judged_ = false;  // the server's first bytes were checked for a TLS record
  bool offered_ = false;             // this handshake offered a kept session
  bool captured_ = false;            // this stream's session was kept
  bool resumed_ = false;             // this stream's handshake resumed a session
  std::uint8_t capture_tries_ = 0;   // read batches that looked for a resumable session
};

}  // namespace uredis::io
