#pragma once
// keys: the key of each request, as redis-benchmark writes them, picked by --key-pattern.
//
// Without -r every request uses the literal key "<prefix>__rand_int__" (one key, as
// redis-benchmark does). With -r N a key number in 0..N-1 is picked per request and written as
// 12 zero-padded digits after the prefix ("key:000000000042"):
//
//   uniform     every number equally likely (redis-benchmark's -r).
//   sequential  shard s of S takes s, s+S, s+2S, ... (mod N): together the shards walk the
//               keyspace in order, each key once per lap (with -n N and one shard, every key
//               exactly once). The connections of a shard share its sequence.
//   zipf        rank r in 1..N with probability proportional to r^-e (zipf.hpp), written as key
//               number r-1: key 0 is the hottest. e is --zipf-exponent, 0.99 by default (YCSB's
//               zipfian constant). The hot keys are not scrambled across the keyspace.
//
// One key_source per shard. Nothing here allocates after construction: the key is written into
// the source's own buffer and viewed until the next key() call (exec() copies it while
// encoding, before that).

#include <cstdint>
#include <optional>
#include <string_view>

#include "options.hpp"
#include "uredis/util/random.hpp"
#include "zipf.hpp"

namespace uredis::bench {

class key_source {
 public:
  /// Keys for shard `shard` of `shards`, random choices seeded with `seed`.
  key_source(key_pattern pattern, std::uint64_t keyspace, double zipf_exponent, std::size_t shard,
             std::size_t shards, std::uint64_t seed) noexcept;

  /// The next request's key: `prefix` (at most max_prefix bytes; a string that outlives the
  /// source, such as a literal) and its number. Valid until the next call.
  std::string_view key(std::string_view prefix) noexcept;

  /// N of -r: keys are numbers drawn in 0..N-1; 0: the literal "__rand_int__".
  std::uint64_t keyspace() const noexcept { return keyspace_; }

  /// Starts over: the sequence from its first key, the generator from its seed (after the
  /// warm-up, so the measured requests are the same whatever the warm-up took).
  void restart() noexcept;

  static constexpr std::size_t max_prefix = 16;
  static constexpr std::size_t digits = 12;  // redis-benchmark's width
  static constexpr std::size_t max_key_size = max_prefix + digits;

 private:
  std::uint64_t next_number() noexcept;

  key_pattern pattern_;
  std::uint64_t keyspace_;
  std::uint64_t first_;   // sequential: this shard's first key
  std::uint64_t stride_;  // sequential: shards % keyspace
  std::uint64_t next_;    // sequential: the next key
  std::uint64_t seed_;
  util::rng rng_;
  std::optional<zipf_distribution> zipf_;
  std::string_view prefix_;  // the prefix now in buffer_ (compared by address: a literal)
  char buffer_[max_key_size] = {};
};

}  // namespace uredis::bench
