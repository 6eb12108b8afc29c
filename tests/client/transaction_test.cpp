// Transactions end to end against a real redis-server: typed results per command, an error
// inside EXEC kept to its command, EXECABORT surfaced with the refused command, MULTI ... EXEC
// contiguous on the server (seen by MONITOR) while a thousand other commands share the
// connection, WATCH conflicts retried to the right final value, a lost watch never sent
// unguarded, and the resend rule: a written transaction completes with outcome_unknown and is
// not sent again; one never written goes out after the reconnect. No allocation once warm.

#include "uredis/client/transaction.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/fault_proxy.hpp"
#include "../support/redis_server.hpp"
#include "../support/run_coroutine.hpp"
#include "allocation_counter.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/optimistic.hpp"
#include "uredis/client/task.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/exceptions.hpp"

namespace uredis {
namespace {

using namespace std::chrono_literals;
using test::config_for;
using test::make_reactor;

std::string bulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

TEST(Transaction, EachCommandGetsItsTypedResult) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  server.command({"SET", "k", "v"});
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    const auto got = co_await c.exec(
        transaction{cmd::incr{"c"}, cmd::get{"k"}, cmd::get{"none"}, cmd::set{"x", "1"}});
    static_assert(std::is_same_v<
                  std::remove_cvref_t<decltype(got)>,
                  result<std::tuple<result<std::int64_t>, result<std::optional<std::string>>,
                                    result<std::optional<std::string>>, result<cmd::applied>>>>);
    EXPECT_TRUE(got.has_value());
    if (!got) co_return;
    const auto& [incr, get, none, set] = *got;
    EXPECT_EQ(*incr, 1);
    EXPECT_EQ(**get, "v");
    EXPECT_EQ(*none, std::nullopt);
    EXPECT_TRUE(*set);
    // Aggregates inside EXEC's array, and RESP3 maps.
    server.command({"HSET", "h", "f", "1"});
    const auto agg = co_await c.exec(
        transaction{cmd::hgetall{"h"}, cmd::lrange{"nolist", 0, -1}, cmd::incr{"c"}});
    EXPECT_TRUE(agg.has_value());
    if (!agg) co_return;
    EXPECT_EQ(std::get<0>(*agg)->at("f"), "1");
    EXPECT_TRUE(std::get<1>(*agg)->empty());
    EXPECT_EQ(*std::get<2>(*agg), 2);
  });
  EXPECT_EQ(server.command({"GET", "c"}), bulk("2"));
}

TEST(Transaction, AnErrorInsideExecStaysWithItsCommand) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    const auto got = co_await c.exec(
        transaction{cmd::set{"s", "abc"}, cmd::incr{"s"}, cmd::get{"s"}, cmd::lpush{"s", "x"}});
    EXPECT_TRUE(got.has_value());
    if (!got) co_return;
    EXPECT_TRUE(*std::get<0>(*got));
    EXPECT_TRUE(std::get<1>(*got).has_server_error());
    if (!std::get<1>(*got).has_server_error()) co_return;
    EXPECT_NE(std::get<1>(*got).server_error().message.find("not an integer"), std::string::npos);
    EXPECT_EQ(**std::get<2>(*got), "abc");  // the others ran: no rollback in Redis
    EXPECT_TRUE(std::get<3>(*got).has_server_error());
    if (!std::get<3>(*got).has_server_error()) co_return;
    EXPECT_EQ(std::get<3>(*got).server_error().kind, server_error_kind::wrongtype);
    // A reply that does not fit its type fails that command only.
    const auto mismatch = co_await c.exec(
        transaction{cmd::raw<std::int64_t>{"GET", "s"}, cmd::raw<std::string>{"GET", "s"}});
    EXPECT_TRUE(mismatch.has_value());
    if (!mismatch) co_return;
    EXPECT_EQ(std::get<0>(*mismatch).error(), make_error_code(errc::type_mismatch));
    EXPECT_EQ(*std::get<1>(*mismatch), "abc");
  });
}

TEST(Transaction, ARawSubscribeInsideIsRefusedUnsent) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    // Redis would queue it and switch the connection to subscribe mode when EXEC runs it.
    const auto got = co_await c.exec(
        transaction{cmd::incr{"n"}, cmd::raw<resp::reply>{"subscribe", "ch"}, cmd::incr{"n"}});
    EXPECT_TRUE(got.has_error());
    if (got.has_error()) {
      EXPECT_EQ(got.error(), make_error_code(errc::not_one_reply));
    }
    const auto n = co_await c.incr("n");
    EXPECT_TRUE(n.has_value());
    if (n) {
      EXPECT_EQ(*n, 1);  // nothing of the refused batch was sent
    }
  });
}

TEST(Transaction, ExecAbortIsSurfacedWithTheRefusedCommand) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    const auto got = co_await c.exec(
        transaction{cmd::incr{"c"}, cmd::raw<std::int64_t>{"INCR"}, cmd::incr{"c"}});
    EXPECT_TRUE(got.has_server_error());
    if (!got.has_server_error()) co_return;
    EXPECT_EQ(got.server_error().kind, server_error_kind::execabort);
    EXPECT_EQ(got.server_error().message.rfind("EXECABORT Transaction discarded", 0), 0u)
        << got.server_error().message;
    EXPECT_NE(got.server_error().message.find(
                  "[command 2: ERR wrong number of arguments for 'incr' command]"),
              std::string::npos)
        << got.server_error().message;
    // The connection is in step: the next command gets its own reply.
    EXPECT_EQ(*co_await c.exec(cmd::incr{"c"}), 1);
  });
  EXPECT_EQ(server.command({"GET", "c"}), bulk("1"));  // nothing of the transaction ran
}

// An ACL that forbids MULTI: the server refuses MULTI but not the commands, which run on their
// own. The result is MULTI's error, the connection stays in step, and the effects are there.
TEST(Transaction, ARefusedMultiIsItsErrorAndTheCommandsRanOnTheirOwn) {
  test::redis_server server;
  server.command({"ACL", "SETUSER", "nomulti", "on", ">pw", "~*", "&*", "+@all", "-multi"});
  auto r = make_reactor();
  connection_config config = config_for(server);
  config.username = "nomulti";
  config.password = "pw";
  client c{*r, config};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    const auto got = co_await c.exec(transaction{cmd::incr{"c"}, cmd::incr{"c"}});
    EXPECT_TRUE(got.has_server_error());
    if (!got.has_server_error()) co_return;
    EXPECT_EQ(got.server_error().kind, server_error_kind::noperm) << got.server_error().message;
    EXPECT_EQ(*co_await c.exec(cmd::incr{"c"}), 3);  // in step, after the two that ran
  });
}

// Reads MONITOR's lines from a plain socket: the command part of each, e.g. "\"INCR\" \"c\"".
class monitor {
 public:
  explicit monitor(std::uint16_t port) : fd_(test::connect_loopback(port)) {
    const std::string command = "*1\r\n$7\r\nMONITOR\r\n";
    (void)::send(fd_, command.data(), command.size(), MSG_NOSIGNAL);
    ok_ = next_line() == "+OK";
  }
  ~monitor() { ::close(fd_); }
  bool ok() const { return ok_; }

  /// The next line, without CRLF ("" when the socket ends or times out).
  std::string next_line() {
    for (;;) {
      const std::size_t end = buffer_.find("\r\n");
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return line;
      }
      char chunk[4096];
      const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
      if (got <= 0) return {};
      buffer_.append(chunk, static_cast<std::size_t>(got));
    }
  }
  /// The next command seen: the part of the line after "] ".
  std::string next_command() {
    const std::string line = next_line();
    const std::size_t at = line.find("] ");
    return at == std::string::npos ? line : line.substr(at + 2);
  }

 private:
  int fd_;
  std::string buffer_;
  bool ok_ = false;
};

TEST(Transaction, StaysContiguousAmongAThousandConcurrentCommands) {
  test::redis_server server;
  monitor seen{server.port()};
  ASSERT_TRUE(seen.ok());
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });

  constexpr int others = 1000;
  constexpr int transactions = 10;
  int finished = 0, wrong = 0;
  auto other = [&]() -> task<> {
    const result<std::int64_t> n = co_await c.exec(cmd::incr{"other"});
    if (!n) ++wrong;
    ++finished;
  };
  auto tx = [&](int i) -> task<> {
    const std::string key = "tx" + std::to_string(i);
    const auto got =
        co_await c.exec(transaction{cmd::incr{key}, cmd::incrby{key, 10}, cmd::get{key}});
    if (!got || **std::get<2>(*got) != "11") ++wrong;
    ++finished;
  };
  // All issued in one loop turn, the transactions spread among the others: their bytes share
  // the connection's sends and its FIFO.
  for (int i = 0; i < others; ++i) {
    if (i % (others / transactions) == 50) spawn(tx(i / (others / transactions)));
    spawn(other());
  }
  ASSERT_TRUE(test::run_until(
      *r, [&] { return finished == others + transactions; }, 20s));
  EXPECT_EQ(wrong, 0);

  // Every MULTI on the server is followed by exactly its three commands and EXEC.
  int blocks = 0, incrs = 0;
  for (int line = 0; line < 5000 && (blocks < transactions || incrs < others); ++line) {
    const std::string command = seen.next_command();
    if (command.empty()) break;
    if (command == "\"INCR\" \"other\"") ++incrs;
    if (command != "\"MULTI\"") continue;
    const std::string first = seen.next_command();
    ASSERT_EQ(first.rfind("\"INCR\" \"tx", 0), 0u) << first;
    const std::string key = first.substr(std::string("\"INCR\" ").size());
    EXPECT_EQ(seen.next_command(), "\"INCRBY\" " + key + " \"10\"");
    EXPECT_EQ(seen.next_command(), "\"GET\" " + key);
    EXPECT_EQ(seen.next_command(), "\"EXEC\"");
    ++blocks;
  }
  EXPECT_EQ(blocks, transactions);
  EXPECT_EQ(incrs, others);
  EXPECT_EQ(server.command({"GET", "other"}), bulk(std::to_string(others)));
}

TEST(Transaction, AWatchConflictIsRetriedAndTheFinalValueIsRight) {
  test::redis_server server;
  auto r = make_reactor();
  client watcher{*r, config_for(server)};
  server.command({"SET", "balance", "100"});
  int attempts = 0;
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(watcher);
    const auto outcome = co_await optimistic(
        watcher, "balance", [&](client& c) -> task<result<std::tuple<result<cmd::applied>>>> {
          ++attempts;
          const result<std::optional<std::string>> balance = co_await c.get("balance");
          if (!balance) co_return balance.error();
          // Someone else pays in between, once: the first EXEC must find its watch broken.
          if (attempts == 1) server.command({"INCRBY", "balance", "50"});
          const std::string next = std::to_string(std::stoll(**balance) - 30);
          co_return co_await c.exec(transaction{cmd::set{"balance", next}});
        });
    EXPECT_TRUE(outcome.has_value()) << (outcome.has_error() ? outcome.error().message() : "");
    EXPECT_FALSE(watcher.watching());
  });
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(server.command({"GET", "balance"}), bulk("120"));
}

TEST(Transaction, EveryWatchedKeyCounts) {
  test::redis_server server;
  auto r = make_reactor();
  client watcher{*r, config_for(server)};
  int attempts = 0;
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(watcher);
    const cmd::arg keys[] = {"from", "to"};
    const auto outcome = co_await optimistic(
        watcher, keys, [&](client& c) -> task<result<std::tuple<result<std::int64_t>>>> {
          ++attempts;
          if (attempts == 1) server.command({"SET", "to", "changed"});  // the second key
          co_return co_await c.exec(transaction{cmd::incr{"moves"}});
        });
    EXPECT_TRUE(outcome.has_value());
  });
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(server.command({"GET", "moves"}), bulk("1"));
}

TEST(Transaction, ConcurrentOptimisticIncrementsLoseNothing) {
  test::redis_server server;
  auto r = make_reactor();
  constexpr int clients = 6, increments = 25;
  std::vector<std::unique_ptr<client>> watchers;
  for (int i = 0; i < clients; ++i)
    watchers.push_back(std::make_unique<client>(*r, config_for(server)));
  int attempts = 0, failures = 0, finished = 0;
  auto worker = [&](client& own) -> task<> {
    co_await test::connect_or_fail(own);
    for (int i = 0; i < increments; ++i) {
      const auto outcome = co_await optimistic(
          own, "n",
          [&](client& c) -> task<result<std::tuple<result<cmd::applied>>>> {
            ++attempts;
            const result<std::optional<std::string>> n = co_await c.get("n");
            if (!n) co_return n.error();
            const std::int64_t value = *n ? std::stoll(**n) : 0;
            co_return co_await c.exec(transaction{cmd::set{"n", value + 1}});
          },
          1000);
      if (!outcome) ++failures;
    }
    ++finished;
  };
  for (auto& w : watchers)
    spawn(worker(*w));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return finished == clients; }, 20s));
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(server.command({"GET", "n"}), bulk(std::to_string(clients * increments)));
  EXPECT_GT(attempts, clients * increments) << "no conflict happened: the test proves nothing";
}

TEST(Transaction, TheOptimisticHelperGivesUpAfterItsAttempts) {
  test::redis_server server;
  auto r = make_reactor();
  client watcher{*r, config_for(server)};
  int attempts = 0;
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(watcher);
    const auto outcome = co_await optimistic(
        watcher, "hot",
        [&](client& c) -> task<result<std::tuple<result<std::int64_t>>>> {
          ++attempts;
          server.command({"INCR", "hot"});  // always changed under the watch
          co_return co_await c.exec(transaction{cmd::incr{"mine"}});
        },
        3);
    EXPECT_EQ(outcome.error(), make_error_code(errc::watch_conflict));
  });
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(server.command({"GET", "mine"}), "$-1\r\n");
}

TEST(Transaction, AWatchLostToAReconnectIsNeverSentUnguarded) {
  test::redis_server server;
  test::fault_proxy proxy{server.host(), server.port()};
  auto r = make_reactor();
  client watcher{*r, test::config_through(proxy)};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(watcher);
    EXPECT_TRUE(*co_await watcher.watch("w"));
    EXPECT_TRUE(watcher.watching());
  });
  proxy.close_all(test::cut_mode::reset);
  ASSERT_TRUE(test::run_until(
      *r, [&] { return watcher.connection().reconnects() == 1 && watcher.ready(); }, 10s));
  test::run_coroutine(*r, [&]() -> task<> {
    const auto got = co_await watcher.exec(transaction{cmd::incr{"w2"}});
    EXPECT_EQ(got.error(), make_error_code(errc::watch_lost));
    EXPECT_FALSE(watcher.watching());
    // Without a watch, transactions go out as usual.
    const auto again = co_await watcher.exec(transaction{cmd::incr{"w2"}});
    EXPECT_TRUE(again.has_value());
  });
  EXPECT_EQ(server.command({"GET", "w2"}), bulk("1"));
}

// The client's callback form follows the same watch rules as its co_await form.
TEST(Transaction, TheClientsCallbackFormKeepsTheWatchRules) {
  test::redis_server server;
  test::fault_proxy proxy{server.host(), server.port()};
  auto r = make_reactor();
  client watcher{*r, test::config_through(proxy)};
  using results = transaction<cmd::incr>::results;
  std::optional<result<results>> got;
  const auto send = [&] {
    got.reset();
    watcher.exec(transaction{cmd::incr{"w3"}}, [&](result<results> v) { got = std::move(v); });
    EXPECT_FALSE(watcher.watching());  // the transaction ends the watch
    ASSERT_TRUE(test::run_until(
        *r, [&] { return got.has_value(); }, 5s));
  };
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(watcher);
    EXPECT_TRUE(*co_await watcher.watch("w"));
  });
  server.command({"SET", "w", "changed"});
  send();
  EXPECT_EQ(got->error(), make_error_code(errc::watch_conflict));

  test::run_coroutine(*r, [&]() -> task<> { EXPECT_TRUE(*co_await watcher.watch("w")); });
  proxy.close_all(test::cut_mode::reset);
  ASSERT_TRUE(test::run_until(
      *r, [&] { return watcher.connection().reconnects() == 1 && watcher.ready(); }, 10s));
  send();
  EXPECT_EQ(got->error(), make_error_code(errc::watch_lost));
  EXPECT_EQ(server.command({"GET", "w3"}), "$-1\r\n");  // never sent

  send();  // no watch: sent as usual
  ASSERT_TRUE(got->has_value()) << got->error().message();
  EXPECT_EQ(*std::get<0>(**got), 1);
}

TEST(Transaction, AWrittenTransactionCompletesWithOutcomeUnknownAndIsNotResent) {
  test::redis_server server;
  test::fault_proxy proxy{server.host(), server.port()};
  auto r = make_reactor();
  client c{*r, test::config_through(proxy)};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });

  using results = transaction<cmd::incr, cmd::incr>::results;
  std::optional<result<results>> got;
  proxy.set_black_hole(true);  // the batch reaches the proxy, never the server
  c.exec(transaction{cmd::incr{"a"}, cmd::incr{"b"}},
         [&got](result<results> v) { got.emplace(std::move(v)); }, {.idempotent = true});
  ASSERT_TRUE(test::run_until(
      *r, [&] { return c.connection().session().pipeline().unsent().empty(); }, 5s));
  test::run_for(*r, 20ms);
  proxy.close_all(test::cut_mode::reset);
  proxy.set_black_hole(false);
  ASSERT_TRUE(test::run_until(
      *r, [&] { return got.has_value(); }, 10s));
  // Written: outcome_unknown, even though the caller said idempotent.
  EXPECT_EQ(got->error(), make_error_code(errc::outcome_unknown));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return c.connection().reconnects() == 1 && c.ready(); }, 10s));
  test::run_coroutine(*r, [&]() -> task<> { EXPECT_EQ(*co_await c.exec(cmd::incr{"after"}), 1); });
  EXPECT_EQ(server.command({"GET", "a"}), "$-1\r\n");  // never resent
  EXPECT_EQ(server.command({"GET", "b"}), "$-1\r\n");
}

TEST(Transaction, CutAfterMultisReplyItRanOnceAndCompletesWithOutcomeUnknown) {
  test::redis_server server;
  test::fault_proxy proxy{server.host(), server.port()};
  auto r = make_reactor();
  client c{*r, test::config_through(proxy)};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });

  // The server runs the whole batch; the client reads "+OK\r\n" (MULTI's) and the connection
  // dies: EXEC did run, and the caller must hear that it may have.
  proxy.cut_after(5, test::direction::server_to_client);
  using results = transaction<cmd::incr>::results;
  std::optional<result<results>> got;
  c.exec(transaction{cmd::incr{"ran"}}, [&got](result<results> v) { got.emplace(std::move(v)); });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return got.has_value(); }, 10s));
  EXPECT_EQ(got->error(), make_error_code(errc::outcome_unknown));
  ASSERT_TRUE(test::run_until(
      *r, [&] { return c.connection().reconnects() == 1 && c.ready(); }, 10s));
  test::run_coroutine(*r, [&]() -> task<> { EXPECT_EQ(*co_await c.exec(cmd::incr{"after"}), 1); });
  EXPECT_EQ(server.command({"GET", "ran"}), bulk("1"));  // once: not resent
}

TEST(Transaction, ANeverWrittenTransactionIsSentAfterTheReconnect) {
  test::redis_server server;
  test::fault_proxy proxy{server.host(), server.port()};
  auto r = make_reactor();
  client c{*r, test::config_through(proxy)};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });

  // A send that cannot finish (the proxy holds its bytes and the TCP windows fill), so the
  // transaction behind it stays unwritten: one send at a time per connection.
  proxy.set_black_hole(true);
  const std::string big(32 << 20, 'x');
  std::optional<result<cmd::applied>> big_set;
  c.exec(cmd::set{"big", big}, [&](result<cmd::applied> v) { big_set.emplace(std::move(v)); });
  test::run_for(*r, 50ms);
  using results = transaction<cmd::incr, cmd::get>::results;
  std::optional<result<results>> got;
  c.exec(transaction{cmd::incr{"t"}, cmd::get{"t"}},
         [&got](result<results> v) { got.emplace(std::move(v)); });
  test::run_for(*r, 50ms);
  ASSERT_FALSE(c.connection().session().pipeline().unsent().empty())
      << "the transaction was written: the test cannot tell a resend";
  proxy.close_all(test::cut_mode::reset);
  proxy.set_black_hole(false);
  ASSERT_TRUE(test::run_until(
      *r, [&] { return got.has_value() && big_set.has_value(); }, 10s));
  EXPECT_EQ(big_set->error(), make_error_code(errc::outcome_unknown));
  ASSERT_TRUE(got->has_value()) << got->error().message();
  EXPECT_EQ(*std::get<0>(**got), 1);
  EXPECT_EQ(**std::get<1>(**got), "1");
  EXPECT_EQ(server.command({"GET", "t"}), bulk("1"));
}

TEST(Transaction, ATimedOutTransactionsRepliesAreAllDiscarded) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  conn.connect();
  ASSERT_TRUE(test::run_until(
      *r, [&] { return conn.ready(); }, 5s));
  using results = transaction<cmd::incr, cmd::incr>::results;
  std::optional<result<resp::reply>> slept;
  std::optional<result<results>> tx;
  std::optional<result<std::int64_t>> after;
  // The server sleeps; the transaction behind the sleep times out while it waits.
  conn.exec(cmd::raw<>{"DEBUG", "SLEEP", "0.3"},
            [&](result<resp::reply> v) { slept.emplace(std::move(v)); });
  conn.exec(transaction{cmd::incr{"x"}, cmd::incr{"x"}},
            [&](result<results> v) { tx.emplace(std::move(v)); }, {.timeout = 100ms});
  conn.exec(cmd::incr{"x"}, [&](result<std::int64_t> v) { after.emplace(v); });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return tx.has_value(); }, 5s));
  EXPECT_EQ(tx->error(), make_error_code(errc::timeout));
  EXPECT_FALSE(slept.has_value());
  ASSERT_TRUE(test::run_until(
      *r, [&] { return after.has_value(); }, 5s));
  // Its four replies were read and dropped: the INCR behind it gets its own, after the
  // transaction's two increments ran on the server.
  EXPECT_EQ(**after, 3);
  EXPECT_TRUE(slept.has_value());
  EXPECT_EQ(conn.pending(), 0u);
}

TEST(Transaction, TheCallbackApi) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  conn.connect();
  ASSERT_TRUE(test::run_until(
      *r, [&] { return conn.ready(); }, 5s));
  using results = transaction<cmd::incr, cmd::get>::results;
  std::vector<result<results>> seen;
  for (int i = 0; i < 3; ++i)
    conn.exec(transaction{cmd::incr{"c"}, cmd::get{"c"}},
              [&seen](result<results> v) { seen.push_back(std::move(v)); });
  using aborted = transaction<cmd::raw<>, cmd::incr>::results;
  std::optional<result<aborted>> abort;
  conn.exec(transaction{cmd::raw<>{"NOSUCHCOMMAND"}, cmd::incr{"c"}},
            [&abort](result<aborted> v) { abort.emplace(std::move(v)); });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return seen.size() == 3 && abort; }, 5s));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(seen[i].has_value());
    EXPECT_EQ(*std::get<0>(*seen[i]), i + 1);
    EXPECT_EQ(**std::get<1>(*seen[i]), std::to_string(i + 1));
  }
  ASSERT_TRUE(abort->has_server_error());
  EXPECT_EQ(abort->server_error().kind, server_error_kind::execabort);
  EXPECT_NE(abort->server_error().message.find("[command 1: ERR unknown command"),
            std::string::npos)
      << abort->server_error().message;
}

TEST(Transaction, TheBlockingClientReturnsTheResultsOrThrows) {
  test::redis_server server;
  blocking_client c{server.url()};
  const auto [n, text] = c.exec(transaction{cmd::incr{"b"}, cmd::get{"b"}});
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(**text, "1");
  EXPECT_THROW(c.exec(transaction{cmd::raw<>{"NOSUCHCOMMAND"}}), exec_abort_error);
  EXPECT_EQ(*std::get<0>(c.exec(transaction{cmd::incr{"b"}})), 2);  // still in step
}

TEST(Transaction, SteadyStateAllocatesNothing) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });
  using results = transaction<cmd::incr, cmd::incrby>::results;
  int done = 0, wrong = 0;
  auto round = [&] {
    const int target = done + 64;
    for (int i = 0; i < 64; ++i)
      c.exec(transaction{cmd::incr{"a"}, cmd::incrby{"b", 2}}, [&](result<results> v) {
        if (!v || !std::get<0>(*v) || !std::get<1>(*v)) ++wrong;
        ++done;
      });
    r->run_until([&] { return done == target; });
  };
  auto coroutine_round = [&]() -> task<> {
    for (int i = 0; i < 16; ++i) {
      const auto v = co_await c.exec(transaction{cmd::incr{"a"}, cmd::incrby{"b", 2}});
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
  EXPECT_EQ(server.command({"GET", "a"}), bulk(std::to_string(24 * (64 + 16))));
}

}  // namespace
}  // namespace uredis
