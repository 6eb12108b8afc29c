#pragma once
// op: which operation a completion belongs to. Every SQE the library submits carries one in
// its user_data (the layout is internal: src/io/user_data.hpp), and the reactor hands it to the
// io_target that owns the operation, so a target with several operations in flight (a
// multishot recv, a send, a close) tells their completions apart.

#include <cstdint>
#include <string_view>

namespace uredis::io {

/// What an SQE asked the kernel to do; the tag in bits 56-63 of its user_data.
enum class op : std::uint8_t {
  none = 0,        // never issued: user_data 0 is "untagged"
  connect = 1,     // IORING_OP_CONNECT
  send,            // IORING_OP_SEND: a connection's queued bytes for this loop turn
  recv,            // one-shot IORING_OP_RECV into the connection's own buffer (fallback)
  recv_multishot,  // IORING_OP_RECV with IORING_RECV_MULTISHOT from a provided-buffer ring
  close,           // IORING_OP_CLOSE
  timeout,         // a standalone IORING_OP_TIMEOUT (timer wheel tick, deadline)
  link_timeout,    // IORING_OP_LINK_TIMEOUT bounding the SQE before it (connect timeout)
  wake,            // the CQE a MSG_RING posts on the *target* ring (cross-shard wake-up)
  msg_ring,        // the sender's own completion of its IORING_OP_MSG_RING
  cancel,          // IORING_OP_ASYNC_CANCEL
  nop,             // IORING_OP_NOP (tests, forcing a completion)
  probe,           // operations the ring makes on itself while probing features
  poll,            // IORING_OP_POLL_ADD: an fd became readable (the resolver's eventfd)
};

/// The operation's name, for diagnostics ("recv_multishot"); "unknown" for an unlisted tag.
constexpr std::string_view to_string(op o) noexcept {
  switch (o) {
    case op::none:
      return "none";
    case op::connect:
      return "connect";
    case op::send:
      return "send";
    case op::recv:
      return "recv";
    case op::recv_multishot:
      return "recv_multishot";
    case op::close:
      return "close";
    case op::timeout:
      return "timeout";
    case op::link_timeout:
      return "link_timeout";
    case op::wake:
      return "wake";
    case op::msg_ring:
      return "msg_ring";
    case op::cancel:
      return "cancel";
    case op::nop:
      return "nop";
    case op::probe:
      return "probe";
    case op::poll:
      return "poll";
  }
  return "unknown";
}

}  // namespace uredis::io
