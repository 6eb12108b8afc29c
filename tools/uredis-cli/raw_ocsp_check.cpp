#include "raw_ocsp_check.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "tls/http_exchange.hpp"
#include "tls/ocsp_cache.hpp"
#include "tls/ocsp_verifier.hpp"
#include "uredis/error.hpp"
#include "uredis/io/socket.hpp"

namespace uredis::cli {
namespace {

using clock = std::chrono::steady_clock;

// Closes the query's socket on every way out.
struct socket_guard {
  int fd;
  ~socket_guard() { ::close(fd); }
};

// Waits for `events` on `fd` until `deadline`: false when the time is up.
bool wait_until(int fd, short events, clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

// The responder's answer body, or nothing (unreachable, an HTTP error, cut short, too slow).
std::optional<std::string> post(const tls::http_url& url, std::string_view request,
                                std::chrono::milliseconds timeout) {
  const clock::time_point deadline = clock::now() + timeout;
  const result<io::socket_address> address = io::resolve(url.host, url.port);
  if (!address) return std::nullopt;
  const result<int> fd = io::open_stream_socket(address->family());
  if (!fd) return std::nullopt;
  const socket_guard guard{*fd};
  if (::connect(*fd, address->data(), address->length) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) return std::nullopt;
    if (!wait_until(*fd, POLLOUT, deadline)) return std::nullopt;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(*fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return std::nullopt;
  }
  tls::http_exchange exchange;
  const std::string bytes = exchange.request(url, "application/ocsp-request", request);
  std::string_view wire = bytes;
  while (!wire.empty()) {
    const ssize_t n = ::send(*fd, wire.data(), wire.size(), MSG_NOSIGNAL);
    if (n > 0) {
      wire.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return std::nullopt;
    } else if (!wait_until(*fd, POLLOUT, deadline)) {
      return std::nullopt;
    }
  }
  char buffer[16 * 1024];
  for (;;) {
    const ssize_t n = ::recv(*fd, buffer, sizeof buffer, 0);
    tls::http_exchange::state s = exchange.current();
    if (n > 0) {
      s = exchange.on_data(std::string_view(buffer, static_cast<std::size_t>(n)));
    } else if (n == 0) {
      s = exchange.on_eof();  // HTTP/1.0: the close may end the body
      if (s == tls::http_exchange::state::waiting) return std::nullopt;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return std::nullopt;
    } else if (!wait_until(*fd, POLLIN, deadline)) {
      return std::nullopt;
    }
    if (s == tls::http_exchange::state::done) return std::string(exchange.body());
    if (s == tls::http_exchange::state::failed) return std::nullopt;
  }
}

}  // namespace

std::error_code check_with_responder(WOLFSSL* ssl, const tls::options& options) {
  result<tls::ocsp_verifier> verifier = tls::ocsp_verifier::for_peer(ssl, options);
  if (!verifier) return verifier.error();
  tls::ocsp_cache& cache = tls::ocsp_cache::this_shard();
  if (const auto verdict = tls::cached_verdict(cache, *verifier)) return *verdict;
  const std::optional<tls::http_url> url = tls::http_url::parse(verifier->url());
  if (!url) return make_error_code(errc::ocsp_responder_unavailable);
  const std::optional<std::string> body =
      post(*url, verifier->request(), options.ocsp_responder_timeout);
  if (!body) return make_error_code(errc::ocsp_responder_unavailable);
  if (const std::error_code ec = verifier->check(*body)) return ec;
  cache.store(verifier->request(), *body);
  return {};
}

}  // namespace uredis::cli
