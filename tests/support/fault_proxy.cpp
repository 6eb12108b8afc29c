#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace uredis::test {
namespace {

using steady_clock = std::chrono::steady_clock;

// One recv per readiness event: big enough to take a whole pipeline of replies at once.
constexpr std::size_t read_size = 64 * 1024;
// Held bytes per direction per connection before the proxy stops reading, so a black hole or a
// long delay back-pressures the sender instead of growing without bound.
constexpr std::size_t max_held = 1024 * 1024;

std::runtime_error failure(const std::string& what) {
  return std::runtime_error("fault_proxy: " + what + ": " + std::strerror(errno));
}

std::size_t index(direction dir) {
  return dir == direction::client_to_server ? 0 : 1;
}

void set_nodelay(int fd) {
  // The proxy writes whatever it has at once; Nagle plus delayed ACKs would add 40 ms stalls
  // that look like an injected delay.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void close_socket(int fd, cut_mode mode) {
  if (fd < 0) return;
  if (mode == cut_mode::reset) {
    const linger abort{1, 0};  // close() then sends an RST and discards unsent data
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  ::close(fd);  // never retried on EINTR: on Linux the descriptor is gone either way
}

// A chunk read from one side, waiting to be written to the other.
struct chunk {
  steady_clock::time_point ready;  // not forwarded before this (read time + delay)
  std::string bytes;
  std::size_t sent = 0;
};

// One direction of one connection pair.
struct flow {
  int from = -1;  // descriptors owned by the pair
  int to = -1;
  std::deque<chunk> held;
  std::size_t held_bytes = 0;
  bool eof = false;      // `from` reached end of stream
  bool shut = false;     // ...and that end was passed on: `to` is shut for writing
  bool blocked = false;  // the last send would block: wait for POLLOUT on `to`
};

struct connection_pair {
  int client = -1;
  int server = -1;
  bool connecting = true;     // the non-blocking upstream connect has not completed
  std::array<flow, 2> flows;  // indexed by index(direction)

  bool open() const { return client >= 0; }
};

struct byte_fault {
  bool armed = false;
  std::size_t count = 0;  // cut: bytes still allowed; corrupt: offset of the victim byte
  char replacement = 0;
  cut_mode mode = cut_mode::close;
  bool flip = false;  // corrupt: invert the victim's bits instead of replacing it
};

}  // namespace

struct fault_proxy::engine {
  engine(const std::string& target_host, std::uint16_t target_port);
  ~engine();

  void run();
  void service(steady_clock::time_point now);
  void flush(connection_pair& p, std::size_t dir, steady_clock::time_point now);
  void accept_clients();
  void on_event(connection_pair& p, int fd, short revents);
  void receive(connection_pair& p, std::size_t dir);
  void close_pair(connection_pair& p, cut_mode mode);
  void close_every_pair(cut_mode mode);
  std::optional<steady_clock::time_point> next_ready() const;
  void wake() const;

  sockaddr_in target{};
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int listener = -1;
  int wake_fd = -1;

  // Everything below is guarded by `mutex`; the proxy thread releases it only inside ppoll.
  mutable std::mutex mutex;
  std::condition_variable closed;  // close_all() waits here for the thread to do it
  bool stopping = false;
  bool running = true;
  std::array<std::chrono::milliseconds, 2> delay{};
  std::array<byte_fault, 2> cut;
  std::array<byte_fault, 2> corrupt;
  bool cut_due = false;
  bool black_hole = false;
  bool refuse = false;
  std::uint64_t close_requested = 0;
  std::uint64_t close_done = 0;
  cut_mode close_mode = cut_mode::close;
  std::list<connection_pair> pairs;  // a list: pollfd bookkeeping points at its elements
  std::size_t accepted = 0;
  std::array<std::size_t, 2> forwarded{};
  std::array<char, read_size> scratch;  // recv target, used by the proxy thread only

  std::thread thread;  // last: starts once everything above exists
};

fault_proxy::engine::engine(const std::string& target_host, std::uint16_t target_port) {
  target.sin_family = AF_INET;
  target.sin_port = htons(target_port);
  const std::string address = target_host == "localhost" ? "127.0.0.1" : target_host;
  if (::inet_pton(AF_INET, address.c_str(), &target.sin_addr) != 1)
    throw std::invalid_argument("fault_proxy: not an IPv4 address: " + target_host);

  wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) throw failure("eventfd");
  listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) {
    ::close(wake_fd);
    throw failure("socket");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, SOMAXCONN) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const auto error = failure("listen on 127.0.0.1");
    ::close(listener);
    ::close(wake_fd);
    throw error;
  }
  port = ntohs(addr.sin_port);
  thread = std::thread([this] { run(); });
}

fault_proxy::engine::~engine() {
  {
    const std::lock_guard lock{mutex};
    stopping = true;
  }
  wake();
  thread.join();
  for (auto& p : pairs)
    close_pair(p, cut_mode::close);
  ::close(listener);
  ::close(wake_fd);
}

void fault_proxy::engine::wake() const {
  const std::uint64_t one = 1;
  // A full counter (never, in practice) still leaves the descriptor readable: nothing lost.
  [[maybe_unused]] const auto ignored = ::write(wake_fd, &one, sizeof one);
}

void fault_proxy::engine::run() {
  std::unique_lock lock{mutex};
  // Per turn: pollfds[0] is the wake eventfd, [1] the listener, then one entry per descriptor
  // of an open pair with something to wait for; owners[i] says whose it is.
  std::vector<pollfd> pollfds;
  std::vector<connection_pair*> owners;
  while (!stopping) {
    service(steady_clock::now());

    pollfds.assign({{wake_fd, POLLIN, 0}, {listener, POLLIN, 0}});
    owners.assign(2, nullptr);
    for (auto& p : pairs) {
      // A descriptor is polled only when there is something to wait for: POLLHUP and POLLERR
      // are reported even with no events asked, and a socket that has both ends shut would
      // wake ppoll forever while its bytes sit held in a black hole. An error on a socket
      // nobody waits on shows up at the next send or recv instead.
      for (const int fd : {p.client, p.server}) {
        short events = 0;
        for (const auto& f : p.flows) {
          if (f.from == fd && !f.eof && f.held_bytes < max_held) events |= POLLIN;
          if (f.to == fd && f.blocked) events |= POLLOUT;
        }
        if (fd == p.server && p.connecting) events = POLLOUT;
        if (events == 0) continue;
        pollfds.push_back({fd, events, 0});
        owners.push_back(&p);
      }
    }
    timespec timeout{};
    const timespec* timeout_ptr = nullptr;  // no chunk waiting on its delay: sleep until woken
    if (const auto ready = next_ready()) {
      const auto wait = std::max(steady_clock::duration::zero(), *ready - steady_clock::now());
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
      timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      timeout_ptr = &timeout;
    }

    lock.unlock();
    const int n = ::ppoll(pollfds.data(), pollfds.size(), timeout_ptr, nullptr);
    const int poll_errno = errno;
    lock.lock();
    if (n < 0) {
      if (poll_errno == EINTR) continue;
      break;  // EINVAL/ENOMEM: cannot go on; close_all() waiters are released below
    }
    if (pollfds[0].revents != 0) {
      std::uint64_t count = 0;
      [[maybe_unused]] const auto ignored = ::read(wake_fd, &count, sizeof count);
    }
    if (pollfds[1].revents != 0) accept_clients();
    for (std::size_t i = 2; i < pollfds.size(); ++i) {
      if (pollfds[i].revents != 0) on_event(*owners[i], pollfds[i].fd, pollfds[i].revents);
    }
  }
  running = false;
  closed.notify_all();
}

// Does everything that needs no new readiness: pending close_all() requests, forwarding of
// chunks whose delay has passed, a cut whose budget ran out, and removal of closed pairs.
void fault_proxy::engine::service(steady_clock::time_point now) {
  if (close_done < close_requested) {
    close_every_pair(close_mode);
    close_done = close_requested;
    closed.notify_all();
  }
  for (auto& p : pairs) {
    flush(p, 0, now);
    flush(p, 1, now);
  }
  if (cut_due) {
    cut_due = false;
    for (auto& c : cut) {
      if (c.armed && c.count == 0) {
        c.armed = false;
        close_every_pair(c.mode);
      }
    }
  }
  pairs.remove_if([](const connection_pair& p) { return !p.open(); });
}

void fault_proxy::engine::flush(connection_pair& p, std::size_t dir, steady_clock::time_point now) {
  if (!p.open() || p.connecting || black_hole || cut_due) return;
  flow& f = p.flows[dir];
  byte_fault& limit = cut[dir];
  byte_fault& victim = corrupt[dir];
  while (!f.held.empty() && !f.blocked) {
    chunk& c = f.held.front();
    if (c.ready > now) break;
    std::size_t length = c.bytes.size() - c.sent;
    if (limit.armed) length = std::min(length, limit.count);
    if (victim.armed && victim.count < length) {
      char& byte = c.bytes[c.sent + victim.count];
      byte = victim.flip ? static_cast<char>(~byte) : victim.replacement;
      victim.armed = false;
    }
    const ssize_t n = ::send(f.to, c.bytes.data() + c.sent, length, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        f.blocked = true;
        break;
      }
      close_pair(p, cut_mode::close);  // the destination is gone (EPIPE, ECONNRESET)
      return;
    }
    const auto sent = static_cast<std::size_t>(n);
    c.sent += sent;
    f.held_bytes -= sent;
    forwarded[dir] += sent;
    if (victim.armed) victim.count -= sent;
    if (c.sent == c.bytes.size()) f.held.pop_front();
    if (limit.armed) {
      limit.count -= sent;
      if (limit.count == 0) {
        cut_due = true;  // service() kills every pair before anything else is forwarded
        return;
      }
    }
  }
  if (f.eof && f.held.empty() && !f.shut) {
    // Pass the end of stream on as a half-close: the other direction may still carry replies.
    ::shutdown(f.to, SHUT_WR);
    f.shut = true;
  }
  if (p.flows[0].shut && p.flows[1].shut) close_pair(p, cut_mode::close);
}

void fault_proxy::engine::accept_clients() {
  for (;;) {
    const int client = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: the backlog is empty (anything else: try again next readiness)
    }
    ++accepted;
    if (refuse) {
      ::close(client);
      continue;
    }
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (server < 0) {
      ::close(client);
      continue;
    }
    set_nodelay(client);
    set_nodelay(server);
    int rc = 0;
    do {
      rc = ::connect(server, reinterpret_cast<const sockaddr*>(&target), sizeof target);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno != EINPROGRESS) {
      // Nobody listens upstream (a killed server): the client sees its connection end.
      ::close(server);
      ::close(client);
      continue;
    }
    connection_pair& p = pairs.emplace_back();
    p.client = client;
    p.server = server;
    p.connecting = rc != 0;
    p.flows[index(direction::client_to_server)].from = client;
    p.flows[index(direction::client_to_server)].to = server;
    p.flows[index(direction::server_to_client)].from = server;
    p.flows[index(direction::server_to_client)].to = client;
  }
}

void fault_proxy::engine::on_event(connection_pair& p, int fd, short revents) {
  if (!p.open()) return;  // closed earlier in this turn
  if (fd == p.server && p.connecting) {
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      close_pair(p, cut_mode::close);
      return;
    }
    p.connecting = false;
    return;
  }
  for (std::size_t dir = 0; dir < 2 && p.open(); ++dir) {
    flow& f = p.flows[dir];
    // POLLHUP/POLLERR count as readable: recv then reports the end or the error.
    if (f.from == fd && !f.eof && f.held_bytes < max_held &&
        (revents & (POLLIN | POLLHUP | POLLERR)) != 0)
      receive(p, dir);
    if (p.open() && f.to == fd && (revents & (POLLOUT | POLLHUP | POLLERR)) != 0)
      f.blocked = false;  // the next send tells whether it can write or the peer is gone
  }
}

void fault_proxy::engine::receive(connection_pair& p, std::size_t dir) {
  flow& f = p.flows[dir];
  ssize_t n = 0;
  do {
    n = ::recv(f.from, scratch.data(), scratch.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    close_pair(p, cut_mode::close);  // reset by the peer
    return;
  }
  if (n == 0) {
    f.eof = true;
    return;
  }
  // Copied out at its exact size: a held chunk must not keep a 64 KiB buffer alive.
  const auto size = static_cast<std::size_t>(n);
  f.held_bytes += size;
  f.held.push_back({steady_clock::now() + delay[dir], std::string(scratch.data(), size)});
}

void fault_proxy::engine::close_pair(connection_pair& p, cut_mode mode) {
  close_socket(p.client, mode);
  close_socket(p.server, mode);
  p.client = p.server = -1;
  for (auto& f : p.flows) {
    f.held.clear();
    f.held_bytes = 0;
  }
}

void fault_proxy::engine::close_every_pair(cut_mode mode) {
  for (auto& p : pairs)
    close_pair(p, mode);
}

// The earliest time a held chunk becomes due, among those nothing else holds back.
std::optional<steady_clock::time_point> fault_proxy::engine::next_ready() const {
  if (black_hole) return std::nullopt;
  std::optional<steady_clock::time_point> earliest;
  for (const auto& p : pairs) {
    if (p.connecting) continue;
    for (const auto& f : p.flows) {
      if (f.held.empty() || f.blocked) continue;
      const auto ready = f.held.front().ready;
      if (!earliest || ready < *earliest) earliest = ready;
    }
  }
  return earliest;
}

fault_proxy::fault_proxy(std::string target_host, std::uint16_t target_port)
    : engine_(std::make_unique<engine>(target_host, target_port)) {}

fault_proxy::~fault_proxy() = default;

const std::string& fault_proxy::host() const noexcept {
  return engine_->host;
}

std::uint16_t fault_proxy::port() const noexcept {
  return engine_->port;
}

std::string fault_proxy::url() const {
  return "redis://" + engine_->host + ":" + std::to_string(engine_->port);
}

void fault_proxy::set_delay(std::chrono::milliseconds delay) {
  set_delay(delay, direction::client_to_server);
  set_delay(delay, direction::server_to_client);
}

void fault_proxy::set_delay(std::chrono::milliseconds delay, direction dir) {
  const std::lock_guard lock{engine_->mutex};
  engine_->delay[index(dir)] = delay;
}

void fault_proxy::cut_after(std::size_t bytes, direction dir, cut_mode mode) {
  if (bytes == 0) {
    close_all(mode);
    return;
  }
  const std::lock_guard lock{engine_->mutex};
  engine_->cut[index(dir)] = {.armed = true, .count = bytes, .replacement = 0, .mode = mode};
}

void fault_proxy::corrupt_byte(std::size_t offset, direction dir, char replacement) {
  const std::lock_guard lock{engine_->mutex};
  engine_->corrupt[index(dir)] = {
      .armed = true, .count = offset, .replacement = replacement, .mode = cut_mode::close};
}

void fault_proxy::flip_byte(std::size_t offset, direction dir) {
  const std::lock_guard lock{engine_->mutex};
  engine_->corrupt[index(dir)] = {
      .armed = true, .count = offset, .replacement = 0, .mode = cut_mode::close, .flip = true};
}

void fault_proxy::set_black_hole(bool on) {
  {
    const std::lock_guard lock{engine_->mutex};
    engine_->black_hole = on;
  }
  engine_->wake();  // off: held bytes are due now
}

void fault_proxy::set_refuse(bool on) {
  const std::lock_guard lock{engine_->mutex};
  engine_->refuse = on;
}

void fault_proxy::close_all(cut_mode mode) {
  // The proxy thread closes the sockets itself: it may be inside ppoll on them right now.
  std::unique_lock lock{engine_->mutex};
  const auto ticket = ++engine_->close_requested;
  engine_->close_mode = mode;
  engine_->wake();
  engine_->closed.wait(lock, [&] { return engine_->close_done >= ticket || !engine_->running; });
}

void fault_proxy::clear() {
  {
    const std::lock_guard lock{engine_->mutex};
    engine_->delay = {};
    engine_->cut = {};
    engine_->corrupt = {};
    engine_->black_hole = false;
    engine_->refuse = false;
  }
  engine_->wake();
}

std::size_t fault_proxy::connections_accepted() const {
  const std::lock_guard lock{engine_->mutex};
  return engine_->accepted;
}

std::size_t fault_proxy::open_connections() const {
  const std::lock_guard lock{engine_->mutex};
  return static_cast<std::size_t>(std::count_if(engine_->pairs.begin(), engine_->pairs.end(),
                                                [](const connection_pair& p) { return p.open(); }));
}

std::size_t fault_proxy::bytes_forwarded(direction dir) const {
  const std::lock_guard lock{engine_->mutex};
  return engine_->forwarded[index(dir)];
}

}  // namespace uredis::test
