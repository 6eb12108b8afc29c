// pipeline_floor: the least a client can do for `-c 1 -P 256 -t get`, to tell what a real
// client's CPU per GET is measured against. It writes one prebuilt buffer of 256 GETs per batch
// with write(2), reads with read(2) until it has seen 256 replies (it counts "$-1\r\n" and
// "$3\r\nxxx\r\n" replies by their line ends and checks nothing else), and repeats; no parser,
// no callback, no histogram, no event loop. What it spends is the kernel's share of the exchange
// plus a loop over the bytes: a floor for any client on the same machine.
//
//   pipeline_floor PORT REQUESTS      prints requests/s and user, system CPU per GET (getrusage)
//
// Run pinned beside the peers: scripts/pipeline_floor.sh.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr int depth = 256;

double seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
}

// Replies completed in `bytes`: a nil is one line, a bulk string two.
struct reply_counter {
  int lines_left = 0;  // of the reply being read; 0: between replies
  char last = 0;
  int feed(const char* bytes, std::size_t n) {
    int done = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const char c = bytes[i];
      if (lines_left == 0) lines_left = -1;  // a reply's first byte: its type
      if (lines_left == -1 && last == '$') lines_left = (c == '-') ? 1 : 2;
      if (last == '\r' && c == '\n' && lines_left > 0 && --lines_left == 0) ++done;
      last = c;
    }
    return done;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: pipeline_floor PORT REQUESTS\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const long requests = std::atol(argv[2]);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    return 1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string batch;
  for (int i = 0; i < depth; ++i)
    batch += "*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n";
  static char in[64 * 1024];
  reply_counter counter;
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  const auto start = std::chrono::steady_clock::now();
  for (long sent = 0; sent < requests; sent += depth) {
    if (::write(fd, batch.data(), batch.size()) != static_cast<ssize_t>(batch.size())) {
      std::perror("write");
      return 1;
    }
    for (int answered = 0; answered < depth;) {
      const ssize_t n = ::read(fd, in, sizeof in);
      if (n <= 0) {
        std::perror("read");
        return 1;
      }
      answered += counter.feed(in, static_cast<std::size_t>(n));
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  const long done = (requests + depth - 1) / depth * depth;
  const double user = seconds(after.ru_utime) - seconds(before.ru_utime);
  const double sys = seconds(after.ru_stime) - seconds(before.ru_stime);
  std::printf("GET: %.0f requests per second, user %.3f us + sys %.3f us = %.3f us CPU/GET\n",
              static_cast<double>(done) / elapsed, user * 1e6 / static_cast<double>(done),
              sys * 1e6 / static_cast<double>(done),
              (user + sys) * 1e6 / static_cast<double>(done));
  ::close(fd);
  return 0;
}
