#pragma once
// allowed_cpus: the CPUs the calling thread may run on, in order; what the benchmarks pin their
// threads (and the servers they start) to.

#include <sched.h>

#include <vector>

namespace uredis::bench {

inline std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

}  // namespace uredis::bench
