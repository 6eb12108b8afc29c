// Authentication against a real redis-server, one reactor: tokens are ACL passwords of user
// `app` (ACL SETUSER app >tokenN), "expired" by removing them (<tokenN). A streaming provider
// re-authenticates live connections (seen on the server: INFO commandstats counts the AUTHs,
// CLIENT LIST shows each connection's last command); a per-connect provider answers later from
// a timer; a token manager refreshes, survives a failing and a stalling source on its old
// token, and once that expires fails new connects with errc::credentials_expired at once; no
// secret shows in an event or an error message.

#include "uredis/auth/token_manager.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/client_setup.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"
#include "uredis/auth/streaming_credentials.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/pubsub/subscriber.hpp"
#include "uredis/reactor/reactor.hpp"

namespace uredis::auth {
namespace {

using namespace std::chrono_literals;
using test::config_for;
using test::make_reactor;

// The server side of the tokens.
struct acl {
  test::redis_server& server;
  void mint(std::string_view token) {
    const std::string pass = ">" + std::string(token);
    ASSERT_EQ(server.command({"ACL", "SETUSER", "app", "on", pass, "~*", "&*", "+@all"}),
              "+OK\r\n");
  }
  void revoke(std::string_view token) {
    const std::string pass = "<" + std::string(token);
    ASSERT_EQ(server.command({"ACL", "SETUSER", "app", pass}), "+OK\r\n");
  }
  // INFO commandstats' count of AUTH calls, and of those that failed.
  std::pair<long, long> auth_calls() {
    const std::string info = server.command({"INFO", "commandstats"});
    auto field = [&](std::string_view name) -> long {
      const std::size_t line = info.find("cmdstat_auth:");
      if (line == std::string::npos) return 0;
      const std::size_t at = info.find(name, line);
      if (at == std::string::npos) return 0;
      return std::stol(info.substr(at + name.size()));
    };
    return {field("calls="), field("failed_calls=")};
  }
  // How many clients of user app have AUTH as their last command (CLIENT LIST's cmd=auth).
  int clients_last_authenticated() {
    const std::string list = server.command({"CLIENT", "LIST"});
    int n = 0;
    for (std::size_t at = list.find("cmd=auth"); at != std::string::npos;
         at = list.find("cmd=auth", at + 1))
      ++n;
    return n;
  }
};

result<void> connect(reactor::reactor& r, connection& c) {
  std::optional<result<void>> outcome;
  c.connect([&](const result<void>& o) { outcome = o; });
  r.run_until([&] { return outcome.has_value(); });
  return *outcome;
}

// Runs a command and waits for its reply.
template <class Command>
result<typename Command::response> run(reactor::reactor& r, connection& c, const Command& cmd) {
  std::optional<result<typename Command::response>> out;
  c.exec(cmd, [&](result<typename Command::response> v) { out = std::move(v); });
  r.run_until([&] { return out.has_value(); });
  return std::move(*out);
}

// Every error message and event a test saw, to look for secrets in.
struct seen_texts {
  std::vector<std::string> texts;
  event::listener<event::reauth_failed> a;
  event::listener<event::token_refresh_failed> b;
  event::listener<event::handshake_failed> c;
  explicit seen_texts(event::dispatcher& d)
      : a(d, [this](const event::reauth_failed& e) { texts.push_back(e.error.message()); }),
        b(d, [this](const event::token_refresh_failed& e) { texts.push_back(e.error.message()); }),
        c(d, [this](const event::handshake_failed& e) { texts.push_back(e.error.message()); }) {}
  void expect_no(std::string_view secret) const {
    for (const std::string& t : texts)
      EXPECT_EQ(t.find(secret), std::string::npos) << t;
  }
};

TEST(TokenManagerStreaming, NewCredentialsReauthenticateEveryLiveConnection) {
  test::redis_server server;
  acl tokens{server};
  tokens.mint("token1");
  auto r = make_reactor();
  auto provider = std::make_shared<streaming_credentials>(credentials{"app", "token1"});
  connection_config config = config_for(server);
  config.credentials = provider;
  std::vector<std::unique_ptr<connection>> conns;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(std::make_unique<connection>(*r, config));
    ASSERT_TRUE(connect(*r, *conns.back()).has_value());
  }
  const auto [calls_before, failed_before] = tokens.auth_calls();

  tokens.mint("token2");
  provider->update({"app", "token2"});
  r->run_until([&] { return r->events().stats().reauthenticated == 3; });
  tokens.revoke("token1");

  const auto [calls, failed] = tokens.auth_calls();
  EXPECT_EQ(calls - calls_before, 3) << "one AUTH per connection, seen by the server";
  EXPECT_EQ(failed - failed_before, 0);
  EXPECT_EQ(tokens.clients_last_authenticated(), 3);
  for (auto& c : conns) {
    const auto who = run(*r, *c, cmd::raw<std::string>{"ACL", "WHOAMI"});
    ASSERT_TRUE(who.has_value());
    EXPECT_EQ(*who, "app");
  }
  // A reconnect uses the newest token (token1 is gone on the server).
  server.command({"CLIENT", "KILL", "USER", "app"});
  ASSERT_TRUE(run(*r, *conns[0], cmd::get{"k"}).has_value()) << "a read is sent again";
  EXPECT_GE(conns[0]->reconnects(), 1u);
}

TEST(TokenManagerStreaming, ARefusedTokenIsReportedAndTheConnectionKeepsWorking) {
  test::redis_server server;
  acl tokens{server};
  tokens.mint("token1");
  auto r = make_reactor();
  seen_texts seen(r->events());
  auto provider = std::make_shared<streaming_credentials>(credentials{"app", "token1"});
  connection_config config = config_for(server);
  config.credentials = provider;
  connection c(*r, config);
  ASSERT_TRUE(connect(*r, c).has_value());

  std::optional<std::error_code> failed;
  event::listener<event::reauth_failed> on_failed(
      r->events(), [&](const event::reauth_failed& e) { failed = e.error; });
  provider->update({"app", "not-a-token"});
  r->run_until([&] { return failed.has_value(); });
  EXPECT_EQ(*failed, make_error_code(errc::credentials_rejected));
  EXPECT_NE(server.command({"ACL", "LOG"}).find("auth"), std::string::npos)
      << "the server saw the failed AUTH";
  ASSERT_TRUE(run(*r, c, cmd::set{"k", "v"}).has_value()) << "still authenticated as before";
  seen.expect_no("not-a-token");
  seen.expect_no("token1");
}

// AUTH queued right behind a transaction lands after its EXEC: were it inside, the server would
// queue it and EXEC would answer one more reply than the transaction has (an error here).
TEST(TokenManagerStreaming, AuthIsNeverSentBetweenMultiAndExec) {
  test::redis_server server;
  acl tokens{server};
  tokens.mint("token1");
  tokens.mint("token2");
  auto r = make_reactor();
  auto provider = std::make_shared<streaming_credentials>(credentials{"app", "token1"});
  connection_config config = config_for(server);
  config.credentials = provider;
  connection c(*r, config);
  ASSERT_TRUE(connect(*r, c).has_value());
  const long auths_before = tokens.auth_calls().first;

  using results = transaction<cmd::incr, cmd::incr>::results;
  std::optional<result<results>> first, second;
  c.exec(transaction{cmd::incr{"n"}, cmd::incr{"n"}},
         [&](result<results> v) { first = std::move(v); });
  provider->update({"app", "token2"});
  c.exec(transaction{cmd::incr{"n"}, cmd::incr{"n"}},
         [&](result<results> v) { second = std::move(v); });
  r->run_until([&] { return first.has_value() && second.has_value(); });
  ASSERT_TRUE(first->has_value());
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ(*std::get<0>(**first), 1);
  EXPECT_EQ(*std::get<1>(**first), 2);
  EXPECT_EQ(*std::get<0>(**second), 3);
  EXPECT_EQ(*std::get<1>(**second), 4);
  EXPECT_EQ(r->events().stats().reauthenticated, 1u);
  EXPECT_EQ(tokens.auth_calls().first - auths_before, 1);
}

// A RESP2 subscriber is not re-authenticated live (the server would refuse AUTH in subscribe
// mode): it keeps its identity, and its next connect uses the newest token.
TEST(TokenManagerStreaming, Resp2SubscriberReauthenticatesOnItsNextConnect) {
  test::redis_server server;
  acl tokens{server};
  tokens.mint("token1");
  auto r = make_reactor();
  auto provider = std::make_shared<streaming_credentials>(credentials{"app", "token1"});
  connection_config config = config_for(server);
  config.credentials = provider;
  config.protocol = resp_version::resp2;
  pubsub::subscriber sub(*r, config);
  std::optional<result<void>> connected, subscribed;
  sub.connect([&](const result<void>& o) { connected = o; });
  std::vector<std::string> got;
  sub.subscribe(
      "ch", [&](const pubsub::message& m) { got.emplace_back(m.payload); },
      [&](const result<void>& o) { subscribed = o; });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return connected && subscribed; }, 5s));
  ASSERT_TRUE(*connected && *subscribed);
  const long auths_before = tokens.auth_calls().first;

  tokens.mint("token2");
  provider->update({"app", "token2"});
  tokens.revoke("token1");
  server.command({"PUBLISH", "ch", "one"});
  ASSERT_TRUE(test::run_until(
      *r, [&] { return got.size() == 1; }, 5s));
  EXPECT_EQ(tokens.auth_calls().first, auths_before) << "no AUTH in subscribe mode";
  EXPECT_EQ(r->events().stats().reauth_failed, 0u);

  // Its next connect authenticates with token2 (token1 is gone) and subscribes again.
  const std::uint64_t restored = r->events().stats().subscriptions_restored;
  server.command({"CLIENT", "KILL", "USER", "app"});
  ASSERT_TRUE(test::run_until(
      *r, [&] { return r->events().stats().subscriptions_restored > restored; }, 5s));
  server.command({"PUBLISH", "ch", "two"});
  ASSERT_TRUE(test::run_until(
      *r, [&] { return got.size() == 2; }, 5s));
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(r->events().stats().handshake_failed, 0u);
}

// The per-connect provider answering later, from a timer on the connection's shard.
class timer_provider final : public credentials_provider {
 public:
  explicit timer_provider(reactor::reactor& r) : r_(r), timer_([this] { answer(); }) {}
  void fetch(credentials_request& request) override {
    ++fetches;
    waiting_ = &request;
    r_.timers().rearm(timer_, r_.timers().now() + 20ms);
  }
  int fetches = 0;

 private:
  void answer() {
    credentials_request* w = std::exchange(waiting_, nullptr);
    if (w != nullptr) w->answer({"app", "token1"});
  }
  reactor::reactor& r_;
  reactor::timer timer_;
  credentials_request* waiting_ = nullptr;
};

TEST(TokenManagerPerConnect, AProviderCanAnswerLaterFromACallback) {
  test::redis_server server;
  acl tokens{server};
  tokens.mint("token1");
  auto r = make_reactor();
  auto provider = std::make_shared<timer_provider>(*r);
  connection_config config = config_for(server);
  config.credentials = provider;
  connection c(*r, config);
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(connect(*r, c).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 20ms) << "it waited for the answer";
  EXPECT_EQ(*run(*r, c, cmd::raw<std::string>{"ACL", "WHOAMI"}), "app");
  server.command({"CLIENT", "KILL", "USER", "app"});
  ASSERT_TRUE(run(*r, c, cmd::get{"k"}).has_value()) << "a read is sent again";
  EXPECT_EQ(provider->fetches, 2) << "asked again on the reconnect";
}

TEST(TokenManager, RefreshesBeforeExpiryAndEveryConnectionFollows) {
  test::redis_server server;
  acl tokens{server};
  auto r = make_reactor();
  int minted = 0;
  token_refresh_options options;
  options.ratio = 0.5;
  token_manager manager(
      *r,
      [&](token_request& req) {
        const std::string t = "token" + std::to_string(++minted);
        tokens.mint(t);
        req.answer({.username = "app", .value = t, .expires_at = r->timers().now() + 400ms});
      },
      options);
  manager.start();
  EXPECT_EQ(manager.tokens(), 1u);
  connection_config config = config_for(server);
  config.credentials = manager.provider(0);
  connection c(*r, config);
  ASSERT_TRUE(connect(*r, c).has_value());
  r->run_until([&] { return manager.tokens() >= 4; });  // every ~200 ms
  r->run_until([&] { return r->events().stats().reauthenticated >= 3; });
  EXPECT_EQ(r->events().stats().reauth_failed, 0u);
  EXPECT_EQ(r->events().stats().token_refresh_failed, 0u);
  EXPECT_TRUE(run(*r, c, cmd::set{"k", "v"}).has_value());
}

TEST(TokenManager, AFailingOrStallingSourceIsRetriedTheOldTokenServesUntilItExpires) {
  test::redis_server server;
  acl tokens{server};
  auto r = make_reactor();
  seen_texts seen(r->events());
  token_refresh_options options;
  options.ratio = 0.2;
  options.fetch_timeout = 100ms;
  options.backoff = retry::backoff::constant(50ms);
  int calls = 0;
  bool healthy = false;
  const auto first_expiry = r->timers().now() + 1s;
  token_manager manager(
      *r,
      [&](token_request& req) {
        ++calls;
        if (calls == 1) {
          tokens.mint("token1");
          req.answer({.username = "app", .value = "token1", .expires_at = first_expiry});
        } else if (healthy) {
          tokens.mint("token2");
          req.answer(
              {.username = "app", .value = "token2", .expires_at = token::time_point::max()});
        } else if (calls % 2 == 0) {
          req.fail(make_error_code(std::errc::host_unreachable));
        }  // else: never answers (a stall)
      },
      options);
  manager.start();
  connection_config config = config_for(server);
  config.credentials = manager.provider(0);
  config.retry_first_connect = false;
  connection c(*r, config);
  ASSERT_TRUE(connect(*r, c).has_value());

  std::vector<std::error_code> failures;
  event::listener<event::token_refresh_failed> on_failed(
      r->events(), [&](const event::token_refresh_failed& e) { failures.push_back(e.error); });
  // Until the expiry: failures and stalls, each retried, while the old token serves.
  // (Checked before each command: a loaded machine may end the loop past the expiry itself.)
  while (r->timers().now() < first_expiry - 100ms) {
    ASSERT_TRUE(manager.provider(0)->valid()) << "the old token serves until it expires";
    ASSERT_TRUE(run(*r, c, cmd::set{"k", "v"}).has_value());
    r->run_until([&, t = r->timers().now() + 50ms] { return r->timers().now() >= t; });
  }
  EXPECT_GE(failures.size(), 4u);
  bool stalled = false, refused = false;
  for (const auto& f : failures) {
    stalled = stalled || f == make_error_code(errc::timeout);
    refused = refused || f == std::errc::host_unreachable;
  }
  EXPECT_TRUE(stalled);
  EXPECT_TRUE(refused);

  // The expiry passes with no replacement: the server drops the password, a new connect fails
  // with the authentication error at once (no hang), the live one stays as the server has it.
  r->run_until([&] { return !manager.provider(0)->valid(); });
  EXPECT_GE(r->timers().now(), first_expiry);
  tokens.revoke("token1");
  connection late(*r, config);
  const auto started = std::chrono::steady_clock::now();
  const result<void> refused_connect = connect(*r, late);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 50ms);
  ASSERT_TRUE(refused_connect.has_error());
  EXPECT_EQ(refused_connect.error(), make_error_code(errc::credentials_expired));
  EXPECT_TRUE(run(*r, c, cmd::set{"k", "v"}).has_value());

  // The source recovers: the next retry's token makes connects work again.
  healthy = true;
  r->run_until([&] { return manager.provider(0)->valid(); });
  connection again(*r, config);
  EXPECT_TRUE(connect(*r, again).has_value());
  seen.expect_no("token1");
  seen.expect_no("token2");
}

}  // namespace
}  // namespace uredis::auth
