// A connection's user-space work per pipelined GET, with no socket: what `uredis-bench -c 1
// -P 256 -t get` asks of the library per request, beside what redis-benchmark does per request
// at the same depth. The kernel's share (the send, the loopback, the wait) is the same exchange
// for both clients and is left out, so the ratio here is the one the user-CPU target of
// `-P 256` is about, without that run's noise.
//
//   uredis   a ready proto::session: 256 times enqueue(GET key:__rand_int__, a callback that
//            captures three words, as uredis-bench's does), then the flush (begin_send /
//            end_send: the bytes go out from where they were encoded), then on_data() of the
//            256 replies, each completing its command's callback with a result.
//   peer     redis-benchmark's own loop (7.0, -P 256): the 256 requests are one buffer built
//            once and copied into the output buffer per batch; the replies go through hiredis'
//            reader, one redisReply allocated and freed per reply.
//
// The replies are "$-1\r\n", as both tools get from a server without the key, or "$3\r\nxxx\r\n"
// after `-t set`.

#include <hiredis.h>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "uredis/event/dispatcher.hpp"
#include "uredis/proto/callback_handler.hpp"
#include "uredis/proto/session.hpp"
#include "uredis/proto/session_config.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/util/clock.hpp"

namespace {

using namespace std::chrono_literals;
using time_point = std::chrono::steady_clock::time_point;

constexpr std::size_t depth = 256;
constexpr std::string_view key = "key:__rand_int__";

const std::string hello_replies =
    "%2\r\n$5\r\nproto\r\n:3\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
    "-ERR unknown subcommand 'SETINFO'\r\n-ERR unknown subcommand 'SETINFO'\r\n+PONG\r\n";

std::string replies(std::string_view one) {
  std::string out;
  for (std::size_t i = 0; i < depth; ++i)
    out += one;
  return out;
}

// uredis-bench's GET: a bulk string or nil read as a view.
struct get_view {
  std::string_view key;
  using response = std::optional<std::string_view>;
  void encode(uredis::resp::encoder& e) const { e.command("GET", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

// What uredis-bench's reply callback is given to remember: its shard, its connection, the
// request's issue time.
struct bench_state {
  std::size_t done = 0;
  std::size_t errors = 0;
};

void BM_uredis_session_get(benchmark::State& state, std::string_view reply) {
  const std::string batch = replies(reply);
  uredis::util::manual_clock clock{time_point{} + 1h};
  uredis::event::dispatcher events;
  uredis::proto::session_config config;
  config.health_check_interval = 0ms;
  uredis::proto::session s(config, clock, events);
  s.connect([](const uredis::result<void>&) {});
  (void)s.take_actions();
  s.on_connected();
  while (s.wants_send()) {
    (void)s.begin_send();
    s.end_send();
  }
  s.on_data(hello_replies);
  if (!s.ready()) {
    state.SkipWithError("session not ready after the handshake");
    return;
  }
  bench_state b;
  int connection = 0;
  for (auto _ : state) {
    const time_point stamp = clock.now();
    for (std::size_t i = 0; i < depth; ++i) {
      auto done = [&b, &connection, stamp](const auto& r) noexcept {
        benchmark::DoNotOptimize(stamp);
        benchmark::DoNotOptimize(connection);
        ++b.done;
        b.errors += r.has_value() ? 0 : 1;
      };
      using handler =
          uredis::proto::callback_handler<std::optional<std::string_view>, decltype(done)>;
      s.enqueue(get_view{key}, handler{done});
    }
    while (s.wants_send()) {
      benchmark::DoNotOptimize(s.begin_send().data());
      s.end_send();
    }
    s.on_data(batch);
  }
  if (b.errors != 0 || b.done != depth * state.iterations() || s.pending() != 0)
    state.SkipWithError("a GET failed or was not answered");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * depth));
}
BENCHMARK_CAPTURE(BM_uredis_session_get, nil, "$-1\r\n")->Name("uredis_session/get/nil");
BENCHMARK_CAPTURE(BM_uredis_session_get, value, "$3\r\nxxx\r\n")->Name("uredis_session/get/3B");

// redis-benchmark -P 256: the prebuilt requests copied into the output buffer, the replies read
// by hiredis' reader (a redisReply each, freed at once).
void BM_redis_benchmark_loop(benchmark::State& state, std::string_view reply) {
  const std::string batch = replies(reply);
  std::string request;
  for (std::size_t i = 0; i < depth; ++i)
    request += "*2\r\n$3\r\nGET\r\n$16\r\n" + std::string(key) + "\r\n";
  std::string out;
  out.reserve(request.size());
  redisReader* reader = redisReaderCreate();
  std::size_t done = 0;
  for (auto _ : state) {
    out.assign(request);
    benchmark::DoNotOptimize(out.data());
    redisReaderFeed(reader, batch.data(), batch.size());
    for (std::size_t i = 0; i < depth; ++i) {
      void* r = nullptr;
      if (redisReaderGetReply(reader, &r) != REDIS_OK || r == nullptr) {
        state.SkipWithError("hiredis: no reply");
        break;
      }
      ++done;
      freeReplyObject(r);
    }
  }
  redisReaderFree(reader);
  if (done != depth * state.iterations()) state.SkipWithError("hiredis: replies missing");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * depth));
}
BENCHMARK_CAPTURE(BM_redis_benchmark_loop, nil, "$-1\r\n")->Name("redis_benchmark_loop/get/nil");
BENCHMARK_CAPTURE(BM_redis_benchmark_loop, value, "$3\r\nxxx\r\n")
    ->Name("redis_benchmark_loop/get/3B");

}  // namespace

BENCHMARK_MAIN();
