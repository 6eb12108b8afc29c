// line_command: what a line of stdin asks uredis-cli to do, by redis-cli's prompt rules.

#include "line_command.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stream_mode.hpp"

namespace {

using uredis::cli::interpret_line;
using uredis::cli::line_command;
using uredis::cli::line_kind;
using uredis::cli::starts_stream;
using uredis::cli::unsupported_reason;
using words = std::vector<std::string>;

struct interpreted {
  line_command command;
  words args;
};

interpreted interpret(std::string_view line) {
  interpreted i;
  i.command = interpret_line(line, i.args);
  return i;
}

TEST(LineCommand, EmptyAndBlankLinesDoNothing) {
  EXPECT_EQ(interpret("").command.kind, line_kind::nothing);
  EXPECT_EQ(interpret("  \t ").command.kind, line_kind::nothing);
  EXPECT_EQ(interpret(std::string_view("\0PING", 5)).command.kind, line_kind::nothing);
}

TEST(LineCommand, ACommand) {
  const interpreted i = interpret("SET k \"two words\"");
  EXPECT_EQ(i.command.kind, line_kind::command);
  EXPECT_EQ(i.command.repeat, 1);
  EXPECT_EQ(i.args, (words{"SET", "k", "two words"}));
}

TEST(LineCommand, BadQuotingPrintsRedisClisMessage) {
  const interpreted i = interpret("GET \"k");
  EXPECT_EQ(i.command.kind, line_kind::print);
  EXPECT_EQ(i.command.text, "Invalid argument(s)\n");
}

TEST(LineCommand, ALeadingNumberRepeats) {
  interpreted i = interpret("3 INCR n");
  EXPECT_EQ(i.command.kind, line_kind::command);
  EXPECT_EQ(i.command.repeat, 3);
  EXPECT_EQ(i.args, (words{"INCR", "n"}));
  // A number alone is a command named "2".
  i = interpret("2");
  EXPECT_EQ(i.command.kind, line_kind::command);
  EXPECT_EQ(i.command.repeat, 1);
  EXPECT_EQ(i.args, words{"2"});
  // Not a whole number: the first word is the command.
  i = interpret("3x INCR n");
  EXPECT_EQ(i.command.repeat, 1);
  EXPECT_EQ(i.args.front(), "3x");
}

TEST(LineCommand, BadRepeatCountsPrintRedisClisMessage) {
  const std::string message = "Invalid redis-cli repeat command option value.\n";
  for (const char* line : {"0 PING", "-1 PING", "99999999999999999999999 PING", "\"\" PING"}) {
    const interpreted i = interpret(line);
    EXPECT_EQ(i.command.kind, line_kind::print) << line;
    EXPECT_EQ(i.command.text, message) << line;
  }
}

TEST(LineCommand, QuitAndExitInAnyCase) {
  for (const char* line : {"quit", "QUIT", "exit", "Exit now"})
    EXPECT_EQ(interpret(line).command.kind, line_kind::quit) << line;
}

TEST(LineCommand, PromptPreferencesAndBuiltins) {
  EXPECT_EQ(interpret(":set hints").command.kind, line_kind::nothing);
  EXPECT_EQ(interpret(":set NOHINTS").command.kind, line_kind::nothing);
  EXPECT_EQ(interpret(":set colors").command.text, "unknown redis-cli preference 'colors'\n");
  EXPECT_EQ(interpret(":reload").command.text, "unknown redis-cli internal command ':reload'\n");
  EXPECT_EQ(interpret(":set").command.text, "unknown redis-cli internal command ':set'\n");
  EXPECT_EQ(interpret("restart").command.text, "Use 'restart' only in Lua debugging mode.\n");
  EXPECT_EQ(interpret("clear").command.text, "\x1b[H\x1b[2J");
  // With arguments, "clear" is an ordinary command (the server will refuse it).
  EXPECT_EQ(interpret("clear x").command.kind, line_kind::command);
  EXPECT_EQ(interpret("connect localhost 6379").command.kind, line_kind::unsupported);
}

TEST(LineCommand, ReplicaModeAndHelpAreUnsupported) {
  for (const char* line : {"SYNC", "PSYNC ? -1", "help GET", "?", "2 sync"}) {
    const interpreted i = interpret(line);
    EXPECT_EQ(i.command.kind, line_kind::unsupported) << line;
    EXPECT_FALSE(i.command.text.empty()) << line;
  }
}

// They are commands like any other here; the run streams them (stream_mode.hpp).
TEST(LineCommand, StreamingCommandsAreCommands) {
  for (const char* line : {"SUBSCRIBE ch", "psubscribe p*", "SSUBSCRIBE s", "MONITOR"}) {
    const interpreted i = interpret(line);
    EXPECT_EQ(i.command.kind, line_kind::command) << line;
    EXPECT_TRUE(starts_stream(i.args)) << line;
  }
  const interpreted repeated = interpret("2 MONITOR");
  EXPECT_EQ(repeated.command.kind, line_kind::command);
  EXPECT_EQ(repeated.command.repeat, 2);
  EXPECT_FALSE(starts_stream(words{"PUBLISH", "ch", "m"}));
  EXPECT_FALSE(starts_stream(words{}));
  EXPECT_EQ(unsupported_reason(words{"PUBLISH", "ch", "m"}), "");
  EXPECT_EQ(unsupported_reason(words{}), "");
}

}  // namespace
