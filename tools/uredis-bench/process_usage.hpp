#pragma once
// process_usage: what a measured phase costs the client process, as the difference of two
// snapshots: wall time (steady clock), CPU time (getrusage RUSAGE_SELF, user + system, every
// thread of this process and nothing of a private redis-server, which is a child), and heap
// allocations (tools/common/allocation_counter.hpp, every thread of the process).

#include <chrono>
#include <cstdint>

namespace uredis::bench {

struct process_usage {
  std::chrono::steady_clock::time_point wall{};
  std::chrono::nanoseconds cpu{0};
  std::uint64_t allocations = 0;

  /// The process's figures now.
  static process_usage now() noexcept;
};

}  // namespace uredis::bench
