#include "io/tls_transport.hpp"

#include <algorithm>
#include <chrono>

#include "tls/ocsp_cache.hpp"
#include "tls/record_header.hpp"
#include "uredis/error.hpp"

namespace uredis::io {

tls_transport::tls_transport(ring& r, buffer_ring* buffers, transport_events& events,
                             const tcp_transport::options& tcp, const tls::options& tls_options,
                             std::string_view host, reactor::reactor* loop)
    : tcp_(r, buffers, *this, tcp),
      events_(&events),
      options_(&tls_options),
      host_(host),
      loop_(loop) {}

std::error_code tls_transport::open(const socket_address& address, std::uint64_t target) {
  close();
  if (!context_) {
    result<tls::context> made = tls::context::client(*options_);
    if (!made) return made.error();
    context_.emplace(std::move(*made));
  }
  return tcp_.open(address, target);
}

std::error_code tls_transport::send(std::string_view bytes) {
  if (const std::error_code ec = engine_.encrypt(bytes)) return ec;
  user_send_ = true;
  if (tcp_sending_) return {};  // joins the next tcp send, when the one in flight is out
  const std::error_code ec = flush_output();
  if (ec) user_send_ = false;
  return ec;
}

void tls_transport::close() noexcept {
  ++generation_;
  tcp_.close();
  if (query_) query_->cancel();
  verifier_.reset();
  checking_ = false;
  engine_.reset();
  wire_.clear();
  tcp_sending_ = false;
  user_send_ = false;
  first_bytes_judged_ = false;
  offered_ = false;
  captured_ = false;
  capture_tries_ = 0;
  resumed_ = false;
}

std::string_view tls_transport::server_name() const noexcept {
  return options_->server_name.empty() ? host_ : options_->server_name;
}

void tls_transport::on_transport_connected() {
  const tls::peer_name peer{server_name(), options_->verify_peer && options_->check_hostname};
  if (const std::error_code ec = engine_.start(context_->native(), tls::role::client, peer))
    return fail(ec);
  offered_ = options_->session_resumption && sessions_.offer(engine_.native(), server_name());
  advance_handshake();  // writes the ClientHello
}

void tls_transport::on_transport_data(std::string_view bytes) {
  if (!first_bytes_judged_) {
    first_bytes_judged_ = true;
    if (!tls::could_start_record(bytes)) return fail(make_error_code(errc::tls_peer_not_tls));
  }
  engine_.on_ciphertext(bytes);  // the tcp buffer is recycled on return: the engine copies
  if (!engine_.handshake_done()) return advance_handshake();
  if (checking_) return;  // read once the responder check has passed
  deliver_plaintext();
}

void tls_transport::advance_handshake() {
  const std::uint64_t generation = generation_;
  const result<bool> done = engine_.handshake();
  // Whatever the handshake wrote goes out first, also before an error (it may be the alert
  // that tells the server why).
  if (const std::error_code ec = flush_output()) return fail(ec);
  if (!done) {
    // A kept session that ends in a failed handshake is not offered again: the next connect
    // is a full one, whatever the cause was.
    if (offered_) sessions_.clear();
    return fail(done.error());
  }
  if (!*done) return;
  resumed_ = engine_.resumed();
  if (generation != generation_) return;
  if (options_->ocsp == tls::ocsp_mode::responder && options_->verify_peer)
    return start_responder_check();
  report_connected();
}

void tls_transport::report_connected() {
  const std::uint64_t generation = generation_;
  events_->on_transport_connected();
  // Records that came with the last handshake flight (application data the server sent at
  // once) wait in the engine: read them now, not on the next packet.
  if (generation == generation_) deliver_plaintext();
}

void tls_transport::start_responder_check() {
  if (loop_ == nullptr) return fail(make_error_code(errc::ocsp_responder_unavailable));
  result<tls::ocsp_verifier> made = tls::ocsp_verifier::for_peer(engine_.native(), *options_);
  if (!made) return fail(made.error());
  verifier_.emplace(std::move(*made));
  // A response this shard fetched before, still within its validity, answers at once.
  if (const auto verdict = tls::cached_verdict(tls::ocsp_cache::this_shard(), *verifier_)) {
    if (*verdict) return fail(*verdict);
    verifier_.reset();
    return report_connected();
  }
  const std::optional<tls::http_url> url = tls::http_url::parse(verifier_->url());
  if (!url) return fail(make_error_code(errc::ocsp_responder_unavailable));
  // Done a tick (the timer wheel's 1 ms) before the setup's deadline, so that this transport
  // says what stalled. The responder is unavailable only once it had all its own time; a check
  // the setup's deadline cut short is that deadline's timeout (retried, as the setup's is).
  auto timeout = options_->ocsp_responder_timeout;
  cut_short_ = {};
  if (setup_deadline_ != std::chrono::steady_clock::time_point::max()) {
    const auto now = loop_->timers().now();
    const auto left = std::chrono::floor<std::chrono::milliseconds>(setup_deadline_ - now -
                                                                    std::chrono::milliseconds(2));
    if (left <= left.zero()) return fail(make_error_code(errc::timeout));
    if (left < timeout) {
      timeout = left;
      cut_short_ = now + left;
    }
  }
  if (!query_) query_.emplace(*loop_, static_cast<ocsp_query_events&>(*this));
  checking_ = true;
  query_->start(*url, verifier_->request(), timeout);
}

void tls_transport::on_ocsp_answer(std::string_view body) {
  checking_ = false;
  const std::error_code ec = verifier_->check(body);
  if (ec) return fail(ec);
  tls::ocsp_cache::this_shard().store(verifier_->request(), body);
  verifier_.reset();
  report_connected();
}

void tls_transport::on_ocsp_failed(std::error_code ec) {
  checking_ = false;
  verifier_.reset();
  if (cut_short_ && loop_->timers().now() >= *cut_short_) ec = make_error_code(errc::timeout);
  fail(ec);
}

void tls_transport::deliver_plaintext() {
  const std::uint64_t generation = generation_;
  for (;;) {
    const result<std::string_view> plaintext = engine_.read();
    if (!plaintext) return fail(plaintext.error());
    if (plaintext->empty()) break;
    events_->on_transport_data(*plaintext);
    if (generation != generation_) return;  // the handler closed the stream
  }
  // TLS 1.3 tickets arrive after the handshake, read here along with the first replies. A
  // server that sends none is not asked again on every read: a few batches are enough.
  constexpr std::uint8_t capture_tries = 4;
  if (!captured_ && options_->session_resumption && capture_tries_ < capture_tries) {
    ++capture_tries_;
    captured_ = sessions_.capture(engine_.native(), server_name());
  }
  // Reading may have produced records of its own (a key update's answer).
  if (const std::error_code ec = flush_output()) fail(ec);
}

void tls_transport::on_transport_sent() {
  tcp_sending_ = false;
  if (engine_.has_output()) {
    if (const std::error_code ec = flush_output()) fail(ec);
    return;  // the caller's bytes may be in this send too: report after it
  }
  if (user_send_) {
    user_send_ = false;
    events_->on_transport_sent();
  }
}

void tls_transport::on_transport_failed(std::error_code ec) {
  // An end of stream mid-handshake stays connection_closed, retried like any dropped
  // connection: the peers that refuse TLS for good say so first (an alert: tls_peer_alert;
  // plaintext: tls_peer_not_tls), so a bare close is most likely the network or a restart.
  // During the responder check the server's records wait unread in the engine: the alert that
  // came before the close (TLS 1.3 refuses a client certificate once the client is done) is
  // read now, and is the error. What else they held goes with the failing stream.
  if (checking_) {
    result<std::string_view> plaintext = engine_.read();
    while (plaintext && !plaintext->empty())
      plaintext = engine_.read();
    if (!plaintext) ec = plaintext.error();
  }
  fail(ec);
}

std::error_code tls_transport::flush_output() {
  if (tcp_sending_ || !engine_.has_output()) return {};
  engine_.take_output(wire_);
  tcp_sending_ = true;
  const std::error_code ec = tcp_.send(wire_.data());
  if (ec) tcp_sending_ = false;
  return ec;
}

void tls_transport::fail(std::error_code ec) {
  user_send_ = false;
  events_->on_transport_failed(ec);
}

}  // namespace uredis::io
