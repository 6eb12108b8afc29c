// End to end on loopback: uredis against hiredis on the same workloads, the same server and the
// same key, in one binary.
//
// The benchmark starts its own redis-server (tools/uredis-bench/private_server: from PATH, a free
// loopback port, no persistence) and stores one value of 3 bytes (redis-benchmark's default -d)
// under redis-benchmark's GET key. When the process may use two CPUs the server runs on the second
// and the benchmark on the first (the server inherits the affinity it is forked with); --no-pin
// leaves both to the scheduler.
//
//   get/one_in_flight    request/response, one command in flight: uredis' blocking_client, the
//                        callback API driven by reactor::run_until (sleeping in io_uring_enter,
//                        or busy-polling), against hiredis' blocking redisCommand.
//   get/pipeline/256     256 GETs on one connection, then every reply: uredis' connection.exec
//                        x256 then run_until all done, against hiredis' redisAppendCommand x256
//                        then redisGetReply x256.
//
// Every row reports wall-clock time (the waiting dominates), so "Time" and `sec/op` are real time
// per GET; "CPU" is the process's CPU time (not only the benchmark thread's: io_uring worker
// threads would count), and `cpu/op` the same per GET. The server's CPU is not counted. The
// one-in-flight rows add p50/p99/p999: the latency of each GET, measured around the call.
// Run with --benchmark_enable_random_interleaving=true so that a change of load on the machine
// hits both clients alike.
//
// The one-in-flight latencies are mostly the time it takes to wake an idle CPU (the server's,
// then the client's), so the run's context records the idle policy ("cpu_idle"): compare
// figures only between runs that share it (docs/PERFORMANCE.md).
//
// Both clients get the same allocator: uredis links mimalloc, which also serves hiredis' malloc
// in this process.

#include <benchmark/benchmark.h>
#include <hiredis.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "latency_samples.hpp"
#include "loopback.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/result.hpp"

namespace {

using uredis::bench::connect_hiredis;
using uredis::bench::hiredis_context;
using uredis::bench::per_op;

// redis-benchmark's GET key when no -r is given, and its default value size.
constexpr std::string_view key = "key:__rand_int__";
constexpr std::string_view value = "xxx";
constexpr std::size_t pipeline_depth = 256;

std::uint16_t server_port = 0;  // set by main() before any benchmark runs

std::string server_url() {
  return "redis://127.0.0.1:" + std::to_string(server_port);
}

// GET into a view of the read buffer: no allocation per reply (the value is valid during the
// callback only). cmd::get would copy it into a std::string.
struct get_view {
  std::string_view key;
  using response = std::optional<std::string_view>;
  void encode(uredis::resp::encoder& e) const { e.command("GET", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

// --- uredis ------------------------------------------------------------------------------------

std::optional<uredis::blocking_client> connect_uredis(benchmark::State& state, bool busy_poll) {
  auto options = uredis::blocking_client::default_reactor_options();
  options.busy_poll = busy_poll;
  try {
    return std::optional<uredis::blocking_client>(std::in_place, server_url(), options);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return std::nullopt;
  }
}

// blocking_client::get: the simplest API (the value is copied into a std::string).
void BM_uredis_blocking_get(benchmark::State& state) {
  auto client = connect_uredis(state, false);
  if (!client) return;
  latency_samples samples;
  {
    per_op counters(state, 1);
    for (auto _ : state) {
      const auto start = std::chrono::steady_clock::now();
      std::optional<std::string> v = client->get(key);
      samples.add(std::chrono::steady_clock::now() - start);
      if (!v || *v != value) {
        state.SkipWithError("uredis: wrong reply");
        break;
      }
    }
  }
  samples.report(state);
}
BENCHMARK(BM_uredis_blocking_get)
    ->Name("uredis_blocking_client/get/one_in_flight")
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// The callback API on the blocking client's connection, the loop driven by run_until: sleeping
// in io_uring_enter (busy_poll 0) or spinning (busy_poll 1).
void BM_uredis_callback_get(benchmark::State& state) {
  auto client = connect_uredis(state, state.range(0) != 0);
  if (!client) return;
  uredis::connection& conn = client->connection();
  uredis::reactor::reactor& loop = client->loop();
  latency_samples samples;
  {
    per_op counters(state, 1);
    for (auto _ : state) {
      const auto start = std::chrono::steady_clock::now();
      bool done = false;
      bool ok = false;
      conn.exec(get_view{key}, [&](uredis::result<std::optional<std::string_view>> r) {
        ok = r && *r && **r == value;
        done = true;
      });
      loop.run_until([&done] { return done; });
      samples.add(std::chrono::steady_clock::now() - start);
      if (!ok) {
        state.SkipWithError("uredis: wrong reply");
        break;
      }
    }
  }
  samples.report(state);
}
BENCHMARK(BM_uredis_callback_get)
    ->Name("uredis_callback/get/one_in_flight")
    ->ArgName("busy_poll")
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_uredis_pipeline_get(benchmark::State& state) {
  auto client = connect_uredis(state, false);
  if (!client) return;
  uredis::connection& conn = client->connection();
  uredis::reactor::reactor& loop = client->loop();
  {
    per_op counters(state, pipeline_depth);
    for (auto _ : state) {
      std::size_t done = 0;
      std::size_t ok = 0;
      for (std::size_t i = 0; i < pipeline_depth; ++i) {
        conn.exec(get_view{key}, [&](uredis::result<std::optional<std::string_view>> r) {
          ok += r && *r && **r == value ? 1 : 0;
          ++done;
        });
      }
      loop.run_until([&done] { return done == pipeline_depth; });
      if (ok != pipeline_depth) {
        state.SkipWithError("uredis: wrong reply");
        break;
      }
    }
  }
}
BENCHMARK(BM_uredis_pipeline_get)
    ->Name("uredis_callback/get/pipeline/256")
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// --- hiredis -----------------------------------------------------------------------------------

bool is_value(const redisReply* r) {
  return r != nullptr && r->type == REDIS_REPLY_STRING &&
         std::string_view(r->str, static_cast<std::size_t>(r->len)) == value;
}

void BM_hiredis_get(benchmark::State& state) {
  hiredis_context ctx;
  if (!connect_hiredis(state, ctx, server_port)) return;
  const std::string k(key);
  latency_samples samples;
  {
    per_op counters(state, 1);
    for (auto _ : state) {
      const auto start = std::chrono::steady_clock::now();
      auto* r = static_cast<redisReply*>(redisCommand(ctx.c, "GET %s", k.c_str()));
      samples.add(std::chrono::steady_clock::now() - start);
      const bool ok = is_value(r);
      if (r != nullptr) freeReplyObject(r);
      if (!ok) {
        state.SkipWithError("hiredis: wrong reply");
        break;
      }
    }
  }
  samples.report(state);
}
BENCHMARK(BM_hiredis_get)
    ->Name("hiredis_redisCommand/get/one_in_flight")
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_hiredis_pipeline_get(benchmark::State& state) {
  hiredis_context ctx;
  if (!connect_hiredis(state, ctx, server_port)) return;
  const std::string k(key);
  {
    per_op counters(state, pipeline_depth);
    for (auto _ : state) {
      for (std::size_t i = 0; i < pipeline_depth; ++i)
        redisAppendCommand(ctx.c, "GET %s", k.c_str());
      std::size_t ok = 0;
      for (std::size_t i = 0; i < pipeline_depth; ++i) {
        void* reply = nullptr;
        if (redisGetReply(ctx.c, &reply) != REDIS_OK) break;
        auto* r = static_cast<redisReply*>(reply);
        ok += is_value(r) ? 1 : 0;
        freeReplyObject(r);
      }
      if (ok != pipeline_depth) {
        state.SkipWithError("hiredis: wrong reply");
        break;
      }
    }
  }
}
BENCHMARK(BM_hiredis_pipeline_get)
    ->Name("hiredis_append_getreply/get/pipeline/256")
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// --- set-up ------------------------------------------------------------------------------------

bool store_value(std::string& error) {
  redisContext* c = redisConnect("127.0.0.1", server_port);
  if (c == nullptr || c->err != 0) {
    error = c ? c->errstr : "hiredis: out of memory";
    if (c != nullptr) redisFree(c);
    return false;
  }
  const std::string k(key);
  const std::string v(value);
  auto* r = static_cast<redisReply*>(redisCommand(c, "SET %s %s", k.c_str(), v.c_str()));
  const bool ok = r != nullptr && r->type == REDIS_REPLY_STATUS;
  if (!ok) error = "SET failed";
  if (r != nullptr) freeReplyObject(r);
  redisFree(c);
  return ok;
}

// The first line of a file under /sys, or "" when it cannot be read.
std::string first_line(const char* path) {
  std::FILE* f = std::fopen(path, "r");
  if (f == nullptr) return "";
  char line[128] = {};
  const bool read = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  if (!read) return "";
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

// How an idle CPU waits, which sets the one-in-flight figures more than either client does: on
// a VM whose idle vCPU halts at once (cpuidle driver haltpoll with guest_halt_poll_ns 0), each
// wake-up exits to the hypervisor (about 17 us on the machine in docs/PERFORMANCE.md).
std::string idle_policy() {
  std::string driver = first_line("/sys/devices/system/cpu/cpuidle/current_driver");
  if (driver.empty()) driver = "unknown";
  const std::string poll = first_line("/sys/module/haltpoll/parameters/guest_halt_poll_ns");
  return poll.empty() ? driver : driver + ", guest_halt_poll_ns " + poll;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  uredis::bench::private_server server;
  if (const int status = uredis::bench::start_pinned_server("e2e_bench", argc, argv, server))
    return status;
  server_port = server.port();
  if (std::string error; !store_value(error)) {
    std::fprintf(stderr, "e2e_bench: %s\n", error.c_str());
    return 1;
  }
  benchmark::AddCustomContext("cpu_idle", idle_policy());

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
