// uredis-cli --decode driven in-process: on the golden corpus, on every prefix of it, and on
// byte-level mutations of it. Whatever the bytes, decode() must end with a clean status and,
// on failure, one "protocol error: " line.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../support/golden_corpus.hpp"
#include "decode.hpp"

namespace {

using uredis::cli::decode;
using uredis::test::golden_case;
using uredis::test::golden_cases;

struct run_result {
  int status = -1;
  std::string out;
  std::string err;
};

// Captures what decode() writes, through memory streams.
run_result run(std::string_view input) {
  run_result r;
  char* out_buf = nullptr;
  char* err_buf = nullptr;
  std::size_t out_len = 0;
  std::size_t err_len = 0;
  std::FILE* out = open_memstream(&out_buf, &out_len);
  std::FILE* err = open_memstream(&err_buf, &err_len);
  r.status = decode(input, out, err);
  std::fclose(out);
  std::fclose(err);
  r.out.assign(out_buf, out_len);
  r.err.assign(err_buf, err_len);
  std::free(out_buf);
  std::free(err_buf);
  return r;
}

std::vector<golden_case> all_cases() {
  auto cases = golden_cases("redis-cli");
  auto rules = golden_cases("rules");
  cases.insert(cases.end(), rules.begin(), rules.end());
  return cases;
}

TEST(Decode, corpus_is_there) {
  EXPECT_GE(golden_cases("redis-cli").size(), 70u) << uredis::test::golden_dir();
  EXPECT_GE(golden_cases("rules").size(), 15u) << uredis::test::golden_dir();
}

TEST(Decode, prints_the_golden_output) {
  for (const golden_case& c : all_cases()) {
    const run_result r = run(c.input);
    EXPECT_EQ(r.status, 0) << c.name << ": " << r.err;
    EXPECT_EQ(r.out, c.expected) << c.name;
    EXPECT_EQ(r.err, "") << c.name;
  }
}

TEST(Decode, empty_input_prints_nothing) {
  const run_result r = run("");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
}

TEST(Decode, replies_before_an_error_are_printed) {
  const run_result r = run("+OK\r\n:5\r\n$2\r\nabc\r\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "OK\n(integer) 5\n");
  EXPECT_EQ(r.err, "protocol error: expected CRLF at byte 9\n");
}

TEST(Decode, truncation_names_where_input_ended_and_the_reply_began) {
  const run_result r = run("+OK\r\n*2\r\n:1\r\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "OK\n");
  EXPECT_EQ(r.err,
            "protocol error: unexpected end of input at byte 13 (inside the reply that starts at "
            "byte 5)\n");
}

// A strict prefix of valid input is never malformed: it either ends between replies (and prints
// those) or inside one (unexpected end of input).
TEST(Decode, every_prefix_of_the_corpus_is_clean) {
  std::size_t prefixes = 0;
  for (const golden_case& c : all_cases()) {
    for (std::size_t n = 1; n < c.input.size(); ++n) {
      const run_result r = run(std::string_view(c.input).substr(0, n));
      ++prefixes;
      if (r.status == 0) {
        EXPECT_EQ(r.err, "") << c.name << " prefix " << n;
        EXPECT_EQ(c.expected.compare(0, r.out.size(), r.out), 0) << c.name << " prefix " << n;
      } else {
        ASSERT_EQ(r.status, 1) << c.name << " prefix " << n;
        EXPECT_EQ(r.err.rfind("protocol error: unexpected end of input at byte ", 0), 0u)
            << c.name << " prefix " << n << ": " << r.err;
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << c.name;
      }
    }
  }
  EXPECT_GT(prefixes, 10000u);
}

// Every byte of every small case replaced by a handful of values, RESP markers included.
TEST(Decode, mutations_never_crash) {
  static constexpr char replacements[] = {'\0', '\r', '\n', '*', '$', '%', '|', '>',   '-',
                                          '9',  ':',  '_',  '=', '!', '(', ',', '\xff'};
  std::size_t runs = 0;
  std::size_t errors = 0;
  for (const golden_case& c : all_cases()) {
    if (c.input.size() > 400) continue;
    for (std::size_t i = 0; i < c.input.size(); ++i) {
      for (const char b : replacements) {
        if (c.input[i] == b) continue;
        std::string mutated = c.input;
        mutated[i] = b;
        const run_result r = run(mutated);
        ++runs;
        ASSERT_TRUE(r.status == 0 || r.status == 1) << c.name << " byte " << i;
        if (r.status == 1) {
          ++errors;
          EXPECT_EQ(r.err.rfind("protocol error: ", 0), 0u) << c.name << " byte " << i;
        } else {
          EXPECT_EQ(r.err, "") << c.name << " byte " << i;
        }
      }
    }
  }
  EXPECT_GT(runs, 10000u);
  EXPECT_GT(errors, runs / 4);  // most mutations do break the input
}

TEST(Decode, hostile_nesting_is_an_error_not_a_stack_overflow) {
  std::string deep;
  for (int i = 0; i < 100000; ++i)
    deep += "*1\r\n";
  deep += ":1\r\n";
  const run_result r = run(deep);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "protocol error: aggregates nested deeper than the configured limit at byte 128\n");
}

TEST(Decode, hostile_lengths_allocate_nothing_up_front) {
  // Thirty levels of four billion elements each, then the input ends.
  std::string giant;
  for (int i = 0; i < 30; ++i)
    giant += "*4294967295\r\n";
  const run_result r = run(giant);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("protocol error: unexpected end of input at byte ", 0), 0u) << r.err;
}

}  // namespace
