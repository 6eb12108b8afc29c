// fake_reply_server: a stand-in Redis server that answers with canned bytes, so tests can show
// the real redis-cli any reply, including ones no real server would send.
//
//   fake_reply_server FILE...
//
// Listens on 127.0.0.1 on a free port and prints the port number on a line of its own. Then, for
// each FILE in order, it accepts one connection, reads one complete request (a RESP command), sends
// the bytes of FILE verbatim, and closes the connection. It exits after the last FILE, or fails
// after 60 seconds without progress, so a broken test cannot hang.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "uredis/resp/parser.hpp"

namespace {

constexpr unsigned watchdog_seconds = 60;

int fail(const char* what) {
  std::fprintf(stderr, "fake_reply_server: %s: %s\n", what, std::strerror(errno));
  return 1;
}

bool load(const char* path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// Reads until the peer has sent one whole RESP command (or closed, or sent garbage).
void read_request(int fd) {
  std::string buffer;
  uredis::resp::parser parser;
  std::size_t offset = 0;
  char chunk[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    buffer.append(chunk, static_cast<std::size_t>(n));
    uredis::resp::node node;
    for (;;) {
      const uredis::resp::step s = parser.next(std::string_view(buffer).substr(offset), node);
      if (s.status == uredis::resp::outcome::error) return;
      if (s.status == uredis::resp::outcome::need_more) break;
      offset += s.consumed;
      if (parser.done()) return;
    }
  }
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fake_reply_server FILE...\n");
    return 2;
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("bind");
  if (::listen(listener, 16) != 0) return fail("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return fail("getsockname");
  std::printf("%u\n", static_cast<unsigned>(ntohs(addr.sin_port)));
  std::fflush(stdout);

  for (int i = 1; i < argc; ++i) {
    std::string reply;
    if (!load(argv[i], reply)) {
      std::fprintf(stderr, "fake_reply_server: cannot read %s\n", argv[i]);
      return 1;
    }
    ::alarm(watchdog_seconds);  // SIGALRM's default action ends the process
    const int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return fail("accept");
    read_request(conn);
    if (!send_all(conn, reply)) std::fprintf(stderr, "fake_reply_server: short send\n");
    ::shutdown(conn, SHUT_WR);
    ::close(conn);
  }
  ::close(listener);
  return 0;
}
