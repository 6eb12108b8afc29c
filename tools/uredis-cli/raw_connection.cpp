#include "raw_connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/io/socket.hpp"
#include "uredis/resp/parser.hpp"

namespace uredis::cli {
namespace {

std::error_code last_errno() {
  return {errno, std::system_category()};
}

// Waits until `fd` can do `events`; EINTR is a spurious wake-up, the caller loops anyway.
void wait_for(int fd, short events) {
  pollfd p{fd, events, 0};
  ::poll(&p, 1, -1);
}

std::error_code connect_to(const io::socket_address& a, int fd) {
  if (::connect(fd, a.data(), a.length) == 0) return {};
  if (errno != EINPROGRESS && errno != EINTR) return last_errno();
  wait_for(fd, POLLOUT);
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return last_errno();
  return {err, std::system_category()};
}

}  // namespace

std::unique_ptr<raw_connection> raw_connection::open(const server_options& o,
                                                     const session_setup& setup,
                                                     std::error_code& ec) {
  // A plain socket: the bytes would go out in clear text, or fail against a TLS port.
  if (o.tls.enabled) {
    ec = errc::tls_unavailable;
    return nullptr;
  }
  const result<io::socket_address> address =
      o.unix_socket.empty() ? io::resolve(o.host, o.port) : io::unix_socket_address(o.unix_socket);
  if (!address) {
    ec = address.error();
    return nullptr;
  }
  const result<int> fd = io::open_stream_socket(address->family());
  if (!fd) {
    ec = fd.error();
    return nullptr;
  }
  std::unique_ptr<raw_connection> c(new raw_connection(*fd));
  if ((ec = connect_to(*address, *fd))) return nullptr;

  // The whole set-up in one write, then its replies.
  const std::vector<std::vector<std::string>> commands = setup.commands();
  std::string request;
  for (const std::vector<std::string>& args : commands) {
    request += '*' + std::to_string(args.size()) + "\r\n";
    for (const std::string& a : args)
      request.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  }
  if ((ec = c->write_all(request))) return nullptr;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    resp::reply r;
    if ((ec = c->read_reply(r))) return nullptr;
    if (resp::is_error(r.type())) {
      ec = make_error_code(errc::handshake_failed);
      return nullptr;
    }
  }
  return c;
}

raw_connection::~raw_connection() {
  ::close(fd_);
}

std::error_code raw_connection::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(fd_, POLLOUT);
    } else if (errno != EINTR) {
      return last_errno();
    }
  }
  return {};
}

std::error_code raw_connection::read_reply(resp::reply& out) {
  // MONITOR prints every command as one status line, as long as the command's arguments: lines
  // are bounded like bulk strings, not by the parser's default 64 KiB.
  static constexpr resp::limits limits{.max_line_length = resp::limits{}.max_bulk_length};
  for (;;) {
    std::error_code ec;
    const std::string_view unparsed = std::string_view(input_).substr(parsed_);
    const resp::step s = resp::parse_reply_tree(unparsed, out, ec, limits);
    if (s.status == resp::outcome::node) {
      parsed_ += s.consumed;
      return {};
    }
    if (s.status == resp::outcome::error) return ec;
    // Need more: drop what was parsed, read behind the rest.
    input_.erase(0, parsed_);
    parsed_ = 0;
    // A reply is parsed again from its start when more bytes come: reading at least as much as
    // is already buffered keeps a long one linear overall.
    const std::size_t chunk = std::max<std::size_t>(64 * 1024, input_.size());
    const std::size_t old = input_.size();
    input_.resize(old + chunk);
    const ssize_t n = ::recv(fd_, input_.data() + old, chunk, 0);
    input_.resize(old + static_cast<std::size_t>(n > 0 ? n : 0));
    if (n == 0) return make_error_code(errc::connection_closed);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_for(fd_, POLLIN);
      } else if (errno != EINTR) {
        return last_errno();
      }
    }
  }
}

}  // namespace uredis::cli
