// The request buffer: bytes kept in order until answered, sent from where they were encoded
// (never moved while in flight), two buffers taking turns, nothing allocated once warm.

#include "uredis/proto/request_buffer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "allocation_counter.hpp"

namespace uredis::proto {
namespace {

void add(request_buffer& b, std::string_view command) {
  b.tail().append(command);
  b.commit(command.size());
}

TEST(RequestBuffer, SendsWhatWasQueuedAndKeepsItUntilConsumed) {
  request_buffer b;
  add(b, "AA");
  add(b, "BBB");
  EXPECT_EQ(b.unsent(), "AABBB");
  EXPECT_EQ(b.begin_send(), "AABBB");
  EXPECT_TRUE(b.sending());
  EXPECT_EQ(b.unsent(), "");
  EXPECT_EQ(b.sent(), 5u);
  b.end_send();
  EXPECT_EQ(b.oldest(2), "AA");
  b.consume(2);
  EXPECT_EQ(b.oldest(3), "BBB");
  b.consume(3);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.sent(), 0u);
}

TEST(RequestBuffer, CommandsQueuedDuringASendGoToTheOtherBuffer) {
  request_buffer b;
  add(b, "first");
  const std::string_view in_flight = b.begin_send();
  const char* where = in_flight.data();
  for (int i = 0; i < 1000; ++i)  // enough to grow any buffer
    add(b, "second-batch-command ");
  EXPECT_EQ(in_flight.data(), where);
  EXPECT_EQ(in_flight, "first");
  EXPECT_EQ(b.unsent().size(), 21000u);
  b.consume(5);  // its reply came before the send's own completion: nothing moves
  EXPECT_EQ(in_flight.data(), where);
  b.end_send();
  EXPECT_EQ(b.begin_send().size(), 21000u);
}

TEST(RequestBuffer, TheCursorWalksCommandsAcrossBothBuffersInOrder) {
  request_buffer b;
  add(b, "1a");
  add(b, "1b");
  b.begin_send();
  add(b, "2a");
  b.end_send();
  b.begin_send();
  add(b, "3a");  // back in the first buffer, after 1a 1b
  add(b, "3b");
  request_buffer::cursor c(b);
  EXPECT_EQ(c.next(2), "1a");
  EXPECT_EQ(c.next(2), "1b");
  EXPECT_EQ(c.next(2), "2a");
  EXPECT_EQ(c.next(2), "3a");
  EXPECT_EQ(c.next(2), "3b");
  EXPECT_EQ(b.sent(), 6u);
  b.consume(2);
  b.consume(2);
  EXPECT_EQ(b.oldest(2), "2a");
}

TEST(RequestBuffer, ReplaceUnsentKeepsWhatWasSent) {
  request_buffer b;
  add(b, "S1");
  b.begin_send();
  b.end_send();
  add(b, "U1");
  add(b, "U2");
  add(b, "U3");
  b.replace_unsent("U1U3");
  EXPECT_EQ(b.unsent(), "U1U3");
  EXPECT_EQ(b.size(), 6u);
  EXPECT_EQ(b.oldest(2), "S1");
}

TEST(RequestBuffer, AppendingACommandsOwnBytesIsSafe) {
  request_buffer b;
  add(b, "resend me");
  b.begin_send();
  b.end_send();
  add(b, "x");
  b.begin_send();
  b.end_send();
  // The first buffer is the current one again and holds the command to resend: appending its
  // own bytes may compact or grow it.
  for (int i = 0; i < 100; ++i)
    add(b, b.oldest(9));
  request_buffer::cursor c(b);
  EXPECT_EQ(c.next(9), "resend me");
  EXPECT_EQ(c.next(1), "x");
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(c.next(9), "resend me") << i;
}

TEST(RequestBuffer, BothBuffersGrowTogetherAndNothingIsAllocatedOnceWarm) {
  request_buffer b;
  const std::string command(3000, 'c');
  auto round = [&] {
    for (int i = 0; i < 8; ++i)
      add(b, command);
    b.begin_send();
    for (int i = 0; i < 8; ++i)
      add(b, command);
    b.end_send();
    for (int i = 0; i < 8; ++i)
      b.consume(command.size());
    b.begin_send();
    b.end_send();
    for (int i = 0; i < 8; ++i)
      b.consume(command.size());
  };
  round();
  const dev::allocation_scope scope;
  for (int i = 0; i < 100; ++i)
    round();
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_TRUE(b.empty());
}

TEST(RequestBuffer, ClearForgetsEverythingAndKeepsWorking) {
  request_buffer b;
  add(b, "A");
  b.begin_send();
  add(b, "B");
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_FALSE(b.sending());
  add(b, "C");
  EXPECT_EQ(b.begin_send(), "C");
}

}  // namespace
}  // namespace uredis::proto
