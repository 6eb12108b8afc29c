#include "uredis/io/socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace uredis::io {
namespace {

class resolver_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "uredis.resolver"; }
  std::string message(int value) const override { return ::gai_strerror(value); }
};

// Longest host text inet_pton can take (an IPv6 address with an embedded IPv4 part is 45
// characters); longer input is a name, not a numeric address.
constexpr std::size_t max_numeric_host = INET6_ADDRSTRLEN;

struct addrinfo_list {
  addrinfo* head = nullptr;
  ~addrinfo_list() {
    if (head != nullptr) ::freeaddrinfo(head);
  }
};

// "[::1]" -> "::1", as URLs write IPv6 hosts.
std::string_view without_brackets(std::string_view host) noexcept {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

socket_address from_sockaddr(const sockaddr* sa, socklen_t length) {
  socket_address out;
  std::memcpy(&out.storage, sa, length);
  out.length = length;
  return out;
}

}  // namespace

const std::error_category& resolver_category() noexcept {
  static const resolver_category_impl instance;
  return instance;
}

std::uint16_t socket_address::port() const noexcept {
  switch (family()) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    default:
      return 0;
  }
}

std::string socket_address::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      return std::string(text) + ':' + std::to_string(port());
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      return '[' + std::string(text) + "]:" + std::to_string(port());
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage);
      const std::size_t max =
          length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
      return std::string(un->sun_path, ::strnlen(un->sun_path, max));
    }
    default:
      return {};
  }
}

std::optional<result<socket_address>> resolve_numeric(std::string_view host, std::uint16_t port) {
  if (host.empty()) return std::make_error_code(std::errc::invalid_argument);
  host = without_brackets(host);
  if (host.size() < max_numeric_host) {
    char text[max_numeric_host] = {};
    host.copy(text, host.size());
    sockaddr_in in{};
    if (::inet_pton(AF_INET, text, &in.sin_addr) == 1) {
      in.sin_family = AF_INET;
      in.sin_port = htons(port);
      return from_sockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in);
    }
    sockaddr_in6 in6{};
    if (::inet_pton(AF_INET6, text, &in6.sin6_addr) == 1) {
      in6.sin6_family = AF_INET6;
      in6.sin6_port = htons(port);
      return from_sockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof in6);
    }
  }
  return std::nullopt;
}

result<socket_address> resolve(std::string_view host, std::uint16_t port) {
  if (auto numeric = resolve_numeric(host, port)) return std::move(*numeric);

  // A name. Blocking (see the header): a shard runs this through reactor::resolver.
  const std::string name(without_brackets(host));
  const std::string service = std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo_list found;
  if (const int status = ::getaddrinfo(name.c_str(), service.c_str(), &hints, &found.head);
      status != 0) {
    if (status == EAI_SYSTEM) return from_errno(errno);
    return std::error_code(status, resolver_category());
  }
  const addrinfo* chosen = nullptr;
  for (const addrinfo* ai = found.head; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      chosen = ai;
      break;
    }
    if (ai->ai_family == AF_INET6 && chosen == nullptr) chosen = ai;
  }
  if (chosen == nullptr) return std::error_code(EAI_FAMILY, resolver_category());
  return from_sockaddr(chosen->ai_addr, chosen->ai_addrlen);
}

result<socket_address> unix_socket_address(std::string_view path) {
  if (path.empty() || path.find('\0') != std::string_view::npos)
    return std::make_error_code(std::errc::invalid_argument);
  sockaddr_un un{};
  if (path.size() >= sizeof un.sun_path)  // the path and its NUL must fit
    return std::make_error_code(std::errc::filename_too_long);
  un.sun_family = AF_UNIX;
  path.copy(un.sun_path, path.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return from_sockaddr(reinterpret_cast<const sockaddr*>(&un), length);
}

result<int> open_stream_socket(int family, bool tcp_nodelay) {
  const int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return from_errno(errno);
  if (tcp_nodelay && (family == AF_INET || family == AF_INET6)) {
    const int on = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
      const int err = errno;
      ::close(fd);
      return from_errno(err);
    }
  }
  return fd;
}

std::error_code from_errno(int err) noexcept {
  switch (err) {
    case 0:
      return {};
    case ECONNREFUSED:
    case ENOENT:
      return errc::connection_refused;
    case ECONNRESET:
    case EPIPE:
    case ECONNABORTED:
      return errc::connection_reset;
    case ETIMEDOUT:
    case ETIME:
      return errc::timeout;
    case ENOTCONN:
      return errc::not_connected;
    default:
      return {err, std::system_category()};
  }
}

void prep_connect(io_uring_sqe* sqe, int fd, const socket_address& address,
                  std::uint64_t user_data) noexcept {
  io_uring_prep_connect(sqe, fd, address.data(), address.length);
  io_uring_sqe_set_data64(sqe, user_data);
}

void prep_send(io_uring_sqe* sqe, int fd, std::span<const std::byte> bytes,
               std::uint64_t user_data) noexcept {
  // MSG_WAITALL: io_uring continues a short send on a stream socket itself (5.19+).
  io_uring_prep_send(sqe, fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_WAITALL);
  io_uring_sqe_set_data64(sqe, user_data);
}

void prep_recv(io_uring_sqe* sqe, int fd, std::span<std::byte> buffer,
               std::uint64_t user_data) noexcept {
  io_uring_prep_recv(sqe, fd, buffer.data(), buffer.size(), 0);
  io_uring_sqe_set_data64(sqe, user_data);
}

void prep_recv_multishot(io_uring_sqe* sqe, int fd, std::uint16_t buffer_group,
                         std::uint64_t user_data) noexcept {
  io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data64(sqe, user_data);
}

void prep_close(io_uring_sqe* sqe, int fd, std::uint64_t user_data) noexcept {
  io_uring_prep_close(sqe, fd);
  io_uring_sqe_set_data64(sqe, user_data);
}

void prep_cancel_fd(io_uring_sqe* sqe, int fd, std::uint64_t user_data) noexcept {
  io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, user_data);
}

void prep_link_timeout(io_uring_sqe* sqe, const __kernel_timespec& timeout,
                       std::uint64_t user_data) noexcept {
  // liburing's signature takes a non-const pointer; the kernel only reads the timespec.
  io_uring_prep_link_timeout(sqe, const_cast<__kernel_timespec*>(&timeout), 0);
  io_uring_sqe_set_data64(sqe, user_data);
}

}  // namespace uredis::io
