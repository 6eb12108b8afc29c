#pragma once
// transport: the byte stream under a connection. Plain TCP and Unix sockets today
// (tcp_transport.hpp); TLS wraps one of these behind the same interface, encrypting what it is
// given to send and decrypting what it receives.
//
//   shell ──open(address, target) / send(bytes) / close()──► transport ──► SQEs on the ring
//   shell ◄──on_transport_connected / _data / _sent / _failed── transport ◄── CQEs (forwarded
//                                                                by the shell: on_completion)
//
// Contract:
//   - open() starts connecting; on_transport_connected() or on_transport_failed() follows
//     (from a later completion, never inside open(): a failure to even start is returned).
//   - send() hands over bytes that stay valid and unchanged until on_transport_sent(); the
//     transport sends all of them (continuing a short write itself) before reporting. One send
//     at a time. A failure to even start is returned.
//   - on_transport_data() passes received bytes, valid during the call only: the receiver
//     parses them in place and copies what it must keep.
//   - close() drops the stream at once and reports nothing more for it; the completions still
//     in flight carry the old target id, which the shell retires, so they are dropped.
//   - The events run on the shard's thread, from the reactor's completion dispatch; a handler
//     may close the transport (the transport then stops touching the stream at once).
//
// The completions of a transport's operations come back to the shell that registered `target`
// with the reactor, and it forwards them here: a transport has no I/O loop of its own.
//
// Owner: the connection's I/O shell, on one shard's thread.

#include <liburing.h>

#include <cstdint>
#include <string_view>
#include <system_error>

#include "io/user_data.hpp"
#include "uredis/io/socket.hpp"

namespace uredis::io {

/// What a transport reports to its owner.
class transport_events {
 public:
  virtual void on_transport_connected() = 0;
  virtual void on_transport_data(std::string_view bytes) = 0;
  virtual void on_transport_sent() = 0;
  virtual void on_transport_failed(std::error_code ec) = 0;

 protected:
  ~transport_events() = default;
};

class transport {
 public:
  virtual ~transport() = default;

  /// Opens the stream to `address`; every SQE carries `target` (a reactor slot id) in its
  /// user_data. Precondition: closed.
  virtual std::error_code open(const socket_address& address, std::uint64_t target) = 0;
  /// Sends all of `bytes` (see the contract). Precondition: open, no send in flight.
  virtual std::error_code send(std::string_view bytes) = 0;
  /// Drops the stream, if open. Reports nothing.
  virtual void close() noexcept = 0;
  /// A completion of one of this transport's operations.
  virtual void on_completion(op o, const io_uring_cqe& cqe) = 0;

  virtual bool is_open() const noexcept = 0;
  /// A send() not yet reported by on_transport_sent().
  virtual bool sending() const noexcept = 0;
  /// The stream's TLS handshake resumed an earlier session (false without TLS).
  virtual bool tls_resumed() const noexcept { return false; }
};

}  // namespace uredis::io
