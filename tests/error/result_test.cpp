#include "uredis/result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "allocation_counter.hpp"
#include "uredis/exceptions.hpp"

namespace {

using uredis::errc;
using uredis::result;
using uredis::server_error;
using uredis::server_error_kind;

// The pinned conversions are implicit, so a function returning result<T> can `return` any of them.
static_assert(std::is_convertible_v<int, result<int>>);
static_assert(std::is_convertible_v<std::error_code, result<int>>);
static_assert(std::is_convertible_v<errc, result<int>>);
static_assert(std::is_convertible_v<server_error, result<int>>);
static_assert(std::is_convertible_v<const char*, result<std::string>>);
static_assert(std::is_convertible_v<errc, result<void>>);
static_assert(std::is_default_constructible_v<result<void>>);
static_assert(!std::is_default_constructible_v<result<int>>);
// Move-only values make move-only results.
static_assert(std::is_move_constructible_v<result<std::unique_ptr<int>>>);
static_assert(!std::is_copy_constructible_v<result<std::unique_ptr<int>>>);
// Testing a result is explicit, so it never decays to bool by accident.
static_assert(!std::is_convertible_v<result<int>, bool>);
static_assert(std::is_constructible_v<bool, result<int>>);

result<std::string> greet(int which) {
  switch (which) {
    case 0:
      return "hello";
    case 1:
      return errc::timeout;
    case 2:
      return std::error_code(ECONNRESET, std::system_category());
    default:
      return server_error::parse("WRONGTYPE Operation against a key");
  }
}

TEST(Result, holds_a_value) {
  result<int> r = 42;
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_FALSE(r.has_error());
  EXPECT_FALSE(r.has_server_error());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  *r = 7;
  EXPECT_EQ(r.value(), 7);
  r.value() = 8;
  EXPECT_EQ(*r, 8);
}

TEST(Result, holds_an_error_code) {
  const result<int> r = errc::connection_reset;
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_TRUE(r.has_error());
  EXPECT_FALSE(r.has_server_error());
  EXPECT_EQ(r.error(), errc::connection_reset);
  EXPECT_EQ(&r.error().category(), &uredis::category());
}

TEST(Result, holds_a_foreign_error_code) {
  const result<int> r = std::error_code(ETIMEDOUT, std::system_category());
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), std::errc::timed_out);
  EXPECT_EQ(&r.error().category(), &std::system_category());
}

TEST(Result, holds_a_server_error) {
  const result<int> r = server_error::parse("NOSCRIPT No matching script.");
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(r.has_error());
  EXPECT_TRUE(r.has_server_error());
  EXPECT_EQ(r.server_error().kind, server_error_kind::noscript);
  EXPECT_EQ(r.server_error().message, "NOSCRIPT No matching script.");
}

TEST(Result, returned_from_a_function) {
  EXPECT_EQ(greet(0).value(), "hello");
  EXPECT_EQ(greet(1).error(), errc::timeout);
  EXPECT_EQ(greet(2).error(), std::errc::connection_reset);
  EXPECT_EQ(greet(3).server_error().kind, server_error_kind::wrongtype);
}

TEST(Result, bool_value_and_code_stay_apart) {
  // error_code has an explicit operator bool: a code must land in the error slot, not the value.
  const result<bool> code = std::error_code(errc::timeout);
  EXPECT_TRUE(code.has_error());
  const result<bool> no = false;
  EXPECT_TRUE(no.has_value());
  EXPECT_FALSE(*no);
}

TEST(Result, arrow_reaches_members) {
  result<std::string> r = std::string("abc");
  EXPECT_EQ(r->size(), 3u);
  r->push_back('d');
  const auto& c = r;
  EXPECT_EQ(c->size(), 4u);
  EXPECT_EQ(*c, "abcd");
}

TEST(Result, move_only_value) {
  result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(**r, 5);
  result<std::unique_ptr<int>> moved = std::move(r);
  EXPECT_EQ(*moved.value(), 5);
  std::unique_ptr<int> out = std::move(moved).value();
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, 5);

  result<std::unique_ptr<int>> failed = errc::not_connected;
  EXPECT_TRUE(failed.has_error());
  EXPECT_THROW((void)std::move(failed).value(), uredis::connection_error);
}

TEST(Result, rvalue_value_moves_out) {
  result<std::vector<int>> r = std::vector<int>{1, 2, 3};
  std::vector<int> v = std::move(r).value();
  EXPECT_EQ(v.size(), 3u);
}

TEST(Result, copies_every_state) {
  const result<std::string> value = std::string("v");
  const result<std::string> code = errc::timeout;
  const result<std::string> server = server_error::parse("ERR x");
  const result<std::string> value_copy = value;
  const result<std::string> code_copy = code;
  const result<std::string> server_copy = server;
  EXPECT_EQ(*value_copy, "v");
  EXPECT_EQ(code_copy.error(), errc::timeout);
  EXPECT_EQ(server_copy.server_error(), server_error::parse("ERR x"));
}

TEST(Result, assignment_changes_state) {
  result<int> r = 1;
  r = errc::timeout;
  EXPECT_TRUE(r.has_error());
  r = server_error::parse("OOM no memory");
  EXPECT_TRUE(r.has_server_error());
  r = 3;
  EXPECT_EQ(r.value(), 3);
}

TEST(Result, value_throws_the_mapped_exception_for_a_code) {
  result<int> timeout = errc::timeout;
  EXPECT_THROW((void)timeout.value(), uredis::timeout_error);
  const result<int> protocol = errc::invalid_length;
  EXPECT_THROW((void)protocol.value(), uredis::invalid_response_error);
  EXPECT_THROW((void)result<int>(errc::type_mismatch).value(), uredis::data_error);
  try {
    (void)timeout.value();
    FAIL() << "value() returned";
  } catch (const uredis::error& e) {
    EXPECT_EQ(e.code(), errc::timeout);
    EXPECT_STREQ(e.what(), "operation timed out");
  }
}

TEST(Result, value_throws_moved_error_caught_as_every_base) {
  const result<std::string> r = server_error::parse("MOVED 3999 127.0.0.1:6381");
  EXPECT_THROW((void)r.value(), uredis::moved_error);
  EXPECT_THROW((void)r.value(), uredis::ask_error);
  EXPECT_THROW((void)r.value(), uredis::response_error);
  EXPECT_THROW((void)r.value(), uredis::error);
  EXPECT_THROW((void)r.value(), std::runtime_error);
  try {
    (void)r.value();
    FAIL() << "value() returned";
  } catch (const uredis::ask_error& e) {
    EXPECT_STREQ(e.what(), "MOVED 3999 127.0.0.1:6381");
    ASSERT_NE(e.server_error(), nullptr);
    EXPECT_EQ(*e.server_error(), r.server_error());
    EXPECT_FALSE(e.code());
  }
}

TEST(Result, value_on_a_value_does_not_throw) {
  const result<int> r = 1;
  EXPECT_NO_THROW((void)r.value());
}

TEST(ResultVoid, default_is_success) {
  const result<void> r;
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_FALSE(r.has_error());
  EXPECT_FALSE(r.has_server_error());
  EXPECT_NO_THROW(r.value());
}

TEST(ResultVoid, holds_errors) {
  const result<void> code = errc::connection_refused;
  EXPECT_FALSE(code.has_value());
  EXPECT_TRUE(code.has_error());
  EXPECT_EQ(code.error(), errc::connection_refused);
  EXPECT_THROW(code.value(), uredis::connection_error);

  const result<void> from_code = std::error_code(EPIPE, std::system_category());
  EXPECT_THROW(from_code.value(), uredis::connection_error);

  const result<void> server =
      server_error::parse("READONLY You can't write against a read only replica.");
  EXPECT_TRUE(server.has_server_error());
  EXPECT_EQ(server.server_error().kind, server_error_kind::readonly);
  EXPECT_THROW(server.value(), uredis::read_only_error);
}

TEST(ResultVoid, assignment_back_to_success) {
  result<void> r = errc::timeout;
  EXPECT_FALSE(r);
  r = {};
  EXPECT_TRUE(r);
}

TEST(Result, holding_a_value_or_a_code_does_not_allocate) {
  const uredis::dev::allocation_scope scope;
  {
    result<int> a = 1;
    result<int> b = errc::timeout;
    result<int> c = std::error_code(ECONNRESET, std::system_category());
    result<void> d;
    result<void> e = errc::connection_closed;
    result<int> f = b;
    f = a;
    b = std::move(c);
    EXPECT_EQ(*a + *f, 2);
    EXPECT_TRUE(b.has_error() && !d.has_error() && e.has_error());
  }
  EXPECT_EQ(scope.allocations(), 0u);
}

TEST(Result, a_short_server_error_fits_in_place) {
  // The message is a std::string: a short one lives in the small-string buffer.
  const uredis::dev::allocation_scope scope;
  { result<int> r = server_error{server_error_kind::oom, "OOM"}; }
  EXPECT_EQ(scope.allocations(), 0u);
}

TEST(Result, the_counter_sees_allocations) {
  // Proves the two tests above can fail: a long message does not fit the small-string buffer.
  const uredis::dev::allocation_scope scope;
  { result<int> r = server_error::parse("ERR a message far longer than any small-string buffer"); }
  EXPECT_GT(scope.allocations(), 0u);
}

#ifndef NDEBUG
TEST(ResultDeathTest, dereferencing_an_error_asserts) {
  result<int> r = errc::timeout;
  EXPECT_DEATH((void)*r, "has_value");
}
TEST(ResultDeathTest, error_of_a_value_asserts) {
  const result<int> r = 1;
  EXPECT_DEATH((void)r.error(), "has_error");
}
TEST(ResultDeathTest, building_from_success_asserts) {
  EXPECT_DEATH(result<int>{std::error_code{}}, "success code");
}
#endif

}  // namespace
