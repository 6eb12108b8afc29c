// held_slots: per-slot holds with a manual clock and plain numbered commands. Each test plays a
// cluster that goes out of service and comes back, and checks what would go out, and in what
// order: commands that came back from a node before those issued since, one probe at a time,
// the rest after the probe's answer, and everything failed alike when the probe gives up.

#include "uredis/cluster/held_slots.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace uredis::cluster {
namespace {

using namespace std::chrono_literals;

using time_point = std::chrono::steady_clock::time_point;

struct numbered {
  std::uint16_t slot = 0;
  int id = 0;  // issue order
  time_point deadline = time_point::max();
};

using holds = held_slots<numbered>;

const time_point t0 = time_point{} + 1000s;

// What send_due() and end_probe() hand out: ids, the probes as negative numbers.
struct wire {
  std::vector<int> sent;
  std::vector<int> failed;

  auto send() {
    return [this](numbered&& c, bool probe) { sent.push_back(probe ? -c.id : c.id); };
  }
  auto fail() {
    return [this](numbered&& c) { failed.push_back(c.id); };
  }
};

TEST(HeldSlots, nothing_is_held_until_a_command_waits) {
  holds h;
  EXPECT_TRUE(h.empty());
  EXPECT_FALSE(h.holds(7));
  EXPECT_FALSE(h.next_due().has_value());
  h.add_returned({7, 1}, t0 + 10ms, false);
  EXPECT_TRUE(h.holds(7));
  EXPECT_FALSE(h.holds(8));
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(h.next_due(), t0 + 10ms);
}

TEST(HeldSlots, commands_that_came_back_go_before_those_issued_since_in_their_order) {
  holds h;
  wire w;
  // 1..3 were on the wire when the slot went down: they come back in the order written.
  // 10 and 11 are issued while the slot is held; 4 comes back after them.
  h.add_returned({7, 1}, t0 + 10ms, false);
  h.add_new({7, 10}, t0);
  h.add_returned({7, 2}, t0 + 20ms, false);
  h.add_new({7, 11}, t0);
  h.add_returned({7, 3}, t0 + 5ms, false);
  h.add_returned({7, 4}, t0 + 5ms, false);
  EXPECT_EQ(h.next_due(), t0 + 10ms) << "the hold's backoff is its first command's";

  h.send_due(t0 + 9ms, false, w.send());
  EXPECT_TRUE(w.sent.empty()) << "nothing before the backoff ends";
  h.send_due(t0 + 10ms, false, w.send());
  EXPECT_EQ(w.sent, std::vector<int>{-1}) << "only the first goes, as the probe";
  EXPECT_TRUE(h.holds(7)) << "the slot stays held while its probe is out";
  EXPECT_FALSE(h.next_due().has_value()) << "a probing hold waits for end_probe, not time";

  h.end_probe(7, false, w.send(), w.fail());
  EXPECT_EQ(w.sent, (std::vector<int>{-1, 2, 3, 4, 10, 11}));
  EXPECT_TRUE(w.failed.empty());
  EXPECT_FALSE(h.holds(7));
  EXPECT_TRUE(h.empty());
}

TEST(HeldSlots, a_probe_sent_back_to_wait_is_first_again_with_its_new_backoff) {
  holds h;
  wire w;
  h.add_returned({7, 1}, t0 + 10ms, false);
  h.add_returned({7, 2}, t0 + 10ms, false);
  h.add_new({7, 10}, t0);
  h.send_due(t0 + 10ms, false, w.send());
  ASSERT_EQ(w.sent, std::vector<int>{-1});
  // 3 was written before the probe went out: it comes back ahead of the probe's answer.
  h.add_returned({7, 3}, t0 + 12ms, false);
  // The probe meets CLUSTERDOWN again: first again, its longer backoff is the hold's.
  h.add_returned({7, 1}, t0 + 50ms, true);
  EXPECT_EQ(h.next_due(), t0 + 50ms);
  h.send_due(t0 + 49ms, false, w.send());
  EXPECT_EQ(w.sent.size(), 1u);
  h.send_due(t0 + 50ms, false, w.send());
  EXPECT_EQ(w.sent, (std::vector<int>{-1, -1}));
  h.end_probe(7, false, w.send(), w.fail());
  EXPECT_EQ(w.sent, (std::vector<int>{-1, -1, 2, 3, 10}));
}

TEST(HeldSlots, a_lone_command_is_still_a_probe_so_later_ones_wait_for_it) {
  holds h;
  wire w;
  h.add_returned({7, 1}, t0, false);
  h.send_due(t0, false, w.send());
  EXPECT_EQ(w.sent, std::vector<int>{-1});
  EXPECT_TRUE(h.holds(7)) << "a command issued now must not overtake the probe";
  h.add_new({7, 2}, t0);
  h.end_probe(7, false, w.send(), w.fail());
  EXPECT_EQ(w.sent, (std::vector<int>{-1, 2}));
  EXPECT_FALSE(h.holds(7));
}

TEST(HeldSlots, a_probe_that_gives_up_fails_every_command_behind_it) {
  holds h;
  wire w;
  h.add_returned({7, 1}, t0, false);
  h.add_returned({7, 2}, t0, false);
  h.add_new({7, 10}, t0);
  h.send_due(t0, false, w.send());
  h.end_probe(7, true, w.send(), w.fail());
  EXPECT_EQ(w.sent, std::vector<int>{-1});
  EXPECT_EQ(w.failed, (std::vector<int>{2, 10}));
  EXPECT_TRUE(h.empty());
}

TEST(HeldSlots, end_probe_leaves_a_slot_alone_when_no_probe_is_out) {
  holds h;
  wire w;
  // A command released earlier answers late: its slot is held again, waiting, not probing.
  h.add_returned({7, 5}, t0 + 10ms, false);
  h.end_probe(7, false, w.send(), w.fail());
  h.end_probe(8, true, w.send(), w.fail());
  EXPECT_TRUE(w.sent.empty());
  EXPECT_TRUE(w.failed.empty());
  EXPECT_TRUE(h.holds(7));
  EXPECT_EQ(h.size(), 1u);
}

TEST(HeldSlots, commands_that_never_reached_a_node_go_all_at_once_in_order) {
  holds h;
  wire w;
  // No topology yet: nothing came back from a node, so there is no outage to probe.
  for (int i = 1; i <= 4; ++i)
    h.add_new({7, i}, t0);
  h.send_due(t0, false, w.send());
  EXPECT_EQ(w.sent, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_FALSE(h.holds(7));
}

TEST(HeldSlots, keyless_commands_wait_but_are_never_ordered_or_held_back) {
  holds h;
  wire w;
  h.add_returned({holds::keyless, 1}, t0 + 10ms, false);
  h.add_returned({holds::keyless, 2}, t0 + 10ms, false);
  EXPECT_FALSE(h.holds(holds::keyless)) << "a keyless command issued now goes at once";
  h.send_due(t0 + 10ms, false, w.send());
  EXPECT_EQ(w.sent, (std::vector<int>{1, 2}));
  EXPECT_TRUE(h.empty());
}

TEST(HeldSlots, slots_are_independent_and_a_topology_sends_every_due_probe_at_once) {
  holds h;
  wire w;
  h.add_returned({7, 1}, t0 + 10ms, false);
  h.add_returned({9, 2}, t0 + 30ms, false);
  h.add_new({9, 3}, t0);
  EXPECT_EQ(h.next_due(), t0 + 10ms);
  h.send_due(t0 + 10ms, false, w.send());
  EXPECT_EQ(w.sent, std::vector<int>{-1});
  EXPECT_EQ(h.next_due(), t0 + 30ms) << "slot 9 still waits; slot 7 waits for its probe";
  // A topology arrives at t0 + 11ms: slot 9 need not wait out its backoff.
  h.send_due(t0 + 11ms, true, w.send());
  EXPECT_EQ(w.sent, (std::vector<int>{-1, -2})) << "slot 7's probe is not sent twice";
  h.end_probe(9, false, w.send(), w.fail());
  EXPECT_EQ(w.sent, (std::vector<int>{-1, -2, 3}));
  EXPECT_TRUE(h.holds(7));
  EXPECT_FALSE(h.holds(9));
}

TEST(HeldSlots, a_command_sent_may_come_back_at_once_and_hold_its_slot_again) {
  holds h;
  std::vector<int> sent;
  h.add_returned({7, 1}, t0, false);
  h.add_returned({7, 2}, t0, false);
  h.add_returned({7, 3}, t0, false);
  h.send_due(t0, false, [&](numbered&& c, bool) { sent.push_back(c.id); });
  // The release's first command fails on the spot (say its connection is closed): it holds
  // the slot again, and the two behind it, still being handed out, must queue behind it (the
  // shell checks holds() before sending each).
  h.end_probe(
      7, false,
      [&](numbered&& c, bool) {
        if (c.id == 2 || h.holds(7)) {
          h.add_returned(c, t0 + 10ms, false);
          return;
        }
        sent.push_back(c.id);
      },
      [](numbered&&) {});
  EXPECT_EQ(sent, std::vector<int>{1});
  wire w;
  h.send_due(t0 + 10ms, false, w.send());
  h.end_probe(7, false, w.send(), w.fail());
  EXPECT_EQ(w.sent, (std::vector<int>{-2, 3}));
}

TEST(HeldSlots, every_slot_held_at_once_is_found_and_released) {
  // A whole cluster down: each slot's hold is found by index, whichever ends first.
  holds h;
  for (int slot = 0; slot < 16384; ++slot)
    h.add_returned({static_cast<std::uint16_t>(slot), slot}, t0 + 10ms, false);
  h.add_returned({holds::keyless, -1}, t0 + 10ms, false);
  EXPECT_EQ(h.size(), 16385u);
  for (int slot = 0; slot < 16384; ++slot)
    ASSERT_TRUE(h.holds(static_cast<std::uint16_t>(slot))) << slot;
  int sent = 0;
  h.send_due(t0 + 10ms, false, [&](numbered&&, bool) { ++sent; });
  EXPECT_EQ(sent, 16385);
  for (int slot = 16383; slot >= 0; slot -= 2)  // out of order: holds move as others end
    h.end_probe(
        static_cast<std::uint16_t>(slot), false, [](numbered&&, bool) {}, [](numbered&&) {});
  for (int slot = 0; slot < 16384; ++slot)
    ASSERT_EQ(h.holds(static_cast<std::uint16_t>(slot)), slot % 2 == 0) << slot;
  for (int slot = 0; slot < 16384; slot += 2)
    h.end_probe(
        static_cast<std::uint16_t>(slot), false, [](numbered&&, bool) {}, [](numbered&&) {});
  EXPECT_TRUE(h.empty());
}

TEST(HeldSlots, a_command_past_its_deadline_fails_where_it_waits) {
  holds h;
  wire w;
  h.add_returned({7, 1, t0 + 100ms}, t0 + 10ms, false);
  h.add_new({7, 2, t0 + 5ms}, t0);
  h.add_returned({7, 3}, t0 + 10ms, false);  // no deadline
  EXPECT_EQ(h.next_due(), t0 + 5ms) << "the earliest deadline wakes the shell";
  h.expire(t0 + 4ms, w.fail());
  EXPECT_TRUE(w.failed.empty());
  h.expire(t0 + 5ms, w.fail());
  EXPECT_EQ(w.failed, std::vector<int>{2});
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.next_due(), t0 + 10ms);
  h.send_due(t0 + 10ms, false, w.send());
  h.add_new({7, 4, t0 + 50ms}, t0 + 20ms);
  EXPECT_EQ(h.next_due(), t0 + 50ms);
  h.expire(t0 + 50ms, w.fail());
  EXPECT_EQ(w.failed, (std::vector<int>{2, 4}));
  h.end_probe(7, false, w.send(), w.fail());
  EXPECT_EQ(w.sent, (std::vector<int>{-1, 3}));
}

TEST(HeldSlots, a_hold_whose_every_command_expired_ends_unless_its_probe_is_out) {
  holds h;
  wire w;
  h.add_returned({7, 1, t0 + 5ms}, t0 + 10ms, false);
  h.add_returned({9, 2}, t0, false);
  h.add_new({9, 3, t0 + 5ms}, t0);
  h.send_due(t0, false, w.send());  // slot 9's probe goes
  h.expire(t0 + 5ms, w.fail());
  EXPECT_EQ(w.failed, (std::vector<int>{1, 3}));
  EXPECT_FALSE(h.holds(7)) << "nothing left to hold slot 7";
  EXPECT_TRUE(h.holds(9)) << "slot 9's probe is still out";
  EXPECT_FALSE(h.next_due().has_value());
  h.end_probe(9, false, w.send(), w.fail());
  EXPECT_TRUE(h.empty());
}

TEST(HeldSlots, drain_hands_back_every_command) {
  holds h;
  h.add_returned({7, 1}, t0, false);
  h.add_new({7, 2}, t0);
  h.add_new({holds::keyless, 3}, t0);
  std::vector<int> drained;
  h.drain([&](numbered&& c) { drained.push_back(c.id); });
  std::sort(drained.begin(), drained.end());
  EXPECT_EQ(drained, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(h.empty());
}

}  // namespace
}  // namespace uredis::cluster
