// The pipeline: replies matched to pending commands in order, pushes routed aside, every
// failure reaching every pending command exactly once.

#include "uredis/proto/pipeline.hpp"

#include <gtest/gtest.h>
#include <algorithm>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/random.hpp"

namespace uredis::proto {
namespace {

template <class Response>
struct recorder {
  std::vector<result<Response>> results;

  auto handler() {
    return callback_handler<Response, std::function<void(result<Response>)>>(
        [this](result<Response> r) { results.push_back(std::move(r)); });
  }
};

// A hand-written handler: sums integer replies.
struct counting_handler {
  std::int64_t* sum;
  int* completions;
  void on_complete(const reply_outcome&) { ++*completions; }

  struct active {
    explicit active(counting_handler&& q) noexcept : sum(q.sum), completions(q.completions) {}
    std::int64_t* sum;
    int* completions;
    std::int64_t value = 0;
    void on_node(const resp::node& n) { value = n.integer; }
    void on_complete(const reply_outcome& o) {
      ++*completions;
      if (!o.error && o.error_reply == nullptr) *sum += value;
    }
  };
};

TEST(Pipeline, RepliesCompleteCommandsInOrder) {
  pipeline p;
  recorder<std::string> strings;
  recorder<std::int64_t> ints;
  p.push(pending{strings.handler()});
  p.push(pending{ints.handler()});
  p.push(pending{strings.handler()});
  EXPECT_EQ(p.size(), 3u);

  const std::string bytes = "$5\r\nfirst\r\n:42\r\n+third\r\n";
  const auto r = p.feed(bytes);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.consumed, bytes.size());
  ASSERT_EQ(strings.results.size(), 2u);
  EXPECT_EQ(*strings.results[0], "first");
  EXPECT_EQ(*strings.results[1], "third");
  ASSERT_EQ(ints.results.size(), 1u);
  EXPECT_EQ(*ints.results[0], 42);
  EXPECT_TRUE(p.empty());
}

TEST(Pipeline, ReplySplitAcrossFeeds) {
  pipeline p;
  recorder<std::vector<std::string>> rec;
  p.push(pending{rec.handler()});
  p.push(pending{rec.handler()});
  const std::string bytes = "*3\r\n$1\r\na\r\n$2\r\nbb\r\n$3\r\nccc\r\n*0\r\n";
  // Feed as a connection would: a growing buffer, dropping what was consumed.
  std::string buffer;
  for (const char c : bytes) {
    buffer.push_back(c);
    const auto r = p.feed(buffer);
    ASSERT_FALSE(r.error);
    buffer.erase(0, r.consumed);
  }
  EXPECT_TRUE(buffer.empty());
  ASSERT_EQ(rec.results.size(), 2u);
  EXPECT_EQ(*rec.results[0], (std::vector<std::string>{"a", "bb", "ccc"}));
  EXPECT_TRUE(rec.results[1]->empty());
}

TEST(Pipeline, ServerErrorIsAValueAndTheNextReplyStillMatches) {
  pipeline p;
  recorder<std::string> rec;
  p.push(pending{rec.handler()});
  p.push(pending{rec.handler()});
  p.feed("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$2\r\nok\r\n");
  ASSERT_EQ(rec.results.size(), 2u);
  ASSERT_TRUE(rec.results[0].has_server_error());
  EXPECT_EQ(rec.results[0].server_error().kind, server_error_kind::wrongtype);
  EXPECT_EQ(*rec.results[1], "ok");
}

TEST(Pipeline, TypeMismatchFailsOneCommandOnly) {
  pipeline p;
  recorder<std::int64_t> ints;
  p.push(pending{ints.handler()});
  p.push(pending{ints.handler()});
  p.feed("*2\r\n:1\r\n:2\r\n:7\r\n");
  ASSERT_EQ(ints.results.size(), 2u);
  EXPECT_EQ(ints.results[0].error(), make_error_code(errc::type_mismatch));
  EXPECT_EQ(*ints.results[1], 7);
}

// Records what the push router hands on.
struct push_recorder final : invalidation_hook, subscription_hook {
  std::vector<std::string> seen;
  void on_invalidate(std::string_view key) override { seen.push_back("inv:" + std::string(key)); }
  void on_invalidate_all() override { seen.push_back("inv-all"); }
  void on_message(const pubsub_message& m) override {
    seen.push_back("msg:" + std::string(m.channel) + ":" + std::string(m.payload));
  }
  void on_subscription(const subscription_change& c) override {
    seen.push_back("sub:" + std::string(c.channel) + ":" + std::to_string(c.count));
  }
};

TEST(Pipeline, PushFramesGoToTheirHooksNeverToACommand) {
  pipeline p;
  push_recorder hooks;
  p.pushes().set_invalidation_hook(&hooks);
  p.pushes().set_subscription_hook(&hooks);
  recorder<std::string> rec;
  p.push(pending{rec.handler()});
  p.feed(
      ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$3\r\nval\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$"
      "1\r\nm\r\n");
  EXPECT_EQ(hooks.seen, (std::vector<std::string>{"inv:k", "msg:c:m"}));
  ASSERT_EQ(rec.results.size(), 1u);
  EXPECT_EQ(*rec.results[0], "val");
}

TEST(Pipeline, PushWithNoCommandPendingIsFine) {
  pipeline p;
  int pushes = 0;
  p.pushes().set_other([&](const push_frame& f) {
    EXPECT_EQ(f.kind, "hi");
    ++pushes;
  });
  const auto r = p.feed(">1\r\n+hi\r\n");
  EXPECT_FALSE(r.error);
  EXPECT_EQ(pushes, 1);
}

TEST(Pipeline, APushFrameCutBetweenTwoFeedsKeepsItsViews) {
  pipeline p;
  push_recorder hooks;
  p.pushes().set_subscription_hook(&hooks);
  std::string first = ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$3\r\nchx\r\n$";
  const std::string second = "7\r\npayload\r\n";
  const auto r1 = p.feed(first);
  EXPECT_EQ(r1.consumed, first.size() - 1);  // the cut "$" is left for the next feed
  first.assign(first.size(), '#');           // the input the views pointed into is gone
  p.feed("$" + second);
  EXPECT_EQ(hooks.seen, (std::vector<std::string>{"msg:chx:payload"}));
}

TEST(Pipeline, AttributesAreSkipped) {
  pipeline p;
  recorder<std::int64_t> rec;
  p.push(pending{rec.handler()});
  p.feed("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:5\r\n");
  ASSERT_EQ(rec.results.size(), 1u);
  EXPECT_EQ(*rec.results[0], 5);
}

TEST(Pipeline, UnexpectedReplyIsAProtocolError) {
  pipeline p;
  const auto r = p.feed("+OK\r\n");
  EXPECT_EQ(r.error, make_error_code(errc::unexpected_reply));
  EXPECT_TRUE(is_protocol_error(r.error));
}

TEST(Pipeline, AfterAProtocolErrorFailAllFailsEveryPendingCommandOnceInOrder) {
  pipeline p;
  std::vector<int> order;
  std::vector<std::error_code> errors;
  for (int i = 0; i < 4; ++i) {
    p.push(pending{callback_handler<std::string, std::function<void(result<std::string>)>>(
        [&, i](result<std::string> r) {
          order.push_back(i);
          errors.push_back(r ? std::error_code{} : r.error());
        })});
  }
  // The first reply is fine, the second is half-read when garbage arrives.
  const auto r = p.feed("+one\r\n*2\r\n:1\r\n?garbage\r\n");
  EXPECT_EQ(r.error, make_error_code(errc::invalid_type_byte));
  EXPECT_EQ(order, (std::vector<int>{0}));  // feed() completes nothing past the error...
  p.fail_all(r.error);                      // ...the connection decides
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(errors[0]);
  for (int i = 1; i < 4; ++i)
    EXPECT_EQ(errors[i], make_error_code(errc::invalid_type_byte));
  EXPECT_TRUE(p.empty());
  // Usable again for a new connection.
  recorder<std::string> rec;
  p.push(pending{rec.handler()});
  EXPECT_FALSE(p.feed("+fresh\r\n").error);
  EXPECT_EQ(*rec.results.at(0), "fresh");
}

// (A callback handler's "+first" is completed through on_single: pipeline.cpp's complete_single.)
TEST(Pipeline, FailAllFromACompletionStopsFeeding) {
  pipeline p;
  std::vector<std::string> seen;
  p.push(pending{callback_handler<std::string, std::function<void(result<std::string>)>>(
      [&](result<std::string> r) {
        seen.push_back(*r);
        p.fail_all(make_error_code(errc::connection_closed));
      })});
  recorder<std::string> rest;
  p.push(pending{rest.handler()});
  const auto r = p.feed("+first\r\n+second\r\n");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.consumed, 8u);
  EXPECT_EQ(seen, (std::vector<std::string>{"first"}));
  ASSERT_EQ(rest.results.size(), 1u);
  EXPECT_EQ(rest.results[0].error(), make_error_code(errc::connection_closed));
}

TEST(Pipeline, ACompletionMayPushTheNextCommand) {
  pipeline p;
  recorder<std::string> rec;
  p.push(pending{callback_handler<std::string, std::function<void(result<std::string>)>>(
      [&](result<std::string>) { p.push(pending{rec.handler()}); })});
  p.feed("+a\r\n+b\r\n");
  ASSERT_EQ(rec.results.size(), 1u);
  EXPECT_EQ(*rec.results[0], "b");
}

TEST(Pipeline, CommandsPushedByAFailureHandlerSurviveForTheNextConnection) {
  pipeline p;
  recorder<std::string> retried;
  p.push(pending{callback_handler<std::string, std::function<void(result<std::string>)>>(
      [&](result<std::string>) { p.push(pending{retried.handler()}); })});
  p.fail_all(make_error_code(errc::connection_reset));
  EXPECT_EQ(p.size(), 1u);
  p.feed("+again\r\n");
  EXPECT_EQ(*retried.results.at(0), "again");
}

// A handler that records the request bytes its outcome carries.
struct bytes_handler {
  std::vector<std::string>* seen;
  void on_complete(const reply_outcome& o) { seen->emplace_back(o.request); }
  struct active {
    explicit active(bytes_handler&& q) noexcept : seen(q.seen) {}
    std::vector<std::string>* seen;
    void on_node(const resp::node&) {}
    void on_complete(const reply_outcome& o) { seen->emplace_back(o.request); }
  };
};

TEST(Pipeline, FailAllGivesTheBytesOfCommandsThatNeverReachedASocket) {
  pipeline p;
  std::vector<std::string> seen;
  const auto push = [&](std::string_view bytes) {
    p.requests().append(bytes);
    request r;
    r.length = static_cast<std::uint32_t>(bytes.size());
    p.push(pending{bytes_handler{&seen}}, r);
  };
  push("*1\r\n$4\r\nPING\r\n");
  ASSERT_EQ(p.begin_send(), "*1\r\n$4\r\nPING\r\n");  // written: may have run
  p.end_send();
  push("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  push("*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
  p.fail_all(make_error_code(errc::connection_refused));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], "");
  EXPECT_EQ(seen[1], "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  EXPECT_EQ(seen[2], "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.unsent(), "");
}

// pending::target<T>(): the queued handler as its own type, for its owner's bookkeeping while
// the command waits (a cluster client marks its slot's probe); null as any other type, and once
// the handler has completed.
TEST(PipelinePending, TargetIsTheHandlerOnlyAsItsOwnType) {
  std::vector<std::string> seen;
  pending p{bytes_handler{&seen}};
  ASSERT_NE(p.target<bytes_handler>(), nullptr);
  EXPECT_EQ(p.target<bytes_handler>()->seen, &seen);
  EXPECT_EQ(p.target<counting_handler>(), nullptr);
  pending moved = std::move(p);
  EXPECT_EQ(p.target<bytes_handler>(), nullptr);
  ASSERT_NE(moved.target<bytes_handler>(), nullptr);
  moved.complete(reply_outcome::failed(make_error_code(errc::timeout)));
  EXPECT_EQ(moved.target<bytes_handler>(), nullptr);
  EXPECT_EQ(seen.size(), 1u);
}

TEST(Pipeline, SteadyStateAllocatesNothing) {
  pipeline p;
  std::int64_t sum = 0;
  int completions = 0;
  std::string bytes;
  for (int i = 0; i < 64; ++i)
    bytes += ":" + std::to_string(i) + "\r\n";
  auto round = [&] {
    for (int i = 0; i < 64; ++i)
      p.push(pending{counting_handler{&sum, &completions}});
    return p.feed(bytes);
  };
  round();  // warm: the FIFO grows to 64 once
  const dev::allocation_scope scope;
  for (int k = 0; k < 100; ++k)
    ASSERT_EQ(round().consumed, bytes.size());
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(completions, 101 * 64);
  EXPECT_EQ(sum, 101 * (63 * 64 / 2));
}

// --- Request bytes, deadlines and rewinding (what the connection's resilience stands on) ---

using namespace std::chrono_literals;
using time_point = pipeline::time_point;
const time_point t0 = time_point{} + 1h;

// Queues a command with its request bytes (any text stands for its RESP form here).
template <class Handler>
void push_with_bytes(pipeline& p, Handler h, std::string_view bytes, time_point deadline = {},
                     bool idempotent = false) {
  p.requests().append(bytes);
  request r;
  r.length = static_cast<std::uint32_t>(bytes.size());
  r.idempotent = idempotent;
  r.deadline = deadline == time_point{} ? time_point::max() : deadline;
  p.push(pending{std::move(h)}, r);
}

// Hands the unsent bytes to a pretend socket that takes them at once.
void send_everything(pipeline& p) {
  p.begin_send();
  p.end_send();
}

TEST(PipelineResilience, RequestBytesLeaveWithTheirReply) {
  pipeline p;
  recorder<std::string> rec;
  push_with_bytes(p, rec.handler(), "AA");
  push_with_bytes(p, rec.handler(), "BBB");
  EXPECT_EQ(p.unsent(), "AABBB");
  EXPECT_EQ(p.begin_send(), "AABBB");
  EXPECT_EQ(p.unsent(), "");
  push_with_bytes(p, rec.handler(), "C");  // while the first send is in flight
  EXPECT_EQ(p.unsent(), "C");
  p.end_send();
  p.feed("+a\r\n");
  EXPECT_EQ(p.request_bytes().size(), 4u);
  EXPECT_EQ(p.request_bytes().oldest(3), "BBB");
  p.feed("+b\r\n");
  EXPECT_EQ(p.request_bytes().size(), 1u);
  send_everything(p);
  p.feed("+c\r\n");
  EXPECT_TRUE(p.request_bytes().empty());
  EXPECT_EQ(rec.results.size(), 3u);
}

// A handler that sees its own request bytes with its reply, and resends them on NOSCRIPT, as a
// script object will.
struct resending_handler {
  pipeline* p;
  std::vector<std::string>* log;
  void on_complete(const reply_outcome&) {}
  struct active {
    explicit active(resending_handler&& q) noexcept : p(q.p), log(q.log) {}
    pipeline* p;
    std::vector<std::string>* log;
    void on_node(const resp::node& n) { log->push_back("reply:" + std::string(n.value)); }
    void on_complete(const reply_outcome& o) {
      if (o.error_reply == nullptr) return;
      log->push_back("error:" + std::string(o.error_reply->value) + " for " +
                     std::string(o.request));
      push_with_bytes(*p, resending_handler{p, log}, o.request);
    }
  };
};

TEST(PipelineResilience, AHandlerCanResendExactlyItsOwnCommand) {
  pipeline p;
  std::vector<std::string> log;
  recorder<std::string> other;
  push_with_bytes(p, resending_handler{&p, &log}, "EVALSHA abc");
  push_with_bytes(p, other.handler(), "GET k");
  send_everything(p);
  p.feed("-NOSCRIPT No matching script\r\n$1\r\nv\r\n");
  EXPECT_EQ(p.unsent(), "EVALSHA abc");  // queued again, behind what was already sent
  send_everything(p);
  p.feed("+done\r\n");
  const std::vector<std::string> expected = {"error:NOSCRIPT No matching script for EVALSHA abc",
                                             "reply:done"};
  EXPECT_EQ(log, expected);
  ASSERT_EQ(other.results.size(), 1u);
  EXPECT_EQ(*other.results[0], "v");
  EXPECT_TRUE(p.request_bytes().empty());
}

// A handler that, completing, records its request bytes and then runs `then`: a callback that
// closes its connection (fail_all) or meets a timer (expire) while its own bytes are still the
// oldest held. Its reply goes through the active form (an error reply does), or through the
// queued form when confirmations answer it.
struct closing_handler {
  std::vector<std::string>* seen;
  std::function<void()>* then;
  void on_complete(const reply_outcome& o) {
    seen->emplace_back(o.request);
    (*then)();
  }
  struct active {
    explicit active(closing_handler&& q) noexcept : seen(q.seen), then(q.then) {}
    std::vector<std::string>* seen;
    std::function<void()>* then;
    void on_node(const resp::node&) {}
    void on_complete(const reply_outcome& o) {
      seen->emplace_back(o.request);
      (*then)();
    }
  };
};

// The other commands' bytes start after the completing command's: each unsent one is given
// its own (a cluster client sends exactly those elsewhere), whatever their lengths.
TEST(PipelineResilience, FailAllFromACompletionGivesEachCommandItsOwnBytes) {
  for (const auto& [second, third] : {std::pair<std::string, std::string>{"BB", "CC"},
                                      std::pair<std::string, std::string>{"BBB", "C"}}) {
    pipeline p;
    std::vector<std::string> seen;
    std::function<void()> close = [&] { p.fail_all(make_error_code(errc::connection_closed)); };
    push_with_bytes(p, closing_handler{&seen, &close}, "AA");
    send_everything(p);
    push_with_bytes(p, bytes_handler{&seen}, second);
    push_with_bytes(p, bytes_handler{&seen}, third);
    EXPECT_TRUE(p.feed("-ERR closing\r\n").stopped);
    EXPECT_EQ(seen, (std::vector<std::string>{"AA", second, third})) << second << third;
    EXPECT_TRUE(p.empty());
    EXPECT_TRUE(p.request_bytes().empty());
  }
}

// expire() from a completion drops an unsent expired command with its bytes, and only its.
TEST(PipelineResilience, ExpireFromACompletionDropsExactlyTheExpiredUnsentBytes) {
  pipeline p;
  std::vector<std::string> seen;
  time_point next;
  std::size_t expired = 0;
  std::function<void()> tick = [&] { expired = p.expire(t0, next); };
  push_with_bytes(p, closing_handler{&seen, &tick}, "AA");
  send_everything(p);
  recorder<std::string> late;
  recorder<std::string> kept;
  push_with_bytes(p, late.handler(), "BBB", t0);
  push_with_bytes(p, kept.handler(), "C");
  EXPECT_FALSE(p.feed("-ERR x\r\n").error);
  EXPECT_EQ(expired, 1u);
  ASSERT_EQ(late.results.size(), 1u);
  EXPECT_EQ(late.results[0].error(), make_error_code(errc::timeout));
  EXPECT_EQ(p.unsent(), "C");
  send_everything(p);
  EXPECT_FALSE(p.feed("+c\r\n").error);
  EXPECT_EQ(*kept.results.at(0), "c");
  EXPECT_TRUE(p.request_bytes().empty());
}

TEST(PipelineResilience, BytesInFlightNeverMoveAndNothingIsAllocatedOnceWarm) {
  pipeline p;
  std::int64_t sum = 0;
  int completions = 0;
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  std::string eight_pings, eight_replies, hundred_replies;
  for (int i = 0; i < 8; ++i) {
    eight_pings += ping;
    eight_replies += ":1\r\n";
  }
  for (int i = 0; i < 100; ++i)
    hundred_replies += ":1\r\n";
  // Commands issued while a send is in flight, and while replies arrive before the send's own
  // completion is seen: the bytes handed to the kernel stay where they are until end_send().
  auto round = [&] {
    for (int i = 0; i < 8; ++i)
      push_with_bytes(p, counting_handler{&sum, &completions}, ping);
    const std::string_view in_flight = p.begin_send();
    const char* where = in_flight.data();
    for (int i = 0; i < 100; ++i)
      push_with_bytes(p, counting_handler{&sum, &completions}, ping);
    p.feed(eight_replies);
    EXPECT_EQ(in_flight, eight_pings);
    EXPECT_EQ(in_flight.data(), where);
    p.end_send();
    send_everything(p);
    p.feed(hundred_replies);
  };
  round();
  round();
  const dev::allocation_scope scope;
  for (int k = 0; k < 20; ++k)
    round();
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(completions, 22 * 108);
  EXPECT_TRUE(p.request_bytes().empty());
}

TEST(PipelineResilience, AReplyToAnUnsentCommandIsAProtocolError) {
  pipeline p;
  recorder<std::string> rec;
  push_with_bytes(p, rec.handler(), "AA");
  const auto r = p.feed("+a\r\n");
  EXPECT_EQ(r.error, make_error_code(errc::unexpected_reply));
  EXPECT_TRUE(rec.results.empty());
  p.fail_all(r.error);
  ASSERT_EQ(rec.results.size(), 1u);
  EXPECT_EQ(rec.results[0].error(), make_error_code(errc::unexpected_reply));
}

TEST(PipelineResilience, ATimedOutCommandCompletesAtOnceAndItsLateReplyIsDiscarded) {
  pipeline p;
  recorder<std::string> first, others;
  push_with_bytes(p, first.handler(), "A", t0 + 10ms);
  push_with_bytes(p, others.handler(), "B", t0 + 50ms);
  push_with_bytes(p, others.handler(), "C");
  send_everything(p);
  time_point next;
  EXPECT_EQ(p.expire(t0 + 9ms, next), 0u);
  EXPECT_EQ(next, t0 + 10ms);
  EXPECT_EQ(p.expire(t0 + 10ms, next), 1u);
  EXPECT_EQ(next, t0 + 50ms);
  ASSERT_EQ(first.results.size(), 1u);
  EXPECT_EQ(first.results[0].error(), make_error_code(errc::timeout));
  EXPECT_EQ(p.size(), 3u);  // the tombstone waits for its reply
  p.feed("+late\r\n+b\r\n+c\r\n");
  EXPECT_EQ(first.results.size(), 1u);  // exactly once
  ASSERT_EQ(others.results.size(), 2u);
  EXPECT_EQ(*others.results[0], "b");
  EXPECT_EQ(*others.results[1], "c");
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.request_bytes().empty());
}

TEST(PipelineResilience, TimingOutMidReplyDiscardsTheRestOfIt) {
  pipeline p;
  recorder<std::vector<std::string>> first;
  recorder<std::int64_t> second;
  push_with_bytes(p, first.handler(), "A", t0 + 10ms);
  push_with_bytes(p, second.handler(), "B");
  send_everything(p);
  const auto r1 = p.feed("*2\r\n$1\r\na\r\n");
  time_point next;
  EXPECT_EQ(p.expire(t0 + 10ms, next), 1u);
  EXPECT_EQ(next, time_point::max());
  ASSERT_EQ(first.results.size(), 1u);
  EXPECT_EQ(first.results[0].error(), make_error_code(errc::timeout));
  p.feed("$1\r\nb\r\n:5\r\n");
  (void)r1;
  EXPECT_EQ(first.results.size(), 1u);
  ASSERT_EQ(second.results.size(), 1u);
  EXPECT_EQ(*second.results[0], 5);
}

TEST(PipelineResilience, ATimedOutCommandThatWasNeverSentIsDroppedSoItNeverRuns) {
  pipeline p;
  recorder<std::string> rec;
  push_with_bytes(p, rec.handler(), "AA");
  p.begin_send();  // only the first left
  push_with_bytes(p, rec.handler(), "BB", t0 + 1ms);
  push_with_bytes(p, rec.handler(), "CC");
  p.end_send();
  time_point next;
  EXPECT_EQ(p.expire(t0 + 1ms, next), 1u);
  EXPECT_EQ(p.unsent(), "CC");
  EXPECT_EQ(p.size(), 2u);
  send_everything(p);
  p.feed("+a\r\n+c\r\n");
  ASSERT_EQ(rec.results.size(), 3u);
  EXPECT_EQ(rec.results[0].error(), make_error_code(errc::timeout));
  EXPECT_EQ(*rec.results[1], "a");
  EXPECT_EQ(*rec.results[2], "c");
}

TEST(PipelineResilience, RewindKeepsWhatTheVerdictKeepsInOrderAndAllOfItIsUnsentAgain) {
  pipeline p;
  recorder<std::string> rec;
  push_with_bytes(p, rec.handler(), "R1");            // written, kept (say, a read)
  push_with_bytes(p, rec.handler(), "W2");            // written, failed
  push_with_bytes(p, rec.handler(), "T3", t0 + 1ms);  // written, timed out: a tombstone
  p.begin_send();                                     // still in flight when the socket fails
  push_with_bytes(p, rec.handler(), "U4");            // never written
  time_point next;
  p.expire(t0 + 1ms, next);
  ASSERT_EQ(rec.results.size(), 1u);  // T3's timeout

  std::vector<std::pair<std::string, bool>> judged;
  p.rewind(make_error_code(errc::connection_reset),
           [&](const request& r, std::string_view bytes, bool written) -> std::error_code {
             judged.emplace_back(std::string(bytes), written);
             EXPECT_EQ(r.resends, 0u);
             if (bytes == "W2") return make_error_code(errc::outcome_unknown);
             return {};
           });
  const std::vector<std::pair<std::string, bool>> expected = {
      {"R1", true}, {"W2", true}, {"U4", false}};
  EXPECT_EQ(judged, expected);  // the tombstone is not even asked about
  ASSERT_EQ(rec.results.size(), 2u);
  EXPECT_EQ(rec.results[1].error(), make_error_code(errc::outcome_unknown));
  EXPECT_EQ(p.unsent(), "R1U4");
  EXPECT_EQ(p.size(), 2u);

  // On the next socket: a command resent after being written counts one resend.
  p.begin_send();
  std::vector<std::uint16_t> resends;
  p.rewind(make_error_code(errc::connection_reset),
           [&](const request& r, std::string_view, bool) -> std::error_code {
             resends.push_back(r.resends);
             return {};
           });
  EXPECT_EQ(resends, (std::vector<std::uint16_t>{1, 0}));
  send_everything(p);
  p.feed("+r\r\n+u\r\n");
  ASSERT_EQ(rec.results.size(), 4u);
  EXPECT_EQ(*rec.results[2], "r");
  EXPECT_EQ(*rec.results[3], "u");
}

TEST(PipelineResilience, ACommandWhoseReplyHadBegunCompletesWithTheCause) {
  pipeline p;
  recorder<std::vector<std::string>> rec;
  push_with_bytes(p, rec.handler(), "A");
  push_with_bytes(p, rec.handler(), "B");
  send_everything(p);
  p.feed("*2\r\n$1\r\na\r\n");  // half of A's reply
  int asked = 0;
  p.rewind(make_error_code(errc::connection_reset), [&](const request&, std::string_view, bool) {
    ++asked;
    return std::error_code{};
  });
  EXPECT_EQ(asked, 1);  // B only
  ASSERT_EQ(rec.results.size(), 1u);
  EXPECT_EQ(rec.results[0].error(), make_error_code(errc::connection_reset));
  EXPECT_EQ(p.unsent(), "B");
  send_everything(p);
  p.feed("*1\r\n$1\r\nb\r\n");  // the new socket's stream starts afresh
  ASSERT_EQ(rec.results.size(), 2u);
  EXPECT_EQ(*rec.results[1], std::vector<std::string>{"b"});
}

TEST(PipelineResilience, ExpireAndRewindCyclesAllocateNothing) {
  pipeline p;
  std::int64_t sum = 0;
  int completions = 0;
  auto cycle = [&] {
    for (int i = 0; i < 64; ++i) {
      push_with_bytes(p, counting_handler{&sum, &completions}, "*1\r\n$4\r\nPING\r\n",
                      i % 2 ? t0 + 1ms : time_point{});
      if (i == 31) p.begin_send();  // half of them were written
    }
    time_point next;
    p.expire(t0 + 1ms, next);
    p.rewind(make_error_code(errc::connection_reset),
             [](const request&, std::string_view, bool) { return std::error_code{}; });
    p.fail_all(make_error_code(errc::connection_closed));
  };
  cycle();  // warm
  cycle();
  const dev::allocation_scope scope;
  for (int k = 0; k < 50; ++k)
    cycle();
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(completions, 52 * 64);
}

// --- Subscribing: commands answered by confirmation pushes, RESP2 pub/sub arrays ---

// A subscribing command's handler: "confirmed", or the error it ended with.
struct subscription_handler {
  std::vector<std::string>* log;
  void on_complete(const reply_outcome& o) {
    log->push_back(o.error ? "failed:" + o.error.message() : "confirmed:" + std::string(o.request));
  }
  struct active {
    explicit active(subscription_handler&& q) noexcept : log(q.log) {}
    std::vector<std::string>* log;
    void on_node(const resp::node&) {}
    void on_complete(const reply_outcome& o) {
      log->push_back(o.error_reply != nullptr ? "refused:" + std::string(o.error_reply->value)
                                              : "reply");
    }
  };
};

void push_subscription(pipeline& p, std::vector<std::string>& log, std::string_view bytes,
                       std::uint16_t confirmations, push_kind kind = push_kind::subscribe) {
  p.requests().append(bytes);
  request r;
  r.length = static_cast<std::uint32_t>(bytes.size());
  r.confirmations = confirmations;
  r.confirmed_by = kind;
  p.push(pending{subscription_handler{&log}}, r);
}

// A subscription's completion (its last confirmation) that closes the connection: the commands
// behind it get their own bytes, not the subscription's.
TEST(PipelineSubscriptions, FailAllFromAConfirmationGivesEachCommandItsOwnBytes) {
  pipeline p;
  push_recorder hooks;
  p.pushes().set_subscription_hook(&hooks);
  std::vector<std::string> seen;
  std::function<void()> close = [&] { p.fail_all(make_error_code(errc::connection_closed)); };
  p.requests().append("SUB a");
  request r;
  r.length = 5;
  r.confirmations = 1;
  r.confirmed_by = push_kind::subscribe;
  p.push(pending{closing_handler{&seen, &close}}, r);
  send_everything(p);
  push_with_bytes(p, bytes_handler{&seen}, "GET k");
  push_with_bytes(p, bytes_handler{&seen}, "GET kk");
  EXPECT_TRUE(p.feed(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n").stopped);
  EXPECT_EQ(seen, (std::vector<std::string>{"SUB a", "GET k", "GET kk"}));
  EXPECT_TRUE(p.empty());
}

TEST(PipelineSubscriptions, ACommandAnsweredByConfirmationsCompletesWithItsLastOne) {
  pipeline p;
  push_recorder hooks;
  p.pushes().set_subscription_hook(&hooks);
  std::vector<std::string> log;
  recorder<std::string> rec;
  push_subscription(p, log, "SUB a b", 2);
  push_with_bytes(p, rec.handler(), "GET");
  send_everything(p);
  EXPECT_FALSE(p.feed(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n").error);
  EXPECT_TRUE(log.empty());  // one of two
  EXPECT_FALSE(p.feed(">3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n$1\r\nv\r\n").error);
  EXPECT_EQ(log, (std::vector<std::string>{"confirmed:SUB a b"}));
  EXPECT_EQ(hooks.seen, (std::vector<std::string>{"sub:a:1", "sub:b:2"}));
  ASSERT_EQ(rec.results.size(), 1u);  // the next reply went to the next command
  EXPECT_EQ(*rec.results[0], "v");
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.request_bytes().empty());
}

TEST(PipelineSubscriptions, ARefusedSubscriptionTakesTheErrorReplyAndNothingMore) {
  pipeline p;
  std::vector<std::string> log;
  recorder<std::string> rec;
  push_subscription(p, log, "SUB a", 1);
  push_with_bytes(p, rec.handler(), "GET");
  send_everything(p);
  EXPECT_FALSE(p.feed("-NOPERM no\r\n$1\r\nv\r\n").error);
  EXPECT_EQ(log, (std::vector<std::string>{"refused:NOPERM no"}));
  ASSERT_EQ(rec.results.size(), 1u);
  EXPECT_EQ(*rec.results[0], "v");
}

TEST(PipelineSubscriptions, AConfirmationCountsOnlyForASubscribingCommandAtTheHead) {
  pipeline p;
  std::vector<std::string> log;
  recorder<std::string> rec;
  push_with_bytes(p, rec.handler(), "GET");
  push_subscription(p, log, "SUB a", 1);
  send_everything(p);
  // A confirmation from an earlier subscription (a handshake's) while GET is oldest: not ours.
  EXPECT_FALSE(p.feed(">3\r\n$9\r\nsubscribe\r\n$1\r\nz\r\n:1\r\n").error);
  EXPECT_TRUE(log.empty());
  EXPECT_FALSE(p.feed("$1\r\nv\r\n>3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n").error);
  EXPECT_EQ(log, (std::vector<std::string>{"confirmed:SUB a"}));
}

TEST(PipelineSubscriptions, AConfirmationOfAnotherKindDoesNotAnswerTheHead) {
  pipeline p;
  push_recorder hooks;
  p.pushes().set_subscription_hook(&hooks);
  std::vector<std::string> log;
  push_subscription(p, log, "PSUB a*", 1, push_kind::psubscribe);
  send_everything(p);
  // The server's own: a shard channel dropped when its slot moved, and a plain subscribe.
  EXPECT_FALSE(p.feed(">3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:0\r\n"
                      ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n")
                   .error);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(hooks.seen.size(), 2u);  // the router still saw both
  EXPECT_FALSE(p.feed(">3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:2\r\n").error);
  EXPECT_EQ(log, (std::vector<std::string>{"confirmed:PSUB a*"}));
  EXPECT_TRUE(p.empty());
}

TEST(PipelineSubscriptions, AnUnsentSubscriptionIsNotConfirmedByAnotherOnesPush) {
  pipeline p;
  std::vector<std::string> log;
  push_subscription(p, log, "SUB a", 1);  // never sent
  EXPECT_FALSE(p.feed(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n").error);
  EXPECT_TRUE(log.empty());
}

TEST(PipelineSubscriptions, Resp2PubSubArraysArePushesOnlyWhenAsked) {
  const std::string message = "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n";
  {
    pipeline p;  // by default an array is a reply, whatever it holds (LRANGE could return it)
    recorder<std::vector<std::string>> rec;
    p.push(pending{rec.handler()});
    EXPECT_FALSE(p.feed(message).error);
    ASSERT_EQ(rec.results.size(), 1u);
    EXPECT_EQ(*rec.results[0], (std::vector<std::string>{"message", "c", "hi"}));
  }
  pipeline p;
  p.set_pubsub_arrays(true);
  push_recorder hooks;
  p.pushes().set_subscription_hook(&hooks);
  std::vector<std::string> log;
  recorder<std::vector<std::string>> pong;
  push_subscription(p, log, "SUB c", 1);
  push_with_bytes(p, pong.handler(), "PING");
  send_everything(p);
  // Fed byte by byte: the held header and the kind survive every cut.
  const std::string bytes = "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n" + message +
                            "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\ncd\r\n$1\r\nx\r\n" +
                            "*2\r\n$4\r\npong\r\n$0\r\n\r\n";
  std::string buffer;
  for (const char c : bytes) {
    buffer.push_back(c);
    const auto r = p.feed(buffer);
    ASSERT_FALSE(r.error);
    buffer.erase(0, r.consumed);
  }
  EXPECT_EQ(hooks.seen, (std::vector<std::string>{"sub:c:1", "msg:c:hi", "msg:cd:x"}));
  EXPECT_EQ(log, (std::vector<std::string>{"confirmed:SUB c"}));
  ASSERT_EQ(pong.results.size(), 1u);
  EXPECT_EQ(*pong.results[0], (std::vector<std::string>{"pong", ""}));
}

TEST(PipelineSubscriptions, ATimedOutSubscriptionLeavesATombstoneItsConfirmationsRemove) {
  pipeline p;
  std::vector<std::string> log;
  recorder<std::string> rec;
  p.requests().append("SUB a b");
  request r;
  r.length = 7;
  r.confirmations = 2;
  r.confirmed_by = push_kind::subscribe;
  r.deadline = t0;
  p.push(pending{subscription_handler{&log}}, r);
  push_with_bytes(p, rec.handler(), "GET");
  send_everything(p);
  time_point next;
  EXPECT_EQ(p.expire(t0, next), 1u);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("failed:", 0), 0u);
  EXPECT_FALSE(p.feed(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
                      ">3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n$1\r\nv\r\n")
                   .error);
  ASSERT_EQ(rec.results.size(), 1u);
  EXPECT_EQ(*rec.results[0], "v");
  EXPECT_EQ(log.size(), 1u);
}

// Mutated pub/sub streams, fed in random pieces, in both modes, to a pipeline with subscribing
// and ordinary commands waiting: whatever the bytes, nothing crashes or reads out of bounds
// (run under ASan in the clang build), an error is a protocol error, and every command
// completes exactly once when the stream is given up.
TEST(PipelineSubscriptions, HostileBytesNeverCrashOrLoseACommand) {
  const std::string frames[] = {
      "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n",
      "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n",
      "*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\ncd\r\n$1\r\nx\r\n",
      ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n*1\r\n:5\r\n",
      ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n",
      "*2\r\n$4\r\npong\r\n$0\r\n\r\n",
      "-NOPERM no\r\n",
      "+OK\r\n",
      "*1\r\n$7\r\nmessage\r\n",
      "*2\r\n*1\r\n$7\r\nmessage\r\n:1\r\n",
  };
  util::rng rng(20261205);
  std::uint64_t touched = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    const std::size_t count = 1 + rng() % 8;
    for (std::size_t i = 0; i < count; ++i)
      bytes += frames[rng() % std::size(frames)];
    for (std::uint64_t m = rng() % 4; m > 0 && !bytes.empty(); --m) {
      const std::size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[at] = static_cast<char>(rng());
          break;
        case 1:
          bytes.erase(at, 1);
          break;
        default:
          bytes.insert(at, 1, "*>$:-+\r\n0123456789"[rng() % 17]);
      }
    }

    pipeline p;
    p.set_pubsub_arrays(rng() % 2 == 0);
    struct touching_hook final : subscription_hook {
      std::uint64_t* sum;
      void on_message(const pubsub_message& m) override {
        for (const std::string_view v : {m.pattern, m.channel, m.payload})
          for (const char c : v)
            *sum += static_cast<unsigned char>(c);
      }
      void on_subscription(const subscription_change& c) override { *sum += c.channel.size(); }
    } hook;
    hook.sum = &touched;
    p.pushes().set_subscription_hook(&hook);
    std::vector<std::string> log;
    recorder<resp::reply> replies;
    int pushed = 0;
    for (std::size_t i = 0, n = 1 + rng() % 4; i < n; ++i, ++pushed) {
      if (rng() % 2 == 0) {
        push_subscription(p, log, "SUB", static_cast<std::uint16_t>(1 + rng() % 2));
      } else {
        push_with_bytes(p, replies.handler(), "CMD");
      }
    }
    send_everything(p);

    std::string buffer;
    std::size_t offset = 0;
    bool broken = false;
    while (offset < bytes.size() && !broken) {
      const std::size_t piece = 1 + rng() % 16;
      buffer.append(bytes, offset, piece);
      offset += piece;
      const auto r = p.feed(buffer);
      ASSERT_LE(r.consumed, buffer.size());
      if (r.error) {
        EXPECT_TRUE(is_protocol_error(r.error)) << r.error.message();
        broken = true;
      }
      buffer.erase(0, r.consumed);
    }
    p.fail_all(make_error_code(errc::connection_reset));
    EXPECT_EQ(static_cast<int>(log.size() + replies.results.size()), pushed);
    EXPECT_TRUE(p.empty());
  }
  EXPECT_GT(touched, 0u);
}

// ---- several replies for one command (a transaction) ------------------------------------------

// Records every node a multi-reply command's handler sees ("depth:type:value", errors as
// "error:text") and how it completed.
struct batch_handler {
  std::vector<std::string>* log;
  void on_complete(const reply_outcome& o) { log->push_back("failed:" + o.error.message()); }

  struct active {
    explicit active(batch_handler&& q) noexcept : log(q.log) {}
    std::vector<std::string>* log;
    void on_node(const resp::node& n) {
      log->push_back(std::to_string(n.depth) + ":" + (resp::is_error(n.type) ? "error:" : "") +
                     std::string(n.value));
    }
    void on_complete(const reply_outcome& o) {
      if (o.error) {
        log->push_back("failed:" + o.error.message());
      } else {
        log->push_back("done:" + std::string(o.request));
      }
    }
  };
};

void push_batch(pipeline& p, std::vector<std::string>& log, std::string_view bytes,
                std::uint32_t replies, time_point deadline = time_point::max()) {
  p.requests().append(bytes);
  request r;
  r.length = static_cast<std::uint32_t>(bytes.size());
  r.replies = replies;
  r.deadline = deadline;
  p.push(pending{batch_handler{&log}}, r);
}

TEST(PipelineBatch, OneHandlerReadsEveryReplyAndCompletesOnce) {
  pipeline p;
  std::vector<std::string> log;
  recorder<std::int64_t> after;
  push_batch(p, log, "MULTI|INCR|GET|EXEC", 4);
  push_with_bytes(p, after.handler(), "INCR");
  send_everything(p);
  EXPECT_EQ(p.size(), 2u);
  EXPECT_FALSE(p.feed("+OK\r\n+QUEUED\r\n+QUEUED\r\n").error);
  EXPECT_EQ(log.size(), 3u);  // no completion yet: EXEC's reply is due
  EXPECT_EQ(p.size(), 2u);
  EXPECT_FALSE(p.feed("*2\r\n:1\r\n$1\r\nv\r\n:5\r\n").error);
  EXPECT_EQ(log, (std::vector<std::string>{"0:OK", "0:QUEUED", "0:QUEUED", "0:", "1:1", "1:v",
                                           "done:MULTI|INCR|GET|EXEC"}));
  ASSERT_EQ(after.results.size(), 1u);
  EXPECT_EQ(*after.results[0], 5);
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.request_bytes().empty());
}

// The error observer (how a connection following a Sentinel primary sees -READONLY) is shown
// every top-level error reply, a batch's later replies included: a write queued in MULTI and
// refused with -READONLY is how a demoted primary shows itself to a client that writes only
// in transactions.
TEST(PipelineBatch, TheErrorObserverSeesEveryTopLevelErrorReply) {
  pipeline p;
  std::vector<std::string> errors;
  p.observe_errors([&errors](std::string_view e) { errors.emplace_back(e); });
  std::vector<std::string> log;
  push_batch(p, log, "MULTI|SET|EXEC", 3);
  recorder<std::string> plain;
  push_with_bytes(p, plain.handler(), "GET");
  send_everything(p);
  EXPECT_FALSE(p.feed("+OK\r\n-READONLY replica\r\n-EXECABORT discarded\r\n-ERR plain\r\n").error);
  EXPECT_EQ(errors,
            (std::vector<std::string>{"READONLY replica", "EXECABORT discarded", "ERR plain"}));
  EXPECT_EQ(log.size(), 4u);  // the batch's three replies, then its completion
  ASSERT_EQ(plain.results.size(), 1u);
  EXPECT_FALSE(plain.results[0].has_value());
}

TEST(PipelineBatch, ErrorRepliesAreNodesForTheHandlerToJudge) {
  pipeline p;
  std::vector<std::string> log;
  recorder<std::string> after;
  push_batch(p, log, "MULTI|BAD|EXEC", 3);
  push_with_bytes(p, after.handler(), "GET");
  send_everything(p);
  EXPECT_FALSE(p.feed("+OK\r\n-ERR unknown command 'BAD'\r\n"
                      "-EXECABORT Transaction discarded because of previous errors.\r\n$1\r\nv\r\n")
                   .error);
  EXPECT_EQ(log, (std::vector<std::string>{
                     "0:OK", "0:error:ERR unknown command 'BAD'",
                     "0:error:EXECABORT Transaction discarded because of previous errors.",
                     "done:MULTI|BAD|EXEC"}));
  ASSERT_EQ(after.results.size(), 1u);
  EXPECT_EQ(*after.results[0], "v");
}

TEST(PipelineBatch, SplitAnywhereWithPushesBetweenItsReplies) {
  const std::string bytes =
      "+OK\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n+QUEUED\r\n"
      ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\ny\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n:7\r\n";
  for (std::size_t step = 1; step <= 7; ++step) {
    pipeline p;
    push_recorder hooks;
    p.pushes().set_subscription_hook(&hooks);
    std::vector<std::string> log;
    recorder<std::int64_t> after;
    push_batch(p, log, "TX", 3);
    push_with_bytes(p, after.handler(), "N");
    send_everything(p);
    std::string buffer;
    for (std::size_t i = 0; i < bytes.size(); i += step) {
      buffer.append(bytes.substr(i, step));
      const auto r = p.feed(buffer);
      ASSERT_FALSE(r.error) << r.error.message();
      buffer.erase(0, r.consumed);
    }
    EXPECT_EQ(log,
              (std::vector<std::string>{"0:OK", "0:QUEUED", "0:", "1:", "2:a", "2:b", "done:TX"}))
        << "step " << step;
    EXPECT_EQ(hooks.seen, (std::vector<std::string>{"msg:ch:x", "msg:ch:y"}));
    ASSERT_EQ(after.results.size(), 1u);
    EXPECT_EQ(*after.results[0], 7);
  }
}

TEST(PipelineBatch, TimedOutBetweenRepliesItsRemainingRepliesAreDiscarded) {
  pipeline p;
  std::vector<std::string> log;
  recorder<std::string> after;
  push_batch(p, log, "TX", 4, t0 + 10ms);
  push_with_bytes(p, after.handler(), "GET");
  send_everything(p);
  p.feed("+OK\r\n+QUEUED\r\n");
  time_point next;
  EXPECT_EQ(p.expire(t0 + 9ms, next), 0u);
  EXPECT_EQ(next, t0 + 10ms);
  EXPECT_EQ(p.expire(t0 + 10ms, next), 1u);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2], "failed:" + make_error_code(errc::timeout).message());
  EXPECT_EQ(p.size(), 2u);  // it still owns two replies
  EXPECT_FALSE(p.feed("+QUEUED\r\n*2\r\n:1\r\n-ERR x\r\n$1\r\nv\r\n").error);
  EXPECT_EQ(log.size(), 3u);  // exactly once
  ASSERT_EQ(after.results.size(), 1u);
  EXPECT_EQ(*after.results[0], "v");
  EXPECT_TRUE(p.empty());
}

TEST(PipelineBatch, ATombstoneDiscardsAllItsReplies) {
  pipeline p;
  std::vector<std::string> log;
  recorder<std::string> after;
  push_batch(p, log, "TX", 3, t0 + 1ms);
  push_with_bytes(p, after.handler(), "GET");
  send_everything(p);
  time_point next;
  EXPECT_EQ(p.expire(t0 + 1ms, next), 1u);
  EXPECT_EQ(log, (std::vector<std::string>{"failed:" + make_error_code(errc::timeout).message()}));
  EXPECT_FALSE(p.feed("+OK\r\n-ERR refused\r\n*-1\r\n+after\r\n").error);
  EXPECT_EQ(log.size(), 1u);
  ASSERT_EQ(after.results.size(), 1u);
  EXPECT_EQ(*after.results[0], "after");
}

TEST(PipelineBatch, RewindJudgesItOnceWithAllItsBytes) {
  pipeline p;
  std::vector<std::string> written_log, unsent_log;
  push_batch(p, written_log, "MULTI|SET|EXEC", 3);
  send_everything(p);
  push_batch(p, unsent_log, "MULTI|DEL|EXEC", 3);
  std::vector<std::string> judged;
  p.rewind(make_error_code(errc::connection_reset),
           [&](const request& r, std::string_view bytes, bool written) {
             EXPECT_EQ(r.replies, 3u);
             judged.push_back(std::string(bytes) + (written ? ":written" : ":unsent"));
             return written ? make_error_code(errc::outcome_unknown) : std::error_code{};
           });
  EXPECT_EQ(judged, (std::vector<std::string>{"MULTI|SET|EXEC:written", "MULTI|DEL|EXEC:unsent"}));
  EXPECT_EQ(
      written_log,
      (std::vector<std::string>{"failed:" + make_error_code(errc::outcome_unknown).message()}));
  EXPECT_TRUE(unsent_log.empty());
  // Resent whole on the next socket, and read whole there.
  EXPECT_EQ(p.unsent(), "MULTI|DEL|EXEC");
  send_everything(p);
  EXPECT_FALSE(p.feed("+OK\r\n+QUEUED\r\n*1\r\n:1\r\n").error);
  EXPECT_EQ(unsent_log.back(), "done:MULTI|DEL|EXEC");
}

TEST(PipelineBatch, HalfReadItCompletesWithOutcomeUnknownWhateverTheCause) {
  pipeline p;
  std::vector<std::string> log;
  recorder<std::string> after;
  push_batch(p, log, "TX", 3);
  push_with_bytes(p, after.handler(), "GET");
  send_everything(p);
  p.feed("+OK\r\n+QUEUED\r\n");  // MULTI and the command answered: EXEC may have run
  int asked = 0;
  p.rewind(make_error_code(errc::connection_reset), [&](const request&, std::string_view, bool) {
    ++asked;
    return std::error_code{};
  });
  EXPECT_EQ(asked, 1);  // GET only
  EXPECT_EQ(log.back(), "failed:" + make_error_code(errc::outcome_unknown).message());
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(p.unsent(), "GET");
  send_everything(p);
  p.feed("+v\r\n");
  ASSERT_EQ(after.results.size(), 1u);
  EXPECT_EQ(*after.results[0], "v");
}

TEST(PipelineBatch, FailAllBetweenRepliesCompletesItOnce) {
  pipeline p;
  std::vector<std::string> log;
  push_batch(p, log, "TX", 3);
  send_everything(p);
  p.feed("+OK\r\n");
  p.fail_all(make_error_code(errc::connection_closed));
  EXPECT_EQ(log.back(), "failed:" + make_error_code(errc::connection_closed).message());
  EXPECT_EQ(log.size(), 2u);
  EXPECT_TRUE(p.empty());
}

TEST(PipelineBatch, ItsRepliesAllocateNothingOnceWarm) {
  pipeline p;
  std::int64_t sum = 0;
  int completions = 0;
  const std::string replies = "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n:2\r\n";
  auto round = [&] {
    p.requests().append("TX");
    request r;
    r.length = 2;
    r.replies = 4;
    p.push(counting_handler{&sum, &completions}, r);
    send_everything(p);
    ASSERT_FALSE(p.feed(replies).error);
  };
  for (int i = 0; i < 4; ++i)
    round();
  dev::allocation_scope scope;
  for (int i = 0; i < 100; ++i)
    round();
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(completions, 104);
}

// ---- subscribing on a RESP2 connection with replies due ----------------------------------------

// LRANGE may return ["message", "c", "x"]: a command queued before the connection subscribed is
// answered before the server subscribes, so such an array is its reply, not a message.
TEST(PipelineSubscriptions, ArraysAnsweringCommandsQueuedBeforeSubscribingAreTheirReplies) {
  const std::string look_alike = "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n";
  pipeline p;
  push_recorder hooks;
  p.pushes().set_subscription_hook(&hooks);
  recorder<std::vector<std::string>> lrange;
  std::vector<std::string> batch, log;
  push_with_bytes(p, lrange.handler(), "LRANGE");
  push_batch(p, batch, "MULTI|LRANGE|EXEC", 3);
  send_everything(p);
  // The first reply is half read when the subscriber arrives.
  ASSERT_FALSE(p.feed("*3\r\n$7\r\nmessage\r\n").error);
  p.set_pubsub_arrays(true, true);
  push_subscription(p, log, "SUB c", 1);
  send_everything(p);
  ASSERT_FALSE(p.feed("$1\r\nc\r\n$1\r\nx\r\n+OK\r\n" + look_alike + "*1\r\n" +
                      look_alike +  // the batch's QUEUED stand-in, then EXEC
                      "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n" + look_alike)
                   .error);
  ASSERT_EQ(lrange.results.size(), 1u);
  EXPECT_EQ(*lrange.results[0], (std::vector<std::string>{"message", "c", "x"}));
  EXPECT_EQ(batch.back(), "done:MULTI|LRANGE|EXEC");
  EXPECT_EQ(std::count(batch.begin(), batch.end(), "1:message"), 1);  // its second reply
  EXPECT_EQ(std::count(batch.begin(), batch.end(), "2:message"), 1);  // inside EXEC's array
  EXPECT_EQ(log, (std::vector<std::string>{"confirmed:SUB c"}));
  // Only what came after the confirmation is a message.
  EXPECT_EQ(hooks.seen, (std::vector<std::string>{"sub:c:1", "msg:c:x"}));
  EXPECT_TRUE(p.empty());
}

TEST(PipelineSubscriptions, OnANewSocketTheSubscriptionsComeFirst) {
  const std::string message = "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n";
  pipeline p;
  push_recorder hooks;
  p.pushes().set_subscription_hook(&hooks);
  recorder<std::string> ping;
  push_with_bytes(p, ping.handler(), "PING", {}, true);
  p.set_pubsub_arrays(true, true);
  send_everything(p);
  // Reconnecting: the handshake subscribes again before PING is resent, so a message may now
  // come before PING's reply.
  p.rewind(make_error_code(errc::connection_reset),
           [](const request&, std::string_view, bool) { return std::error_code{}; });
  send_everything(p);
  ASSERT_FALSE(p.feed(message + "+PONG\r\n").error);
  EXPECT_EQ(hooks.seen, (std::vector<std::string>{"msg:c:x"}));
  ASSERT_EQ(ping.results.size(), 1u);
  EXPECT_EQ(*ping.results[0], "PONG");

  // Set while no socket is live (queued_go_first false): the same.
  pipeline q;
  q.pushes().set_subscription_hook(&hooks);
  recorder<std::string> later;
  push_with_bytes(q, later.handler(), "PING");
  q.set_pubsub_arrays(true, false);
  send_everything(q);
  ASSERT_FALSE(q.feed(message + "+PONG\r\n").error);
  EXPECT_EQ(hooks.seen.size(), 2u);
  ASSERT_EQ(later.results.size(), 1u);
  EXPECT_EQ(*later.results[0], "PONG");
}

// ---- Replies of one node: completed by the queued form's on_single, no active form built ----

// Logs which way each command ended: "single <value>", "active <value>", or "failed".
struct probe_handler {
  std::vector<std::string>* log;
  void on_complete(const reply_outcome&) { log->push_back("failed"); }
  void on_single(const resp::node& n) { log->push_back("single " + std::string(n.value)); }

  struct active {
    explicit active(probe_handler&& q) noexcept : log(q.log) {}
    std::vector<std::string>* log;
    std::string first;
    void on_node(const resp::node& n) {
      if (first.empty()) first = std::string(n.value);
    }
    void on_complete(const reply_outcome& o) {
      log->push_back(o.error         ? "failed"
                     : o.error_reply ? "error " + std::string(o.error_reply->value)
                                     : "active " + first);
    }
  };
};

TEST(PipelineSingleNode, AWholeOneNodeReplyGoesToOnSingleAndTheRestToTheActiveForm) {
  pipeline p;
  std::vector<std::string> log;
  for (int i = 0; i < 5; ++i)
    p.push(pending{probe_handler{&log}});
  const std::string bytes = "$3\r\nabc\r\n:7\r\n-ERR no\r\n*1\r\n+x\r\n+OK\r\n";
  const auto r = p.feed(bytes);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.consumed, bytes.size());
  EXPECT_EQ(log, (std::vector<std::string>{"single abc", "single 7", "error ERR no", "active x",
                                           "single OK"}));
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.request_bytes().empty());
}

// Every scalar type a server sends reads the same through on_single as through the active
// form (callback_handler's of_single against its adapter), for each response type.
TEST(PipelineSingleNode, OnSingleGivesWhatTheActiveFormGives) {
  // The same callback_handler, without on_single: the pipeline must take the active form.
  struct active_only {
    callback_handler<std::optional<std::string>,
                     std::function<void(result<std::optional<std::string>>)>>
        h;
    void on_complete(const reply_outcome& o) { h.on_complete(o); }
    using active = decltype(h)::active;
    operator decltype(h) && () && { return std::move(h); }
  };
  const std::vector<std::string> replies = {
      "$3\r\nabc\r\n", "$0\r\n\r\n", "$-1\r\n",           "_\r\n",    "+OK\r\n", ":12\r\n",
      ",1.5\r\n",      "#t\r\n",     "=7\r\ntxt:abc\r\n", "(123\r\n", "*0\r\n",  "%0\r\n"};
  for (const std::string& reply : replies) {
    std::vector<std::string> via_single, via_active;
    auto describe = [](std::vector<std::string>& out) {
      return [&out](result<std::optional<std::string>> r) {
        out.push_back(!r ? "error " + r.error().message() : !*r ? "nil" : "value " + **r);
      };
    };
    pipeline a;
    a.push(pending{callback_handler<std::optional<std::string>,
                                    std::function<void(result<std::optional<std::string>>)>>(
        describe(via_single))});
    EXPECT_FALSE(a.feed(reply).error) << reply;
    pipeline b;
    b.push(pending{
        active_only{callback_handler<std::optional<std::string>,
                                     std::function<void(result<std::optional<std::string>>)>>(
            describe(via_active))}});
    EXPECT_FALSE(b.feed(reply).error) << reply;
    ASSERT_EQ(via_single.size(), 1u) << reply;
    EXPECT_EQ(via_single, via_active) << reply;
  }
}

TEST(PipelineSingleNode, ACompletionThatGrowsTheFifoKeepsEveryCommandWhole) {
  // The handler runs after it left the FIFO, so the FIFO may grow (move its entries) under it.
  pipeline p;
  std::vector<std::string> log;
  int pushed = 0;
  p.push(pending{callback_handler<std::string, std::function<void(result<std::string>)>>(
      [&](result<std::string> r) {
        log.push_back(*r);
        for (; pushed < 1000; ++pushed)
          p.push(pending{probe_handler{&log}});
      })});
  p.feed("+first\r\n");
  EXPECT_EQ(p.size(), 1000u);
  std::string replies;
  for (int i = 0; i < 1000; ++i)
    replies += ":" + std::to_string(i) + "\r\n";
  p.feed(replies);
  ASSERT_EQ(log.size(), 1001u);
  EXPECT_EQ(log[0], "first");
  EXPECT_EQ(log[1], "single 0");
  EXPECT_EQ(log[1000], "single 999");
  EXPECT_TRUE(p.empty());
}

// on_single runs on the handler moved out of the FIFO: its entry and request bytes are gone
// by then (it may queue or fail commands), and every copy of it ends exactly once.
TEST(PipelineSingleNode, TheHandlerRunsOutOfTheFifoAndEndsOnce) {
  struct counted {
    pipeline* p;
    int* live;
    std::vector<std::string>* log;
    counted(pipeline* p, int* live, std::vector<std::string>* log) : p(p), live(live), log(log) {
      ++*live;
    }
    counted(counted&& o) noexcept : p(o.p), live(o.live), log(o.log) { ++*live; }
    ~counted() { --*live; }
    void on_complete(const reply_outcome&) { log->push_back("failed"); }
    void on_single(const resp::node& n) {
      log->push_back(std::string(n.value) + " queued " + std::to_string(p->size()) + " bytes " +
                     std::to_string(p->request_bytes().size()));
    }
    struct active {
      explicit active(counted&&) noexcept {}
      void on_node(const resp::node&) {}
      void on_complete(const reply_outcome&) {}
    };
  };
  pipeline p;
  int live = 0;
  std::vector<std::string> log;
  push_with_bytes(p, counted{&p, &live, &log}, "AAAA");
  push_with_bytes(p, counted{&p, &live, &log}, "BB");
  send_everything(p);
  EXPECT_EQ(live, 2);
  ASSERT_FALSE(p.feed("+x\r\n+y\r\n").error);
  EXPECT_EQ(log, (std::vector<std::string>{"x queued 1 bytes 2", "y queued 0 bytes 0"}));
  EXPECT_EQ(live, 0);
}

TEST(PipelineSingleNode, ATombstoneDiscardsItsOneNodeReply) {
  pipeline p;
  std::vector<std::string> log;
  push_with_bytes(p, probe_handler{&log}, "A", t0 + 10ms);
  push_with_bytes(p, probe_handler{&log}, "B");
  send_everything(p);
  time_point next;
  EXPECT_EQ(p.expire(t0 + 10ms, next), 1u);
  p.feed(":1\r\n:2\r\n");
  EXPECT_EQ(log, (std::vector<std::string>{"failed", "single 2"}));
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.request_bytes().empty());
}

TEST(PipelineSingleNode, AReplyToAnUnsentCommandIsStillAProtocolError) {
  pipeline p;
  std::vector<std::string> log;
  push_with_bytes(p, probe_handler{&log}, "A");  // never handed to a socket
  const auto r = p.feed("+OK\r\n");
  EXPECT_EQ(r.error, make_error_code(errc::unexpected_reply));
  EXPECT_TRUE(log.empty());
}

}  // namespace
}  // namespace uredis::proto
