#pragma once
// tcp_transport: a transport (transport.hpp) over a plain stream socket, TCP or Unix, driven by
// io_uring: a connect, one send at a time straight from the caller's bytes, and a multishot
// recv from the shard's provided-buffer ring whose buffers are passed up in place and recycled
// as soon as the receiver returns (a one-shot recv into the transport's own buffer on kernels
// without provided-buffer rings).
//
//   open()  ──► socket(), IORING_OP_CONNECT ──► on_transport_connected, recv armed
//   send()  ──► IORING_OP_SEND (MSG_WAITALL) ──► on_transport_sent (a short send is continued)
//   recv    ──► on_transport_data(bytes in a provided buffer) ──► buffer recycled
//   EOF, errors ──► on_transport_failed (connection_closed, connection_reset, ...)
//
// Closing shuts the socket down and closes it at once; what the kernel still completes for it
// carries the old target id, which the owner has retired, so it is dropped (its buffers go back
// to the ring through the reactor).
//
// Owner: the connection's I/O shell. The ring and the buffer ring are the shard's and outlive it.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "io/buffer_ring.hpp"
#include "io/transport.hpp"
#include "uredis/io/ring.hpp"
#include "uredis/io/socket.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::io {

class tcp_transport final : public transport {
 public:
  struct options {
    /// TCP_NODELAY on TCP sockets (connection_config::tcp_nodelay).
    bool tcp_nodelay = true;
    /// Read size for the one-shot recv fallback (kernels without provided-buffer rings).
    std::size_t fallback_read_size = 16 * 1024;
  };

  /// `buffers` null: one-shot recv into the transport's own buffer.
  tcp_transport(ring& r, buffer_ring* buffers, transport_events& events, const options& o);
  ~tcp_transport() override { close(); }
  tcp_transport(const tcp_transport&) = delete;
  tcp_transport& operator=(const tcp_transport&) = delete;

  std::error_code open(const socket_address& address, std::uint64_t target) override;
  std::error_code send(std::string_view bytes) override;
  void close() noexcept override;
  void on_completion(op o, const io_uring_cqe& cqe) override;

  bool is_open() const noexcept override { return fd_ >= 0; }
  bool sending() const noexcept override { return sending_; }
  /// The socket (-1 when closed), for socket options and tests; the transport owns it.
  int native_handle() const noexcept { return fd_; }

 private:
  std::error_code arm_receive();
  std::error_code send_rest();
  void on_connect(int res);
  void on_sent(int res);
  void on_received(const io_uring_cqe& cqe);

  ring* ring_;
  buffer_ring* buffers_;
  transport_events* events_;
  options options_;
  int fd_ = -1;
  // Counts closes: a report handler that closes and opens again gets the same fd number back,
  // so only this tells the old socket's completion that the socket is not its own any more.
  std::uint64_t generation_ = 0;
  std::uint64_t target_ = 0;
  socket_address address_;    // read by the kernel when the connect SQE is submitted
  std::string_view pending_;  // what is left to send of the current send()
  bool sending_ = false;
  util::byte_buffer in_;  // the one-shot recv's buffer (fallback only)
};

}  // namespace uredis::io
