// The callback API end to end: a real redis-server, a real io_uring reactor.

#include "uredis/client/connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support/canned_server.hpp"
#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_server.hpp"
#include "allocation_counter.hpp"
#include "uredis/cmd/lists.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/reactor/resolver.hpp"

namespace uredis {
namespace {

using test::config_for;
using test::make_reactor;

// Minimal command descriptors for this test (the typed ones live in include/uredis/cmd/).
template <class Response>
struct raw2 {
  std::string_view a, b = {}, c = {};
  using response = Response;
  void encode(resp::encoder& e) const {
    if (b.empty())
      e.command(a);
    else if (c.empty())
      e.command(a, b);
    else
      e.command(a, b, c);
  }
  static constexpr bool keyless = true;  // any command: its keys are not known
};
struct set_cmd {
  std::string_view key, value;
  using response = std::string;
  void encode(resp::encoder& e) const { e.command("SET", key, value); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};
struct incr_cmd {
  std::string_view key;
  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("INCR", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

// Connects and runs the reactor until the handshake ends; returns how it ended.
result<void> connect(reactor::reactor& r, connection& c) {
  std::optional<result<void>> outcome;
  c.connect([&](const result<void>& o) { outcome = o; });
  r.run_until([&] { return outcome.has_value(); });
  return *outcome;
}

TEST(Connection, SetGetPingOverResp3) {
  test::redis_server server;
  auto r = make_reactor();
  connection c{*r, config_for(server)};
  ASSERT_TRUE(connect(*r, c).has_value());
  EXPECT_EQ(c.protocol(), 3);

  std::vector<std::string> seen;
  c.exec(set_cmd{"k", "v\r\n1"}, [&](result<std::string> v) { seen.push_back(*v); });
  c.exec(raw2<std::optional<std::string>>{"GET", "k"},
         [&](result<std::optional<std::string>> v) { seen.push_back(v->value()); });
  c.exec(raw2<std::string>{"PING", ""}, [&](result<std::string> v) { seen.push_back(*v); });
  r->run_until([&] { return seen.size() == 3; });
  EXPECT_EQ(seen, (std::vector<std::string>{"OK", "v\r\n1", "PONG"}));
  EXPECT_EQ(c.pending(), 0u);
}

TEST(Connection, CommandsIssuedWhileConnectingWaitForTheHandshake) {
  test::redis_server server;
  auto r = make_reactor();
  auto cfg = config_for(server);
  cfg.db = 3;  // the held commands must run after SELECT
  connection c{*r, cfg};
  std::vector<std::int64_t> counts;
  bool connected = false;
  c.connect([&](const result<void>& o) { connected = o.has_value(); });
  for (int i = 0; i < 5; ++i)
    c.exec(incr_cmd{"held"}, [&](result<std::int64_t> v) { counts.push_back(*v); });
  r->run_until([&] { return counts.size() == 5; });
  EXPECT_TRUE(connected);
  EXPECT_EQ(counts, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(server.command({"SELECT", "3"}), "+OK\r\n");
  // The raw helper connection is in db 0: the key must not be there.
  EXPECT_EQ(server.command({"EXISTS", "held"}), ":0\r\n");
}

TEST(Connection, ManyPipelinedIncrsArriveInOrder) {
  test::redis_server server;
  auto r = make_reactor();
  connection c{*r, config_for(server)};
  ASSERT_TRUE(connect(*r, c).has_value());
  constexpr std::int64_t n = 200'000;
  std::int64_t expected = 1;
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < n; ++i)
    c.exec(incr_cmd{"counter"}, [&](result<std::int64_t> v) {
      if (!v || *v != expected) ++wrong;
      ++expected;
    });
  r->run_until([&] { return expected == n + 1; });
  EXPECT_EQ(wrong, 0);
}

TEST(Connection, Resp2WhenAsked) {
  test::redis_server server;
  auto r = make_reactor();
  auto cfg = config_for(server);
  cfg.protocol = resp_version::resp2;
  connection c{*r, cfg};
  ASSERT_TRUE(connect(*r, c).has_value());
  EXPECT_EQ(c.protocol(), 2);
  std::optional<std::string> got;
  c.exec(raw2<std::string>{"ECHO", "two"}, [&](result<std::string> v) { got = *v; });
  r->run_until([&] { return got.has_value(); });
  EXPECT_EQ(*got, "two");
}

// PING's answer (or why there is none), running the reactor until it comes.
std::string ping(reactor::reactor& r, connection& c) {
  std::optional<result<std::string>> got;
  c.exec(raw2<std::string>{"PING", ""}, [&](result<std::string> v) { got = std::move(v); });
  r.run_until([&] { return got.has_value(); });
  return *got ? **got : got->error().message();
}

TEST(Connection, Ipv6Loopback) {
  test::redis_server server{{.args = {"--bind", "127.0.0.1", "::1"}}};
  auto r = make_reactor();
  auto cfg = config_for(server);
  cfg.host = "::1";
  connection c{*r, cfg};
  ASSERT_TRUE(connect(*r, c).has_value());
  EXPECT_EQ(ping(*r, c), "PONG");
}

TEST(Connection, UnixSocket) {
  test::redis_server server;
  auto r = make_reactor();
  connection_config cfg;
  cfg.unix_socket = server.unix_socket();
  connection c{*r, cfg};
  ASSERT_TRUE(connect(*r, c).has_value());
  EXPECT_EQ(ping(*r, c), "PONG");
}

TEST(Connection, ServerErrorsAreValues) {
  test::redis_server server;
  auto r = make_reactor();
  connection c{*r, config_for(server)};
  ASSERT_TRUE(connect(*r, c).has_value());
  std::vector<result<std::int64_t>> got;
  c.exec(set_cmd{"s", "text"}, [](result<std::string>) {});
  c.exec(incr_cmd{"s"}, [&](result<std::int64_t> v) { got.push_back(std::move(v)); });
  c.exec(incr_cmd{"n"}, [&](result<std::int64_t> v) { got.push_back(std::move(v)); });
  r->run_until([&] { return got.size() == 2; });
  ASSERT_TRUE(got[0].has_server_error());
  EXPECT_EQ(got[0].server_error().kind, server_error_kind::err);
  EXPECT_EQ(*got[1], 1);
  EXPECT_TRUE(c.ready());
}

TEST(Connection, WrongPasswordFailsTheConnectAndTheWaitingCommands) {
  test::redis_server server{{.args = {"--requirepass", "right"}}};
  auto r = make_reactor();
  auto cfg = config_for(server);
  cfg.password = "wrong";
  connection c{*r, cfg};
  std::optional<result<void>> outcome;
  std::optional<result<std::int64_t>> command;
  c.connect([&](const result<void>& o) { outcome = o; });
  c.exec(incr_cmd{"x"}, [&](result<std::int64_t> v) { command = std::move(v); });
  r->run_until([&] { return outcome.has_value() && command.has_value(); });
  ASSERT_TRUE(outcome->has_server_error());
  EXPECT_EQ(outcome->server_error().kind, server_error_kind::wrongpass);
  EXPECT_EQ(command->error(), make_error_code(errc::handshake_failed));
  EXPECT_EQ(c.state(), connection_state::closed);
}

TEST(Connection, RefusedConnect) {
  auto r = make_reactor();
  connection_config cfg;
  cfg.port = test::free_loopback_port();
  connection c{*r, cfg};
  const result<void> o = connect(*r, c);
  ASSERT_TRUE(o.has_error());
  EXPECT_EQ(o.error(), make_error_code(errc::connection_refused));
}

TEST(Connection, AnAddressThatCannotBeUsedStillCallsBack) {
  auto r = make_reactor();
  connection_config cfg;
  cfg.unix_socket = "/tmp/" + std::string(200, 'x');  // longer than sun_path
  connection c{*r, cfg};
  std::optional<result<void>> outcome;
  std::optional<result<std::int64_t>> command;
  c.connect([&](const result<void>& o) { outcome = o; });
  c.exec(incr_cmd{"x"}, [&](result<std::int64_t> v) { command = std::move(v); });
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->error(), std::make_error_code(std::errc::filename_too_long));
  ASSERT_TRUE(command.has_value());
  EXPECT_EQ(command->error(), make_error_code(errc::not_connected));
  EXPECT_EQ(c.state(), connection_state::closed);
}

TEST(Connection, MissingUnixSocketIsRefused) {
  auto r = make_reactor();
  connection_config cfg;
  cfg.unix_socket = "/tmp/uredis-no-such-socket";
  connection c{*r, cfg};
  const result<void> o = connect(*r, c);
  ASSERT_TRUE(o.has_error());
  EXPECT_EQ(o.error(), make_error_code(errc::connection_refused));
}

TEST(Connection, ReconnectFromTheFailureCallback) {
  test::redis_server server;
  auto r = make_reactor();
  connection c{*r, config_for(server)};
  ASSERT_TRUE(connect(*r, c).has_value());
  int reconnected = 0;
  std::optional<std::int64_t> after;
  c.exec(incr_cmd{"k"}, [&](result<std::int64_t> v) {
    ASSERT_TRUE(v.has_error());
    c.connect([&](const result<void>& o) { reconnected += o.has_value(); });
    c.exec(incr_cmd{"k"}, [&](result<std::int64_t> w) { after = *w; });
  });
  c.close();
  r->run_until([&] { return after.has_value(); });
  EXPECT_EQ(reconnected, 1);
  EXPECT_EQ(*after, 1);  // the first INCR never reached the server
}

TEST(Connection, ExecWithoutConnectingFailsAtOnce) {
  auto r = make_reactor();
  connection c{*r, connection_config{}};
  std::optional<result<std::int64_t>> got;
  c.exec(incr_cmd{"x"}, [&](result<std::int64_t> v) { got = std::move(v); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->error(), make_error_code(errc::not_connected));
}

TEST(Connection, ServerKilledMidPipelineFailsEveryCommandOnce) {
  test::redis_server server;
  auto r = make_reactor();
  connection_config cfg = config_for(server);
  cfg.retry = retry::retry_policy::never();  // the fault tests cover reconnecting
  connection c{*r, cfg};
  ASSERT_TRUE(connect(*r, c).has_value());
  // DEBUG SLEEP holds the replies back while the server dies.
  int ok = 0, failed = 0;
  c.exec(raw2<std::string>{"PING", ""}, [&](result<std::string> v) { v ? ++ok : ++failed; });
  r->run_until([&] { return ok == 1; });
  c.exec(raw2<std::string>{"DEBUG", "SLEEP", "5"},
         [&](result<std::string> v) { v ? ++ok : ++failed; });
  for (int i = 0; i < 1000; ++i)
    c.exec(incr_cmd{"k"}, [&](result<std::int64_t> v) { v ? ++ok : ++failed; });
  r->poll();  // the commands are on their way
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.kill();
  });
  r->run_until([&] { return ok + failed == 1002; });
  killer.join();
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(failed, 1001);
  EXPECT_EQ(c.state(), connection_state::closed);
  EXPECT_EQ(c.pending(), 0u);
}

TEST(Connection, ARepliesBeforeItsRequestWasSentIsAProtocolError) {
  // RESP2, no auth: the handshake is CLIENT SETINFO x2 and PING. The canned server sends
  // everything at once, so ":1" arrives before the INCRs queued behind the handshake were sent:
  // no real server answers a request it has not read.
  test::canned_server server{"+OK\r\n+OK\r\n+PONG\r\n:1\r\n"};
  auto r = make_reactor();
  connection_config cfg;
  cfg.port = server.port();
  cfg.protocol = resp_version::resp2;
  cfg.retry = retry::retry_policy::never();
  connection c{*r, cfg};
  std::vector<result<std::int64_t>> got;
  c.connect();
  for (int i = 0; i < 3; ++i)
    c.exec(incr_cmd{"x"}, [&](result<std::int64_t> v) { got.push_back(std::move(v)); });
  r->run_until([&] { return got.size() == 3; });
  for (const auto& v : got)
    EXPECT_EQ(v.error(), make_error_code(errc::unexpected_reply));
  EXPECT_EQ(c.state(), connection_state::closed);
  EXPECT_EQ(r->events().stats().protocol_error, 1u);
}

TEST(Connection, SteadyStateAllocatesNothingPerCommand) {
  test::redis_server server;
  auto r = make_reactor();
  connection c{*r, config_for(server)};
  ASSERT_TRUE(connect(*r, c).has_value());
  std::int64_t last = 0;
  int done = 0;
  auto round = [&] {
    const int target = done + 256;
    for (int i = 0; i < 256; ++i)
      c.exec(incr_cmd{"a"}, [&last, &done](result<std::int64_t> v) {
        last = *v;
        ++done;
      });
    r->run_until([&] { return done == target; });
  };
  for (int i = 0; i < 4; ++i)
    round();  // warm: buffers and the FIFO reach their size
  const dev::allocation_scope scope;
  for (int i = 0; i < 40; ++i)
    round();
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(last, 44 * 256);
}

// --- Deadlines ---

TEST(Connection, BlockingCommandsGetTheirServerTimeoutPlusAMargin) {
  test::redis_server server;
  auto r = make_reactor();
  connection_config cfg = config_for(server);
  cfg.command_timeout = std::chrono::milliseconds(50);  // shorter than the BLPOP's wait
  connection c{*r, cfg};
  ASSERT_TRUE(connect(*r, c).has_value());
  std::optional<result<std::optional<std::pair<std::string, std::string>>>> popped;
  const auto start = std::chrono::steady_clock::now();
  c.exec(cmd::blpop{"empty", std::chrono::milliseconds(300)},
         [&](result<std::optional<std::pair<std::string, std::string>>> v) { popped = v; });
  r->run_until([&] { return popped.has_value(); });
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(popped->has_value()) << popped->error().message();
  EXPECT_FALSE(popped->value().has_value());  // the server's own timeout: a nil reply
  EXPECT_GE(waited, std::chrono::milliseconds(290));

  // And a non-blocking command still gets the default.
  std::optional<result<std::string>> slept;
  c.exec(raw2<std::string>{"DEBUG", "SLEEP", "0.3"}, [&](result<std::string> v) { slept = v; });
  r->run_until([&] { return slept.has_value(); });
  EXPECT_EQ(slept->error(), make_error_code(errc::timeout));
}

TEST(Connection, PerCommandTimeoutOverridesTheDefault) {
  test::redis_server server;
  auto r = make_reactor();
  connection_config cfg = config_for(server);
  cfg.command_timeout = std::chrono::milliseconds(20);
  connection c{*r, cfg};
  ASSERT_TRUE(connect(*r, c).has_value());
  std::optional<result<std::string>> slept;
  std::optional<result<std::optional<std::string>>> after;
  c.exec(raw2<std::string>{"DEBUG", "SLEEP", "0.1"}, [&](result<std::string> v) { slept = v; },
         {.timeout = std::chrono::milliseconds(2000)});
  c.exec(raw2<std::optional<std::string>>{"GET", "nothing"},
         [&](result<std::optional<std::string>> v) { after = v; },
         {.timeout = std::chrono::milliseconds(0)});  // none
  r->run_until([&] { return after.has_value(); });
  ASSERT_TRUE(slept->has_value());
  EXPECT_EQ(**slept, "OK");
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ(r->events().stats().command_timed_out, 0u);
}

// ---- Features plug in: handshake steps, and pushes routed to hooks ----

// What the cache will do: turn tracking on in every handshake.
struct tracking_on final : proto::handshake_step {
  std::size_t write(resp::encoder& out, const proto::handshake_params&,
                    proto::resp_version) override {
    out.command("CLIENT", "TRACKING", "ON");
    return 1;
  }
  result<void> on_node(const resp::node& n, std::size_t) override {
    if (resp::is_error(n.type)) return server_error::parse(n.value);
    return {};
  }
};

// What pub/sub will do: subscribe again in every handshake. The confirmation is a push (RESP3),
// so the step waits for the PING behind it.
struct subscribe_news final : proto::handshake_step {
  std::size_t write(resp::encoder& out, const proto::handshake_params&,
                    proto::resp_version) override {
    out.command("SUBSCRIBE", "news");
    out.command("PING");
    return 1;
  }
  result<void> on_node(const resp::node&, std::size_t) override { return {}; }
};

struct push_log final : proto::invalidation_hook, proto::subscription_hook {
  std::vector<std::string> seen;
  void on_invalidate(std::string_view key) override {
    seen.push_back("invalidate " + std::string(key));
  }
  void on_invalidate_all() override { seen.push_back("invalidate all"); }
  void on_message(const proto::pubsub_message& m) override {
    seen.push_back(std::string(m.channel) + ": " + std::string(m.payload));
  }
  void on_subscription(const proto::subscription_change& c) override {
    seen.push_back("subscribed " + std::string(c.channel) + " " + std::to_string(c.count));
  }
};

TEST(Connection, HandshakeStepsAndPushHooksSurviveAReconnect) {
  test::redis_server server;
  auto r = make_reactor();
  connection c{*r, config_for(server)};
  tracking_on tracking;
  subscribe_news news;
  push_log log;
  c.add_handshake_step(tracking);
  c.add_handshake_step(news);
  c.pushes().set_invalidation_hook(&log);
  c.pushes().set_subscription_hook(&log);
  ASSERT_TRUE(connect(*r, c).has_value());
  EXPECT_EQ(log.seen, std::vector<std::string>{"subscribed news 1"});

  for (int round = 0; round < 2; ++round) {
    log.seen.clear();
    std::optional<result<std::optional<std::string>>> got;
    c.exec(cmd::get{"k"}, [&](result<std::optional<std::string>> v) { got = std::move(v); });
    r->run_until([&] { return got.has_value(); });  // the server now tracks k for us
    server.command({"SET", "k", "changed"});
    server.command({"PUBLISH", "news", "hello"});
    r->run_until([&] { return log.seen.size() == 2; });
    EXPECT_EQ(log.seen, (std::vector<std::string>{"invalidate k", "news: hello"})) << round;

    if (round == 0) {  // the connection is killed: both steps run again on the new one
      log.seen.clear();
      server.command({"CLIENT", "KILL", "TYPE", "pubsub"});
      r->run_until([&] { return c.reconnects() == 1 && !log.seen.empty(); });
      EXPECT_EQ(log.seen, std::vector<std::string>{"subscribed news 1"});
    }
  }
}

TEST(Connection, APushNoHookTakesIsAnEvent) {
  test::redis_server server;
  auto r = make_reactor();
  connection c{*r, config_for(server)};
  subscribe_news news;  // subscribed, with no subscription hook set
  c.add_handshake_step(news);
  std::vector<std::string> events;
  event::listener<event::push_received> on_push(r->events(), [&](const event::push_received& e) {
    std::string s(e.kind);
    for (std::string_view x : e.elements)
      s += " " + std::string(x);
    events.push_back(s);
  });
  ASSERT_TRUE(connect(*r, c).has_value());
  server.command({"PUBLISH", "news", "hi"});
  r->run_until([&] { return events.size() == 2; });
  EXPECT_EQ(events, (std::vector<std::string>{"subscribe news 1", "message news hi"}));
}

// Asking for TLS must never fall back to plaintext (AUTH in the clear): the first bytes on
// the wire are a TLS ClientHello, and a peer that hangs up on it fails the connect.
TEST(Connection, RedissNeverFallsBackToPlaintext) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  auto config = parse_url("rediss://:secret@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) +
                          "?ssl_cert_reqs=none");
  ASSERT_TRUE(config.has_value());
  EXPECT_TRUE(config->tls);
  config->retry_first_connect = false;

  auto r = make_reactor();
  connection c{*r, *config};
  std::optional<result<void>> outcome;
  c.connect([&](const result<void>& o) { outcome = o; });
  int peer = -1;
  ASSERT_TRUE(test::run_until(
      *r,
      [&] {
        if (peer < 0) peer = ::accept(listener, nullptr, nullptr);  // asked once more at the end
        return peer >= 0;
      },
      std::chrono::seconds(5)));
  std::string received;
  ASSERT_TRUE(test::run_until(
      *r,
      [&] {
        char chunk[4096];
        const ssize_t n = ::recv(peer, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n > 0) received.append(chunk, static_cast<std::size_t>(n));
        return received.size() >= 5;
      },
      std::chrono::seconds(5)));
  EXPECT_EQ(received[0], '\x16') << "a TLS handshake record";
  EXPECT_EQ(received.find("secret"), std::string::npos);
  EXPECT_EQ(received.find("AUTH"), std::string::npos);
  ::close(peer);
  ASSERT_TRUE(test::run_until(
      *r, [&] { return outcome.has_value(); }, std::chrono::seconds(5)));
  ASSERT_TRUE(outcome->has_error());
  // A close mid-handshake is a dropped connection (retried when the policy allows), not a
  // TLS refusal: a server that refuses TLS says so with an alert or plaintext bytes.
  EXPECT_TRUE(outcome->error() == make_error_code(errc::connection_closed) ||
              outcome->error() == make_error_code(errc::connection_reset))
      << outcome->error().message();
  ::close(listener);
}

// A DNS server the test controls: a lookup of "slow.test" blocks until the test opens the gate
// (or 5 s pass), then answers with the test server's address. Shared with the worker thread.
struct gated_dns {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  bool in_lookup = false;
  std::atomic<int> lookups = 0;  // read by the test without the lock
  io::socket_address answer;

  result<io::socket_address> lookup(std::string_view host) {
    std::unique_lock lock(m);
    ++lookups;
    if (host != "slow.test") return make_error_code(std::errc::address_not_available);
    in_lookup = true;
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return open; });
    in_lookup = false;
    return answer;
  }
  void let_go() {
    const std::lock_guard lock(m);
    open = true;
    cv.notify_all();
  }
  bool blocked() {
    const std::lock_guard lock(m);
    return in_lookup;
  }
};

// Makes `r` look names up through a gated_dns, whose answer for slow.test is `server`'s address.
std::shared_ptr<gated_dns> use_gated_dns(reactor::reactor& r,
                                         const test::redis_server* server = nullptr) {
  auto dns = std::make_shared<gated_dns>();
  if (server != nullptr) dns->answer = *io::resolve(server->host(), server->port());
  r.set_name_resolver(std::make_unique<reactor::resolver>(
      r, [dns](std::string_view host, std::uint16_t) { return dns->lookup(host); }));
  return dns;
}

TEST(ConnectionLookup, ASlowResolverStallsNothingElseOnTheShard) {
  test::redis_server server;
  auto r = make_reactor();
  auto dns = use_gated_dns(*r, &server);

  connection_config slow_config = config_for(server);
  slow_config.host = "slow.test";
  connection slow{*r, slow_config};
  std::optional<result<void>> slow_outcome;
  slow.connect([&](const result<void>& o) { slow_outcome = o; });
  EXPECT_FALSE(slow_outcome.has_value()) << "a name is never looked up inside connect()";
  for (int i = 0; i < 4000 && !dns->blocked(); ++i)  // until the worker starts the lookup
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(dns->blocked());

  // While the lookup is blocked on the worker, another connection on this shard connects and
  // runs a thousand commands. Had the lookup run on the loop, it would have returned (after 5 s)
  // before any of this, and in_lookup would be false.
  connection fast{*r, config_for(server)};
  ASSERT_TRUE(connect(*r, fast).has_value());
  int pongs = 0;
  for (int i = 0; i < 1000; ++i)
    fast.exec(raw2<std::string>{"PING"},
              [&](result<std::string> v) { pongs += v && *v == "PONG"; });
  r->run_until([&] { return pongs == 1000; });
  const bool still_blocked = dns->blocked();
  EXPECT_TRUE(still_blocked) << "the lookup is still running, off the loop (lookups: "
                             << dns->lookups.load() << ")";
  EXPECT_FALSE(slow_outcome.has_value());

  dns->let_go();
  r->run_until([&] { return slow_outcome.has_value(); });
  ASSERT_TRUE(slow_outcome->has_value()) << slow_outcome->error().message();
  std::optional<std::string> pong;
  slow.exec(raw2<std::string>{"PING"}, [&](result<std::string> v) { pong = *v; });
  r->run_until([&] { return pong.has_value(); });
  EXPECT_EQ(*pong, "PONG");
  EXPECT_EQ(dns->lookups.load(), 1);
}

TEST(ConnectionLookup, AFailedLookupFailsTheConnectWithItsError) {
  auto r = make_reactor();
  auto dns = use_gated_dns(*r);
  connection_config config;
  config.host = "nowhere.test";
  config.port = 6379;
  config.retry = retry::retry_policy::never();
  connection c{*r, config};
  std::optional<result<void>> outcome;
  c.connect([&](const result<void>& o) { outcome = o; });
  bool answered = false;
  c.exec(raw2<std::string>{"PING"}, [&](result<std::string> v) {
    answered = true;
    EXPECT_EQ(v.error(), std::errc::address_not_available) << "a command waiting for the connect";
  });
  r->run_until([&] { return outcome.has_value() && answered; });
  ASSERT_TRUE(outcome->has_error());
  EXPECT_EQ(outcome->error(), std::errc::address_not_available);
}

TEST(ConnectionLookup, TheConnectTimeoutCoversTheLookupAndCancelsIt) {
  auto r = make_reactor();
  auto dns = use_gated_dns(*r);
  connection_config config;
  config.host = "slow.test";
  config.port = 6379;
  config.connect_timeout = std::chrono::milliseconds(100);
  config.retry = retry::retry_policy::never();
  connection c{*r, config};
  const result<void> outcome = connect(*r, c);
  ASSERT_TRUE(outcome.has_error());
  EXPECT_EQ(outcome.error(), make_error_code(errc::timeout));
  EXPECT_TRUE(dns->blocked()) << "the timeout did not wait for the lookup";
  EXPECT_EQ(dns->lookups.load(), 1);
  dns->let_go();
  // The late answer is dropped: the connection stays closed and nothing connects.
  for (int i = 0; i < 20 && dns->blocked(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (int i = 0; i < 5; ++i)
    r->poll();
  EXPECT_EQ(c.state(), connection_state::closed);
}

TEST(ConnectionLookup, ClosingOrDestroyingDuringALookupIsSafe) {
  test::redis_server server;
  auto r = make_reactor();
  auto dns = use_gated_dns(*r, &server);
  connection_config config = config_for(server);
  config.host = "slow.test";

  connection closed{*r, config};
  std::optional<result<void>> outcome;
  closed.connect([&](const result<void>& o) { outcome = o; });
  closed.close();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->error(), make_error_code(errc::connection_closed));

  int gone_answers = 0;
  {
    connection gone{*r, config};
    gone.connect([&](const result<void>& o) {
      ++gone_answers;
      EXPECT_EQ(o.error(), make_error_code(errc::connection_closed));
    });
  }
  EXPECT_EQ(gone_answers, 1) << "answered once, when destroyed";
  dns->let_go();
  for (int i = 0; i < 1000 && (dns->lookups.load() < 2 || dns->blocked()); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(dns->lookups.load(), 2);
  for (int i = 0; i < 5; ++i)
    r->poll();
  EXPECT_EQ(closed.state(), connection_state::closed);
  const std::string clients = server.command({"CLIENT", "LIST"});
  std::size_t connected = 0;
  for (std::size_t at = clients.find("id="); at != std::string::npos;
       at = clients.find("id=", at + 1))
    ++connected;
  EXPECT_EQ(connected, 1u) << "only the test's own: neither late answer opened a connection\n"
                           << clients;
}

TEST(ConnectionLookup, EveryReconnectLooksTheNameUpAgain) {
  auto server = std::make_unique<test::redis_server>();
  auto r = make_reactor();
  auto dns = use_gated_dns(*r, server.get());
  dns->let_go();
  connection_config config = config_for(*server);
  config.host = "slow.test";
  connection c{*r, config};
  ASSERT_TRUE(connect(*r, c).has_value());
  EXPECT_EQ(dns->lookups.load(), 1);
  c.close();
  ASSERT_TRUE(connect(*r, c).has_value());
  EXPECT_EQ(dns->lookups.load(), 2);
}

}  // namespace
}  // namespace uredis
