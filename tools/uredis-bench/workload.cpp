#include "workload.hpp"

#include <array>

namespace uredis::bench {
namespace {

constexpr std::array<test_info, 9> tests{{
    {test_kind::ping, "ping", "PING"},
    {test_kind::set, "set", "SET"},
    {test_kind::get, "get", "GET"},
    {test_kind::incr, "incr", "INCR"},
    {test_kind::lpush, "lpush", "LPUSH"},
    {test_kind::rpush, "rpush", "RPUSH"},
    {test_kind::lpop, "lpop", "LPOP"},
    {test_kind::sadd, "sadd", "SADD"},
    {test_kind::hset, "hset", "HSET"},
}};

}  // namespace

std::span<const test_info> all_tests() noexcept {
  return tests;
}

const test_info* find_test(std::string_view name) noexcept {
  for (const auto& t : tests)
    if (t.name == name) return &t;
  return nullptr;
}

std::string_view request_builder::key(std::string_view prefix) noexcept {
  static constexpr std::string_view placeholder = "__rand_int__";
  static constexpr std::size_t digits = 12;  // redis-benchmark's width
  static_assert(sizeof(key_) >= 16 + digits, "the longest prefix plus the number must fit");
  std::size_t n = prefix.copy(key_, sizeof(key_) - digits);
  if (keyspace_ == 0) return {key_, n + placeholder.copy(key_ + n, digits)};
  std::uint64_t v = rng_.below(keyspace_);
  for (std::size_t i = digits; i-- > 0;) {
    key_[n + i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return {key_, n + digits};
}

}  // namespace uredis::bench
