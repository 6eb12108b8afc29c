#pragma once
// loopback: what the end-to-end benchmarks share — a private redis-server on a CPU of its own,
// the per-operation counters, and a hiredis connection — so that uredis and hiredis are measured
// alike in every binary (e2e_bench, batch_bench).
//
//   int main(int argc, char** argv) {
//     benchmark::Initialize(&argc, argv);
//     uredis::bench::private_server server;
//     if (const int status = uredis::bench::start_pinned_server("my_bench", argc, argv, server))
//       return status;
//     ...  // server.port()
//   }

#include <benchmark/benchmark.h>
#include <hiredis.h>

#include <cstddef>
#include <cstdint>

#include "private_server.hpp"

namespace uredis::bench {

/// The process's CPU time so far, in seconds (io_uring worker threads included).
double process_cpu();

/// Brackets a timed loop: sets `sec/op` (real time per operation), `cpu/op` (process CPU time
/// per operation) and items processed, for `per_iteration` operations per iteration.
class per_op {
 public:
  per_op(benchmark::State& state, std::size_t per_iteration)
      : state_(state), per_iteration_(per_iteration), cpu_start_(process_cpu()) {}
  ~per_op();
  per_op(const per_op&) = delete;
  per_op& operator=(const per_op&) = delete;

 private:
  benchmark::State& state_;
  std::size_t per_iteration_;
  double cpu_start_;
};

/// A hiredis connection, freed with its owner.
struct hiredis_context {
  redisContext* c = nullptr;
  hiredis_context() = default;
  hiredis_context(const hiredis_context&) = delete;
  hiredis_context& operator=(const hiredis_context&) = delete;
  ~hiredis_context() {
    if (c != nullptr) redisFree(c);
  }
};

/// Connects `ctx` to 127.0.0.1:`port` (hiredis sets TCP_NODELAY, as uredis does); on failure
/// skips the benchmark with the reason and returns false.
bool connect_hiredis(benchmark::State& state, hiredis_context& ctx, std::uint16_t port);

/// Reads the arguments Google Benchmark left (only --no-pin is known), starts `server`, and pins
/// it to the last allowed CPU and this process to the first when there are two or more (the
/// server inherits the affinity it is forked with). Records the server and the pinning in the
/// run's context. Returns 0, or the exit status after printing why (2: a bad argument, 1: no
/// server).
int start_pinned_server(const char* program, int argc, char** argv, private_server& server);

}  // namespace uredis::bench
