#include "loopback.hpp"

#include "allowed_cpus.hpp"

#include <sched.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace uredis::bench {
namespace {

void pin_self(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ::sched_setaffinity(0, sizeof set, &set);
}

}  // namespace

double process_cpu() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

per_op::~per_op() {
  const double ops = static_cast<double>(state_.iterations()) * static_cast<double>(per_iteration_);
  if (ops == 0) return;
  state_.counters["sec/op"] = benchmark::Counter(
      static_cast<double>(per_iteration_),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state_.counters["cpu/op"] = (process_cpu() - cpu_start_) / ops;
  state_.SetItemsProcessed(static_cast<std::int64_t>(ops));
}

bool connect_hiredis(benchmark::State& state, hiredis_context& ctx, std::uint16_t port) {
  ctx.c = redisConnect("127.0.0.1", port);
  if (ctx.c == nullptr || ctx.c->err != 0) {
    state.SkipWithError(ctx.c ? ctx.c->errstr : "hiredis: out of memory");
    return false;
  }
  return true;
}

int start_pinned_server(const char* program, int argc, char** argv, private_server& server) {
  bool pin = true;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--no-pin") == 0) {
      pin = false;
    } else {
      std::fprintf(stderr, "%s: unknown argument %s (besides Google Benchmark's: --no-pin)\n",
                   program, argv[i]);
      return 2;
    }
  }
  const std::vector<int> cpus = allowed_cpus();
  pin = pin && cpus.size() >= 2;
  if (pin) pin_self(cpus.back());  // the server inherits it
  std::string error;
  const bool started = server.start(error);
  if (pin) pin_self(cpus.front());
  if (!started) {
    std::fprintf(stderr, "%s: cannot start redis-server: %s\n", program, error.c_str());
    return 1;
  }
  benchmark::AddCustomContext("redis_server", "127.0.0.1:" + std::to_string(server.port()));
  benchmark::AddCustomContext("pinning", pin ? "client on CPU " + std::to_string(cpus.front()) +
                                                   ", redis-server on CPU " +
                                                   std::to_string(cpus.back())
                                             : "none");
  return 0;
}

}  // namespace uredis::bench
