// Batches on loopback: transactions and script calls, uredis against hiredis doing the same
// thing by hand, on the same private redis-server, in one binary.
//
//   transaction/pipeline/256   256 transactions of two INCRs in flight on one connection:
//                              uredis' connection.exec(transaction{incr, incr}) x256 then
//                              run_until all done, against hiredis appending MULTI, INCR, INCR,
//                              EXEC x256 then reading the 1024 replies (checking EXEC's array).
//   script/pipeline/256        256 script calls in flight (the script loaded): uredis'
//                              connection.run(script, key, 1) x256 against hiredis appending
//                              EVALSHA sha 1 key 1 x256 then reading the replies.
//
// Every row reports wall-clock time; `sec/op` is real time per transaction (or call), `cpu/op`
// the process's CPU time per transaction (or call). The server runs on the last allowed CPU and
// the benchmark on the first when there are two or more (--no-pin: no pinning). Run with
// --benchmark_enable_random_interleaving=true so that load on the machine hits both alike.

#include <benchmark/benchmark.h>
#include <hiredis.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loopback.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/script.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/strings.hpp"

namespace {

using uredis::bench::connect_hiredis;
using uredis::bench::hiredis_context;
using uredis::bench::per_op;

constexpr std::size_t depth = 256;
constexpr std::string_view bump_source = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

std::uint16_t server_port = 0;  // set by main() before any benchmark runs

std::optional<uredis::blocking_client> connect_uredis(benchmark::State& state) {
  try {
    return std::optional<uredis::blocking_client>(
        std::in_place, "redis://127.0.0.1:" + std::to_string(server_port));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return std::nullopt;
  }
}

// --- uredis ------------------------------------------------------------------------------------

void BM_uredis_transaction(benchmark::State& state) {
  auto client = connect_uredis(state);
  if (!client) return;
  uredis::connection& conn = client->connection();
  uredis::reactor::reactor& loop = client->loop();
  using results = uredis::transaction<uredis::cmd::incr, uredis::cmd::incr>::results;
  {
    per_op counters(state, depth);
    for (auto _ : state) {
      std::size_t done = 0;
      std::size_t ok = 0;
      for (std::size_t i = 0; i < depth; ++i) {
        conn.exec(uredis::transaction{uredis::cmd::incr{"tx:a"}, uredis::cmd::incr{"tx:b"}},
                  [&](uredis::result<results> r) {
                    ok += r && std::get<0>(*r) && std::get<1>(*r) ? 1 : 0;
                    ++done;
                  });
      }
      loop.run_until([&done] { return done == depth; });
      if (ok != depth) {
        state.SkipWithError("uredis: wrong reply");
        break;
      }
    }
  }
}
BENCHMARK(BM_uredis_transaction)
    ->Name("uredis_callback/transaction/pipeline/256")
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_uredis_script(benchmark::State& state) {
  auto client = connect_uredis(state);
  if (!client) return;
  const uredis::script bump{std::string(bump_source)};
  client->run<std::int64_t>(bump, "script:k", 1);  // loaded: the rows measure EVALSHA only
  uredis::connection& conn = client->connection();
  uredis::reactor::reactor& loop = client->loop();
  {
    per_op counters(state, depth);
    for (auto _ : state) {
      std::size_t done = 0;
      std::size_t ok = 0;
      for (std::size_t i = 0; i < depth; ++i) {
        conn.run<std::int64_t>(bump, "script:k", 1, [&](uredis::result<std::int64_t> r) {
          ok += r ? 1 : 0;
          ++done;
        });
      }
      loop.run_until([&done] { return done == depth; });
      if (ok != depth) {
        state.SkipWithError("uredis: wrong reply");
        break;
      }
    }
  }
}
BENCHMARK(BM_uredis_script)
    ->Name("uredis_callback/script/pipeline/256")
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// --- hiredis -----------------------------------------------------------------------------------

// Reads one reply; true when `good` says it is the expected one.
template <class Check>
bool read_reply(redisContext* c, Check good) {
  void* reply = nullptr;
  if (redisGetReply(c, &reply) != REDIS_OK) return false;
  auto* r = static_cast<redisReply*>(reply);
  const bool ok = good(r);
  freeReplyObject(r);
  return ok;
}

void BM_hiredis_transaction(benchmark::State& state) {
  hiredis_context ctx;
  if (!connect_hiredis(state, ctx, server_port)) return;
  auto status = [](const redisReply* r) { return r->type == REDIS_REPLY_STATUS; };
  auto exec = [](const redisReply* r) {
    return r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
           r->element[0]->type == REDIS_REPLY_INTEGER && r->element[1]->type == REDIS_REPLY_INTEGER;
  };
  {
    per_op counters(state, depth);
    for (auto _ : state) {
      for (std::size_t i = 0; i < depth; ++i) {
        redisAppendCommand(ctx.c, "MULTI");
        redisAppendCommand(ctx.c, "INCR tx:a");
        redisAppendCommand(ctx.c, "INCR tx:b");
        redisAppendCommand(ctx.c, "EXEC");
      }
      std::size_t ok = 0;
      for (std::size_t i = 0; i < depth; ++i) {
        const bool good = read_reply(ctx.c, status) && read_reply(ctx.c, status) &&
                          read_reply(ctx.c, status) && read_reply(ctx.c, exec);
        ok += good ? 1 : 0;
      }
      if (ok != depth) {
        state.SkipWithError("hiredis: wrong reply");
        break;
      }
    }
  }
}
BENCHMARK(BM_hiredis_transaction)
    ->Name("hiredis_append_getreply/transaction/pipeline/256")
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_hiredis_script(benchmark::State& state) {
  hiredis_context ctx;
  if (!connect_hiredis(state, ctx, server_port)) return;
  const std::string source(bump_source);
  auto* loaded = static_cast<redisReply*>(redisCommand(ctx.c, "SCRIPT LOAD %s", source.c_str()));
  if (loaded == nullptr || loaded->type != REDIS_REPLY_STRING) {
    state.SkipWithError("hiredis: SCRIPT LOAD failed");
    if (loaded != nullptr) freeReplyObject(loaded);
    return;
  }
  const std::string sha(loaded->str, loaded->len);
  freeReplyObject(loaded);
  auto integer = [](const redisReply* r) { return r->type == REDIS_REPLY_INTEGER; };
  {
    per_op counters(state, depth);
    for (auto _ : state) {
      for (std::size_t i = 0; i < depth; ++i)
        redisAppendCommand(ctx.c, "EVALSHA %s 1 script:k 1", sha.c_str());
      std::size_t ok = 0;
      for (std::size_t i = 0; i < depth; ++i)
        ok += read_reply(ctx.c, integer) ? 1 : 0;
      if (ok != depth) {
        state.SkipWithError("hiredis: wrong reply");
        break;
      }
    }
  }
}
BENCHMARK(BM_hiredis_script)
    ->Name("hiredis_append_getreply/script/pipeline/256")
    ->UseRealTime()
    ->MeasureProcessCPUTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  uredis::bench::private_server server;
  if (const int status = uredis::bench::start_pinned_server("batch_bench", argc, argv, server))
    return status;
  server_port = server.port();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
