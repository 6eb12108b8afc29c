// The push router: each kind of push frame to its hook, as views, with nothing allocated per
// frame; frames cut between reads keep their views; kinds without a hook are not lost.

#include "uredis/proto/push_router.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "allocation_counter.hpp"
#include "uredis/resp/parser.hpp"

namespace uredis::proto {
namespace {

struct recorder final : invalidation_hook, subscription_hook {
  std::vector<std::string> seen;
  void on_invalidate(std::string_view key) override { seen.push_back("inv " + std::string(key)); }
  void on_invalidate_all() override { seen.push_back("inv *"); }
  void on_message(const pubsub_message& m) override {
    std::string s = m.kind == push_kind::pmessage   ? "pmessage "
                    : m.kind == push_kind::smessage ? "smessage "
                                                    : "message ";
    if (!m.pattern.empty()) s += std::string(m.pattern) + " ";
    seen.push_back(s + std::string(m.channel) + " " + std::string(m.payload));
  }
  void on_subscription(const subscription_change& c) override {
    seen.push_back(std::to_string(static_cast<int>(c.kind)) + " " + std::string(c.channel) + " " +
                   std::to_string(c.count));
  }
};

// Feeds every frame in `bytes` to the router, as a pipeline would.
void route(push_router& router, std::string_view bytes) {
  resp::parser parser;
  std::size_t at = 0;
  resp::node n;
  for (;;) {
    const resp::step s = parser.next(bytes.substr(at), n);
    ASSERT_NE(s.status, resp::outcome::error);
    if (s.status == resp::outcome::need_more) return;
    at += s.consumed;
    router.on_node(n);
    if (parser.done()) router.finish();
  }
}

TEST(PushRouter, EachKindGoesToItsHook) {
  push_router router;
  recorder r;
  router.set_invalidation_hook(&r);
  router.set_subscription_hook(&r);
  route(router,
        ">2\r\n$10\r\ninvalidate\r\n*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n"
        ">2\r\n$10\r\ninvalidate\r\n_\r\n"
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"
        ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$1\r\nx\r\n"
        ">3\r\n$8\r\nsmessage\r\n$2\r\nsc\r\n$1\r\ny\r\n"
        ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
        ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
  const std::vector<std::string> expected = {
      "inv k1",
      "inv k2",
      "inv *",
      "message ch hello",
      "pmessage c* ch x",
      "smessage sc y",
      std::to_string(static_cast<int>(push_kind::subscribe)) + " ch 1",
      std::to_string(static_cast<int>(push_kind::unsubscribe)) + "  0"};
  EXPECT_EQ(r.seen, expected);
}

TEST(PushRouter, Resp2RedirectedInvalidationsGoToTheInvalidationHook) {
  push_router router;
  recorder r;
  router.set_invalidation_hook(&r);
  router.set_subscription_hook(&r);
  // RESP2 arrays, as a subscriber connection reads them, and the same as RESP3 pushes.
  route(router,
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n"
        ">3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nc\r\n"
        "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
  const std::vector<std::string> expected = {"inv a", "inv b", "inv *", "inv c", "message ch m"};
  EXPECT_EQ(r.seen, expected);
}

TEST(PushRouter, WithoutAnInvalidationHookTheChannelIsAnOrdinaryMessage) {
  push_router router;
  recorder r;
  router.set_subscription_hook(&r);
  route(router, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
  EXPECT_EQ(r.seen, std::vector<std::string>{"message __redis__:invalidate "});
}

TEST(PushRouter, AKindWithNoHookGoesToOther) {
  push_router router;
  std::vector<std::string> other;
  router.set_other([&](const push_frame& f) {
    std::string s(f.kind);
    for (std::string_view e : f.elements)
      s += " " + std::string(e);
    other.push_back(s + " /" + std::to_string(f.size));
  });
  route(router,
        ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n"
        ">2\r\n$21\r\ntracking-redir-broken\r\n:7\r\n"
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
  const std::vector<std::string> expected = {"message ch m /2", "tracking-redir-broken 7 /1",
                                             "invalidate  /1"};
  EXPECT_EQ(other, expected);
}

TEST(PushRouter, AFrameLongerThanWhatIsKeptStillReportsItsSize) {
  push_router router;
  std::uint64_t size = 0;
  std::size_t kept = 0;
  router.set_other([&](const push_frame& f) {
    size = f.size;
    kept = f.elements.size();
  });
  std::string frame = ">20\r\n$4\r\nmany\r\n";
  for (int i = 0; i < 19; ++i)
    frame += ":" + std::to_string(i) + "\r\n";
  route(router, frame);
  EXPECT_EQ(size, 19u);
  EXPECT_EQ(kept, push_router::kept - 1);
}

TEST(PushRouter, PinnedViewsSurviveTheirInput) {
  push_router router;
  recorder r;
  router.set_subscription_hook(&r);
  std::string first = ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n";
  resp::parser parser;
  resp::node n;
  std::size_t at = 0;
  for (;;) {
    const resp::step s = parser.next(std::string_view(first).substr(at), n);
    if (s.status != resp::outcome::node) break;
    at += s.consumed;
    router.on_node(n);
  }
  router.pin();
  router.pin();  // twice: the second copies from the router's own buffer
  first.assign(first.size(), '#');
  const std::string second = "$1\r\nx\r\n";
  const resp::step s = parser.next(second, n);
  ASSERT_EQ(s.status, resp::outcome::node);
  router.on_node(n);
  ASSERT_TRUE(parser.done());
  router.finish();
  EXPECT_EQ(r.seen, std::vector<std::string>{"pmessage c* ch x"});
}

TEST(PushRouter, RoutingAllocatesNothing) {
  push_router router;
  recorder r;
  int messages = 0;
  struct counter final : subscription_hook {
    int* n;
    explicit counter(int* c) : n(c) {}
    void on_message(const pubsub_message&) override { ++*n; }
    void on_subscription(const subscription_change&) override {}
  } hook{&messages};
  router.set_subscription_hook(&hook);
  std::string frames;
  for (int i = 0; i < 1000; ++i)
    frames += ">3\r\n$7\r\nmessage\r\n$7\r\nchannel\r\n$12\r\npayload-" + std::to_string(1000 + i) +
              "\r\n";
  route(router, frames);  // warm
  const dev::allocation_scope scope;
  route(router, frames);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(messages, 2000);
}

TEST(PushRouter, KindsAreMatchedExactly) {
  EXPECT_EQ(push_kind_of("invalidate"), push_kind::invalidate);
  EXPECT_EQ(push_kind_of("ssubscribe"), push_kind::ssubscribe);
  EXPECT_EQ(push_kind_of("MESSAGE"), push_kind::other);
  EXPECT_EQ(push_kind_of(""), push_kind::other);
}

}  // namespace
}  // namespace uredis::proto
