// Reading SENTINEL replicas' answer from the bytes a Sentinel sends (RESP2 and RESP3, and
// hostile ones: a clear sentinel_reply_invalid, never a crash) and the round robin over the
// usable replicas, with no I/O.

#include "uredis/sentinel/replicas.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../support/parse_reply.hpp"
#include "uredis/error.hpp"

namespace uredis::sentinel {
namespace {

// One replica's fields as a RESP2 flat array, with a few of the fields Sentinel sends besides.
std::string resp2_replica(std::string_view ip, std::string_view port, std::string_view flags) {
  auto bulk = [](std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
  };
  return "*10\r\n" + bulk("name") + bulk(std::string(ip) + ":" + std::string(port)) + bulk("ip") +
         bulk(ip) + bulk("port") + bulk(port) + bulk("runid") + bulk("abc") + bulk("flags") +
         bulk(flags);
}

result<std::vector<replica>> parse(std::string_view bytes) {
  return parse_replicas(test::parse_reply(bytes));
}

bool invalid(const result<std::vector<replica>>& r) {
  return r.has_error() && r.error() == errc::sentinel_reply_invalid;
}

TEST(Replicas, reads_a_resp2_answer_sorted_by_address_with_the_down_ones_marked) {
  const auto r = parse("*3\r\n" + resp2_replica("10.0.0.2", "6379", "slave") +
                       resp2_replica("10.0.0.1", "6380", "slave,s_down,disconnected") +
                       resp2_replica("10.0.0.1", "6379", "slave"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (std::vector<replica>{{{"10.0.0.1", 6379}, true},
                                      {{"10.0.0.1", 6380}, false},
                                      {{"10.0.0.2", 6379}, true}}));
}

TEST(Replicas, reads_a_resp3_answer_of_maps) {
  const auto r = parse(
      "*1\r\n%4\r\n$4\r\nname\r\n$14\r\n127.0.0.1:6381\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n"
      "$4\r\nport\r\n$4\r\n6381\r\n$5\r\nflags\r\n$5\r\nslave\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (std::vector<replica>{{{"127.0.0.1", 6381}, true}}));
}

TEST(Replicas, each_down_flag_makes_a_replica_unusable_and_only_a_whole_flag_counts) {
  for (const std::string_view flags : {"slave,s_down", "o_down,slave", "slave,disconnected"}) {
    const auto r = parse("*1\r\n" + resp2_replica("h", "1", flags));
    ASSERT_TRUE(r.has_value()) << flags;
    EXPECT_FALSE((*r)[0].usable) << flags;
  }
  const auto r = parse("*1\r\n" + resp2_replica("h", "1", "slave,promoted,s_downish"));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE((*r)[0].usable);
}

TEST(Replicas, no_replica_is_an_empty_list) {
  const auto r = parse("*0\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->empty());
}

TEST(Replicas, hostile_answers_are_invalid_replies) {
  const std::string good = resp2_replica("h", "6379", "slave");
  const std::vector<std::string> hostile = {
      "$5\r\nhello\r\n",                                    // not an array
      ":3\r\n",                                             // an integer
      "_\r\n",                                              // null
      "%1\r\n$2\r\nip\r\n$1\r\nh\r\n",                      // a map at the top
      "*1\r\n$5\r\nslave\r\n",                              // an element that is a string
      "*1\r\n*3\r\n$2\r\nip\r\n$1\r\nh\r\n$4\r\nport\r\n",  // an odd field count
      "*1\r\n*4\r\n$2\r\nip\r\n$1\r\nh\r\n$5\r\nflags\r\n$5\r\nslave\r\n",    // no port
      "*1\r\n*4\r\n$4\r\nport\r\n$1\r\n1\r\n$5\r\nflags\r\n$5\r\nslave\r\n",  // no ip
      "*1\r\n*4\r\n$2\r\nip\r\n$1\r\nh\r\n$4\r\nport\r\n$1\r\n1\r\n",         // no flags
      "*1\r\n" + resp2_replica("", "6379", "slave"),                          // an empty ip
      "*1\r\n" + resp2_replica("h", "0", "slave"),                            // port 0
      "*1\r\n" + resp2_replica("h", "65536", "slave"),                        // port too large
      "*1\r\n" + resp2_replica("h", "-1", "slave"),                           // a sign
      "*1\r\n" + resp2_replica("h", "63a", "slave"),                          // not digits
      "*1\r\n" + resp2_replica("h", "", "slave"),                             // empty
      "*1\r\n" + resp2_replica("h", "00000006379", "slave"),                  // too long
      // A field value that is not a string: an integer port, a nested array, a null ip.
      "*1\r\n*4\r\n$2\r\nip\r\n$1\r\nh\r\n$4\r\nport\r\n:6379\r\n",
      "*1\r\n*6\r\n$2\r\nip\r\n*1\r\n$1\r\nh\r\n$4\r\nport\r\n$1\r\n1\r\n$5\r\nflags\r\n$"
      "1\r\ns\r\n",
      "*1\r\n*6\r\n$2\r\nip\r\n$-1\r\n$4\r\nport\r\n$1\r\n1\r\n$5\r\nflags\r\n$1\r\ns\r\n",
      // One bad replica among good ones spoils the answer: it cannot be trusted.
      "*2\r\n" + good + "*1\r\n$2\r\nip\r\n",
  };
  for (const std::string& bytes : hostile) {
    const auto r = parse(bytes);
    EXPECT_TRUE(invalid(r)) << bytes;
  }
}

std::vector<replica> usable(std::initializer_list<std::uint16_t> ports) {
  std::vector<replica> out;
  for (const std::uint16_t p : ports)
    out.push_back({{"h", p}, true});
  return out;
}

TEST(ReplicasRotation, starts_at_the_given_turn_and_goes_round) {
  const std::vector<replica> two = usable({1, 2});
  replica_rotation r{1};
  std::vector<std::uint16_t> picked;
  for (int i = 0; i < 4; ++i)
    picked.push_back(r.next(two)->port);
  EXPECT_EQ(picked, (std::vector<std::uint16_t>{2, 1, 2, 1}));
}

TEST(ReplicasRotation, skips_unusable_replicas_and_has_nothing_when_none_is_usable) {
  std::vector<replica> three = usable({1, 2, 3});
  three[1].usable = false;
  replica_rotation r{0};
  EXPECT_EQ(r.next(three)->port, 1);
  EXPECT_EQ(r.next(three)->port, 3);
  EXPECT_EQ(r.next(three)->port, 1);
  for (replica& x : three)
    x.usable = false;
  EXPECT_EQ(r.next(three), nullptr);
  EXPECT_EQ(r.next({}), nullptr);
}

TEST(ReplicasRotation, a_random_start_visits_every_replica_in_as_many_turns) {
  const std::vector<replica> three = usable({1, 2, 3});
  for (std::uint64_t start : {0ull, 7ull, 0xffffffffffffffffull}) {
    replica_rotation r{start};
    std::set<std::uint16_t> seen;
    for (int i = 0; i < 3; ++i)
      seen.insert(r.next(three)->port);
    EXPECT_EQ(seen.size(), 3u) << start;
  }
}

}  // namespace
}  // namespace uredis::sentinel
