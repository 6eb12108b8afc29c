#pragma once
// A fault-injecting TCP proxy for the fault tests: it listens on 127.0.0.1 (a free port) and
// forwards every accepted client connection to the target over a fresh upstream connection,
// in both directions, on one background thread. Between the two sockets the test injects
// faults, at any time, from its own thread:
//
//   client ──► [ proxy: delay · cut · corrupt · black hole · refuse ] ──► redis-server
//          ◄──                                                        ◄──
//
// Invariants:
// - Bytes of one direction are forwarded in order, exactly once, unless a fault says otherwise
//   (a cut drops what was not forwarded yet; a corruption replaces one byte; nothing else
//   changes, drops or duplicates a byte).
// - A setter's effect is in force when it returns: the proxy thread holds the same mutex
//   while it forwards, so no byte is forwarded under the old setting after the call. Bytes
//   already handed to the kernel before the call are, of course, still delivered.
// - Byte-counting faults (cut_after, corrupt_byte) count the bytes forwarded in that direction
//   after the call, summed over all connections; each fires once and then disarms.
// - Nothing here is library code: setup failures throw, the thread blocks in ppoll.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace uredis::test {

enum class direction { client_to_server, server_to_client };

/// How the proxy ends connections it kills. `close` is close(): a FIN (the kernel sends an RST
/// instead when unread bytes were still pending on that socket). `reset` sets SO_LINGER 0 first
/// so the peer gets an RST at once (ECONNRESET), what a crashed host or a firewall produces.
enum class cut_mode { close, reset };

class fault_proxy {
 public:
  /// Starts listening and forwarding to target_host:target_port (an IPv4 address or
  /// "localhost"). Throws std::runtime_error / std::invalid_argument on setup failure.
  fault_proxy(std::string target_host, std::uint16_t target_port);
  /// Stops the thread and closes every socket (plain close).
  ~fault_proxy();
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  const std::string& host() const noexcept;  // "127.0.0.1"
  std::uint16_t port() const noexcept;
  /// "redis://127.0.0.1:PORT", to point a client at the proxy.
  std::string url() const;

  /// Holds each chunk read from now on for `delay` before forwarding it. Order is kept: a
  /// chunk never overtakes an earlier one (so lowering the delay takes effect behind the
  /// chunks already held). The one-argument form sets both directions.
  void set_delay(std::chrono::milliseconds delay);
  void set_delay(std::chrono::milliseconds delay, direction dir);

  /// Forwards exactly `bytes` more bytes in `dir`, then kills every connection (both sides).
  /// The cut fires as soon as the last allowed byte is written; bytes held beyond it are
  /// dropped. cut_after(0, ...) is close_all(mode). To make the next request die before the
  /// server has all of it, use cut_after(1, client_to_server). Connections accepted after the
  /// cut are forwarded normally (a reconnecting client gets through).
  void cut_after(std::size_t bytes, direction dir, cut_mode mode = cut_mode::close);

  /// Replaces the byte `offset` bytes ahead in `dir` (0 = the next byte forwarded) with
  /// `replacement`, once. '?' is no RESP type byte, so a reply corrupted at its first byte is
  /// a protocol error.
  void corrupt_byte(std::size_t offset, direction dir, char replacement = '?');
  /// As corrupt_byte, but inverts every bit of the victim: it always changes, whatever it was
  /// (ciphertext, whose bytes a test cannot predict).
  void flip_byte(std::size_t offset, direction dir);

  /// While on, the proxy forwards nothing in either direction (not even an end of stream) but
  /// keeps every socket open and keeps accepting: a stalled network or server. Bytes read
  /// meanwhile are HELD, not dropped (TCP never loses bytes of a stream): switching the black
  /// hole off delivers them, in order. Past 1 MiB held per direction per connection the proxy
  /// stops reading, so the sender sees a full TCP window.
  void set_black_hole(bool on);

  /// While on, new client connections are accepted and closed at once (the client's connect
  /// succeeds, its first read sees end of stream); no upstream connection is made. They count
  /// in connections_accepted().
  void set_refuse(bool on);

  /// Kills every current connection pair, both sides, and returns once they are closed.
  void close_all(cut_mode mode = cut_mode::close);

  /// Back to a plain proxy: no delay, no black hole, no refusal, no armed cut or corruption.
  void clear();

  /// Client connections accepted so far (refused ones included).
  std::size_t connections_accepted() const;
  /// Connection pairs currently open.
  std::size_t open_connections() const;
  /// Bytes written to the destination in `dir` so far, over all connections.
  std::size_t bytes_forwarded(direction dir) const;

 private:
  struct engine;
  std::unique_ptr<engine> engine_;
};

}  // namespace uredis::test
