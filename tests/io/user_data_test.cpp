// user_data: the bit layout, the op tags, and stale-id detection through slot_table.

#include "io/user_data.hpp"

#include <gtest/gtest.h>
#include <liburing.h>

#include <cstdint>
#include <set>
#include <string_view>

#include "uredis/util/slot_table.hpp"

namespace uredis::io {
namespace {

constexpr op all_ops[] = {op::connect, op::send,         op::recv, op::recv_multishot, op::close,
                          op::timeout, op::link_timeout, op::wake, op::msg_ring,       op::cancel,
                          op::nop,     op::probe,        op::poll};

TEST(UserData, layout_is_slot_id_below_op_tag) {
  constexpr std::uint64_t id = util::encode_slot_id(7, 99);
  constexpr std::uint64_t ud = encode_user_data(id, op::send);
  static_assert(ud == 0x0200'0063'0000'0007ull);
  static_assert(decode_op(ud) == op::send);
  static_assert(decode_slot_id(ud) == id);
  static_assert(util::decode_slot_index(ud) == 7);
  static_assert(util::decode_slot_generation(ud) == 99);
  // A tag already in the id is replaced, not merged.
  static_assert(encode_user_data(util::with_tag(id, 0xAA), op::recv) ==
                encode_user_data(id, op::recv));
  // The largest id keeps every bit below the tag.
  constexpr std::uint64_t max_id = util::encode_slot_id(0xFFFF'FFFFu, 0xFF'FFFFu);
  static_assert(decode_slot_id(encode_user_data(max_id, op::probe)) == max_id);
  static_assert(decode_op(encode_user_data(max_id, op::probe)) == op::probe);
  SUCCEED();
}

TEST(UserData, ops_are_distinct_nonzero_and_never_the_reserved_tag) {
  std::set<std::uint8_t> tags;
  std::set<std::string_view> names;
  for (op o : all_ops) {
    const auto tag = static_cast<std::uint8_t>(o);
    EXPECT_NE(tag, 0) << to_string(o);
    EXPECT_NE(tag, reserved_op_tag) << to_string(o);
    EXPECT_TRUE(tags.insert(tag).second) << to_string(o);
    EXPECT_TRUE(names.insert(to_string(o)).second) << to_string(o);
    EXPECT_NE(to_string(o), "unknown");
  }
  EXPECT_EQ(to_string(op::none), "none");
  EXPECT_EQ(to_string(static_cast<op>(200)), "unknown");
  EXPECT_EQ(decode_op(0), op::none);
}

TEST(UserData, never_equals_liburings_internal_timeout) {
  // Even the all-ones id: the tag byte is never 0xFF.
  for (op o : all_ops)
    EXPECT_NE(encode_user_data(~0ull, o), LIBURING_UDATA_TIMEOUT) << to_string(o);
}

TEST(UserData, late_completion_with_a_reused_slot_is_detected) {
  util::slot_table<int> table;
  const std::uint64_t first = table.insert(1);
  const std::uint64_t in_flight = encode_user_data(first, op::recv);  // the SQE's user_data
  ASSERT_TRUE(table.erase(first));                                    // the owner went away
  const std::uint64_t second = table.insert(2);                       // the slot is reused
  ASSERT_EQ(util::decode_slot_index(second), util::decode_slot_index(first));

  // The CQE comes back late: its id names the old generation, so it finds nothing.
  EXPECT_EQ(table.find(decode_slot_id(in_flight)), nullptr);
  EXPECT_EQ(decode_op(in_flight), op::recv);
  // The new owner's operations are found.
  const int* live = table.find(decode_slot_id(encode_user_data(second, op::recv)));
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(*live, 2);
}

}  // namespace
}  // namespace uredis::io
