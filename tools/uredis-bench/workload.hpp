#pragma once
// workload: what a test sends. Either one of the tests uredis-bench knows by name (-t, with
// redis-benchmark's names, titles and keys) or a --command template (command_template.hpp).
//
// Keys and values of the named tests follow redis-benchmark: SET/GET "key:<n>", INCR
// "counter:<n>", LPUSH/RPUSH/LPOP the list "mylist", SADD the set "myset" with member
// "element:<n>", HSET the hash "myhash" with field "element:<n>"; <n> comes from keys.hpp.

#include <cstdint>
#include <span>
#include <string_view>

#include "command_template.hpp"

namespace uredis::bench {

enum class test_kind : std::uint8_t { ping, set, get, incr, lpush, rpush, lpop, sadd, hset };

struct test_info {
  test_kind kind;
  std::string_view name;   // as given to -t
  std::string_view title;  // as printed (redis-benchmark's)
};

/// Every test, in the order they run by default.
std::span<const test_info> all_tests() noexcept;
/// The test called `name` (lower case), or null.
const test_info* find_test(std::string_view name) noexcept;

/// One test's requests: exactly one of `test` and `command` is set; both point at data that
/// outlives the run.
struct workload {
  const test_info* test = nullptr;
  const command_template* command = nullptr;

  /// "GET", or the template's text.
  std::string_view title() const noexcept { return test ? test->title : command->text(); }
};

}  // namespace uredis::bench
