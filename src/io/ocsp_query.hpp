#pragma once
// ocsp_query: one POST of an OCSP request to a responder, on the shard's own ring: a socket of
// its own (a tcp_transport attached to the reactor as a target of its own), an HTTP/1.0
// exchange driven by its completions (tls/http_exchange.hpp), and a timer. Nothing blocks the
// shard: a name is resolved by the shard's resolver, off the loop.
//
//   start(url, request, timeout) ──► resolve ──► connect ──► send ──► recv ... EOF
//        └───────────── timer: on_ocsp_failed(timeout) ─────────────┘
//   ──► on_ocsp_answer(body) | on_ocsp_failed(errc::ocsp_responder_unavailable)
//
// A report comes from a later completion or the timer, or from inside start() only when no
// socket can be made (a numeric address that does not parse, socket() failing); cancel()
// (or a new start) drops the query in flight, whose late completions are then dropped by the
// reactor (the slot is detached). The query may be started again from inside its own report.
//
// Owner: the TLS transport (one per connection, reused). The reactor outlives it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "io/tcp_transport.hpp"
#include "io/transport.hpp"
#include "tls/http_exchange.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/reactor/resolver.hpp"
#include "uredis/reactor/timer.hpp"

namespace uredis::io {

class ocsp_query_events {
 public:
  /// The body of the responder's 200 answer; valid during the call.
  virtual void on_ocsp_answer(std::string_view body) = 0;
  /// No answer: ocsp_responder_unavailable (unreachable, an HTTP error, cut short, too slow).
  virtual void on_ocsp_failed(std::error_code ec) = 0;

 protected:
  ~ocsp_query_events() = default;
};

class ocsp_query final : private reactor::io_target, private transport_events {
 public:
  ocsp_query(reactor::reactor& r, ocsp_query_events& events);
  ~ocsp_query() { cancel(); }
  ocsp_query(const ocsp_query&) = delete;
  ocsp_query& operator=(const ocsp_query&) = delete;

  /// POSTs `request` (DER) to `url`; a report follows within `timeout`.
  void start(const tls::http_url& url, std::string_view request,
             reactor::timer_wheel::duration timeout);
  /// Drops the query in flight, if any. Reports nothing.
  void cancel() noexcept;
  bool active() const noexcept { return active_; }

 private:
  void on_completion(op o, const io_uring_cqe& cqe) override { tcp_.on_completion(o, cqe); }
  void on_transport_connected() override;
  void on_transport_data(std::string_view bytes) override;
  void on_transport_sent() override {}
  void on_transport_failed(std::error_code ec) override;

  void on_resolved(result<socket_address> address);
  void connect(const socket_address& address);
  void answer();
  void fail();

  reactor::reactor& reactor_;
  ocsp_query_events* events_;
  tcp_transport tcp_;
  tls::http_exchange exchange_;
  std::string wire_;  // the request bytes, kept while the send is in flight
  std::uint16_t port_ = 0;
  std::optional<std::uint64_t> slot_;  // attached while a query runs
  reactor::timer timer_;
  reactor::resolver_request lookup_;
  bool active_ = false;
};

}  // namespace uredis::io
