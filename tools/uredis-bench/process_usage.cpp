#include "process_usage.hpp"

#include <sys/resource.h>

#include "allocation_counter.hpp"

namespace uredis::bench {

process_usage process_usage::now() noexcept {
  process_usage u;
  // Allocations first: getrusage and the clock allocate nothing, so the count is exact.
  u.allocations = dev::process_allocations();
  rusage r{};
  ::getrusage(RUSAGE_SELF, &r);
  auto ns = [](const timeval& t) {
    return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec);
  };
  u.cpu = ns(r.ru_utime) + ns(r.ru_stime);
  u.wall = std::chrono::steady_clock::now();
  return u;
}

}  // namespace uredis::bench
