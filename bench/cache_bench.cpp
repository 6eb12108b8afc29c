// The client-side cache's hit (cache/driver.hpp), beside what it stands in for: a plain
// std::unordered_map<std::string, std::string> lookup of the same key, copied into the
// std::optional<std::string> the cached call returns. The target (the caching issue): a hit
// costs at most 50 ns and allocates nothing.
//
//   hit/callback/<bytes>    connection::exec(cmd::get{key}, callback) on a cached connection
//                           whose store holds the key: the callback runs before exec() returns
//   hit/coroutine/<bytes>   co_await client.get(key) in a loop inside one coroutine (a hit does
//                           not suspend); the whole timed loop runs in that coroutine
//   unordered_map/<bytes>   find + copy into std::optional<std::string>
//   round_trip/callback/3   the same GET with exec_options::cache = skip, for scale: a real
//                           round trip to the server, the reactor driven by run_until
//
// <bytes> is the value's size: 3 (redis-benchmark's default; inside std::string's small
// buffer), 15 (the most libstdc++'s small buffer holds: a copy as long as a short value's can
// be, still without an allocation) and 100 (outside it: the copy into the std::string
// allocates, in the cache and the map alike; 100 minus 15 is about what that allocation costs).
// Every row reports `allocs/op`, heap allocations per operation on the benchmark's thread
// (tools/common/allocation_counter.hpp), and a wrong reply stops the row with an error.
//
// The server is a private redis-server (tools/uredis-bench/private_server: from PATH, a free
// loopback port, no persistence); only the round-trip row talks to it while timed. The key is
// redis-benchmark's GET key without -r.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "allocation_counter.hpp"
#include "private_server.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"
#include "uredis/cmd/strings.hpp"

namespace {

constexpr std::string_view key = "key:__rand_int__";

std::uint16_t server_port = 0;  // set by main() before any benchmark runs

std::string value_of(std::size_t bytes) {
  return std::string(bytes, 'x');
}

// Sets `allocs/op` from a scope opened before the timed loop.
void report_allocations(benchmark::State& state, const uredis::dev::allocation_scope& scope) {
  state.counters["allocs/op"] = benchmark::Counter(static_cast<double>(scope.allocations()),
                                                   benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}

// A blocking client whose connection keeps a cache (RESP3: invalidations in band), with `key`
// set to `value` and read once, so that the next read is a hit.
std::optional<uredis::blocking_client> cached_client(benchmark::State& state,
                                                     const std::string& value) {
  uredis::connection_config config;
  config.host = "127.0.0.1";
  config.port = server_port;
  config.protocol = uredis::resp_version::resp3;
  config.cache.max_bytes = 1 << 20;
  try {
    std::optional<uredis::blocking_client> c(std::in_place, config);
    c->exec(uredis::cmd::set{key, value});
    if (c->exec(uredis::cmd::get{key}) != value) {  // the miss that stores the entry
      state.SkipWithError("wrong value");
      return std::nullopt;
    }
    if (c->connection().cache() == nullptr || !c->connection().cache()->serving()) {
      state.SkipWithError("the connection's cache is not serving");
      return std::nullopt;
    }
    return c;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return std::nullopt;
  }
}

void BM_hit_callback(benchmark::State& state) {
  const std::string value = value_of(static_cast<std::size_t>(state.range(0)));
  auto client = cached_client(state, value);
  if (!client) return;
  uredis::connection& conn = client->connection();
  const std::uint64_t hits_before = conn.cache()->stats().hits;
  bool ok = true;
  std::size_t length = 0;
  uredis::dev::allocation_scope scope;
  for (auto _ : state) {
    bool done = false;
    conn.exec(uredis::cmd::get{key}, [&](uredis::result<std::optional<std::string>> r) {
      done = true;
      if (r && *r) {
        length = (*r)->size();
      } else {
        ok = false;
      }
    });
    benchmark::DoNotOptimize(length);
    if (!done) {  // not a hit: the reply would need the loop
      ok = false;
      client->loop().run_until([&done] { return done; });
      break;
    }
  }
  report_allocations(state, scope);
  if (!ok || length != value.size() ||
      conn.cache()->stats().hits - hits_before != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("a read was not a hit with the right value");
}
BENCHMARK(BM_hit_callback)->Name("hit/callback")->Arg(3)->Arg(15)->Arg(100);

struct coroutine_run {
  bool ok = true;
  bool finished = false;
  std::size_t length = 0;
};

// The timed loop, inside one coroutine.
uredis::task<> read_hits(uredis::client& c, benchmark::State& state, coroutine_run& out) {
  for (auto _ : state) {
    auto v = co_await c.get(key);
    if (v && *v) {
      out.length = (*v)->size();
    } else {
      out.ok = false;
    }
    benchmark::DoNotOptimize(out.length);
  }
  out.finished = true;
}

void BM_hit_coroutine(benchmark::State& state) {
  const std::string value = value_of(static_cast<std::size_t>(state.range(0)));
  auto client = cached_client(state, value);
  if (!client) return;
  uredis::connection& conn = client->connection();
  uredis::client c{conn};
  const std::uint64_t hits_before = conn.cache()->stats().hits;
  coroutine_run run;
  uredis::dev::allocation_scope scope;  // the coroutine's frame counts: one per run, not per op
  uredis::spawn(read_hits(c, state, run));
  if (!run.finished) client->loop().run_until([&run] { return run.finished; });
  report_allocations(state, scope);
  if (!run.ok || run.length != value.size() ||
      conn.cache()->stats().hits - hits_before != static_cast<std::uint64_t>(state.iterations()))
    state.SkipWithError("a read was not a hit with the right value");
}
BENCHMARK(BM_hit_coroutine)->Name("hit/coroutine")->Arg(3)->Arg(15)->Arg(100);

// Looks a std::string key up by std::string_view, as the cached call takes its key.
struct transparent_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

void BM_unordered_map(benchmark::State& state) {
  const std::string value = value_of(static_cast<std::size_t>(state.range(0)));
  std::unordered_map<std::string, std::string, transparent_hash, std::equal_to<>> map;
  map.emplace(std::string(key), value);
  std::size_t length = 0;
  uredis::dev::allocation_scope scope;
  for (auto _ : state) {
    std::string_view k = key;
    benchmark::DoNotOptimize(k);
    std::optional<std::string> v;
    if (const auto it = map.find(k); it != map.end()) v = it->second;
    length = v ? v->size() : 0;
    benchmark::DoNotOptimize(v);
  }
  report_allocations(state, scope);
  if (length != value.size()) state.SkipWithError("wrong value");
}
BENCHMARK(BM_unordered_map)->Name("unordered_map")->Arg(3)->Arg(15)->Arg(100);

void BM_round_trip(benchmark::State& state) {
  const std::string value = value_of(static_cast<std::size_t>(state.range(0)));
  auto client = cached_client(state, value);
  if (!client) return;
  uredis::connection& conn = client->connection();
  bool ok = true;
  uredis::dev::allocation_scope scope;
  for (auto _ : state) {
    bool done = false;
    conn.exec(uredis::cmd::get{key},
              [&](uredis::result<std::optional<std::string>> r) {
                ok = ok && r && *r && **r == value;
                done = true;
              },
              {.cache = uredis::proto::cache_use::skip});
    client->loop().run_until([&done] { return done; });
  }
  report_allocations(state, scope);
  if (!ok) state.SkipWithError("wrong value");
}
BENCHMARK(BM_round_trip)->Name("round_trip/callback")->Arg(3)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  uredis::bench::private_server server;
  std::string error;
  if (!server.start(error)) {
    std::fprintf(stderr, "cache_bench: cannot start redis-server: %s\n", error.c_str());
    return 1;
  }
  server_port = server.port();
  benchmark::AddCustomContext("redis_server_port", std::to_string(server_port));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
