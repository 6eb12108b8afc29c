#pragma once
// workload: the tests uredis-bench knows (redis-benchmark's names and keys) and how one request
// of each is issued on a connection.
//
// Keys follow redis-benchmark: without -r the key is the literal "key:__rand_int__" (one key);
// with -r N every request picks a key uniformly in 0..N-1, written as 12 zero-padded digits
// ("key:000000000042"). Lists use "mylist", sets "myset", hashes "myhash" with the random part
// in the member or field ("element:__rand_int__"), counters "counter:__rand_int__".
//
// Issuing allocates nothing: the key is written into the request_builder's own buffer and the
// value is one preallocated buffer of -d bytes; descriptors view both while exec() encodes.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "uredis/client/connection.hpp"
#include "uredis/util/random.hpp"

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

/// Builds the keys of one connection's requests; one per connection (it owns the key buffer).
class request_builder {
 public:
  request_builder(std::uint64_t keyspace, std::string_view value, std::uint64_t seed) noexcept
      : keyspace_(keyspace), value_(value), rng_(seed) {}

  /// Sends one request of `kind` on `c`; `done(ok)` runs once with its outcome.
  template <class Done>
  void issue(test_kind kind, connection& c, Done&& done);

 private:
  /// prefix + (the literal "__rand_int__", or a random 12-digit number), in key_.
  std::string_view key(std::string_view prefix) noexcept;

  std::uint64_t keyspace_;
  std::string_view value_;
  util::rng rng_;
  char key_[64] = {};
};

namespace detail {
// GET and LPOP replies read as views into the read buffer: -d may exceed std::string's
// small-string buffer, and a benchmark must not allocate per reply.
struct get_view {
  std::string_view key;
  using response = std::optional<std::string_view>;
  void encode(resp::encoder& e) const { e.command("GET", key); }
};
struct lpop_view {
  std::string_view key;
  using response = std::optional<std::string_view>;
  void encode(resp::encoder& e) const { e.command("LPOP", key); }
};
}  // namespace detail

}  // namespace uredis::bench

#include "workload_issue.hpp"
