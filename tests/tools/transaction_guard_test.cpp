// transaction_guard: which commands uredis-cli refuses after a connection carrying a MULTI or a
// WATCH was lost, and which it sends.

#include "transaction_guard.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace {

using uredis::cli::transaction_guard;
using verdict = transaction_guard::verdict;

verdict send(transaction_guard& g, std::initializer_list<const char*> words) {
  const std::vector<std::string> args(words.begin(), words.end());
  return g.on_send(args);
}

TEST(TransactionGuard, OrdinaryCommandsAreSentAndALossDoesNotMatter) {
  transaction_guard g;
  EXPECT_EQ(send(g, {"SET", "k", "v"}), verdict::send);
  EXPECT_EQ(send(g, {"GET", "k"}), verdict::send);
  EXPECT_EQ(send(g, {}), verdict::send);
  EXPECT_FALSE(g.on_connection_lost(0));
  EXPECT_EQ(send(g, {"GET", "k"}), verdict::send);
}

TEST(TransactionGuard, ATransactionIsInsideFromMultiThroughExec) {
  transaction_guard g;
  EXPECT_EQ(send(g, {"multi"}), verdict::send_inside);
  EXPECT_TRUE(g.in_multi());
  EXPECT_EQ(send(g, {"INCR", "a"}), verdict::send_inside);
  EXPECT_EQ(send(g, {"EXEC"}), verdict::send_inside);
  EXPECT_FALSE(g.in_multi());
  EXPECT_EQ(send(g, {"INCR", "a"}), verdict::send);
  // Its EXEC still waiting for its reply: the loss matters, though nothing is open.
  EXPECT_TRUE(g.on_connection_lost(1));
  EXPECT_EQ(send(g, {"INCR", "a"}), verdict::send);
}

TEST(TransactionGuard, ALostTransactionIsRefusedThroughItsExecOrDiscard) {
  for (const char* end : {"EXEC", "discard"}) {
    transaction_guard g;
    send(g, {"MULTI"});
    send(g, {"INCR", "a"});
    EXPECT_TRUE(g.on_connection_lost(0));
    EXPECT_EQ(send(g, {"INCR", "b"}), verdict::refuse);
    EXPECT_EQ(send(g, {"MULTI"}), verdict::refuse);
    EXPECT_EQ(send(g, {end}), verdict::refuse);
    EXPECT_EQ(send(g, {"GET", "a"}), verdict::send);
  }
}

TEST(TransactionGuard, ALostWatchRefusesTheTransactionThatFollows) {
  transaction_guard g;
  EXPECT_EQ(send(g, {"WATCH", "w"}), verdict::send_inside);
  EXPECT_EQ(send(g, {"GET", "w"}), verdict::send_inside);
  EXPECT_TRUE(g.on_connection_lost(0));
  EXPECT_EQ(send(g, {"SET", "x", "1"}), verdict::send);  // before MULTI: as usual
  EXPECT_EQ(send(g, {"MULTI"}), verdict::refuse);
  EXPECT_EQ(send(g, {"SET", "w", "2"}), verdict::refuse);
  EXPECT_EQ(send(g, {"EXEC"}), verdict::refuse);
  EXPECT_EQ(send(g, {"MULTI"}), verdict::send_inside);  // a new transaction, unwatched
}

TEST(TransactionGuard, UnwatchEndsALostWatch) {
  transaction_guard g;
  send(g, {"WATCH", "w"});
  EXPECT_TRUE(g.on_connection_lost(0));
  EXPECT_EQ(send(g, {"UNWATCH"}), verdict::refuse);
  EXPECT_EQ(send(g, {"MULTI"}), verdict::send_inside);
}

TEST(TransactionGuard, UnwatchInsideMultiIsQueuedAndEndsNothing) {
  transaction_guard g;
  send(g, {"WATCH", "w"});
  send(g, {"MULTI"});
  EXPECT_EQ(send(g, {"UNWATCH"}), verdict::send_inside);
  EXPECT_TRUE(g.watching());
  EXPECT_EQ(send(g, {"EXEC"}), verdict::send_inside);
  EXPECT_FALSE(g.watching());
  EXPECT_FALSE(g.in_multi());
}

}  // namespace
