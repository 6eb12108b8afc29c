#pragma once
// canned_server: a tiny fake Redis server for tests that need bytes no real server sends. It
// listens on a free loopback port, accepts one connection, answers the first request it reads
// with `bytes` (whatever they are: malformed RESP included), then keeps the socket open and
// drains it until the client closes or the server object dies. Given several answers, it sends
// the n-th for the n-th read (a client that waits for each reply reads them one batch at a
// time: the handshake's pipelined commands, then a command).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace uredis::test {

class canned_server {
 public:
  explicit canned_server(std::string bytes) : canned_server(std::vector<std::string>{bytes}) {}
  explicit canned_server(std::vector<std::string> answers) : answers_(std::move(answers)) {
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
      std::size_t next = 0;
      while (::recv(fd, buf, sizeof buf, 0) > 0) {
        if (next < answers_.size()) {
          const std::string& a = answers_[next++];
          (void)::send(fd, a.data(), a.size(), MSG_NOSIGNAL);
        }
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
  std::vector<std::string> answers_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace uredis::test
