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

}  // namespace uredis::bench
