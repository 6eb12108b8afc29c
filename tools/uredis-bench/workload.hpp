#pragma once
// workload: what a test sends. Either one of the tests uredis-bench knows by name (-t) or a
// --command template (command_template.hpp).
//
// The named tests are redis-benchmark's default run (7.x), with its titles, order, commands and
// keys, so the two tools print the same table row for row:
//
//   PING_INLINE   PING as an inline command        SPOP       SPOP myset
//   PING_MBULK    PING as a RESP array             ZADD       ZADD myzset <score> element:<n>
//   SET           SET key:<n> <value>              ZPOPMIN    ZPOPMIN myzset
//   GET           GET key:<n>                      LPUSH (needed to benchmark LRANGE)
//   INCR          INCR counter:<n>                            LPUSH mylist <value>
//   LPUSH, RPUSH  LPUSH / RPUSH mylist <value>     LRANGE_100 (first 100 elements) ... _600
//   LPOP, RPOP    LPOP / RPOP mylist                          LRANGE mylist 0 99 ... 0 599
//   SADD          SADD myset element:<n>           MSET (10 keys)
//   HSET          HSET myhash element:<n> <value>             MSET key:<n> <value> x 10
//
// <n> comes from keys.hpp, drawn anew for each placeholder (MSET's ten keys differ with -r);
// ZADD's score is "0", or a drawn number with -r, as redis-benchmark's; <value> is -d bytes.
// The LRANGE tests read the list the LPUSH before them filled.
//
// Selection follows redis-benchmark's -t: a test runs when any of its names is listed (case
// does not matter); "ping" names both PINGs, "lrange" every LRANGE test, and any LRANGE name
// brings the LPUSH that fills the list. The tests always run in the order above, whatever the
// order of the -t list.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "command_template.hpp"

namespace uredis::bench {

enum class test_kind : std::uint8_t {
  ping_inline,
  ping_mbulk,
  set,
  get,
  incr,
  lpush,
  rpush,
  lpop,
  rpop,
  sadd,
  hset,
  spop,
  zadd,
  zpopmin,
  lrange_fill,
  lrange_100,
  lrange_300,
  lrange_500,
  lrange_600,
  mset,
};

struct test_info {
  test_kind kind;
  std::string_view title;  // as printed (redis-benchmark's)
  // The -t names that select it, lower case; unused slots are empty. (The LPUSH that fills the
  // list for LRANGE has no name of its own, as in redis-benchmark.)
  std::array<std::string_view, 5> names;

  bool named(std::string_view name) const noexcept;
};

/// Every test, in the order they run.
std::span<const test_info> all_tests() noexcept;
/// Whether -t `name` (lower case) selects any test.
bool is_test_name(std::string_view name) noexcept;
/// The tests the -t `names` (lower case) select, in run order.
std::vector<const test_info*> selected_tests(std::span<const std::string> names);

/// One test's requests: exactly one of `test` and `command` is set; both point at data that
/// outlives the run.
struct workload {
  const test_info* test = nullptr;
  const command_template* command = nullptr;

  /// "GET", or the template's text.
  std::string_view title() const noexcept { return test ? test->title : command->text(); }
};

}  // namespace uredis::bench
