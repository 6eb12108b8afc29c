#include "io/ocsp_query.hpp"

#include "uredis/error.hpp"
#include "uredis/io/socket.hpp"

namespace uredis::io {

ocsp_query::ocsp_query(reactor::reactor& r, ocsp_query_events& events)
    : reactor_(r),
      events_(&events),
      tcp_(r.ring(), r.receive_buffers(), *this, tcp_transport::options{.tcp_nodelay = true}),
      timer_([this] { fail(); }),
      lookup_([this](result<socket_address> a) { on_resolved(std::move(a)); }) {}

void ocsp_query::start(const tls::http_url& url, std::string_view request,
                       reactor::timer_wheel::duration timeout) {
  cancel();
  active_ = true;
  wire_ = exchange_.request(url, "application/ocsp-request", request);
  port_ = url.port;
  reactor_.timers().arm_in(timer_, timeout);
  // A numeric host is answered now; a name when the resolver's worker has looked it up.
  if (auto now = reactor_.name_resolver().resolve(lookup_, url.host, url.port))
    on_resolved(std::move(*now));
}

void ocsp_query::cancel() noexcept {
  active_ = false;
  lookup_.cancel();
  timer_.cancel();
  tcp_.close();
  if (slot_) reactor_.detach(*slot_);  // completions still in flight are dropped
  slot_.reset();
}

void ocsp_query::on_resolved(result<socket_address> address) {
  if (!active_) return;
  if (!address) return fail();
  connect(*address);
}

void ocsp_query::connect(const socket_address& address) {
  slot_ = reactor_.attach(*this);
  if (tcp_.open(address, *slot_)) fail();
}

void ocsp_query::on_transport_connected() {
  if (tcp_.send(wire_)) fail();
}

void ocsp_query::on_transport_data(std::string_view bytes) {
  switch (exchange_.on_data(bytes)) {
    case tls::http_exchange::state::done:
      return answer();
    case tls::http_exchange::state::failed:
      return fail();
    case tls::http_exchange::state::waiting:
      return;
  }
}

void ocsp_query::on_transport_failed(std::error_code ec) {
  // HTTP/1.0: the responder closing the stream may be the end of its answer.
  if (ec == make_error_code(errc::connection_closed) &&
      exchange_.on_eof() == tls::http_exchange::state::done)
    return answer();
  fail();
}

void ocsp_query::answer() {
  if (!active_) return;
  cancel();  // the body stays in the exchange until the next start
  events_->on_ocsp_answer(exchange_.body());
}

void ocsp_query::fail() {
  if (!active_) return;
  cancel();
  events_->on_ocsp_failed(make_error_code(errc::ocsp_responder_unavailable));
}

}  // namespace uredis::io
