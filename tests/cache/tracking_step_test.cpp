// tracking_step: the CLIENT TRACKING command it writes for each mode and protocol, how it reads
// the reply, and, against a real server, that the invalidations it turns on arrive (in band
// with RESP3, redirected to a subscriber with RESP2).

#include "uredis/cache/tracking_step.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_server.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/pubsub/subscriber.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::cache {
namespace {

using namespace std::chrono_literals;
using proto::resp_version;

cache_config config_for(tracking_mode mode, std::vector<std::string> prefixes = {}) {
  cache_config c;
  c.max_bytes = 1 << 20;
  c.mode = mode;
  c.prefixes = std::move(prefixes);
  return c;
}

std::string written(tracking_step& step, resp_version protocol, std::size_t* replies = nullptr) {
  util::byte_buffer out;
  resp::encoder e{out};
  const std::size_t n = step.write(e, {}, protocol);
  if (replies != nullptr) *replies = n;
  return std::string(out.data());
}

// Feeds one reply's bytes to the step, node by node, as the handshake does.
result<void> answer(tracking_step& step, std::string_view bytes) {
  resp::parser p;
  resp::node n;
  result<void> r;
  while (!bytes.empty()) {
    const resp::step s = p.next(bytes, n);
    if (s.status != resp::outcome::node) return make_error_code(errc::incomplete_reply);
    bytes.remove_prefix(s.consumed);
    r = step.on_node(n, 0);
  }
  return r;
}

TEST(TrackingStep, optin_is_the_default_mode) {
  tracking_step step{config_for(tracking_mode::optin)};
  EXPECT_EQ(written(step, resp_version::resp3),
            "*4\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\nON\r\n$5\r\nOPTIN\r\n");
}

TEST(TrackingStep, tracked_mode_tracks_every_read) {
  tracking_step step{config_for(tracking_mode::tracked)};
  EXPECT_EQ(written(step, resp_version::resp3),
            "*3\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\nON\r\n");
}

TEST(TrackingStep, bcast_names_its_prefixes) {
  tracking_step step{config_for(tracking_mode::bcast, {"user:", "order:"})};
  EXPECT_EQ(written(step, resp_version::resp3),
            "*8\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\nON\r\n$5\r\nBCAST\r\n"
            "$6\r\nPREFIX\r\n$5\r\nuser:\r\n$6\r\nPREFIX\r\n$6\r\norder:\r\n");
}

TEST(TrackingStep, resp2_redirects_to_the_subscriber_or_stays_off) {
  tracking_step step{config_for(tracking_mode::optin)};
  std::size_t replies = 9;
  EXPECT_EQ(written(step, resp_version::resp2, &replies), "");
  EXPECT_EQ(replies, 0u);
  EXPECT_FALSE(step.active());
  step.set_redirect(42);
  EXPECT_EQ(written(step, resp_version::resp2, &replies),
            "*6\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\nON\r\n$8\r\nREDIRECT\r\n$2\r\n42\r\n"
            "$5\r\nOPTIN\r\n");
  EXPECT_EQ(replies, 1u);
}

TEST(TrackingStep, ok_turns_it_on_and_an_error_fails_the_handshake) {
  tracking_step step{config_for(tracking_mode::optin)};
  written(step, resp_version::resp3);
  EXPECT_TRUE(answer(step, "+OK\r\n"));
  EXPECT_TRUE(step.active());
  written(step, resp_version::resp3);
  EXPECT_FALSE(step.active()) << "each connect starts untracked";
  const result<void> refused = answer(step, "-ERR Prefix 'a' overlaps with another\r\n");
  ASSERT_TRUE(refused.has_server_error());
  EXPECT_FALSE(step.active());
  EXPECT_EQ(answer(step, ":1\r\n").error(), make_error_code(errc::type_mismatch));
}

// Against a real server: the invalidations the step turns on reach the connection.
class TrackingStepLive : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new test::redis_server(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { server_->command({"FLUSHALL"}); }

  void connect(connection& c) {
    std::optional<result<void>> done;
    c.connect([&](const result<void>& o) { done = o; });
    loop->run_until([&] { return done.has_value(); });
    ASSERT_TRUE(*done);
  }
  void run(connection& c, std::vector<std::string_view> args) {
    bool done = false;
    c.exec(cmd::raw{args}, [&](result<resp::reply>) { done = true; });
    loop->run_until([&] { return done; });
  }
  // The keys of the invalidation pushes that arrive within `span`.
  std::vector<std::string> invalidated_within(std::chrono::milliseconds span) {
    std::vector<std::string> keys;
    event::listener<event::push_received> on_push{
        loop->events(), [&](const event::push_received& e) {
          if (e.kind == "invalidate") keys.emplace_back(e.size > 0 ? "some" : "all");
        }};
    test::run_for(*loop, span);
    return keys;
  }

  static test::redis_server* server_;
  std::unique_ptr<reactor::reactor> loop = test::make_reactor();
};

test::redis_server* TrackingStepLive::server_ = nullptr;

TEST_F(TrackingStepLive, tracked_mode_invalidates_a_key_this_connection_read) {
  tracking_step step{config_for(tracking_mode::tracked)};
  connection c{*loop, test::config_for(*server_)};
  c.add_handshake_step(step);
  connect(c);
  EXPECT_TRUE(step.active());
  run(c, {"GET", "k"});
  server_->command({"SET", "k", "v"});
  EXPECT_EQ(invalidated_within(200ms).size(), 1u);
}

TEST_F(TrackingStepLive, optin_tracks_only_reads_after_client_caching_yes) {
  tracking_step step{config_for(tracking_mode::optin)};
  connection c{*loop, test::config_for(*server_)};
  c.add_handshake_step(step);
  connect(c);
  run(c, {"GET", "untracked"});
  server_->command({"SET", "untracked", "v"});
  EXPECT_TRUE(invalidated_within(100ms).empty());
  run(c, {"CLIENT", "CACHING", "YES"});
  run(c, {"GET", "tracked"});
  server_->command({"SET", "tracked", "v"});
  EXPECT_EQ(invalidated_within(200ms).size(), 1u);
}

TEST_F(TrackingStepLive, bcast_invalidates_keys_under_its_prefixes_unread) {
  tracking_step step{config_for(tracking_mode::bcast, {"user:"})};
  connection c{*loop, test::config_for(*server_)};
  c.add_handshake_step(step);
  connect(c);
  server_->command({"SET", "order:1", "v"});
  EXPECT_TRUE(invalidated_within(100ms).empty());
  server_->command({"SET", "user:1", "v"});
  EXPECT_EQ(invalidated_within(200ms).size(), 1u);
}

TEST_F(TrackingStepLive, a_reconnect_turns_tracking_on_again) {
  tracking_step step{config_for(tracking_mode::tracked)};
  connection c{*loop, test::config_for(*server_)};
  c.add_handshake_step(step);
  connect(c);
  server_->command({"CLIENT", "KILL", "TYPE", "normal"});
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.reconnects() == 1 && c.ready(); }, 5000ms));
  EXPECT_TRUE(step.active());
  run(c, {"GET", "k"});
  server_->command({"SET", "k", "v"});
  EXPECT_EQ(invalidated_within(200ms).size(), 1u);
}

TEST_F(TrackingStepLive, resp2_invalidations_are_published_to_the_redirect_target) {
  connection_config sub_config = test::config_for(*server_);
  sub_config.protocol = resp_version::resp2;
  pubsub::subscriber sub{*loop, sub_config};
  std::optional<result<void>> up;
  sub.connect([&](const result<void>& r) { up = r; });
  loop->run_until([&] { return up.has_value(); });
  ASSERT_TRUE(*up);
  int invalidations = 0;
  bool subscribed = false;
  sub.subscribe(
      "__redis__:invalidate", [&](const pubsub::message&) { ++invalidations; },
      [&](const result<void>&) { subscribed = true; });
  loop->run_until([&] { return subscribed; });
  // The subscriber connection takes no CLIENT ID (RESP2, subscriber-only): find its id in
  // CLIENT LIST, as the only client with a subscription (flags=P... sub=1).
  const std::string list = server_->command({"CLIENT", "LIST"});
  const std::size_t sub_at = list.find(" sub=1 ");
  ASSERT_NE(sub_at, std::string::npos) << list;
  const std::size_t id_at = list.rfind("id=", sub_at);
  ASSERT_NE(id_at, std::string::npos);
  const std::int64_t id = std::stoll(list.substr(id_at + 3));

  tracking_step step{config_for(tracking_mode::tracked)};
  step.set_redirect(id);
  connection_config data = test::config_for(*server_);
  data.protocol = resp_version::resp2;
  connection c{*loop, data};
  c.add_handshake_step(step);
  connect(c);
  EXPECT_TRUE(step.active());
  run(c, {"GET", "k"});
  server_->command({"SET", "k", "v"});
  EXPECT_TRUE(test::run_until(
      *loop, [&] { return invalidations == 1; }, 2000ms));
}

}  // namespace
}  // namespace uredis::cache
