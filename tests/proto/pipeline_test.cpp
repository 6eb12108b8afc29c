// The pipeline: replies matched to pending commands in order, pushes routed aside, every
// failure reaching every pending command exactly once.

#include "uredis/proto/pipeline.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "../support/alloc_counter.hpp"
#include "uredis/proto/callback_handler.hpp"

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

TEST(Pipeline, PushFramesGoToThePushHandlerNeverToACommand) {
  pipeline p;
  std::vector<std::string> pushes;
  p.on_push([&](const resp::reply& r) {
    ASSERT_EQ(r.type(), resp::type::push);
    pushes.push_back(std::string{r.elements().at(0).text()});
  });
  recorder<std::string> rec;
  p.push(pending{rec.handler()});
  p.feed(
      ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n$3\r\nval\r\n>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$"
      "1\r\nm\r\n");
  ASSERT_EQ(pushes.size(), 2u);
  EXPECT_EQ(pushes[0], "invalidate");
  EXPECT_EQ(pushes[1], "message");
  ASSERT_EQ(rec.results.size(), 1u);
  EXPECT_EQ(*rec.results[0], "val");
}

TEST(Pipeline, PushWithNoCommandPendingIsFine) {
  pipeline p;
  int pushes = 0;
  p.on_push([&](const resp::reply&) { ++pushes; });
  const auto r = p.feed(">1\r\n+hi\r\n");
  EXPECT_FALSE(r.error);
  EXPECT_EQ(pushes, 1);
}

TEST(Pipeline, AttributesAreSkipped) {
  pipeline p;
  recorder<std::int64_t> rec;
  p.push(pending{rec.handler()});
  p.feed("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:5\r\n");
  ASSERT_EQ(rec.results.size(), 1u);
  EXPECT_EQ(*rec.results[0], 5);
}

TEST(Pipeline, UnexpectedReplyFailsEverything) {
  pipeline p;
  const auto r = p.feed("+OK\r\n");
  EXPECT_EQ(r.error, make_error_code(errc::unexpected_reply));
  EXPECT_TRUE(is_protocol_error(r.error));
}

TEST(Pipeline, ProtocolErrorFailsEveryPendingCommandOnceInOrder) {
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
  const test::allocation_scope scope;
  for (int k = 0; k < 100; ++k)
    ASSERT_EQ(round().consumed, bytes.size());
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(completions, 101 * 64);
  EXPECT_EQ(sum, 101 * (63 * 64 / 2));
}

}  // namespace
}  // namespace uredis::proto
