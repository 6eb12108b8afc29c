// The discovery round's decisions (which Sentinel next, who goes to the front, what a round
// that found nothing means) and the reading of get-master-addr-by-name's answer, with no I/O.

#include "uredis/sentinel/discovery.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "uredis/error.hpp"

namespace uredis::sentinel {
namespace {

std::vector<endpoint> three() {
  return {{"s0", 26379}, {"s1", 26379}, {"s2", 26380}};
}

TEST(Discovery, asks_in_order_and_moves_the_one_that_answered_to_the_front) {
  discovery d{three()};
  d.start();
  ASSERT_TRUE(d.running());
  EXPECT_EQ(d.current(), 0u);
  d.on_failed(make_error_code(errc::connection_refused));
  EXPECT_EQ(d.current(), 1u);
  d.on_failed(make_error_code(errc::timeout));
  EXPECT_EQ(d.current(), 2u);
  d.on_primary({"10.0.0.9", 6380});
  EXPECT_FALSE(d.running());
  ASSERT_NE(d.primary(), nullptr);
  EXPECT_EQ(*d.primary(), (endpoint{"10.0.0.9", 6380}));
  EXPECT_FALSE(d.error());
  EXPECT_EQ(d.order(), (std::vector<std::size_t>{2, 0, 1}));

  // The next round starts with it; a later one that answers takes its place.
  d.start();
  EXPECT_EQ(d.current(), 2u);
  EXPECT_EQ(d.primary(), nullptr);
  d.on_failed(make_error_code(errc::connection_reset));
  EXPECT_EQ(d.current(), 0u);
  d.on_primary({"10.0.0.9", 6380});
  EXPECT_EQ(d.order(), (std::vector<std::size_t>{0, 2, 1}));
}

TEST(Discovery, the_first_answer_ends_the_round) {
  discovery d{three()};
  d.start();
  d.on_primary({"p", 1});
  EXPECT_FALSE(d.running());
  EXPECT_EQ(d.order(), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Discovery, nobody_answering_is_unreachable) {
  discovery d{three()};
  d.start();
  for (int i = 0; i < 3; ++i)
    d.on_failed(make_error_code(errc::connection_refused));
  EXPECT_FALSE(d.running());
  EXPECT_EQ(d.primary(), nullptr);
  EXPECT_EQ(d.error(), errc::sentinel_unreachable);
  EXPECT_EQ(d.order(), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Discovery, an_unknown_service_wins_over_unreachable_sentinels) {
  discovery d{three()};
  d.start();
  d.on_failed(make_error_code(errc::connection_refused));
  d.on_unknown();
  d.on_failed(make_error_code(errc::timeout));
  EXPECT_EQ(d.error(), errc::sentinel_service_unknown);
}

TEST(Discovery, only_malformed_answers_is_reply_invalid) {
  discovery d{three()};
  d.start();
  d.on_failed(make_error_code(errc::sentinel_reply_invalid));
  d.on_failed(make_error_code(errc::connection_refused));
  d.on_failed(make_error_code(errc::sentinel_reply_invalid));
  EXPECT_EQ(d.error(), errc::sentinel_reply_invalid);
}

TEST(Discovery, a_refusal_not_worth_retrying_wins_over_unreachable_sentinels) {
  discovery d{three()};
  d.start();
  d.on_failed(make_error_code(errc::connection_refused));
  d.on_failed(make_error_code(errc::tls_certificate_untrusted));
  d.on_failed(make_error_code(errc::timeout));
  EXPECT_EQ(d.error(), errc::tls_certificate_untrusted);
  // An answer, even a malformed one, says more about the service than a refused handshake.
  d.start();
  d.on_failed(make_error_code(errc::tls_certificate_untrusted));
  d.on_failed(make_error_code(errc::sentinel_reply_invalid));
  d.on_failed(make_error_code(errc::timeout));
  EXPECT_EQ(d.error(), errc::sentinel_reply_invalid);
  // And a new round forgets it.
  d.start();
  for (int i = 0; i < 3; ++i)
    d.on_failed(make_error_code(errc::timeout));
  EXPECT_EQ(d.error(), errc::sentinel_unreachable);
}

TEST(Discovery, a_new_round_forgets_the_last_ones_verdicts) {
  discovery d{three()};
  d.start();
  d.on_unknown();
  d.on_unknown();
  d.on_unknown();
  EXPECT_EQ(d.error(), errc::sentinel_service_unknown);
  d.start();
  for (int i = 0; i < 3; ++i)
    d.on_failed(make_error_code(errc::timeout));
  EXPECT_EQ(d.error(), errc::sentinel_unreachable);
}

TEST(DiscoveryAnswer, reads_host_and_port) {
  const result<endpoint> e = parse_primary_address({"127.0.0.1", "6380"});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, (endpoint{"127.0.0.1", 6380}));
  EXPECT_EQ(*parse_primary_address({"redis-0.example", "65535"}),
            (endpoint{"redis-0.example", 65535}));
}

TEST(DiscoveryAnswer, refuses_anything_else) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"127.0.0.1"},
      {"127.0.0.1", "6380", "extra"},
      {"", "6380"},
      {"h", ""},
      {"h", "0"},
      {"h", "65536"},
      {"h", "-1"},
      {"h", "+80"},
      {"h", "80 "},
      {"h", "123456"},
      {"h", "6379x"},
  };
  for (const auto& answer : bad) {
    const result<endpoint> e = parse_primary_address(answer);
    ASSERT_FALSE(e.has_value()) << testing::PrintToString(answer);
    EXPECT_EQ(e.error(), errc::sentinel_reply_invalid);
  }
}

}  // namespace
}  // namespace uredis::sentinel
