// Token rotation under load, end to end: a token manager on shard 0 of a 2-shard runtime mints
// a token every refresh (an ACL password of user `app` valid for 2 s, refreshed at 0.8 of
// that) and removes each one from the server once it has expired, while 2 connections per
// shard keep 8 reads each in flight for ~30 s. No command may fail; every connection must
// re-authenticate with every token (counted per connection from the events, and on the server
// from INFO commandstats), with no refused AUTH and no failed refresh. The one slow test.

#include "uredis/auth/token_manager.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/client_setup.hpp"
#include "support/redis_server.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/invoke_on.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/reactor/runtime.hpp"

namespace uredis::auth {
namespace {

using namespace std::chrono_literals;

constexpr int connections_per_shard = 2;
constexpr int in_flight_per_connection = 8;
constexpr auto token_lifetime = 2s;
constexpr auto run_for = 30s;

long auth_field(const test::redis_server& server, std::string_view name) {
  const std::string info = server.command({"INFO", "commandstats"});
  const std::size_t line = info.find("cmdstat_auth:");
  if (line == std::string::npos) return 0;
  const std::size_t at = info.find(name, line);
  return at == std::string::npos ? 0 : std::stol(info.substr(at + name.size()));
}

// One shard's connections and their load; lives on its shard (make_local).
struct shard_load {
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<bool> stopping{false};
  std::map<std::uint64_t, int> reauths;  // per connection id (this shard's thread)
  event::listener<event::reauthenticated> on_reauth;
  std::vector<std::unique_ptr<connection>> conns;

  shard_load(reactor::reactor& r, const connection_config& config)
      : on_reauth(r.events(),
                  [this](const event::reauthenticated& e) { ++reauths[e.connection_id]; }) {
    for (int i = 0; i < connections_per_shard; ++i) {
      conns.push_back(std::make_unique<connection>(r, config));
      connection& c = *conns.back();
      c.connect([this, &c](const result<void>& done) {
        if (!done) {
          ++failed;
          return;
        }
        for (int k = 0; k < in_flight_per_connection; ++k)
          pump(c);
      });
    }
  }
  void pump(connection& c) {
    c.exec(cmd::get{"k"}, [this, &c](const result<std::optional<std::string>>& r) {
      if (stopping.load(std::memory_order_relaxed)) return;
      if (r.has_value())
        ++ok;
      else
        ++failed;
      pump(c);
    });
  }
};

TEST(TokenRotation, TokensExpiringEvery2sUnderLoadOn2ShardsFailNoCommand) {
  test::redis_server server;
  runtime_options o;
  o.shards = 2;
  auto created = runtime::create(o);
  if (!created && std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "needs 2 cores";
  ASSERT_TRUE(created) << created.error().message();
  runtime& rt = **created;

  // The token source, on shard 0: mint token N, drop token N-2 (expired by now: N-1 was minted
  // 0.8 of a lifetime ago and N-2 before that).
  int minted = 0;
  token_manager* manager = nullptr;
  token_refresh_options options;
  ASSERT_TRUE(
      invoke_on(rt, 0, [&] {
        manager = &rt.make_local<token_manager>(
            rt,
            [&](token_request& req) {
              ++minted;
              const std::string token = "token" + std::to_string(minted);
              server.command({"ACL", "SETUSER", "app", "on", ">" + token, "~*", "&*", "+@all"});
              if (minted > 2) {
                const std::string old = "<token" + std::to_string(minted - 2);
                server.command({"ACL", "SETUSER", "app", old});
              }
              req.answer(
                  {.username = "app",
                   .value = token,
                   .expires_at = reactor::reactor::current()->timers().now() + token_lifetime});
            },
            options);
        manager->start();
      }).get());

  shard_load* loads[2] = {};
  for (unsigned s = 0; s < 2; ++s) {
    ASSERT_TRUE(invoke_on(rt, s, [&, s] {
                  connection_config config = test::config_for(server);
                  config.credentials = manager->provider(s);
                  loads[s] = &rt.make_local<shard_load>(*reactor::reactor::current(), config);
                }).get());
  }

  std::this_thread::sleep_for(run_for);
  // Stop minting, let the last token's AUTHs complete, then stop the load.
  ASSERT_TRUE(invoke_on(rt, 0, [&] { manager->stop(); }).get());
  const std::uint64_t tokens = invoke_on(rt, 0, [&] { return manager->tokens(); }).get().value();
  std::this_thread::sleep_for(500ms);
  for (unsigned s = 0; s < 2; ++s)
    ASSERT_TRUE(invoke_on(rt, s, [&, s] { loads[s]->stopping = true; }).get());
  std::this_thread::sleep_for(200ms);

  std::uint64_t ok = 0, failed = 0;
  long reauths = 0;
  for (unsigned s = 0; s < 2; ++s) {
    const auto stats =
        invoke_on(rt, s, [&] { return reactor::reactor::current()->events().stats(); })
            .get()
            .value();
    EXPECT_EQ(stats.reauth_failed, 0u) << "shard " << s;
    if (s == 0) {
      EXPECT_EQ(stats.token_refresh_failed, 0u);
    }
    const std::map<std::uint64_t, int> per =
        invoke_on(rt, s, [&, s] { return loads[s]->reauths; }).get().value();
    EXPECT_EQ(per.size(), static_cast<std::size_t>(connections_per_shard)) << "shard " << s;
    for (const auto& [id, n] : per) {
      // Connected with token 1 (the manager's first answer came before any connect).
      EXPECT_EQ(n, static_cast<int>(tokens) - 1) << "connection " << id << " on shard " << s;
      reauths += n;
    }
    ok += loads[s]->ok.load();
    failed += loads[s]->failed.load();
  }
  EXPECT_GE(tokens, 15u) << "a token every 1.6 s for 30 s";
  EXPECT_EQ(failed, 0u);
  EXPECT_GT(ok, 10000u);
  EXPECT_EQ(auth_field(server, "calls="), reauths) << "the server counted every re-auth";
  EXPECT_EQ(auth_field(server, "failed_calls="), 0);
  std::printf("[ rotation ] %llu tokens, %ld re-authentications, %llu reads, %llu failed\n",
              static_cast<unsigned long long>(tokens), reauths, static_cast<unsigned long long>(ok),
              static_cast<unsigned long long>(failed));
  rt.stop();
}

}  // namespace
}  // namespace uredis::auth
