#pragma once
// cache_config: whether a connection keeps a client-side cache, and how. Off unless max_bytes
// is set. It is connection_config::cache; URL parameters cache_max_bytes, cache_mode,
// cache_prefix and cache_max_ttl set it (client/config.hpp). The cache itself: driver.hpp.
//
// Tracking modes (CLIENT TRACKING, the server's side of the cache):
//   optin    the default: the server tracks only reads sent right after CLIENT CACHING YES,
//            which the cache writes contiguously with each cacheable read, so a read the
//            caller did not mean to cache costs the server no tracking memory
//   tracked  every read the connection sends is tracked (CLIENT TRACKING ON, no option)
//   bcast    the server tracks nothing per client and invalidates every key that starts with
//            one of `prefixes` (none: every key) on every write; no tracking-table memory on
//            the server, more invalidations on the client. Reads of keys outside the prefixes
//            are not cached (nothing would invalidate them)

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace uredis::cache {

enum class tracking_mode : std::uint8_t { optin, tracked, bcast };

struct cache_config {
  /// The cache's memory bound in bytes (keys, values and overhead); 0: no cache.
  std::size_t max_bytes = 0;
  tracking_mode mode = tracking_mode::optin;
  /// BCAST only: the key prefixes to be told about (empty: all keys).
  std::vector<std::string> prefixes;
  /// Caps how long an entry is served; 0: as long as its key lives (and is not invalidated).
  std::chrono::milliseconds max_ttl{0};
  /// A reply larger than this is never cached.
  std::size_t max_value_bytes = 512u << 10;

  bool enabled() const noexcept { return max_bytes > 0; }
  friend bool operator==(const cache_config&, const cache_config&) = default;
};

}  // namespace uredis::cache
