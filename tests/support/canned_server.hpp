#pragma once
// canned_server: a tiny fake Redis server for tests that need bytes no real server sends. It
// listens on a free loopback port, accepts one connection, answers the first request it reads
// with `bytes` (whatever they are: malformed RESP included), then keeps the socket open and
// drains it until the client closes or the server object dies.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>

namespace uredis::test {

class canned_server {
 public:
  explicit canned_server(std::string bytes) : bytes_(std::move(bytes)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listener_, 1);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      char buf[4096];
      if (::recv(fd, buf, sizeof buf, 0) > 0)
        (void)::send(fd, bytes_.data(), bytes_.size(), MSG_NOSIGNAL);
      while (::recv(fd, buf, sizeof buf, 0) > 0) {
      }
      ::close(fd);
    });
  }
  ~canned_server() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }

 private:
  std::string bytes_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace uredis::test
