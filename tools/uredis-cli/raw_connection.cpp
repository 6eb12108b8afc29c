#include "raw_connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/io/socket.hpp"
#include "uredis/resp/parser.hpp"

namespace uredis::cli {
namespace {

// The library's default connect timeout (proto::session_config): the session has just
// connected to the same server, so a handshake that takes longer is a server gone wrong.
constexpr std::chrono::milliseconds tls_handshake_timeout{5000};

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
  if (o.tls.enabled &&
      !(c->tls_ = raw_tls_stream::open(*fd, o.tls.options, o.host, tls_handshake_timeout, ec)))
    return nullptr;

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
  while (!bytes.empty() || output_pending()) {
    std::size_t taken = 0;
    if (const std::error_code ec = send_some(bytes, taken)) return ec;
    bytes.remove_prefix(taken);
    if (!bytes.empty() || output_pending()) wait_for(fd_, POLLOUT);
  }
  return {};
}

std::error_code raw_connection::send_some(std::string_view bytes, std::size_t& taken) {
  taken = 0;
  if (tls_) {
    // New plaintext only once the earlier records are out, so what waits stays bounded.
    if (const std::error_code ec = tls_->flush()) return ec;
    if (tls_->output_pending() || bytes.empty()) return {};
    taken = bytes.size();
    return tls_->send_some(bytes);
  }
  if (bytes.empty()) return {};
  const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (n >= 0) {
    taken = static_cast<std::size_t>(n);
    return {};
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return {};
  return last_errno();
}

std::error_code raw_connection::receive(std::string& into, std::size_t chunk) {
  chunk = std::max(chunk, into.size());
  if (tls_) return tls_->receive(into, chunk);
  const std::size_t old = into.size();
  into.resize(old + chunk);
  const ssize_t n = ::recv(fd_, into.data() + old, chunk, 0);
  into.resize(old + static_cast<std::size_t>(n > 0 ? n : 0));
  if (n == 0) return make_error_code(errc::connection_closed);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return last_errno();
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
    const std::size_t old = input_.size();
    if (const std::error_code ec = receive(input_)) return ec;
    if (input_.size() == old) wait_for(fd_, POLLIN);
  }
}

}  // namespace uredis::cli
