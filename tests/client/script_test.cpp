// Scripts end to end against a real redis-server: EVALSHA first, SCRIPT LOAD only on NOSCRIPT
// (counted by the server itself, INFO commandstats), after SCRIPT FLUSH and after a restart; a
// script that does not compile gives its compile error once, with no loop; read-only scripts go
// out as EVALSHA_RO; the resend rule after a lost reply; FCALL and FCALL_RO against a loaded
// library; no allocation per call once the script is loaded.

#include "uredis/client/script.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/fault_proxy.hpp"
#include "../support/redis_server.hpp"
#include "../support/run_coroutine.hpp"
#include "allocation_counter.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"
#include "uredis/exceptions.hpp"

namespace uredis {
namespace {

using namespace std::chrono_literals;
using test::config_for;
using test::make_reactor;

const char* const bump_source = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

// How many times the server ran `command` ("evalsha", "script|load"), from INFO commandstats.
std::int64_t calls(const test::redis_server& server, const std::string& command) {
  const std::string info = server.command({"INFO", "commandstats"});
  const std::string key = "cmdstat_" + command + ":calls=";
  const std::size_t at = info.find(key);
  if (at == std::string::npos) return 0;
  return std::stoll(info.substr(at + key.size()));
}

TEST(Script, Sha1IsComputedLocallyAndMatchesTheServers) {
  test::redis_server server;
  const script bump{bump_source};
  const std::string loaded = server.command({"SCRIPT", "LOAD", bump_source});
  EXPECT_EQ(loaded, "$40\r\n" + std::string(bump.sha1()) + "\r\n");
  EXPECT_FALSE(bump.read_only());
  EXPECT_EQ(bump.source(), bump_source);
}

TEST(Script, LoadsOnNoscriptThenSendsOnlyEvalsha) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  const script bump{bump_source};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    for (int i = 1; i <= 5; ++i) {
      const result<std::int64_t> n = co_await c.run<std::int64_t>(bump, "counter", 10);
      EXPECT_EQ(*n, 10 * i);
    }
  });
  EXPECT_EQ(calls(server, "script|load"), 1);  // the first call met NOSCRIPT
  EXPECT_EQ(calls(server, "evalsha"), 6);      // each call ran once, plus the NOSCRIPT one
  EXPECT_EQ(calls(server, "eval"), 0);
}

TEST(Script, ScriptFlushBetweenTwoCallsCostsExactlyOneLoad) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  const script bump{bump_source};
  server.command({"SCRIPT", "LOAD", bump_source});
  const std::int64_t loads_before = calls(server, "script|load");
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    EXPECT_EQ(*co_await c.run<std::int64_t>(bump, "n", 1), 1);
    EXPECT_EQ(calls(server, "script|load"), loads_before);  // loaded already: no load
    server.command({"SCRIPT", "FLUSH"});
    EXPECT_EQ(*co_await c.run<std::int64_t>(bump, "n", 1), 2);
  });
  EXPECT_EQ(calls(server, "script|load"), loads_before + 1);
}

TEST(Script, SurvivesAServerRestart) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  const script bump{bump_source};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    EXPECT_EQ(*co_await c.run<std::int64_t>(bump, "n", 3), 3);
  });
  server.stop();
  server.start();  // an empty server: no data, no scripts
  ASSERT_TRUE(test::run_until(
      *r, [&] { return c.connection().reconnects() == 1 && c.ready(); }, 10s));
  test::run_coroutine(
      *r, [&]() -> task<> { EXPECT_EQ(*co_await c.run<std::int64_t>(bump, "n", 4), 4); });
  EXPECT_EQ(calls(server, "script|load"), 1);
}

TEST(Script, ACompileErrorIsReportedOnceWithNoLoop) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  const script broken{"return +"};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    const result<std::int64_t> n = co_await c.run<std::int64_t>(broken);
    EXPECT_TRUE(n.has_server_error());
    if (!n.has_server_error()) co_return;
    EXPECT_EQ(n.server_error().kind, server_error_kind::err);
    EXPECT_NE(n.server_error().message.find("Error compiling script"), std::string::npos)
        << n.server_error().message;
    // The connection carries on.
    EXPECT_EQ(*co_await c.exec(cmd::incr{"after"}), 1);
  });
  // One load, which failed, and two EVALSHAs (NOSCRIPT, then the batch's): no loop.
  EXPECT_EQ(calls(server, "script|load"), 1);
  EXPECT_EQ(calls(server, "evalsha"), 2);
  const std::string info = server.command({"INFO", "commandstats"});
  EXPECT_NE(info.find("cmdstat_script|load:calls=1,"), std::string::npos) << info;
  EXPECT_NE(info.find("failed_calls=1"), std::string::npos) << info;
}

TEST(Script, ARuntimeErrorIsTheScriptsOwn) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  const script wrong_type{"return redis.call('INCR', KEYS[1])"};
  server.command({"SET", "text", "abc"});
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    const result<std::int64_t> n = co_await c.run<std::int64_t>(wrong_type, "text");
    EXPECT_TRUE(n.has_server_error());
    if (!n.has_server_error()) co_return;
    EXPECT_NE(n.server_error().message.find("not an integer"), std::string::npos)
        << n.server_error().message;
  });
  EXPECT_EQ(calls(server, "script|load"), 1);
}

TEST(Script, AReadOnlyScriptGoesOutAsEvalshaRo) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  const script read{"return redis.call('GET', KEYS[1])", script_access::read_only};
  const script write{"return redis.call('SET', KEYS[1], 'x')", script_access::read_only};
  server.command({"SET", "k", "v"});
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    const result<std::optional<std::string>> v =
        co_await c.run<std::optional<std::string>>(read, "k");
    EXPECT_EQ(**v, "v");
    const result<resp::reply> refused = co_await c.run(write, "k");
    EXPECT_TRUE(refused.has_server_error());
    if (!refused.has_server_error()) co_return;
    EXPECT_NE(refused.server_error().message.find("Write commands are not allowed"),
              std::string::npos)
        << refused.server_error().message;
  });
  EXPECT_EQ(calls(server, "evalsha_ro"), 4);  // two NOSCRIPTs, then each ran
  EXPECT_EQ(calls(server, "evalsha"), 0);
  EXPECT_EQ(server.command({"GET", "k"}), "$1\r\nv\r\n");
}

TEST(Script, TheCallbackApiLoadsTheSameWay) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  conn.connect();
  ASSERT_TRUE(test::run_until(
      *r, [&] { return conn.ready(); }, 5s));
  const script bump{bump_source};
  std::vector<std::int64_t> seen;
  for (int i = 0; i < 3; ++i)  // all three meet NOSCRIPT: each loads and retries on its own
    conn.run<std::int64_t>(bump, "n", {2},
                           [&seen](result<std::int64_t> n) { seen.push_back(n ? *n : -1); });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return seen.size() == 3; }, 5s));
  EXPECT_EQ(seen, (std::vector<std::int64_t>{2, 4, 6}));
  EXPECT_EQ(calls(server, "script|load"), 3);
  conn.run<std::int64_t>(bump, "n", {2},
                         [&seen](result<std::int64_t> n) { seen.push_back(n ? *n : -1); });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return seen.size() == 4; }, 5s));
  EXPECT_EQ(seen.back(), 8);
  EXPECT_EQ(calls(server, "script|load"), 3);
}

TEST(Script, ACallbackOfFourPointersFits) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  conn.connect();
  ASSERT_TRUE(test::run_until(
      *r, [&] { return conn.ready(); }, 5s));
  const script bump{bump_source};
  std::int64_t a = 0, b = 0, c = 0;
  int done = 0;
  auto callback = [&a, &b, &c, &done](result<std::int64_t> n) {
    a = b = c = n ? *n : -1;
    ++done;
  };
  static_assert(sizeof(callback) == 32);
  conn.run<std::int64_t>(bump, "n", 5, callback, {.timeout = 5000ms});
  ASSERT_TRUE(test::run_until(
      *r, [&] { return done == 1; }, 5s));
  EXPECT_EQ(c, 5);  // through NOSCRIPT and the reload, with the call's options
}

TEST(Script, SteadyStateAllocatesNothingPerCall) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });
  const script bump{bump_source};
  std::int64_t last = 0;
  int done = 0, wrong = 0;
  auto round = [&] {
    const int target = done + 256;
    for (int i = 0; i < 256; ++i)
      c.run<std::int64_t>(bump, "n", {1}, [&last, &done](result<std::int64_t> v) {
        last = v ? *v : -1;
        ++done;
      });
    r->run_until([&] { return done == target; });
  };
  auto coroutine_round = [&]() -> task<> {
    for (int i = 0; i < 64; ++i) {
      const result<std::int64_t> v = co_await c.run<std::int64_t>(bump, "n", 1);
      if (!v) ++wrong;
    }
  };
  for (int i = 0; i < 4; ++i) {
    round();
    test::run_coroutine(*r, coroutine_round);
  }
  const dev::allocation_scope scope;
  for (int i = 0; i < 20; ++i) {
    round();
    test::run_coroutine(*r, coroutine_round);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(last, 24 * (256 + 64) - 64);
}

// A call whose bytes were written and whose reply was lost: a script that writes completes with
// outcome_unknown (it may have run) and is not sent again; a read-only one is resent.
TEST(Script, AfterALostReplyOnlyReadOnlyScriptsAreResent) {
  test::redis_server server;
  test::fault_proxy proxy{server.host(), server.port()};
  auto r = make_reactor();
  client c{*r, test::config_through(proxy)};
  const script bump{bump_source};
  const script read{"return redis.call('GET', KEYS[1])", script_access::read_only};
  server.command({"SCRIPT", "LOAD", bump_source});
  server.command({"SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])"});
  server.command({"SET", "k", "v"});
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });

  std::optional<result<std::int64_t>> written;
  std::optional<result<std::optional<std::string>>> resent;
  proxy.set_black_hole(true);  // the calls reach the proxy, never the server
  c.run<std::int64_t>(bump, "n", {1}, [&](result<std::int64_t> v) { written.emplace(v); });
  c.run<std::optional<std::string>>(
      read, "k", {}, [&](result<std::optional<std::string>> v) { resent.emplace(std::move(v)); });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return c.connection().session().pipeline().unsent().empty(); }, 5s));
  test::run_for(*r, 20ms);
  proxy.close_all(test::cut_mode::reset);
  proxy.set_black_hole(false);
  ASSERT_TRUE(test::run_until(
      *r, [&] { return written && resent; }, 10s));
  EXPECT_EQ(written->error(), make_error_code(errc::outcome_unknown));
  ASSERT_TRUE(resent->has_value()) << resent->error().message();
  EXPECT_EQ(**resent, "v");
  EXPECT_EQ(server.command({"GET", "n"}), "$-1\r\n");  // the write never ran
}

TEST(Script, FunctionsWithFcallAndFcallRo) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  const std::string library =
      "#!lua name=counters\n"
      "redis.register_function('bump', function(keys, args) "
      "return redis.call('INCRBY', keys[1], args[1]) end)\n"
      "redis.register_function{function_name='peek', callback=function(keys, args) "
      "return redis.call('GET', keys[1]) end, flags={'no-writes'}}\n";
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    const result<std::string> loaded =
        co_await c.exec(cmd::raw<std::string>{"FUNCTION", "LOAD", library});
    EXPECT_EQ(*loaded, "counters");
    EXPECT_EQ(*co_await c.exec(cmd::fcall<std::int64_t>{"bump", "f", 7}), 7);
    EXPECT_EQ(*co_await c.exec(cmd::fcall<std::int64_t>{"bump", "f", 3}), 10);
    const result<std::optional<std::string>> peek =
        co_await c.exec(cmd::fcall_ro<std::optional<std::string>>{"peek", "f"});
    EXPECT_EQ(**peek, "10");
    // FCALL_RO refuses a function that may write.
    const result<std::int64_t> refused =
        co_await c.exec(cmd::fcall_ro<std::int64_t>{"bump", "f", 1});
    EXPECT_TRUE(refused.has_server_error());
    if (!refused.has_server_error()) co_return;
    const result<resp::reply> missing = co_await c.exec(cmd::fcall{"nope"});
    EXPECT_TRUE(missing.has_server_error());
    if (!missing.has_server_error()) co_return;
    EXPECT_NE(missing.server_error().message.find("Function not found"), std::string::npos)
        << missing.server_error().message;
    // EVAL_RO runs a read-only script straight from its source.
    const result<std::optional<std::string>> viaeval = co_await c.exec(
        cmd::eval_ro<std::optional<std::string>>{"return redis.call('GET', KEYS[1])", "f"});
    EXPECT_EQ(**viaeval, "10");
  });
  EXPECT_EQ(calls(server, "fcall"), 3);     // the refused "nope" counts
  EXPECT_EQ(calls(server, "fcall_ro"), 2);  // and so does the refused write
  EXPECT_EQ(server.command({"GET", "f"}), "$2\r\n10\r\n");
}

TEST(Script, TheBlockingClientRunsScriptsAndThrowsTheLoadError) {
  test::redis_server server;
  blocking_client c{server.url()};
  const script bump{bump_source};
  EXPECT_EQ(c.run<std::int64_t>(bump, "b", 5), 5);
  EXPECT_EQ(c.run<std::int64_t>(bump, "b", 5), 10);
  const script broken{"return +"};
  EXPECT_THROW(c.run(broken), response_error);
  EXPECT_EQ(calls(server, "script|load"), 2);  // bump's, and broken's failed one
}

}  // namespace
}  // namespace uredis
