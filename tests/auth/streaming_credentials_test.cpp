// streaming_credentials and the session's re-authentication, with no server: the provider's
// states (empty, valid, expired), secrets wiped, and the bytes a session sends when new
// credentials arrive — AUTH behind the pending commands, never inside a transaction's batch,
// deferred on a RESP2 subscriber, after the handshake when it arrives during one — and the
// events each outcome raises.

#include "uredis/auth/streaming_credentials.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "uredis/auth/secret.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/error.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/session.hpp"

namespace uredis::auth {
namespace {

using namespace std::chrono_literals;
using proto::session;
using proto::session_state;

// ---- The provider ----

struct answer_log {
  std::vector<std::string> seen;  // "user:password" or "error:<message>"
  credentials_request request{[this](const credentials* c, std::error_code why) {
    seen.push_back(c ? c->username + ":" + c->password : "error:" + why.message());
  }};
};

TEST(StreamingCredentials, AConnectWaitsForTheFirstCredentialsThenGetsThem) {
  streaming_credentials p;
  answer_log a;
  a.request.begin();
  p.fetch(a.request);
  EXPECT_TRUE(a.request.pending());
  EXPECT_TRUE(a.seen.empty());
  p.update({"app", "t1"});
  EXPECT_EQ(a.seen, (std::vector<std::string>{"app:t1"}));
  EXPECT_TRUE(p.valid());

  answer_log b;
  b.request.begin();
  p.fetch(b.request);  // answered at once now
  EXPECT_EQ(b.seen, (std::vector<std::string>{"app:t1"}));
}

TEST(StreamingCredentials, AfterExpiryConnectsFailAtOnceUntilTheNextUpdate) {
  streaming_credentials p({"app", "t1"});
  answer_log waiting;
  p.expire(make_error_code(errc::credentials_expired));
  EXPECT_FALSE(p.valid());
  waiting.request.begin();
  p.fetch(waiting.request);
  ASSERT_EQ(waiting.seen.size(), 1u);
  EXPECT_EQ(waiting.seen[0], "error:" + make_error_code(errc::credentials_expired).message());
  EXPECT_EQ(waiting.seen[0].find("t1"), std::string::npos);

  p.update({"app", "t2"});
  answer_log later;
  later.request.begin();
  p.fetch(later.request);
  EXPECT_EQ(later.seen, (std::vector<std::string>{"app:t2"}));
}

TEST(StreamingCredentials, ACancelledRequestLeavesTheProviderAndGetsNothing) {
  streaming_credentials p;
  answer_log a;
  a.request.begin();
  p.fetch(a.request);
  a.request.cancel();
  p.update({"app", "t1"});
  EXPECT_TRUE(a.seen.empty());
}

TEST(StreamingCredentials, ListenersHearEveryUpdateInOrderAndLeaveWhenDestroyed) {
  streaming_credentials p({"app", "t1"});
  std::vector<std::string> heard;
  std::optional<credentials_listener> one{
      std::in_place, [&](const credentials& c) { heard.push_back("one:" + c.password); }};
  credentials_listener two([&](const credentials& c) { heard.push_back("two:" + c.password); });
  p.watch(*one);
  p.watch(two);
  p.update({"app", "t2"});
  one.reset();
  p.update({"app", "t3"});
  EXPECT_EQ(heard, (std::vector<std::string>{"one:t2", "two:t2", "two:t3"}));
}

// ---- Secrets ----

TEST(StreamingCredentialsSecret, WipeZeroesTheWholeBufferNotOnlyTheSize) {
  std::string s(64, 'S');
  s.resize(3);  // the old tail is still in the buffer
  const char* data = s.data();
  const std::size_t capacity = s.capacity();
  wipe(s);
  EXPECT_TRUE(s.empty());
  ASSERT_EQ(s.data(), data) << "wiped in place, not reallocated";
  for (std::size_t i = 0; i < capacity; ++i)
    ASSERT_EQ(data[i], '\0') << i;
}

TEST(StreamingCredentialsSecret, ReplacingAPasswordLeavesNoTraceOfTheOldOne) {
  std::string s = "old-secret-that-is-long-enough-for-the-heap";
  const char* data = s.data();
  replace_secret(s, "new");
  ASSERT_EQ(s.data(), data);
  EXPECT_EQ(s, "new");
  const std::string_view whole(data, s.capacity());
  EXPECT_EQ(whole.find("old-secret"), std::string_view::npos);
  EXPECT_EQ(whole.find("enough"), std::string_view::npos);
}

// ---- The session's re-authentication, with byte strings for the server ----

const std::string hello_replies =
    "%2\r\n$5\r\nproto\r\n:3\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
    "-ERR unknown subcommand 'SETINFO'\r\n-ERR unknown subcommand 'SETINFO'\r\n+PONG\r\n";
const std::string resp2_auth_replies = "+OK\r\n-ERR no\r\n-ERR no\r\n+PONG\r\n";

std::string auth_bytes(std::string_view user, std::string_view password) {
  auto bulk = [](std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
  };
  return "*3\r\n" + bulk("AUTH") + bulk(user) + bulk(password);
}

// A transaction as the typed API sends it: one entry, MULTI ... EXEC encoded together.
struct incr_transaction {
  std::size_t replies() const noexcept { return 3; }
  void encode(resp::encoder& e) const {
    e.command("MULTI");
    e.command("INCR", "n");
    e.command("EXEC");
  }
};

// Takes every node of a batch's replies and records how it ended.
struct batch_handler {
  std::vector<std::string>* log;
  void on_complete(const proto::reply_outcome& o) { log->push_back(o.error ? "error" : "ok"); }
  struct active {
    explicit active(batch_handler&& b) noexcept : log(b.log) {}
    std::vector<std::string>* log;
    void on_node(const resp::node&) noexcept {}
    void on_complete(const proto::reply_outcome& o) { log->push_back(o.error ? "error" : "ok"); }
  };
};

struct harness {
  util::manual_clock clock{session::time_point{} + 1h};
  event::dispatcher events;
  proto::session_config config;
  streaming_credentials provider{{"app", "t1"}};
  std::optional<session> s;
  std::string wire;
  int output_hooks = 0;
  std::vector<std::string> outcomes;

  harness() {
    config.retry = retry::retry_policy(retry::backoff::constant(10ms), 5);
    config.health_check_interval = 0ms;
  }
  session& start() {
    s.emplace(config, clock, events);
    s->set_credentials_provider(&provider);
    s->set_output_hook([this] { ++output_hooks; });
    s->connect();
    return *s;
  }
  std::string flush() {
    std::string out;
    while (s->wants_send()) {
      out += s->begin_send();
      s->end_send();
    }
    wire += out;
    return out;
  }
  std::string open(std::string_view replies) {
    EXPECT_TRUE(s->take_actions().open_transport);
    s->on_connected();
    const std::string handshake = flush();
    s->on_data(replies);
    return handshake;
  }
  void ready() {
    start();
    open(config.protocol == proto::resp_version::resp2 ? resp2_auth_replies : hello_replies);
    ASSERT_TRUE(s->ready());
  }
  template <class Command>
  session::enqueued exec(const Command& c) {
    auto record = [this](result<typename Command::response> r) {
      outcomes.push_back(r.has_value() ? "ok" : r.has_error() ? r.error().message() : "server");
    };
    return s->enqueue(
        c, proto::callback_handler<typename Command::response, decltype(record)>{record});
  }
  const event::stats& stats() const { return events.stats(); }
};

TEST(StreamingCredentialsSession, NewCredentialsGoOutAsAuthBehindThePendingCommands) {
  harness h;
  h.ready();
  h.exec(cmd::get{"a"});
  const std::string first = h.flush();
  h.exec(cmd::get{"b"});  // queued, not yet sent
  h.provider.update({"app", "t2"});
  EXPECT_EQ(h.output_hooks, 1) << "the shell is told to flush";
  h.exec(cmd::get{"c"});
  const std::string rest = h.flush();
  const std::string get_b = "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n";
  const std::string get_c = "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n";
  EXPECT_EQ(rest, get_b + auth_bytes("app", "t2") + get_c);

  h.s->on_data("$1\r\n1\r\n$1\r\n2\r\n+OK\r\n$1\r\n3\r\n");
  EXPECT_EQ(h.outcomes, (std::vector<std::string>{"ok", "ok", "ok"})) << "nothing dropped";
  EXPECT_EQ(h.stats().reauthenticated, 1u);
  EXPECT_EQ(h.stats().reauth_failed, 0u);
  EXPECT_EQ(h.s->pending(), 0u);
}

TEST(StreamingCredentialsSession, ARefusalIsReportedAndTheConnectionGoesOn) {
  harness h;
  h.ready();
  std::error_code failed;
  event::listener<event::reauth_failed> on_failed(
      h.events, [&](const event::reauth_failed& e) { failed = e.error; });
  h.provider.update({"app", "bad"});
  EXPECT_EQ(h.flush(), auth_bytes("app", "bad"));
  h.exec(cmd::get{"a"});
  h.flush();
  h.s->on_data("-WRONGPASS invalid username-password pair or user is disabled.\r\n$1\r\n1\r\n");
  EXPECT_EQ(failed, make_error_code(errc::credentials_rejected));
  EXPECT_EQ(h.stats().reauth_failed, 1u);
  EXPECT_EQ(h.outcomes, (std::vector<std::string>{"ok"}));
  EXPECT_TRUE(h.s->ready());
}

TEST(StreamingCredentialsSession, AuthNeverLandsInsideATransaction) {
  harness h;
  h.ready();
  h.s->enqueue(incr_transaction{}, batch_handler{&h.outcomes});
  h.provider.update({"app", "t2"});
  const std::string sent = h.flush();
  const std::size_t exec = sent.find("EXEC");
  const std::size_t auth = sent.find("AUTH");
  ASSERT_NE(exec, std::string::npos);
  ASSERT_NE(auth, std::string::npos);
  EXPECT_GT(auth, exec) << sent;
  h.s->on_data("+OK\r\n+QUEUED\r\n*1\r\n:1\r\n+OK\r\n");
  EXPECT_EQ(h.outcomes, (std::vector<std::string>{"ok"}));
  EXPECT_EQ(h.stats().reauthenticated, 1u);
}

TEST(StreamingCredentialsSession, Resp2SubscriberDefersToItsNextHandshake) {
  harness h;
  h.config.protocol = proto::resp_version::resp2;
  h.ready();
  h.s->set_subscribed(true);
  ASSERT_TRUE(h.s->subscriber_only());
  h.provider.update({"app", "t2"});
  EXPECT_EQ(h.flush(), "") << "AUTH would be refused in RESP2 subscribe mode";
  EXPECT_EQ(h.output_hooks, 0);

  // The next socket's handshake carries the newest credentials, and no AUTH follows it.
  h.s->on_transport_failed(make_error_code(errc::connection_reset));
  h.clock.advance(10ms);
  h.s->on_timer();
  const std::string handshake = h.open(resp2_auth_replies);
  EXPECT_TRUE(handshake.starts_with(auth_bytes("app", "t2"))) << handshake;
  ASSERT_TRUE(h.s->ready());
  EXPECT_EQ(h.flush().find("AUTH"), std::string::npos);
}

// An AUTH queued for new credentials belongs to its socket: when the socket fails under it, the
// next handshake authenticates with the provider's newest credentials, so the older AUTH must
// not follow it (it would put the connection back on a token about to expire, or a revoked
// one). No reauth_failed either: nothing was refused.
TEST(StreamingCredentialsSession, AnAuthCutOffByItsSocketIsNotReplayedAfterTheNextHandshake) {
  for (const bool written : {false, true}) {
    harness h;
    h.ready();
    h.provider.update({"app", "t2"});
    if (written) {
      EXPECT_EQ(h.flush(), auth_bytes("app", "t2"));
    }
    h.s->on_transport_failed(make_error_code(errc::connection_reset));
    h.provider.update({"app", "t3"});  // during the backoff
    h.clock.advance(10ms);
    h.s->on_timer();
    const std::string handshake = h.open(hello_replies);
    EXPECT_NE(handshake.find("t3"), std::string::npos) << handshake;
    ASSERT_TRUE(h.s->ready());
    EXPECT_EQ(h.flush().find("AUTH"), std::string::npos) << "written: " << written;
    EXPECT_EQ(h.s->pending(), 0u);
    EXPECT_EQ(h.stats().reauth_failed, 0u);
  }
}

TEST(StreamingCredentialsSession, Resp2DeferredAuthGoesOutWhenTheSubscriptionEnds) {
  harness h;
  h.config.protocol = proto::resp_version::resp2;
  h.ready();
  h.s->set_subscribed(true);
  h.provider.update({"app", "t2"});
  EXPECT_EQ(h.flush(), "");
  h.s->set_subscribed(false);
  EXPECT_EQ(h.flush(), auth_bytes("app", "t2"));
}

TEST(StreamingCredentialsSession, Resp3SubscriberReauthenticatesAtOnce) {
  harness h;
  h.ready();
  h.s->set_subscribed(true);
  h.provider.update({"app", "t2"});
  EXPECT_EQ(h.flush(), auth_bytes("app", "t2"));
}

TEST(StreamingCredentialsSession, CredentialsArrivingDuringTheHandshakeFollowIt) {
  harness h;
  h.start();
  ASSERT_TRUE(h.s->take_actions().open_transport);
  h.s->on_connected();
  const std::string hello = h.flush();
  EXPECT_NE(hello.find("t1"), std::string::npos);
  h.provider.update({"app", "t2"});  // the HELLO with t1 is already out
  EXPECT_EQ(h.flush(), "");
  h.s->on_data(hello_replies);
  ASSERT_TRUE(h.s->ready());
  EXPECT_EQ(h.flush(), auth_bytes("app", "t2"));
}

TEST(StreamingCredentialsSession, CredentialsArrivingBeforeTheHandshakeIsWrittenGoInIt) {
  harness h;
  h.start();  // fetched t1; the transport is still opening
  h.provider.update({"app", "t2"});
  const std::string hello = h.open(hello_replies);
  EXPECT_NE(hello.find("t2"), std::string::npos) << hello;
  EXPECT_EQ(hello.find("t1"), std::string::npos) << hello;
  ASSERT_TRUE(h.s->ready());
  EXPECT_EQ(h.flush(), "") << "no AUTH after a handshake that already had them";
}

TEST(StreamingCredentialsSession, AnExpiredProviderFailsTheConnectAtOnce) {
  harness h;
  h.config.retry = retry::retry_policy::never();
  h.provider.expire(make_error_code(errc::credentials_expired));
  std::optional<result<void>> outcome;
  h.s.emplace(h.config, h.clock, h.events);
  h.s->set_credentials_provider(&h.provider);
  h.s->connect([&](const result<void>& r) { outcome = r; });
  ASSERT_TRUE(outcome.has_value()) << "no wait";
  EXPECT_EQ(outcome->error(), make_error_code(errc::credentials_expired));
  EXPECT_EQ(h.s->state(), session_state::closed);
}

}  // namespace
}  // namespace uredis::auth
