// The session with no server and no kernel: byte strings for the server, a manual clock for
// time, and the actions it asks for checked one by one. Each fault of the fault matrix
// (tests/client/fault_matrix_test.cpp, against real servers) has its row here, in the same
// order, so a failure in the I/O-free logic shows up here first and deterministically.

#include "uredis/proto/session.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "allocation_counter.hpp"
#include "uredis/cmd/lists.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/subscriptions.hpp"
#include "uredis/util/clock.hpp"

namespace uredis::proto {
namespace {

using namespace std::chrono_literals;
using time_point = session::time_point;

// The server's side of a handshake with default settings (RESP3, no credentials): HELLO's map,
// two refusals of CLIENT SETINFO (Redis 7.0), PONG.
const std::string hello_replies =
    "%2\r\n$5\r\nproto\r\n:3\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
    "-ERR unknown subcommand 'SETINFO'\r\n-ERR unknown subcommand 'SETINFO'\r\n+PONG\r\n";

std::string get_bytes(std::string_view key) {
  return "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + std::string(key) + "\r\n";
}
std::string incr_bytes(std::string_view key) {
  return "*2\r\n$4\r\nINCR\r\n$" + std::to_string(key.size()) + "\r\n" + std::string(key) + "\r\n";
}

// What one command ended with: its value ("v", "7", "(nil)"), or its error's message.
using outcome_log = std::vector<std::string>;

template <class T>
std::string describe(const result<T>& r) {
  if (r.has_error()) return "error:" + r.error().message();
  if (r.has_server_error()) return "server:" + r.server_error().message;
  if constexpr (std::is_same_v<T, std::optional<std::string>>) {
    return r.value() ? *r.value() : "(nil)";
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(r.value());
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    std::string joined;
    for (const std::string& v : r.value())
      joined += (joined.empty() ? "" : ",") + v;
    return joined;
  } else {
    return "value";
  }
}

// A session, its clock and events, and a pretend transport that takes every byte at once.
struct harness {
  util::manual_clock clock{time_point{} + 1h};
  event::dispatcher events;
  session_config config;
  std::optional<session> s;
  std::string wire;  // every byte the session handed to the "transport", in order
  std::vector<std::optional<result<void>>> connects;

  harness() {
    config.retry = retry::retry_policy(retry::backoff::constant(10ms), 5);
    config.health_check_interval = 0ms;
  }

  session& start() {
    s.emplace(config, clock, events);
    s->connect([this](const result<void>& r) { connects.emplace_back(r); });
    return *s;
  }

  /// The actions the session asks for now.
  session::actions actions() { return s->take_actions(); }

  /// Sends whatever the session wants sent, as a socket that takes it all would.
  std::string flush() {
    std::string out;
    while (s->wants_send()) {
      out += s->begin_send();
      s->end_send();
    }
    wire += out;
    return out;
  }

  /// The transport opened; the handshake goes out and its replies come back.
  void open_and_handshake(std::string_view replies = hello_replies) {
    const session::actions a = actions();
    ASSERT_TRUE(a.open_transport);
    s->on_connected();
    const std::string hello = flush();
    ASSERT_TRUE(hello.starts_with("*2\r\n$5\r\nHELLO\r\n")) << hello;
    s->on_data(replies);
  }

  /// The backoff (10 ms) passes and the session reconnects: a new transport and handshake.
  void reconnect() {
    advance(10ms);
    open_and_handshake();
  }

  session& ready() {
    start();
    open_and_handshake();
    EXPECT_EQ(s->state(), session_state::ready);
    return *s;
  }

  /// Moves the clock and runs every deadline that became due.
  void advance(std::chrono::milliseconds d) {
    const time_point until = clock.now() + d;
    while (s->next_deadline() <= until) {
      clock.set(std::max(clock.now(), s->next_deadline()));
      s->on_timer();
    }
    clock.set(until);
  }

  template <class Command>
  session::enqueued exec(const Command& c, outcome_log& log, exec_options options = {}) {
    using response = typename Command::response;
    auto record = [&log](result<response> r) { log.push_back(describe(r)); };
    return s->enqueue(c, callback_handler<response, decltype(record)>{record}, options);
  }

  const event::stats& stats() const { return events.stats(); }
};

const std::string reset = std::error_code(make_error_code(errc::connection_reset)).message();
const std::string unknown = "error:" + make_error_code(errc::outcome_unknown).message();

// ---- Set-up ----

TEST(Session, ConnectsThroughTheHandshakeAndAsksForNothingMore) {
  harness h;
  session& s = h.start();
  EXPECT_EQ(s.state(), session_state::connecting);
  EXPECT_FALSE(s.wants_send()) << "nothing goes out before the transport is open";
  EXPECT_TRUE(h.actions().open_transport);
  s.on_connected();
  EXPECT_EQ(s.state(), session_state::handshaking);
  EXPECT_EQ(h.flush().substr(0, 17), "*2\r\n$5\r\nHELLO\r\n$1");
  s.on_data(hello_replies);
  EXPECT_EQ(s.state(), session_state::ready);
  EXPECT_EQ(s.protocol(), 3);
  ASSERT_EQ(h.connects.size(), 1u);
  EXPECT_TRUE(h.connects[0]->has_value());
  EXPECT_EQ(h.stats().connected, 1u);
  const session::actions a = h.actions();
  EXPECT_FALSE(a.close_transport);
  EXPECT_FALSE(a.open_transport);
  EXPECT_EQ(s.next_deadline(), time_point::max());
}

// A server without HELLO: the first handshake falls back to RESP2; the reconnect asks for RESP2
// at once, sending no HELLO the server is known to refuse.
TEST(Session, AReconnectAsksForTheProtocolTheServerSpoke) {
  harness h;
  h.start();
  ASSERT_TRUE(h.actions().open_transport);
  h.s->on_connected();
  EXPECT_TRUE(h.flush().starts_with("*2\r\n$5\r\nHELLO\r\n"));
  // HELLO refused, then the first batch's replies (skipped), then the RESP2 batch's.
  h.s->on_data("-ERR unknown command 'HELLO'\r\n-ERR no\r\n-ERR no\r\n+PONG\r\n");
  h.flush();
  h.s->on_data("-ERR no\r\n-ERR no\r\n+PONG\r\n");
  ASSERT_TRUE(h.s->ready());
  EXPECT_EQ(h.s->protocol(), 2);

  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  h.advance(10ms);
  ASSERT_TRUE(h.actions().open_transport);
  h.s->on_connected();
  const std::string handshake = h.flush();
  EXPECT_EQ(handshake.find("HELLO"), std::string::npos) << handshake;
  h.s->on_data("-ERR no\r\n-ERR no\r\n+PONG\r\n");
  EXPECT_TRUE(h.s->ready());
  EXPECT_EQ(h.s->protocol(), 2);
}

TEST(Session, CommandsIssuedWhileConnectingGoOutRightBehindTheHandshake) {
  harness h;
  outcome_log log;
  h.start();
  h.exec(cmd::get{"k"}, log);
  h.open_and_handshake();
  EXPECT_EQ(h.flush(), get_bytes("k"));
  h.s->on_data("$1\r\nv\r\n");
  EXPECT_EQ(log, outcome_log{"v"});
}

TEST(Session, IdleOrClosedRefusesCommandsAtOnce) {
  harness h;
  h.s.emplace(h.config, h.clock, h.events);
  outcome_log log;
  h.exec(cmd::get{"k"}, log);
  EXPECT_EQ(log, outcome_log{"error:" + make_error_code(errc::not_connected).message()});
}

TEST(Session, EnqueueSaysWhenTheShellMustLookAgain) {
  harness h;
  h.s.emplace(h.config, h.clock, h.events);
  outcome_log log;
  EXPECT_EQ(h.exec(cmd::get{"k"}, log), session::enqueued::refused);
  h.ready();
  EXPECT_EQ(h.exec(cmd::get{"k"}, log), session::enqueued::queued) << "no deadline";
  EXPECT_EQ(h.exec(cmd::get{"k"}, log, {.timeout = 100ms}), session::enqueued::queued_new_deadline);
  EXPECT_EQ(h.s->next_deadline(), h.clock.now() + 100ms);
  EXPECT_EQ(h.exec(cmd::get{"k"}, log, {.timeout = 200ms}), session::enqueued::queued)
      << "a later deadline leaves next_deadline() alone";
  EXPECT_EQ(h.exec(cmd::get{"k"}, log, {.timeout = 50ms}), session::enqueued::queued_new_deadline);
  EXPECT_EQ(h.s->next_deadline(), h.clock.now() + 50ms);
}

TEST(Session, TheSetupDeadlineBoundsConnectAndHandshake) {
  harness h;
  h.config.connect_timeout = 100ms;
  h.config.retry = retry::retry_policy::never();
  session& s = h.start();
  EXPECT_EQ(s.next_deadline(), h.clock.now() + 100ms);
  (void)h.actions();
  s.on_connected();
  h.flush();  // the server accepts and never answers
  h.advance(99ms);
  EXPECT_EQ(s.state(), session_state::handshaking);
  h.advance(1ms);
  EXPECT_EQ(s.state(), session_state::closed);
  ASSERT_EQ(h.connects.size(), 1u);
  EXPECT_EQ(h.connects[0]->error(), make_error_code(errc::timeout));
  EXPECT_TRUE(h.actions().close_transport);
}

TEST(Session, ARefusedHandshakeIsNotRetried) {
  harness h;
  h.start();
  h.open_and_handshake("-WRONGPASS invalid username-password pair\r\n");
  EXPECT_EQ(h.s->state(), session_state::closed);
  ASSERT_EQ(h.connects.size(), 1u);
  ASSERT_TRUE(h.connects[0]->has_server_error());
  EXPECT_EQ(h.connects[0]->server_error().kind, server_error_kind::wrongpass);
  EXPECT_EQ(h.stats().handshake_failed, 1u);
  EXPECT_EQ(h.stats().reconnect_scheduled, 0u);
}

TEST(Session, ABadMessageMidHandshakeFailsIt) {
  harness h;
  h.config.retry = retry::retry_policy::never();
  h.start();
  h.open_and_handshake("!!garbage\r\n");
  EXPECT_EQ(h.s->state(), session_state::closed);
  EXPECT_TRUE(is_protocol_error(h.connects.at(0)->error()));
}

// ---- Credentials from a provider ----

// A provider that answers when the test says so.
class later_provider final : public auth::credentials_provider {
 public:
  void fetch(auth::credentials_request& r) override {
    ++fetches;
    waiting = &r;
  }
  void answer(std::string user, std::string password) {
    auth::credentials_request* r = std::exchange(waiting, nullptr);
    r->answer({std::move(user), std::move(password)});
  }
  auth::credentials_request* waiting = nullptr;
  int fetches = 0;
};

TEST(Session, CredentialsThatArriveAfterTheSocketStartTheHandshakeThen) {
  harness h;
  later_provider provider;
  h.s.emplace(h.config, h.clock, h.events);
  h.s->set_credentials_provider(&provider);
  h.s->connect();
  EXPECT_EQ(provider.fetches, 1);
  (void)h.actions();
  h.s->on_connected();
  EXPECT_EQ(h.flush(), "") << "no handshake before the credentials";
  provider.answer("alice", "apw");
  const std::string hello = h.flush();
  EXPECT_TRUE(
      hello.starts_with("*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$3\r\napw"))
      << hello;
  h.s->on_data(hello_replies);
  EXPECT_TRUE(h.s->ready());

  // Asked again on every reconnect.
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  h.advance(10ms);
  EXPECT_EQ(provider.fetches, 2);
}

TEST(Session, AProviderThatFailsFailsTheAttempt) {
  harness h;
  h.config.retry = retry::retry_policy::never();
  later_provider provider;
  h.s.emplace(h.config, h.clock, h.events);
  h.s->set_credentials_provider(&provider);
  h.s->connect([&](const result<void>& r) { h.connects.emplace_back(r); });
  provider.waiting->fail(make_error_code(errc::not_connected));
  EXPECT_EQ(h.s->state(), session_state::closed);
  EXPECT_EQ(h.connects.at(0)->error(), make_error_code(errc::not_connected));
  EXPECT_FALSE(h.actions().open_transport) << "an open not carried out is taken back";
}

TEST(Session, AnAnswerAfterTheAttemptWasAbandonedIsIgnored) {
  harness h;
  later_provider provider;
  h.s.emplace(h.config, h.clock, h.events);
  h.s->set_credentials_provider(&provider);
  h.s->connect();
  auth::credentials_request* stale = provider.waiting;
  h.s->close();
  EXPECT_FALSE(stale->pending());
  stale->answer({"late", "pw"});  // nothing happens
  EXPECT_EQ(h.s->state(), session_state::closed);
}

// ---- Input read in place ----

TEST(Session, RepliesCutAtEveryByteStillMatchTheirCommands) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::get{"a"}, log);
  h.exec(cmd::incr{"n"}, log);
  h.exec(cmd::get{"b"}, log);
  h.flush();
  const std::string replies = "$5\r\nhello\r\n:42\r\n$-1\r\n";
  for (const char c : replies)
    h.s->on_data(std::string_view(&c, 1));
  EXPECT_EQ(log, (outcome_log{"hello", "42", "(nil)"}));
}

TEST(Session, OnlyANodeCutByTheEndOfAReadIsCopied) {
  harness h;
  h.ready();
  outcome_log log;
  for (int i = 0; i < 3; ++i)
    h.exec(cmd::get{"k"}, log);
  h.flush();
  std::string read1 = "$3\r\none\r\n$3\r\ntw";
  std::string read2 = "o\r\n$5\r\nthree\r\n";
  h.s->on_data(read1);
  EXPECT_EQ(log, outcome_log{"one"});
  read1.assign(read1.size(), '#');  // the transport reuses its buffer
  h.s->on_data(read2);
  EXPECT_EQ(log, (outcome_log{"one", "two", "three"}));
}

TEST(Session, ALargeReplyArrivesOverManyReads) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::get{"big"}, log);
  h.exec(cmd::get{"small"}, log);
  h.flush();
  const std::string value(100000, 'x');
  const std::string replies = "$100000\r\n" + value + "\r\n$1\r\ns\r\n";
  for (std::size_t at = 0; at < replies.size(); at += 4096)
    h.s->on_data(std::string_view(replies).substr(at, 4096));
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], value);
  EXPECT_EQ(log[1], "s");
}

// ---- The fault matrix, row by row ----

// 1. The server dies mid-pipeline (SIGKILL) and comes back.
TEST(SessionFaults, ServerKilledMidPipelineAndRestarted) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::get{"r1"}, log);
  h.exec(cmd::incr{"w1"}, log);
  h.exec(cmd::get{"r2"}, log);
  h.exec(cmd::incr{"w2"}, log);
  h.flush();
  h.s->on_data("$1\r\na\r\n");  // r1 answered, the rest lost with the server
  h.s->on_transport_failed(make_error_code(errc::connection_reset));

  EXPECT_EQ(h.s->state(), session_state::reconnecting);
  EXPECT_TRUE(h.actions().close_transport);
  EXPECT_EQ(h.stats().disconnected, 1u);
  EXPECT_EQ(h.stats().reconnect_scheduled, 1u);
  EXPECT_EQ(h.stats().command_retried, 1u);              // r2
  EXPECT_EQ(log, (outcome_log{"a", unknown, unknown}));  // written writes may have run

  outcome_log later;
  h.exec(cmd::incr{"w3"}, later);  // waits for the next socket
  h.advance(9ms);
  EXPECT_FALSE(h.actions().open_transport);
  h.advance(1ms);  // the backoff
  h.open_and_handshake();
  EXPECT_EQ(h.flush(), get_bytes("r2") + incr_bytes("w3")) << "kept and new, in order";
  h.s->on_data("$1\r\nb\r\n:1\r\n");
  EXPECT_EQ(log, (outcome_log{"a", unknown, unknown, "b"}));
  EXPECT_EQ(later, outcome_log{"1"});
  EXPECT_EQ(h.stats().reconnected, 1u);
  EXPECT_EQ(h.s->reconnects(), 1u);
}

// 2. CLIENT KILL: the server closes the connection (EOF).
TEST(SessionFaults, ClientKilledMidPipeline) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::get{"r"}, log);
  h.exec(cmd::incr{"w"}, log, {.idempotent = true});  // the caller's word: safe to resend
  h.flush();
  h.s->on_transport_failed(make_error_code(errc::connection_closed));
  h.reconnect();
  EXPECT_EQ(h.flush(), get_bytes("r") + incr_bytes("w"));
  h.s->on_data("$1\r\nv\r\n:5\r\n");
  EXPECT_EQ(log, (outcome_log{"v", "5"}));
  EXPECT_EQ(h.stats().command_retried, 2u);
}

// A batch that gets several replies (a transaction), as the session sees one: its bytes, its
// reply count, and whether it is bound to its socket (sent after WATCH).
struct batch_command {
  std::string_view bytes;
  std::uint32_t reply_count = 3;
  bool bound = false;

  void encode(resp::encoder& e) const { e.buffer().append(bytes); }
  std::uint32_t replies() const { return reply_count; }
  bool bound_to_socket() const { return bound; }
};

// Logs "nodes:N" when all its replies came, or "error:..." when it failed.
struct batch_logger {
  outcome_log* log;
  void on_complete(const reply_outcome& o) { log->push_back("error:" + o.error.message()); }
  struct active {
    explicit active(batch_logger&& q) noexcept : log(q.log) {}
    outcome_log* log;
    int nodes = 0;
    void on_node(const resp::node&) { ++nodes; }
    void on_complete(const reply_outcome& o) {
      log->push_back(o.error ? "error:" + o.error.message() : "nodes:" + std::to_string(nodes));
    }
  };
};

const std::string tx_bytes = "*1\r\n$5\r\nMULTI\r\n" + incr_bytes("t") + "*1\r\n$4\r\nEXEC\r\n";

TEST(SessionFaults, ABatchIsReadWholeAndJudgedAsOneCommandNamedMulti) {
  harness h;
  h.ready();
  outcome_log log;
  h.s->enqueue(batch_command{tx_bytes}, batch_logger{&log}, {.idempotent = false});
  EXPECT_EQ(h.flush(), tx_bytes);
  h.s->on_data("+OK\r\n+QUEUED\r\n*1\r\n:1\r\n");
  EXPECT_EQ(log, (outcome_log{"nodes:4"}));

  // Written when the socket dies: MULTI is no read, so it may have run.
  h.s->enqueue(batch_command{tx_bytes}, batch_logger{&log});
  h.flush();
  // Never written: kept, and sent whole behind the next handshake.
  h.s->enqueue(batch_command{tx_bytes}, batch_logger{&log});
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  EXPECT_EQ(log.back(), unknown);
  h.reconnect();
  EXPECT_EQ(h.flush(), tx_bytes);
  h.s->on_data("+OK\r\n+QUEUED\r\n*1\r\n:2\r\n");
  EXPECT_EQ(log.back(), "nodes:4");
}

TEST(SessionFaults, ABatchBoundToItsSocketIsNeverKeptForAnother) {
  harness h;
  h.ready();
  outcome_log log;
  h.s->enqueue(batch_command{tx_bytes, 3, true}, batch_logger{&log}, {.idempotent = true});
  h.flush();
  h.s->enqueue(batch_command{tx_bytes, 3, true}, batch_logger{&log});
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  EXPECT_EQ(log, (outcome_log{unknown, "error:" + make_error_code(errc::watch_lost).message()}));
  h.reconnect();
  EXPECT_EQ(h.flush(), "");  // nothing of theirs on the new socket
}

// 2b. The reply to a command had begun when the socket died: it cannot start over.
TEST(SessionFaults, ReplyCutMidway) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::lrange{"l", 0, -1}, log);
  h.exec(cmd::get{"g"}, log);
  h.flush();
  h.s->on_data("*3\r\n$1\r\na\r\n");
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0], "error:" + reset);
  h.reconnect();
  EXPECT_EQ(h.flush(), get_bytes("g"));
}

// 3. DEBUG SLEEP past the deadlines: timeouts at once, late replies discarded.
TEST(SessionFaults, DebugSleepPastTheDeadline) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::get{"slow"}, log, {.timeout = 100ms});
  h.exec(cmd::get{"also"}, log, {.timeout = 100ms});
  h.exec(cmd::get{"patient"}, log);
  h.flush();
  EXPECT_EQ(h.s->next_deadline(), h.clock.now() + 100ms);
  h.advance(100ms);
  const std::string timeout = "error:" + make_error_code(errc::timeout).message();
  EXPECT_EQ(log, (outcome_log{timeout, timeout}));
  EXPECT_EQ(h.stats().command_timed_out, 2u);
  EXPECT_EQ(h.s->pending(), 3u) << "tombstones wait for their late replies";
  h.s->on_data("$4\r\nlate\r\n$4\r\nlate\r\n$2\r\nok\r\n");
  EXPECT_EQ(log, (outcome_log{timeout, timeout, "ok"}));
  EXPECT_EQ(h.stats().disconnected, 0u) << "a timeout does not recycle the connection";
}

// 4. The server stays down longer than the retry budget.
TEST(SessionFaults, ServerDownLongerThanTheRetryBudget) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::incr{"w"}, log);
  h.flush();
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  outcome_log waiting;
  h.exec(cmd::incr{"x"}, waiting);
  for (int attempt = 0; attempt < 5; ++attempt) {
    h.advance(10ms);
    ASSERT_TRUE(h.actions().open_transport) << attempt;
    h.s->on_transport_failed(make_error_code(errc::connection_refused));
  }
  EXPECT_EQ(h.s->state(), session_state::closed);
  EXPECT_EQ(h.stats().reconnect_scheduled, 5u);
  EXPECT_EQ(h.stats().retries_exhausted, 1u);
  EXPECT_EQ(log, outcome_log{unknown});
  EXPECT_EQ(waiting, outcome_log{"error:" + make_error_code(errc::connection_refused).message()});
  outcome_log after;
  h.exec(cmd::get{"k"}, after);
  EXPECT_EQ(after, outcome_log{"error:" + make_error_code(errc::not_connected).message()});
  // connect() works again once it has given up.
  h.s->connect();
  h.open_and_handshake();
  EXPECT_TRUE(h.s->ready());
}

// 5. Through a proxy that delays: short deadlines expire, long ones are met.
TEST(SessionFaults, AddedDelay) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::get{"a"}, log, {.timeout = 50ms});
  h.exec(cmd::get{"b"}, log, {.timeout = 500ms});
  h.flush();
  h.advance(150ms);
  h.s->on_data("$1\r\na\r\n$1\r\nb\r\n");
  EXPECT_EQ(log, (outcome_log{"error:" + make_error_code(errc::timeout).message(), "b"}));
}

// 6. The connection is cut while a request is being written: written writes are uncertain,
// reads are resent, what was never handed over is resent as it is.
TEST(SessionFaults, CutMidRequest) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::incr{"w"}, log);
  h.exec(cmd::get{"r"}, log);
  const std::string_view in_flight = h.s->begin_send();  // handed over, never completed
  EXPECT_EQ(in_flight, incr_bytes("w") + get_bytes("r"));
  h.exec(cmd::incr{"u"}, log);  // never handed over
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  EXPECT_EQ(log, outcome_log{unknown});
  h.reconnect();
  EXPECT_EQ(h.flush(), get_bytes("r") + incr_bytes("u"));
}

// 7. A corrupted byte in a reply: a protocol error recycles the connection; what was written
// gets the error, what was not is resent.
TEST(SessionFaults, CorruptedReplyByte) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::get{"a"}, log);
  h.exec(cmd::get{"b"}, log);
  h.flush();
  h.exec(cmd::get{"c"}, log);  // not yet sent
  h.s->on_data("$1\r\na\r\n?corrupt\r\n");
  EXPECT_EQ(h.stats().protocol_error, 1u);
  EXPECT_TRUE(h.actions().close_transport);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], "a");
  EXPECT_TRUE(log[1].starts_with("error:")) << log[1];
  h.reconnect();
  EXPECT_EQ(h.flush(), get_bytes("c"));
}

// 8. A reply nobody asked for is a protocol error too.
TEST(SessionFaults, AReplyNobodyAskedForRecyclesTheConnection) {
  harness h;
  h.ready();
  h.s->on_data("+surprise\r\n");
  EXPECT_EQ(h.stats().protocol_error, 1u);
  EXPECT_EQ(h.s->state(), session_state::reconnecting);
}

// 9. A black hole: nothing comes back. The health check finds it.
TEST(SessionFaults, BlackHoleFailsTheHealthCheck) {
  harness h;
  h.config.health_check_interval = 100ms;
  h.ready();
  h.advance(100ms);  // something arrived since the last check: the handshake's replies
  EXPECT_EQ(h.flush(), "");
  h.advance(100ms);  // silent and idle: PING
  EXPECT_EQ(h.flush(), "*1\r\n$4\r\nPING\r\n");
  h.advance(100ms);  // unanswered
  h.advance(1ms);
  EXPECT_EQ(h.stats().health_check_failed, 1u);
  EXPECT_EQ(h.s->state(), session_state::reconnecting);
  EXPECT_TRUE(h.actions().close_transport);
}

TEST(SessionFaults, AnAnsweredHealthCheckKeepsTheConnection) {
  harness h;
  h.config.health_check_interval = 100ms;
  h.ready();
  int pings = 0;
  for (int i = 0; i < 10; ++i) {
    h.advance(100ms);
    if (h.flush() == "*1\r\n$4\r\nPING\r\n") {
      ++pings;
      h.s->on_data("+PONG\r\n");
    }
  }
  EXPECT_EQ(pings, 5) << "every other interval: a PONG counts as traffic for the next one";
  EXPECT_EQ(h.stats().health_check_failed, 0u);
  EXPECT_TRUE(h.s->ready());
}

TEST(SessionFaults, HealthCheckLeavesABlockingCommandAlone) {
  harness h;
  h.config.health_check_interval = 100ms;
  h.ready();
  outcome_log log;
  h.exec(cmd::blpop{"q", 0s}, log);  // blocks forever on purpose: no deadline
  h.flush();
  h.advance(1000ms);
  EXPECT_EQ(h.flush(), "") << "no PING while a command is pending";
  EXPECT_TRUE(h.s->ready());
}

// A command that timed out keeps its place until its reply comes (a tombstone, pipeline.hpp);
// in a black hole it never comes. Tombstones are not pending commands: the health check still
// runs, and recycles the socket, instead of every later command timing out on it for as long as
// the kernel keeps retransmitting.
TEST(SessionFaults, TimedOutCommandsDoNotSilenceTheHealthCheck) {
  harness h;
  h.config.health_check_interval = 100ms;
  h.ready();
  outcome_log log;
  h.exec(cmd::get{"k"}, log, {.timeout = 50ms});
  EXPECT_NE(h.flush(), "");
  h.advance(50ms);
  ASSERT_EQ(log.size(), 1u) << "timed out";
  h.advance(50ms);  // the handshake's replies count as traffic for this first interval
  EXPECT_EQ(h.flush(), "");
  h.advance(100ms);  // silent, with nothing but a tombstone: PING
  EXPECT_EQ(h.flush(), "*1\r\n$4\r\nPING\r\n");
  h.advance(100ms);
  h.advance(1ms);
  EXPECT_EQ(h.stats().health_check_failed, 1u);
  EXPECT_EQ(h.s->state(), session_state::reconnecting);
}

// 10. Refused while reconnecting, then back.
TEST(SessionFaults, RefusedWhileReconnecting) {
  harness h;
  h.ready();
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  outcome_log log;
  for (int i = 0; i < 4; ++i)
    h.exec(cmd::get{"k"}, log);
  for (int attempt = 0; attempt < 3; ++attempt) {
    h.advance(10ms);
    ASSERT_TRUE(h.actions().open_transport);
    h.s->on_transport_failed(make_error_code(errc::connection_refused));
  }
  h.reconnect();
  h.flush();
  h.s->on_data("$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n");
  EXPECT_EQ(log, (outcome_log{"v", "v", "v", "v"}));
  EXPECT_EQ(h.stats().reconnect_scheduled, 4u);
}

// 11. A restarted server still loading its dataset: the handshake's PING says so, and the
// session waits it out instead of passing LOADING to user commands.
TEST(SessionFaults, ReconnectWhileTheServerLoadsWaitsItOut) {
  harness h;
  h.ready();
  outcome_log log;
  h.exec(cmd::get{"k"}, log);
  h.flush();
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  h.advance(10ms);
  const std::string loading =
      "%1\r\n$5\r\nproto\r\n:3\r\n-ERR x\r\n-ERR x\r\n-LOADING Redis is loading\r\n";
  h.open_and_handshake(loading);
  EXPECT_EQ(h.s->state(), session_state::reconnecting);
  EXPECT_TRUE(log.empty()) << "the GET waits";
  h.reconnect();
  EXPECT_EQ(h.flush(), get_bytes("k"));
}

// 12. The bounded queue while reconnecting, and deadlines while queued.
TEST(SessionFaults, BoundedQueueWhileReconnecting) {
  harness h;
  h.config.max_queued_while_disconnected = 3;
  h.ready();
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  outcome_log log;
  h.exec(cmd::incr{"a"}, log);
  h.exec(cmd::incr{"b"}, log, {.timeout = 5ms});
  h.exec(cmd::incr{"c"}, log);
  h.exec(cmd::incr{"d"}, log);  // one too many
  EXPECT_EQ(log, outcome_log{"error:" + make_error_code(errc::queue_full).message()});
  h.advance(5ms);  // b expires while waiting: it will never be sent
  EXPECT_EQ(log.back(), "error:" + make_error_code(errc::timeout).message());
  h.advance(5ms);
  h.open_and_handshake();
  EXPECT_EQ(h.flush(), incr_bytes("a") + incr_bytes("c"));
}

TEST(SessionFaults, DeadlinesHoldWhileReconnecting) {
  harness h;
  h.config.retry = retry::retry_policy(retry::backoff::constant(1000ms), 5);
  h.ready();
  outcome_log log;
  h.exec(cmd::incr{"n"}, log, {.timeout = 50ms});
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  h.advance(50ms);
  EXPECT_EQ(log, outcome_log{"error:" + make_error_code(errc::timeout).message()});
  h.advance(1000ms);
  h.open_and_handshake();
  EXPECT_EQ(h.flush(), "") << "the expired INCR never runs";
}

// The default (retry_first_connect unset) is connection's and client's: the policy covers the
// first connect too.
TEST(SessionFaults, FirstConnectIsRetried) {
  harness h;
  ASSERT_FALSE(h.config.retry_first_connect.has_value());
  h.start();
  ASSERT_TRUE(h.actions().open_transport);
  h.s->on_transport_failed(make_error_code(errc::connection_refused));
  EXPECT_TRUE(h.connects.empty()) << "the callback waits for the outcome";
  h.reconnect();
  ASSERT_EQ(h.connects.size(), 1u);
  EXPECT_TRUE(h.connects[0]->has_value());
  EXPECT_EQ(h.stats().connected, 1u);
  EXPECT_EQ(h.stats().reconnected, 0u);
}

// Counts the failures the retry policy is asked about (its fail hook).
void count_failure(void* context, const retry::failure&) noexcept {
  ++*static_cast<int*>(context);
}

// retry_first_connect = false (blocking_client's default, uredis-cli's, uredis-bench's): the
// first connect's first failure ends it, with that error, and the policy is not asked.
TEST(SessionFaults, FirstConnectFailsAtOnceWhenNotToBeRetried) {
  harness h;
  int consulted = 0;
  h.config.retry.on_failure(&count_failure, &consulted);
  h.config.retry_first_connect = false;
  h.start();
  ASSERT_TRUE(h.actions().open_transport);
  outcome_log log;
  h.exec(cmd::get{"k"}, log);  // waiting for the connect
  h.s->on_transport_failed(make_error_code(errc::connection_refused));
  ASSERT_EQ(h.connects.size(), 1u);
  ASSERT_TRUE(h.connects[0]->has_error());
  EXPECT_EQ(h.connects[0]->error(), make_error_code(errc::connection_refused));
  EXPECT_EQ(log, outcome_log{"error:" + make_error_code(errc::connection_refused).message()});
  EXPECT_EQ(h.s->state(), session_state::closed);
  EXPECT_EQ(consulted, 0);
  EXPECT_EQ(h.stats().reconnect_scheduled, 0u);
  EXPECT_EQ(h.stats().retries_exhausted, 0u);
  h.advance(1000ms);
  EXPECT_FALSE(h.actions().open_transport) << "no attempt after giving up";

  // A connect() by hand before any success is a first connect again; so is a setup timeout.
  h.s->connect([&h](const result<void>& r) { h.connects.emplace_back(r); });
  ASSERT_TRUE(h.actions().open_transport);
  h.s->on_connected();
  h.advance(h.config.connect_timeout);
  ASSERT_EQ(h.connects.size(), 2u);
  EXPECT_EQ(h.connects[1]->error(), make_error_code(errc::timeout));
  EXPECT_EQ(h.s->state(), session_state::closed);
  EXPECT_EQ(consulted, 0);
}

// After a first success the policy applies, whatever retry_first_connect says: a lost socket is
// reconnected, and so is a later connect() by hand.
TEST(SessionFaults, AfterAFirstSuccessTheRetryPolicyApplies) {
  harness h;
  int consulted = 0;
  h.config.retry.on_failure(&count_failure, &consulted);
  h.config.retry_first_connect = false;
  h.ready();
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  EXPECT_EQ(h.s->state(), session_state::reconnecting);
  EXPECT_EQ(consulted, 1);
  h.advance(10ms);
  ASSERT_TRUE(h.actions().open_transport);
  h.s->on_transport_failed(make_error_code(errc::connection_refused));
  EXPECT_EQ(h.s->state(), session_state::reconnecting) << "a refused reconnect is retried";
  h.reconnect();
  EXPECT_TRUE(h.s->ready());
  EXPECT_EQ(h.stats().reconnected, 1u);

  h.s->close();
  h.s->connect([&h](const result<void>& r) { h.connects.emplace_back(r); });
  ASSERT_TRUE(h.actions().open_transport);
  h.s->on_transport_failed(make_error_code(errc::connection_refused));
  EXPECT_EQ(h.s->state(), session_state::reconnecting);
  h.reconnect();
  ASSERT_EQ(h.connects.size(), 2u);
  EXPECT_TRUE(h.connects[1]->has_value());
}

TEST(SessionFaults, AConnectByHandAfterThePolicyGaveUpIsReportedAsConnected) {
  harness h;
  h.config.retry = retry::retry_policy(retry::backoff::constant(10ms), 1);
  h.ready();
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  h.advance(10ms);
  ASSERT_TRUE(h.actions().open_transport);
  h.s->on_transport_failed(make_error_code(errc::connection_refused));
  ASSERT_EQ(h.s->state(), session_state::closed);
  h.s->connect();
  h.open_and_handshake();
  ASSERT_TRUE(h.s->ready());
  EXPECT_EQ(h.stats().connected, 2u);
  EXPECT_EQ(h.stats().reconnected, 0u);
  EXPECT_EQ(h.s->reconnects(), 1u) << "still a new socket: a WATCH taken before is gone";
  // The policy healing a lost socket is still a reconnect.
  std::uint32_t attempts = 0;
  event::listener<event::reconnected> count(
      h.events, [&](const event::reconnected& e) { attempts = e.attempts; });
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  h.reconnect();
  EXPECT_EQ(h.stats().reconnected, 1u);
  EXPECT_EQ(attempts, 1u) << "the first reconnect worked";
  EXPECT_EQ(h.stats().connected, 2u);
}

TEST(SessionFaults, CloseFromACallbackWhileReconnecting) {
  harness h;
  h.ready();
  outcome_log log;
  bool closed = false;
  auto close_on_failure = [&](result<std::int64_t> r) {
    log.push_back(describe(r));
    if (!closed) {
      closed = true;
      h.s->close();
    }
  };
  h.s->enqueue(cmd::incr{"w"},
               callback_handler<std::int64_t, decltype(close_on_failure)>{close_on_failure});
  h.exec(cmd::get{"r"}, log);
  h.flush();
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  EXPECT_EQ(h.s->state(), session_state::closed);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], unknown);
  EXPECT_EQ(log[1], "error:" + make_error_code(errc::connection_closed).message());
  h.advance(1000ms);
  EXPECT_FALSE(h.actions().open_transport) << "no reconnect after close()";
}

TEST(SessionFaults, AListenerThatClosesTheSessionStopsTheReconnect) {
  harness h;
  h.ready();
  event::listener<event::disconnected> closer(h.events,
                                              [&](const event::disconnected&) { h.s->close(); });
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  EXPECT_EQ(h.s->state(), session_state::closed);
  EXPECT_EQ(h.stats().reconnect_scheduled, 0u);
  EXPECT_EQ(h.stats().disconnected, 1u) << "reported once";
}

// 13. A whole retry cycle allocates nothing once warm.
TEST(SessionFaults, ARetryCycleAllocatesNothing) {
  harness h;
  h.ready();
  std::int64_t done = 0;
  auto count = [&done](result<std::optional<std::string>>) { ++done; };
  using handler = callback_handler<std::optional<std::string>, decltype(count)>;
  std::string replies;
  for (int i = 0; i < 64; ++i)
    replies += "$1\r\nv\r\n";
  auto cycle = [&] {
    for (int i = 0; i < 64; ++i)
      h.s->enqueue(cmd::get{"k"}, handler{count});
    h.s->begin_send();
    h.s->end_send();
    h.s->on_transport_failed(make_error_code(errc::connection_reset));
    (void)h.actions();
    h.advance(10ms);
    (void)h.actions();
    h.s->on_connected();
    while (h.s->wants_send()) {
      h.s->begin_send();
      h.s->end_send();
    }
    h.s->on_data(hello_replies);
    h.s->begin_send();
    h.s->end_send();
    h.s->on_data(replies);
  };
  cycle();
  cycle();
  const dev::allocation_scope scope;
  for (int i = 0; i < 20; ++i)
    cycle();
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(done, 22 * 64);
}

// ---- A subscriber on the session: confirmations, the RESP2 restriction, resubscribing ----

// The reply handler of a (un)subscribe: "confirmed" or what ended it.
struct confirmation_handler {
  outcome_log* log;
  void on_complete(const reply_outcome& o) {
    log->push_back(o.error ? "error:" + o.error.message() : "confirmed");
  }
  struct active {
    explicit active(confirmation_handler&& q) noexcept : log(q.log) {}
    outcome_log* log;
    void on_node(const resp::node&) {}
    void on_complete(const reply_outcome& o) {
      log->push_back(o.error_reply ? "refused:" + std::string(o.error_reply->value) : "reply");
    }
  };
};

std::string push3(std::string_view kind, std::string_view a, std::string_view b) {
  auto bulk = [](std::string_view v) {
    return "$" + std::to_string(v.size()) + "\r\n" + std::string(v) + "\r\n";
  };
  return ">3\r\n" + bulk(kind) + bulk(a) + bulk(b);
}

TEST(SessionSubscriber, ConfirmationsAnswerTheSubscribeAndTheHandshakeRestoresIt) {
  harness h;
  h.start();
  subscriptions subs{&h.events, h.s->id()};
  h.s->pushes().set_subscription_hook(&subs);
  h.s->add_handshake_step(subs);
  h.s->set_subscribed(true);
  std::vector<event::subscriptions_restored> restored;
  event::listener<event::subscriptions_restored> on_restored{
      h.events, [&](const event::subscriptions_restored& e) { restored.push_back(e); }};
  h.open_and_handshake();
  ASSERT_TRUE(h.s->ready());
  EXPECT_TRUE(restored.empty());  // nothing to restore on the first connect

  outcome_log got, log;
  subs.add(subscription_family::channel, "ch",
           [&](const pubsub_message& m) { got.push_back(std::string(m.payload)); });
  h.s->enqueue(subscription_command{subscription_family::channel, true, "ch"},
               confirmation_handler{&log});
  h.exec(cmd::get{"k"}, log);
  EXPECT_EQ(h.flush(), "*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n" + get_bytes("k"));
  // The confirmation is a push: it answers the SUBSCRIBE; GET's reply is GET's.
  h.s->on_data(">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" + push3("message", "ch", "m1") +
               "$1\r\nv\r\n");
  EXPECT_EQ(log, (outcome_log{"confirmed", "v"}));
  EXPECT_EQ(got, (outcome_log{"m1"}));

  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  h.advance(10ms);
  ASSERT_TRUE(h.actions().open_transport);
  h.s->on_connected();
  const std::string handshake = h.flush();
  EXPECT_NE(handshake.find("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n*1\r\n$4\r\nPING\r\n"),
            std::string::npos)
      << handshake;
  // HELLO, two SETINFO refusals, the confirmation, a message, the step's PONG, the last PONG.
  h.s->on_data("%1\r\n$5\r\nproto\r\n:3\r\n-ERR no\r\n-ERR no\r\n" +
               std::string(">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n") +
               push3("message", "ch", "m2") + "+PONG\r\n+PONG\r\n");
  ASSERT_TRUE(h.s->ready());
  ASSERT_EQ(restored.size(), 1u);
  EXPECT_EQ(restored[0].restored, 1u);
  EXPECT_EQ(got, (outcome_log{"m1", "m2"}));
}

TEST(SessionSubscriber, Resp2TakesOnlyThePubSubCommandsAndReadsTheirArraysAsPushes) {
  harness h;
  h.config.protocol = resp_version::resp2;
  h.start();
  subscriptions subs;
  h.s->pushes().set_subscription_hook(&subs);
  h.s->set_subscribed(true);
  ASSERT_TRUE(h.actions().open_transport);
  h.s->on_connected();
  h.flush();
  h.s->on_data("-ERR no\r\n-ERR no\r\n+PONG\r\n");
  ASSERT_TRUE(h.s->ready());
  EXPECT_TRUE(h.s->subscriber_only());

  outcome_log log, got;
  EXPECT_EQ(h.exec(cmd::get{"k"}, log), session::enqueued::refused);
  EXPECT_EQ(log, (outcome_log{"error:" + make_error_code(errc::subscriber_only).message()}));
  EXPECT_EQ(h.flush(), "");  // nothing was sent

  subs.add(subscription_family::channel, "ch",
           [&](const pubsub_message& m) { got.push_back(std::string(m.payload)); });
  h.s->enqueue(subscription_command{subscription_family::channel, true, "ch"},
               confirmation_handler{&log});
  h.flush();
  h.s->on_data(
      "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
      "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nm1\r\n");
  EXPECT_EQ(log.back(), "confirmed");
  EXPECT_EQ(got, (outcome_log{"m1"}));
  EXPECT_TRUE(h.s->ready());
}

// A subscriber arriving on a ready RESP2 connection with an LRANGE in flight: the server
// answers LRANGE before it subscribes, so LRANGE's array is LRANGE's even if it looks like a
// message.
TEST(SessionSubscriber, Resp2RepliesAlreadyDueStayRepliesWhenASubscriberArrives) {
  harness h;
  h.config.protocol = resp_version::resp2;
  h.start();
  h.s->on_connected();
  h.flush();
  h.s->on_data("-ERR no\r\n-ERR no\r\n+PONG\r\n");  // CLIENT SETINFO x2, PING
  ASSERT_TRUE(h.s->ready());
  outcome_log log, got;
  h.exec(cmd::lrange{"l"}, log);
  h.flush();

  subscriptions subs;
  h.s->pushes().set_subscription_hook(&subs);
  h.s->set_subscribed(true);
  subs.add(subscription_family::channel, "c",
           [&](const pubsub_message& m) { got.push_back(std::string(m.payload)); });
  h.s->enqueue(subscription_command{subscription_family::channel, true, "c"},
               confirmation_handler{&log});
  h.flush();
  h.s->on_data(
      "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n"
      "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
      "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\ny\r\n");
  EXPECT_EQ(log, (outcome_log{"message,c,x", "confirmed"}));
  EXPECT_EQ(got, (outcome_log{"y"}));
  EXPECT_TRUE(h.s->ready());
}

}  // namespace
}  // namespace uredis::proto
