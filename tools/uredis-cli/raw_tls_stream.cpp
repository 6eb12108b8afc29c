#include "raw_tls_stream.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>

#include "raw_ocsp_check.hpp"
#include "tls/record_header.hpp"
#include "uredis/error.hpp"

namespace uredis::cli {
namespace {

// Ciphertext read per recv(): a few records.
constexpr std::size_t recv_chunk = 64 * 1024;

using clock = std::chrono::steady_clock;

// Waits until `fd` can do `events` or `deadline` passes: false when the time is up.
bool wait_until(int fd, short events, clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  if (left <= 0) return false;
  pollfd p{fd, events, 0};
  ::poll(&p, 1, static_cast<int>(left));  // EINTR or a timeout: the caller looks again
  return true;
}

bool would_block(int e) noexcept {
  return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

}  // namespace

std::unique_ptr<raw_tls_stream> raw_tls_stream::open(int fd, const tls::options& options,
                                                     std::string_view host,
                                                     std::chrono::milliseconds timeout,
                                                     std::error_code& ec) {
  result<tls::context> ctx = tls::context::client(options);
  if (!ctx) {
    ec = ctx.error();
    return nullptr;
  }
  std::unique_ptr<raw_tls_stream> s(new raw_tls_stream(fd, std::move(*ctx)));
  // The same name and check as the session's transport (io/tls_transport.cpp).
  const std::string_view name = options.server_name.empty() ? host : options.server_name;
  const tls::peer_name peer{name, options.verify_peer && options.check_hostname};
  if ((ec = s->engine_.start(s->context_.native(), tls::role::client, peer))) return nullptr;
  if ((ec = s->handshake(options, timeout))) return nullptr;
  // Records that came with the last handshake flight: kept for the first receive().
  for (;;) {
    const result<std::string_view> plaintext = s->engine_.read();
    if (!plaintext) {
      ec = plaintext.error();
      return nullptr;
    }
    if (plaintext->empty()) break;
    s->early_.append(*plaintext);
  }
  return s;
}

std::error_code raw_tls_stream::handshake(const tls::options& options,
                                          std::chrono::milliseconds timeout) {
  const clock::time_point deadline = clock::now() + timeout;
  const std::error_code too_late = make_error_code(errc::timeout);
  for (;;) {
    const result<bool> done = engine_.handshake();
    // What the handshake wrote goes out first, an alert before an error included.
    collect_output();
    while (output_pending()) {
      if (const std::error_code ec = flush()) return ec;
      if (output_pending() && !wait_until(fd_, POLLOUT, deadline)) return too_late;
    }
    if (!done) return done.error();
    if (*done) break;
    bool got = false;
    if (const std::error_code ec = read_ciphertext(got)) return ec;
    if (!got && !wait_until(fd_, POLLIN, deadline)) return too_late;
  }
  if (options.ocsp == tls::ocsp_mode::responder && options.verify_peer)
    return check_with_responder(engine_.native(), options);
  return {};
}

std::error_code raw_tls_stream::send_some(std::string_view plaintext) {
  if (const std::error_code ec = engine_.encrypt(plaintext)) return ec;
  collect_output();
  return flush();
}

void raw_tls_stream::collect_output() {
  if (!engine_.has_output()) return;
  // Nothing waiting: the engine's buffer becomes the wire's by a swap, with no copy.
  if (wire_.empty()) return engine_.take_output(wire_);
  engine_.take_output(taken_);
  wire_.append(taken_.data());
}

std::error_code raw_tls_stream::flush() {
  while (!wire_.empty()) {
    const std::string_view bytes = wire_.data();
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (would_block(errno)) return {};
      return {errno, std::system_category()};
    }
    wire_.consume(static_cast<std::size_t>(n));
  }
  return {};
}

std::error_code raw_tls_stream::read_ciphertext(bool& got) {
  got = false;
  taken_.clear();
  const std::span<char> space = taken_.prepare(recv_chunk);
  const ssize_t n = ::recv(fd_, space.data(), recv_chunk, 0);
  if (n == 0) return make_error_code(errc::connection_closed);
  if (n < 0)
    return would_block(errno) ? std::error_code{} : std::error_code{errno, std::system_category()};
  const std::string_view bytes(space.data(), static_cast<std::size_t>(n));
  if (!first_bytes_judged_) {
    first_bytes_judged_ = true;
    if (!tls::could_start_record(bytes)) return make_error_code(errc::tls_peer_not_tls);
  }
  engine_.on_ciphertext(bytes);
  got = true;
  return {};
}

std::error_code raw_tls_stream::receive(std::string& into, std::size_t want) {
  if (!early_.empty()) {
    into.append(early_);
    early_.clear();
    return {};
  }
  if (const std::error_code ec = ended_) return ec;
  const std::size_t start = into.size();
  for (bool got = true; got && into.size() - start < want;) {
    std::error_code ec = read_ciphertext(got);
    // Every whole record now, so poll() on the socket stays the truth about what is waiting.
    while (!ec) {
      const result<std::string_view> plaintext = engine_.read();
      if (!plaintext) ec = plaintext.error();
      if (ec || plaintext->empty()) break;
      into.append(*plaintext);
    }
    if (ec) {
      // What came before the end is the caller's first: the last message before a close.
      if (into.size() == start) return ec;
      ended_ = ec;
      return {};
    }
  }
  // A read may answer the peer (a key update).
  collect_output();
  return flush();
}

}  // namespace uredis::cli
