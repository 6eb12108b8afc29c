#include "workload.hpp"

#include <algorithm>

namespace uredis::bench {
namespace {

// redis-benchmark's default run, in its order (redis-benchmark.c, main()).
constexpr std::array<test_info, 20> tests{{
    {test_kind::ping_inline, "PING_INLINE", {"ping_inline", "ping"}},
    {test_kind::ping_mbulk, "PING_MBULK", {"ping_mbulk", "ping"}},
    {test_kind::set, "SET", {"set"}},
    {test_kind::get, "GET", {"get"}},
    {test_kind::incr, "INCR", {"incr"}},
    {test_kind::lpush, "LPUSH", {"lpush"}},
    {test_kind::rpush, "RPUSH", {"rpush"}},
    {test_kind::lpop, "LPOP", {"lpop"}},
    {test_kind::rpop, "RPOP", {"rpop"}},
    {test_kind::sadd, "SADD", {"sadd"}},
    {test_kind::hset, "HSET", {"hset"}},
    {test_kind::spop, "SPOP", {"spop"}},
    {test_kind::zadd, "ZADD", {"zadd"}},
    {test_kind::zpopmin, "ZPOPMIN", {"zpopmin"}},
    {test_kind::lrange_fill,
     "LPUSH (needed to benchmark LRANGE)",
     {"lrange", "lrange_100", "lrange_300", "lrange_500", "lrange_600"}},
    {test_kind::lrange_100, "LRANGE_100 (first 100 elements)", {"lrange_100", "lrange"}},
    {test_kind::lrange_300, "LRANGE_300 (first 300 elements)", {"lrange_300", "lrange"}},
    {test_kind::lrange_500, "LRANGE_500 (first 500 elements)", {"lrange_500", "lrange"}},
    {test_kind::lrange_600, "LRANGE_600 (first 600 elements)", {"lrange_600", "lrange"}},
    {test_kind::mset, "MSET (10 keys)", {"mset"}},
}};

}  // namespace

bool test_info::named(std::string_view name) const noexcept {
  return !name.empty() && std::find(names.begin(), names.end(), name) != names.end();
}

std::span<const test_info> all_tests() noexcept {
  return tests;
}

bool is_test_name(std::string_view name) noexcept {
  return std::any_of(tests.begin(), tests.end(),
                     [name](const test_info& t) { return t.named(name); });
}

std::vector<const test_info*> selected_tests(std::span<const std::string> names) {
  std::vector<const test_info*> out;
  for (const test_info& t : tests)
    if (std::any_of(names.begin(), names.end(), [&t](const std::string& n) { return t.named(n); }))
      out.push_back(&t);
  return out;
}

}  // namespace uredis::bench
