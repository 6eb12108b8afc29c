// The building blocks of the descriptors: arg, arg_list, pair_list (every form, and what does not
// compile), the expiry types, the conditions, and cmd::applied with its adapter.

#include "uredis/cmd/arguments.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <forward_list>
#include <initializer_list>
#include <limits>
#include <list>
#include <map>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "uredis/cmd/applied.hpp"
#include "uredis/cmd/condition.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::cmd {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

// The RESP array of bulk strings for `words`: what any command encodes to.
std::string wire(std::initializer_list<std::string_view> words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (const std::string_view w : words) {
    out += "$" + std::to_string(w.size()) + "\r\n";
    out += w;
    out += "\r\n";
  }
  return out;
}

// Writes "CMD" followed by the list's arguments.
template <class List>
std::string with_list(const List& list, std::size_t factor = 1) {
  util::byte_buffer buf;
  resp::encoder e{buf};
  e.begin(1 + factor * list.size());
  e.arg("CMD");
  list.encode(e);
  EXPECT_EQ(e.pending_args(), 0u);
  return std::string(buf.data());
}

// ---- arg ------------------------------------------------------------------------------------

static_assert(std::is_convertible_v<const char*, arg>);
static_assert(std::is_convertible_v<std::string, arg>);
static_assert(std::is_convertible_v<std::string_view, arg>);
static_assert(std::is_convertible_v<int, arg>);
static_assert(std::is_convertible_v<std::uint64_t, arg>);
static_assert(std::is_convertible_v<double, arg>);
static_assert(std::is_convertible_v<float, arg>);
static_assert(!std::is_convertible_v<bool, arg>);
static_assert(!std::is_convertible_v<char, arg>);
static_assert(!std::is_convertible_v<long double, arg>);
static_assert(!std::is_convertible_v<std::vector<std::string>, arg>);
static_assert(std::is_trivially_copyable_v<arg>);
static_assert(std::is_trivially_destructible_v<arg>);

TEST(ArgumentsArg, kinds) {
  EXPECT_EQ(arg().type(), arg::kind::text);
  EXPECT_EQ(arg().text(), "");
  EXPECT_EQ(arg("k").type(), arg::kind::text);
  EXPECT_EQ(arg(std::string("kk")).text(), "kk");
  EXPECT_EQ(arg(-3).type(), arg::kind::signed_integer);
  EXPECT_EQ(arg(3u).type(), arg::kind::unsigned_integer);
  EXPECT_EQ(arg(2.5).type(), arg::kind::real);
  EXPECT_EQ(arg(2.5f).type(), arg::kind::real_float);
}

TEST(ArgumentsArg, floats_are_written_as_floats) {
  EXPECT_EQ(with_list(arg_list{0.1f, 0.1}), wire({"CMD", "0.1", "0.1"}));
  const std::vector<float> scores = {0.3f, -2.5f};
  EXPECT_EQ(with_list(arg_list(scores)), wire({"CMD", "0.3", "-2.5"}));
}

TEST(ArgumentsArg, encodes_like_the_encoder) {
  const arg a[] = {
      "text", std::int64_t{-9223372036854775807 - 1},  std::uint64_t{18446744073709551615u},
      1.5,    std::numeric_limits<double>::infinity(), "bin\0ary"sv};
  EXPECT_EQ(with_list(arg_list(a)), wire({"CMD", "text", "-9223372036854775808",
                                          "18446744073709551615", "1.5", "inf", "bin\0ary"sv}));
}

// bytes() is what encode() sends, for every kind: the test writes both and compares.
TEST(ArgumentsArg, bytes_are_what_encode_sends) {
  const arg a[] = {"text",
                   ""sv,
                   "bin\0ary"sv,
                   std::int64_t{-9223372036854775807 - 1},
                   std::uint64_t{18446744073709551615u},
                   -1.7976931348623157e308,
                   -4.9406564584124654e-324,
                   0.1f,
                   std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()};
  for (const arg& one : a) {
    char scratch[resp::max_number_text];
    const std::string_view bytes = one.bytes(scratch);
    EXPECT_EQ(with_list(arg_list(one)), wire({"CMD", bytes}));
  }
  char scratch[resp::max_number_text];
  EXPECT_EQ(arg(-42).bytes(scratch), "-42");
  EXPECT_EQ(arg(0.1f).bytes(scratch), "0.1");
  const std::string text = "viewed";
  EXPECT_EQ(arg(text).bytes(scratch).data(), text.data());  // text is viewed, not copied
  static_assert([] {  // a text's bytes are known at compile time
    char unused[resp::max_number_text];
    return arg("k").bytes(unused);
  }() == "k");
}

// ---- arg_list -------------------------------------------------------------------------------

static_assert(std::is_trivially_copyable_v<arg_list>);
static_assert(std::is_constructible_v<arg_list, std::vector<std::string>&>);
static_assert(std::is_constructible_v<arg_list, const std::list<std::string_view>&>);
static_assert(std::is_constructible_v<arg_list, std::vector<int>&>);
static_assert(std::is_constructible_v<arg_list, std::span<const std::string>>);
static_assert(std::is_constructible_v<arg_list, std::forward_list<std::string>&>);
// Not arguments: chars, bools, nested ranges.
static_assert(!std::is_constructible_v<arg_list, std::vector<char>&>);
static_assert(!std::is_constructible_v<arg_list, std::vector<bool>&>);
static_assert(!std::is_constructible_v<arg_list, std::vector<std::vector<std::string>>&>);
static_assert(!std::is_constructible_v<arg_list, bool>);

TEST(ArgumentsArgList, empty) {
  const arg_list none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(with_list(none), wire({"CMD"}));
  EXPECT_EQ(with_list(arg_list{}), wire({"CMD"}));
}

TEST(ArgumentsArgList, one_argument_inline) {
  EXPECT_EQ(arg_list("a").size(), 1u);
  EXPECT_EQ(with_list(arg_list("a")), wire({"CMD", "a"}));
  EXPECT_EQ(with_list(arg_list(std::string("str"))), wire({"CMD", "str"}));
  EXPECT_EQ(with_list(arg_list(7)), wire({"CMD", "7"}));
  // Inline: the list outlives the std::string it was built from only through the view, but a
  // literal's bytes are static, so a copy of the list still encodes.
  arg_list copy = arg_list("lit");
  EXPECT_EQ(with_list(copy), wire({"CMD", "lit"}));
}

TEST(ArgumentsArgList, braced_list) {
  EXPECT_EQ(with_list(arg_list{"a", 2, 3.5, std::string("d")}),
            wire({"CMD", "a", "2", "3.5", "d"}));
  EXPECT_EQ(arg_list({"x", "y"}).size(), 2u);
}

TEST(ArgumentsArgList, ranges) {
  std::vector<std::string> keys = {"k1", "k2", "k3"};
  EXPECT_EQ(arg_list(keys).size(), 3u);
  EXPECT_EQ(with_list(arg_list(keys)), wire({"CMD", "k1", "k2", "k3"}));
  const std::list<std::string_view> list = {"a", "b"};
  EXPECT_EQ(with_list(arg_list(list)), wire({"CMD", "a", "b"}));
  const std::forward_list<int> numbers = {1, -2, 3};
  EXPECT_EQ(with_list(arg_list(numbers)), wire({"CMD", "1", "-2", "3"}));
  const std::string_view c_array[] = {"x", "y"};
  EXPECT_EQ(with_list(arg_list(c_array)), wire({"CMD", "x", "y"}));
  EXPECT_EQ(with_list(arg_list(std::span(keys).subspan(1))), wire({"CMD", "k2", "k3"}));
  const std::vector<arg> mixed = {"m", 1, 0.25};
  EXPECT_EQ(with_list(arg_list(mixed)), wire({"CMD", "m", "1", "0.25"}));
  std::vector<std::string> none;
  EXPECT_EQ(with_list(arg_list(none)), wire({"CMD"}));
}

// A forward range that makes its elements on the fly (std::string by value) and iterates only
// when non-const, as a caching view (std::views::filter) does. (Hand-written rather than built
// from std::views: Clang 14 cannot compile libstdc++ 12's views.)
class generated_keys {
 public:
  class iterator {
   public:
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(int i) : i_(i) {}
    std::string operator*() const { return "user:" + std::to_string(i_); }
    iterator& operator++() {
      i_ += 2;
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const iterator&, const iterator&) = default;

   private:
    int i_ = 0;
  };

  generated_keys(int first, int last) : first_(first), last_(last) {}
  iterator begin() {
    ++begins;
    return iterator(first_);
  }
  iterator end() { return iterator(last_); }

  int begins = 0;

 private:
  int first_;
  int last_;
};
static_assert(std::ranges::forward_range<generated_keys>);
static_assert(!std::ranges::range<const generated_keys>);

TEST(ArgumentsArgList, generated_non_const_ranges) {
  generated_keys keys(2, 6);  // user:2, user:4
  const arg_list list(keys);
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(with_list(list), wire({"CMD", "user:2", "user:4"}));
  EXPECT_EQ(with_list(list), wire({"CMD", "user:2", "user:4"}));  // walkable again
  EXPECT_EQ(keys.begins, 3);  // counted once, walked twice: the list viewed `keys` itself
  EXPECT_EQ(with_list(arg_list(generated_keys(10, 14))), wire({"CMD", "user:10", "user:12"}));
}

// for_each hands over the same arguments, in the same order, as encode() writes, for every form.
template <class List>
std::string each_bytes(const List& list) {
  std::string out;
  list.for_each([&out](const arg& a) {
    char scratch[resp::max_number_text];
    out += a.bytes(scratch);
    out += ',';
  });
  return out;
}

TEST(ArgumentsArgList, for_each_every_form) {
  EXPECT_EQ(each_bytes(arg_list{}), "");
  EXPECT_EQ(each_bytes(arg_list("a")), "a,");
  EXPECT_EQ(each_bytes(arg_list(7)), "7,");
  EXPECT_EQ(each_bytes(arg_list{"a", 2, 3.5}), "a,2,3.5,");
  const std::vector<std::string> keys = {"k1", "k2"};
  EXPECT_EQ(each_bytes(arg_list(keys)), "k1,k2,");
  const std::forward_list<int> numbers = {1, -2};
  EXPECT_EQ(each_bytes(arg_list(numbers)), "1,-2,");
  generated_keys generated(2, 6);
  EXPECT_EQ(each_bytes(arg_list(generated)), "user:2,user:4,");
  // Texts from a range are viewed in place: no copy is made to hand them over.
  arg_list(keys).for_each([&keys, i = 0](const arg& a) mutable {
    EXPECT_EQ(a.text().data(), keys[static_cast<std::size_t>(i++)].data());
  });
}

// ---- pair_list ------------------------------------------------------------------------------

static_assert(std::is_trivially_copyable_v<pair_list>);
static_assert(std::is_constructible_v<pair_list, std::map<std::string, std::string>&>);
static_assert(std::is_constructible_v<pair_list, std::vector<std::pair<double, std::string>>&>);
static_assert(!std::is_constructible_v<pair_list, std::vector<std::string>&>);
static_assert(!std::is_constructible_v<pair_list, std::vector<std::pair<std::string, bool>>&>);

TEST(ArgumentsPairList, forms) {
  EXPECT_EQ(with_list(pair_list{}, 2), wire({"CMD"}));
  EXPECT_EQ(with_list(pair_list{"f", "v"}, 2), wire({"CMD", "f", "v"}));
  EXPECT_EQ(with_list(pair_list{1.5, "m"}, 2), wire({"CMD", "1.5", "m"}));
  EXPECT_EQ(pair_list({{"a", 1}, {"b", 2}}).size(), 2u);
  EXPECT_EQ(with_list(pair_list{{"a", 1}, {"b", 2}}, 2), wire({"CMD", "a", "1", "b", "2"}));
  // One pair of braces more makes a list of one pair.
  EXPECT_EQ(with_list(pair_list{{"f", "v"}}, 2), wire({"CMD", "f", "v"}));
  const std::map<std::string, int> map = {{"x", 1}, {"y", 2}};
  EXPECT_EQ(with_list(pair_list(map), 2), wire({"CMD", "x", "1", "y", "2"}));
  const std::vector<std::pair<double, std::string_view>> scored = {{1, "a"}, {2.5, "b"}};
  EXPECT_EQ(with_list(pair_list(scored), 2), wire({"CMD", "1", "a", "2.5", "b"}));
  const std::deque<arg_pair> pairs = {{"p", "q"}};
  EXPECT_EQ(with_list(pair_list(pairs), 2), wire({"CMD", "p", "q"}));
}

template <class List>
std::string each_pair(const List& list) {
  std::string out;
  list.for_each([&out](const arg& first, const arg& second) {
    char scratch[resp::max_number_text];
    out += first.bytes(scratch);
    out += '=';
    out += second.bytes(scratch);
    out += ',';
  });
  return out;
}

TEST(ArgumentsPairList, for_each_every_form) {
  EXPECT_EQ(each_pair(pair_list{}), "");
  EXPECT_EQ(each_pair(pair_list{"f", "v"}), "f=v,");
  EXPECT_EQ(each_pair(pair_list{{"a", 1}, {"b", 2.5}}), "a=1,b=2.5,");
  const std::map<std::string, int> map = {{"x", 1}, {"y", 2}};
  EXPECT_EQ(each_pair(pair_list(map)), "x=1,y=2,");
  const std::deque<arg_pair> pairs = {{3, "q"}};
  EXPECT_EQ(each_pair(pair_list(pairs)), "3=q,");
}

// ---- expiries -------------------------------------------------------------------------------

template <class E>
std::string expiry_words(const E& ex) {
  util::byte_buffer buf;
  resp::encoder e{buf};
  e.begin(ex.size());
  ex.encode(e);
  EXPECT_EQ(e.pending_args(), 0u);
  return std::string(buf.data());
}

// KEEPTTL only on SET's expiry, PERSIST only on GETEX's.
template <class E>
concept has_keep_ttl = requires {
  E::keep_ttl();
};
template <class E>
concept has_persist = requires {
  E::persist();
};
static_assert(has_keep_ttl<set_expiry> && !has_persist<set_expiry>);
static_assert(has_persist<getex_expiry> && !has_keep_ttl<getex_expiry>);

// Finer than milliseconds does not compile for durations.
template <class D>
concept relative_expiry = requires(D d) {
  set_expiry::after(d);
};
static_assert(relative_expiry<std::chrono::seconds>);
static_assert(relative_expiry<std::chrono::milliseconds>);
static_assert(relative_expiry<std::chrono::hours>);
static_assert(!relative_expiry<std::chrono::microseconds>);
static_assert(!relative_expiry<std::chrono::duration<double>>);

TEST(ArgumentsExpiry, relative) {
  EXPECT_EQ(expiry_words(set_expiry::after(10s)), wire({"EX", "10"}));
  EXPECT_EQ(expiry_words(set_expiry::after(2min)), wire({"EX", "120"}));
  EXPECT_EQ(expiry_words(set_expiry::after(1500ms)), wire({"PX", "1500"}));
  EXPECT_EQ(expiry_words(getex_expiry::after(3s)), wire({"EX", "3"}));
  constexpr set_expiry e = set_expiry::after(7s);
  static_assert(e.kind() == detail::expiry_kind::ex && e.value() == 7 && e.size() == 2);
}

TEST(ArgumentsExpiry, absolute) {
  const std::chrono::sys_seconds at_s{std::chrono::seconds{1700000000}};
  EXPECT_EQ(expiry_words(set_expiry::at(at_s)), wire({"EXAT", "1700000000"}));
  const std::chrono::sys_time<std::chrono::milliseconds> at_ms{
      std::chrono::milliseconds{1700000000123}};
  EXPECT_EQ(expiry_words(getex_expiry::at(at_ms)), wire({"PXAT", "1700000000123"}));
  // Finer time points are floored to the millisecond.
  const std::chrono::sys_time<std::chrono::nanoseconds> at_ns{
      std::chrono::nanoseconds{1700000000123999999}};
  EXPECT_EQ(expiry_words(set_expiry::at(at_ns)), wire({"PXAT", "1700000000123"}));
}

TEST(ArgumentsExpiry, bare_words) {
  EXPECT_EQ(expiry_words(set_expiry::keep_ttl()), wire({"KEEPTTL"}));
  EXPECT_EQ(expiry_words(getex_expiry::persist()), wire({"PERSIST"}));
  EXPECT_EQ(set_expiry::keep_ttl().size(), 1u);
}

// ---- conditions -----------------------------------------------------------------------------

template <class C>
std::string condition_words(C c) {
  util::byte_buffer buf;
  resp::encoder e{buf};
  e.begin(detail::word_count(c));
  detail::encode(e, c);
  EXPECT_EQ(e.pending_args(), 0u);
  return std::string(buf.data());
}

TEST(ArgumentsCondition, words) {
  EXPECT_EQ(condition_words(set_condition::always), wire({}));
  EXPECT_EQ(condition_words(set_condition::nx), wire({"NX"}));
  EXPECT_EQ(condition_words(set_condition::xx), wire({"XX"}));
  EXPECT_EQ(condition_words(update_condition::always), wire({}));
  EXPECT_EQ(condition_words(update_condition::nx), wire({"NX"}));
  EXPECT_EQ(condition_words(update_condition::xx), wire({"XX"}));
  EXPECT_EQ(condition_words(update_condition::gt), wire({"GT"}));
  EXPECT_EQ(condition_words(update_condition::lt), wire({"LT"}));
  EXPECT_EQ(condition_words(update_condition::xx_gt), wire({"XX", "GT"}));
  EXPECT_EQ(condition_words(update_condition::xx_lt), wire({"XX", "LT"}));
}

// ---- applied --------------------------------------------------------------------------------

TEST(ArgumentsApplied, converts_to_bool) {
  constexpr applied yes{true};
  constexpr applied no{};
  static_assert(yes && !no);
  const bool b = yes;
  EXPECT_TRUE(b);
}

TEST(ArgumentsApplied, adapter) {
  EXPECT_TRUE(*resp::read_reply<applied>("+OK\r\n"));
  EXPECT_FALSE(*resp::read_reply<applied>("$-1\r\n"));
  EXPECT_FALSE(*resp::read_reply<applied>("*-1\r\n"));
  EXPECT_FALSE(*resp::read_reply<applied>("_\r\n"));
  // Anything else is not mistaken for success.
  EXPECT_EQ(resp::read_reply<applied>("+QUEUED\r\n").error(), errc::type_mismatch);
  EXPECT_EQ(resp::read_reply<applied>("$2\r\nOK\r\n").error(), errc::type_mismatch);
  EXPECT_EQ(resp::read_reply<applied>(":1\r\n").error(), errc::type_mismatch);
  EXPECT_EQ(resp::read_reply<applied>("#t\r\n").error(), errc::type_mismatch);
  std::size_t consumed = 0;
  const std::string array = "*2\r\n+OK\r\n+OK\r\n";
  EXPECT_EQ(resp::read_reply<applied>(array, &consumed).error(), errc::type_mismatch);
  EXPECT_EQ(consumed, array.size());  // the whole element was still consumed
  const auto err = resp::read_reply<applied>("-ERR syntax error\r\n");
  ASSERT_TRUE(err.has_server_error());
  EXPECT_EQ(err.server_error().kind, server_error_kind::err);
}

TEST(ArgumentsApplied, nested_error_and_attribute) {
  using many = std::vector<applied>;
  EXPECT_EQ(resp::read_reply<many>("*2\r\n+OK\r\n-ERR x\r\n").error(),
            errc::unexpected_server_error);
  const auto v = resp::read_reply<many>("*3\r\n+OK\r\n_\r\n|1\r\n+a\r\n+b\r\n+OK\r\n");
  ASSERT_TRUE(v.has_value());
  ASSERT_EQ(v->size(), 3u);
  EXPECT_TRUE((*v)[0]);
  EXPECT_FALSE((*v)[1]);
  EXPECT_TRUE((*v)[2]);
}

}  // namespace
}  // namespace uredis::cmd
