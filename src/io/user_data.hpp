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

#include "uredis/io/op.hpp"
#include "uredis/util/slot_table.hpp"

namespace uredis::io {

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

}  // namespace uredis::io
