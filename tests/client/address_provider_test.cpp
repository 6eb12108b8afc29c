// A connection with an address provider (client/address_provider.hpp), against real servers:
// asked on every connect, ROLE checked against the role it promises, moved by notify() and by
// a -READONLY reply from a demoted primary. (The Sentinel locator, the provider behind
// redis+sentinel://, has its own tests in tests/sentinel/.)

#include "uredis/client/address_provider.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_server.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/event/dispatcher.hpp"

namespace uredis {
namespace {

using namespace std::chrono_literals;

// Answers `at` at once, and counts the questions.
class fixed_provider final : public address_provider {
 public:
  explicit fixed_provider(server_role role) : role_(role) {}
  void locate(address_request& request) override {
    ++asked;
    request.answer(at);
  }
  void watch(address_listener& listener) override { listeners.push_back(&listener); }
  server_role role() const noexcept override { return role_; }

  endpoint at;
  int asked = 0;
  std::vector<address_listener*> listeners;

 private:
  server_role role_;
};

endpoint endpoint_of(const test::redis_server& s) {
  return {s.host(), s.port()};
}

connection_config config_with(std::shared_ptr<address_provider> p) {
  connection_config c;
  c.host = "192.0.2.1";  // never used: the provider answers
  c.address = std::move(p);
  c.retry = retry::retry_policy(retry::backoff::constant(std::chrono::milliseconds(10)), 20);
  return c;
}

bool connect(reactor::reactor& r, connection& c) {
  const std::optional<result<void>> done = test::connect_within(r, c);
  return done && done->has_value();
}

result<cmd::applied> set(reactor::reactor& r, connection& c, std::string_view key) {
  std::optional<result<cmd::applied>> out;
  c.exec(cmd::set{key, "1"}, [&out](result<cmd::applied> v) { out = std::move(v); });
  EXPECT_TRUE(test::run_until(
      r, [&out] { return out.has_value(); }, 10s));
  return out ? std::move(*out) : result<cmd::applied>(make_error_code(errc::timeout));
}

TEST(AddressProvider, is_asked_on_every_connect) {
  test::redis_server server;
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  auto provider = std::make_shared<fixed_provider>(server_role::any);
  provider->at = endpoint_of(server);
  connection c{*r, config_with(provider)};
  ASSERT_TRUE(connect(*r, c));
  EXPECT_EQ(provider->asked, 1);
  EXPECT_EQ(provider->listeners.size(), 1u);
  server.command({"CLIENT", "KILL", "TYPE", "normal"});
  ASSERT_TRUE(test::run_until(
      *r, [&c] { return c.reconnects() == 1; }, 5s));
  EXPECT_EQ(provider->asked, 2);
  ASSERT_TRUE(set(*r, c, "k").has_value());
}

TEST(AddressProvider, a_replica_where_a_primary_was_promised_is_retried_elsewhere) {
  test::redis_server primary;
  test::redis_server replica{
      {.args = {"--replicaof", "127.0.0.1", std::to_string(primary.port())}}};
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  auto provider = std::make_shared<fixed_provider>(server_role::primary);
  provider->at = endpoint_of(replica);
  std::vector<std::error_code> causes;
  event::listener<event::reconnect_scheduled> retried(
      r->events(), [&](const event::reconnect_scheduled& e) {
        causes.push_back(e.cause);
        provider->at = endpoint_of(primary);  // the next answer is the right one
      });
  connection c{*r, config_with(provider)};
  ASSERT_TRUE(connect(*r, c));
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0], errc::role_mismatch);
  EXPECT_EQ(provider->asked, 2);
}

TEST(AddressProvider, notify_moves_a_connection_that_is_elsewhere) {
  test::redis_server a;
  test::redis_server b;
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  auto provider = std::make_shared<fixed_provider>(server_role::primary);
  provider->at = endpoint_of(a);
  connection c{*r, config_with(provider)};
  ASSERT_TRUE(connect(*r, c));
  ASSERT_EQ(provider->listeners.size(), 1u);

  provider->listeners[0]->notify(endpoint_of(a));  // already there: nothing happens
  ASSERT_TRUE(set(*r, c, "on-a").has_value());
  EXPECT_EQ(c.reconnects(), 0u);

  std::vector<std::error_code> lost;
  event::listener<event::disconnected> down(
      r->events(), [&](const event::disconnected& e) { lost.push_back(e.reason); });
  provider->at = endpoint_of(b);
  provider->listeners[0]->notify(endpoint_of(b));
  ASSERT_TRUE(set(*r, c, "on-b").has_value());
  EXPECT_EQ(c.reconnects(), 1u);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0], errc::primary_switched);
  EXPECT_EQ(b.command({"EXISTS", "on-b"}), ":1\r\n");
  EXPECT_EQ(a.command({"EXISTS", "on-b"}), ":0\r\n");
}

// A connection that promised a primary, connected to `a`; then `a` becomes a replica of `b`,
// keeping its clients (a failover nobody announced), and the provider names `b` from then on.
class AddressProviderDemotion : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(r);
    provider->at = endpoint_of(a);
    c.emplace(*r, config_with(provider));
    ASSERT_TRUE(connect(*r, *c));
    a.command({"REPLICAOF", "127.0.0.1", std::to_string(b.port())});
    provider->at = endpoint_of(b);
  }

  // The reply that showed the demotion also moved the connection: the next write lands on `b`.
  void expect_moved_to_b() {
    ASSERT_TRUE(set(*r, *c, "k").has_value());
    EXPECT_EQ(c->reconnects(), 1u);
    EXPECT_EQ(provider->asked, 2);
    EXPECT_EQ(b.command({"EXISTS", "k"}), ":1\r\n");
  }

  test::redis_server a;
  test::redis_server b;
  std::unique_ptr<reactor::reactor> r = test::make_reactor();
  std::shared_ptr<fixed_provider> provider = std::make_shared<fixed_provider>(server_role::primary);
  std::optional<connection> c;
};

TEST_F(AddressProviderDemotion, a_readonly_reply_moves_the_connection) {
  const result<cmd::applied> refused = set(*r, *c, "k");
  ASSERT_TRUE(refused.has_server_error());
  EXPECT_EQ(refused.server_error().kind, server_error_kind::readonly);
  expect_moved_to_b();
}

// A client that writes only in transactions sees the demotion as MULTI's +OK, then the queued
// SET's -READONLY, then EXECABORT: the -READONLY among the batch's replies moves it as well.
TEST_F(AddressProviderDemotion, a_readonly_reply_inside_a_transaction_moves_the_connection) {
  using tx = transaction<cmd::set>;
  std::optional<result<tx::results>> refused;
  c->exec(tx{cmd::set{"k", "1"}}, [&refused](result<tx::results> v) { refused = std::move(v); });
  ASSERT_TRUE(test::run_until(
      *r, [&refused] { return refused.has_value(); }, 10s));
  ASSERT_TRUE(refused->has_server_error());
  EXPECT_EQ(refused->server_error().kind, server_error_kind::execabort);
  expect_moved_to_b();
}

TEST(AddressProvider, a_provider_that_fails_fails_the_attempt_with_its_reason) {
  struct failing final : address_provider {
    void locate(address_request& request) override {
      request.fail(make_error_code(errc::sentinel_service_unknown));
    }
  };
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection c{*r, config_with(std::make_shared<failing>())};
  std::optional<result<void>> done;
  c.connect([&done](const result<void>& outcome) { done = outcome; });
  ASSERT_TRUE(test::run_until(
      *r, [&done] { return done.has_value(); }, 5s));
  ASSERT_TRUE(done->has_error());
  EXPECT_EQ(done->error(), errc::sentinel_service_unknown);
}

}  // namespace
}  // namespace uredis
