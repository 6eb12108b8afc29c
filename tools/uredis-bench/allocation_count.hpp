#pragma once
// allocation_count: how many heap allocations this process has made, for the check that
// uredis-bench allocates nothing per request in steady state (its count over a measured phase
// must not grow with -n; tests/tools/bench_allocations.sh).
//
// The counting itself lives in the uredis-bench executable only (count_allocations.cpp, not
// in the core library, so nothing else that links the core has its allocator replaced): it
// replaces the global operator new and wraps mimalloc's allocation entry points, which the
// library's byte buffers and receive buffers use directly, and bumps the counter on each call.
// A binary without that file counts nothing: allocations_counted() is then false.
//
// The counter is one relaxed atomic: every thread adds to it, and it is read between phases,
// after the barrier that ends one (whose mutex orders the reads after the shards' increments).

#include <atomic>
#include <cstdint>

namespace uredis::bench {

namespace detail {
inline std::atomic<std::uint64_t> allocation_counter{0};
inline std::atomic<bool> allocation_counting{false};
}  // namespace detail

/// Called by each counted allocation.
inline void count_allocation() noexcept {
  detail::allocation_counter.fetch_add(1, std::memory_order_relaxed);
}

/// Allocations so far (0 forever when the binary does not count them).
inline std::uint64_t allocations() noexcept {
  return detail::allocation_counter.load(std::memory_order_relaxed);
}

/// Whether this binary counts allocations (it links count_allocations.cpp).
inline bool allocations_counted() noexcept {
  return detail::allocation_counting.load(std::memory_order_relaxed);
}

}  // namespace uredis::bench
