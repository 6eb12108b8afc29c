#pragma once
// user_data: the 64 bits an SQE hands to its CQE, with a written layout.
//
//    63       56 55                   32 31                       0
//   +-----------+-----------------------+--------------------------+
//   |    op     |      generation       |        slot index        |
//   +-----------+-----------------------+--------------------------+
//    operation   \_______ a util::slot_table id (bits 0-55) ______/
//
// Bits 0-55 are the id of the slot_table entry that owns the operation (a connection, a
// timer); slot_table.hpp owns that layout and its helpers, reused here. Bits 56-63 say which
// operation completed, so one slot can have several operations in flight at once (a
// multishot recv, a send, a close) and the completion switch picks the handler from the CQE
// alone. A CQE whose slot id is stale (the slot was freed, maybe reused, while the operation
// was in flight) is found by slot_table::find() returning nullptr, and dropped.
//
// Invariants: every operation tag is nonzero, so a user_data of 0 (an SQE nobody tagged)
// never names an operation; tag 0xFF is never used, because liburing reserves user_data ~0
// (LIBURING_UDATA_TIMEOUT) for its own timeout SQE on kernels without IORING_FEAT_EXT_ARG.

#include <cstdint>
#include <string_view>

#include "uredis/util/slot_table.hpp"

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

/// The tag liburing may use (as part of user_data ~0) on old kernels; no op takes it.
inline constexpr std::uint8_t reserved_op_tag = 0xFF;
static_assert(static_cast<std::uint8_t>(op::poll) < reserved_op_tag);

/// user_data for operation `o` on behalf of the slot_table entry `slot_id` (bits 56-63 of
/// slot_id are ignored).
constexpr std::uint64_t encode_user_data(std::uint64_t slot_id, op o) noexcept {
  return util::with_tag(slot_id, static_cast<std::uint8_t>(o));
}

/// The operation a CQE completes.
constexpr op decode_op(std::uint64_t user_data) noexcept {
  return static_cast<op>(util::decode_tag(user_data));
}

/// The slot_table id a CQE belongs to (the tag cleared), for slot_table::find/take.
constexpr std::uint64_t decode_slot_id(std::uint64_t user_data) noexcept {
  return util::strip_tag(user_data);
}

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
