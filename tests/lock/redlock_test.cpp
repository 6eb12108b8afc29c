// redlock against five real redis-servers (started once for the program): keys on all five
// and gone after release, a quorum with two masters killed, a clean failure with three killed,
// fencing tokens that grow, and mutual exclusion between two redlocks on one name.

#include "uredis/lock/redlock.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_server.hpp"

namespace uredis::lock {
namespace {

using namespace std::chrono_literals;
using test::config_for;
using test::make_reactor;

constexpr std::size_t masters = 5;

std::string what(const result<void>& r) {
  if (r) return "ok";
  return r.has_server_error() ? r.server_error().message : r.error().message();
}

class Redlock : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (auto& s : servers_)
      s = new test::redis_server();
  }
  static void TearDownTestSuite() {
    for (auto& s : servers_) {
      delete s;
      s = nullptr;
    }
  }

  void SetUp() override {
    for (auto* s : servers_) {
      if (!s->running()) s->start();  // a test before this one killed it
      s->command({"FLUSHALL"});
    }
    for (std::size_t i = 0; i < masters; ++i) {
      conns[i] = std::make_unique<connection>(*loop, config_for(*servers_[i]));
      std::optional<result<void>> done;
      conns[i]->connect([&](const result<void>& o) { done = o; });
      loop->run_until([&] { return done.has_value(); });
      ASSERT_TRUE(*done) << what(*done);
    }
  }

  std::vector<std::reference_wrapper<connection>> all() {
    std::vector<std::reference_wrapper<connection>> v;
    for (auto& c : conns)
      v.emplace_back(*c);
    return v;
  }

  result<bool> acquire(redlock& l, std::chrono::milliseconds wait) {
    std::optional<result<bool>> got;
    l.acquire(wait, [&](result<bool> r) { got.emplace(std::move(r)); });
    loop->run_until([&] { return got.has_value(); });
    return std::move(*got);
  }

  result<void> release(redlock& l) {
    std::optional<result<void>> done;
    l.release([&](result<void> r) { done.emplace(std::move(r)); });
    loop->run_until([&] { return done.has_value(); });
    return std::move(*done);
  }

  // How many live masters hold `name` with `token`.
  static std::size_t holding(std::string_view name, std::string_view token) {
    std::size_t n = 0;
    const std::string want =
        "$" + std::to_string(token.size()) + "\r\n" + std::string(token) + "\r\n";
    for (auto* s : servers_)
      if (s->running() && s->command({"GET", name}) == want) ++n;
    return n;
  }
  static std::size_t with_key(std::string_view name) {
    std::size_t n = 0;
    for (auto* s : servers_)
      if (s->running() && s->command({"EXISTS", name}) == ":1\r\n") ++n;
    return n;
  }

  static std::array<test::redis_server*, masters> servers_;
  std::unique_ptr<reactor::reactor> loop = make_reactor();
  std::array<std::unique_ptr<connection>, masters> conns;
};

std::array<test::redis_server*, masters> Redlock::servers_{};

TEST_F(Redlock, acquires_on_all_five_and_releases_on_all) {
  redlock l{all(), "orders", {.ttl = 5000ms}};
  EXPECT_EQ(l.quorum(), 3u);
  const result<bool> got = acquire(l, no_wait);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(l.state(), lock_state::held);
  EXPECT_EQ(holding("orders", l.token()), 5u);
  for (auto* s : servers_)
    EXPECT_GT(std::stol(s->command({"PTTL", "orders"}).substr(1)), 4000);
  EXPECT_EQ(l.fencing_token(), 1u);
  EXPECT_LE(l.valid_until(), std::chrono::steady_clock::now() + 5000ms - 52ms);
  const result<void> r = release(l);
  EXPECT_TRUE(r) << what(r);
  EXPECT_EQ(with_key("orders"), 0u);
  EXPECT_EQ(l.state(), lock_state::released);
}

TEST_F(Redlock, still_acquires_with_two_masters_killed_and_fast) {
  servers_[1]->kill();
  servers_[3]->kill();
  redlock l{all(), "k2", {.ttl = 5000ms}, 50ms};
  const auto start = std::chrono::steady_clock::now();
  const result<bool> got = acquire(l, no_wait);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_TRUE(*got);
  EXPECT_LT(took, 1000ms) << "the per-instance timeout bounds a dead master's cost";
  EXPECT_EQ(holding("k2", l.token()), 3u);
  EXPECT_TRUE(release(l));
  EXPECT_EQ(with_key("k2"), 0u);
}

TEST_F(Redlock, fails_cleanly_with_three_masters_killed) {
  servers_[0]->kill();
  servers_[2]->kill();
  servers_[4]->kill();
  redlock l{all(), "k3", {.ttl = 5000ms}, 50ms};
  const auto start = std::chrono::steady_clock::now();
  const result<bool> got = acquire(l, no_wait);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(got) << "no quorum is reachable: an error, not false";
  EXPECT_LT(took, 1000ms);
  EXPECT_EQ(l.state(), lock_state::idle);
  EXPECT_EQ(with_key("k3"), 0u) << "the two live masters were released";
  // Waiting does not change that: it retries until the wait ends, then the same error.
  const result<bool> again = acquire(l, 300ms);
  ASSERT_FALSE(again);
  EXPECT_EQ(with_key("k3"), 0u);
}

TEST_F(Redlock, fencing_tokens_strictly_increase) {
  std::uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    redlock l{all(), "fenced", {.ttl = 5000ms}};
    ASSERT_TRUE(*acquire(l, no_wait));
    EXPECT_GT(l.fencing_token(), last);
    last = l.fencing_token();
    ASSERT_TRUE(release(l));
  }
  EXPECT_EQ(last, 5u);
}

TEST_F(Redlock, a_second_owner_cannot_acquire_while_the_first_holds) {
  redlock first{all(), "mutex", {.ttl = 5000ms}};
  redlock second{all(), "mutex", {.ttl = 5000ms, .retry_min = 10ms, .retry_max = 30ms}};
  ASSERT_TRUE(*acquire(first, no_wait));
  const result<bool> refused = acquire(second, no_wait);
  ASSERT_TRUE(refused);
  EXPECT_FALSE(*refused);
  EXPECT_EQ(holding("mutex", first.token()), 5u) << "the loser's cleanup left the key alone";
  // Waiting: it gets the lock once the first releases, with a larger fencing token.
  std::optional<result<bool>> got;
  second.acquire(5000ms, [&](result<bool> r) { got.emplace(std::move(r)); });
  test::run_for(*loop, 100ms);
  EXPECT_FALSE(got.has_value());
  ASSERT_TRUE(release(first));
  loop->run_until([&] { return got.has_value(); });
  ASSERT_TRUE(*got && **got);
  EXPECT_GT(second.fencing_token(), first.fencing_token());
  EXPECT_EQ(holding("mutex", second.token()), 5u);
}

TEST_F(Redlock, the_watchdog_keeps_it_and_destroying_the_handle_releases) {
  {
    redlock l{all(), "dog", {.ttl = 1000ms}};
    ASSERT_TRUE(*acquire(l, no_wait));
    test::run_for(*loop, 2500ms);  // more than two ttls
    EXPECT_EQ(l.state(), lock_state::held);
    EXPECT_EQ(holding("dog", l.token()), 5u);
  }
  test::run_for(*loop, 100ms);  // the background release
  EXPECT_EQ(with_key("dog"), 0u);
}

TEST_F(Redlock, the_lock_is_lost_when_a_quorum_of_keys_is_gone) {
  redlock l{all(), "gone", {.ttl = 600ms}};
  std::optional<std::error_code> lost;
  l.on_lost([&](std::error_code why) { lost = why; });
  ASSERT_TRUE(*acquire(l, no_wait));
  for (std::size_t i = 0; i < 3; ++i)
    servers_[i]->command({"DEL", "gone"});
  loop->run_until([&] { return lost.has_value(); });
  EXPECT_EQ(*lost, make_error_code(errc::lock_not_owned));
  EXPECT_EQ(l.state(), lock_state::lost);
}

TEST_F(Redlock, refuses_an_even_number_of_masters) {
  auto four = all();
  four.pop_back();
  redlock l{four, "even"};
  const result<bool> got = acquire(l, no_wait);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), std::make_error_code(std::errc::invalid_argument));
}

}  // namespace
}  // namespace uredis::lock
