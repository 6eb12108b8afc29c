// The RESP layer against hiredis, on the same bytes.
//
// Parsing: uredis' parser walks every node of every reply and touches each value (a view into
// the buffer: that is the whole of its API); hiredis' reader copies the bytes into its buffer
// and builds a redisReply tree per reply, which the caller frees (that is the whole of its API).
// Both do the complete work a client does between "bytes arrived" and "the reply is usable".
//
// hiredis is fed 16 KiB at a time, as its own redisBufferRead() does: fed a large buffer at once,
// hiredis (0.14 and 1.x) memmoves the unread rest every 1 KiB it consumes, which would make it
// look quadratic here for no reason a real client would see. uredis sees the whole buffer, as a
// connection's contiguous read buffer would hold it.
//
// Encoding: `SET key value` appended by uredis' encoder to a warm byte_buffer (drained after each
// command, as a send would), against hiredis' redisFormatCommand / redisFormatCommandArgv, which
// allocate the command they return; freeing it is part of hiredis' cost. The arguments are
// run-time strings on both sides, so neither is constant-folded.
//
// Counters: `sec/reply` is the time per reply (e.g. 12.3n = 12.3 ns); items/s counts elements;
// `sec/command` the time per encoded command.
// scripts/bench.sh runs this and prints the uredis/hiredis ratios.

#include <benchmark/benchmark.h>
#include <hiredis.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

#include "uredis/resp/encoder.hpp"
#include "uredis/resp/node.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace {

// hiredis' own read size (redisBufferRead's stack buffer).
constexpr std::size_t hiredis_feed_size = 16 * 1024;

struct dataset {
  std::string bytes;
  std::size_t replies;   // top-level replies in `bytes`
  std::size_t elements;  // strings in `bytes`, for items/s
};

// Appends one RESP header line ("$64\r\n", "*1000\r\n").
void header(std::string& out, char marker, std::size_t n) {
  out += marker;
  out += std::to_string(n);
  out += "\r\n";
}

void bulk(std::string& out, std::string_view payload) {
  header(out, '$', payload.size());
  out += payload;
  out += "\r\n";
}

// A 64-byte payload that differs per index, so nothing is accidentally shared or cached.
std::string payload64(std::size_t i) {
  char head[32];
  const int n = std::snprintf(head, sizeof head, "value:%08zu:", i);
  std::string s(head, static_cast<std::size_t>(n));
  s.resize(64, 'x');
  return s;
}

// (a) N pipelined replies of one 64-byte bulk string each: GET on a pipeline.
dataset bulk_stream() {
  constexpr std::size_t count = 1000;
  dataset d{{}, count, count};
  for (std::size_t i = 0; i < count; ++i)
    bulk(d.bytes, payload64(i));
  return d;
}

// (b) One reply: an array of 1000 bulk strings (LRANGE, SMEMBERS, ...), 64 bytes each.
dataset bulk_array() {
  constexpr std::size_t count = 1000;
  dataset d{{}, 1, count};
  header(d.bytes, '*', count);
  for (std::size_t i = 0; i < count; ++i)
    bulk(d.bytes, payload64(i));
  return d;
}

void set_counters(benchmark::State& state, const dataset& d) {
  state.counters["sec/reply"] = benchmark::Counter(
      static_cast<double>(d.replies),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * d.elements));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * d.bytes.size()));
}

void uredis_parse(benchmark::State& state, dataset (*make)()) {
  const dataset d = make();
  uredis::resp::parser p;
  for (auto _ : state) {
    std::string_view rest = d.bytes;
    std::size_t replies = 0;
    std::size_t touched = 0;
    uredis::resp::node n;
    while (!rest.empty()) {
      const uredis::resp::step s = p.next(rest, n);
      if (s.status != uredis::resp::outcome::node) {
        state.SkipWithError("uredis: parse failed");
        return;
      }
      // Use the value as a caller would: its size and first byte.
      touched += n.value.size() + (n.value.empty() ? 0u : static_cast<unsigned char>(n.value[0]));
      benchmark::DoNotOptimize(n.value.data());
      rest.remove_prefix(s.consumed);
      replies += p.done();
    }
    benchmark::DoNotOptimize(touched);
    if (replies != d.replies) {
      state.SkipWithError("uredis: wrong reply count");
      return;
    }
  }
  set_counters(state, d);
}

// Touches every string of a reply tree, as uredis_parse touches every node.
std::size_t touch(const redisReply* r) {
  std::size_t touched = r->len + (r->len > 0 ? static_cast<unsigned char>(r->str[0]) : 0u);
  benchmark::DoNotOptimize(r->str);
  for (std::size_t i = 0; i < r->elements; ++i)
    touched += touch(r->element[i]);
  return touched;
}

void hiredis_parse(benchmark::State& state, dataset (*make)()) {
  const dataset d = make();
  redisReader* reader = redisReaderCreate();
  for (auto _ : state) {
    std::size_t replies = 0;
    std::size_t touched = 0;
    for (std::size_t at = 0; at < d.bytes.size(); at += hiredis_feed_size) {
      const std::size_t len = std::min(hiredis_feed_size, d.bytes.size() - at);
      if (redisReaderFeed(reader, d.bytes.data() + at, len) != REDIS_OK) {
        state.SkipWithError("hiredis: feed failed");
        break;
      }
      void* reply = nullptr;
      while (redisReaderGetReply(reader, &reply) == REDIS_OK && reply != nullptr) {
        touched += touch(static_cast<const redisReply*>(reply));
        freeReplyObject(reply);
        ++replies;
      }
      if (reader->err != 0) {
        state.SkipWithError("hiredis: parse failed");
        break;
      }
    }
    benchmark::DoNotOptimize(touched);
    if (replies != d.replies) {
      state.SkipWithError("hiredis: wrong reply count");
      break;
    }
  }
  redisReaderFree(reader);
  set_counters(state, d);
}

// The command both encoders write: *3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n (33 bytes).
struct set_command {
  std::string verb = "SET";
  std::string key = "key";
  std::string value = "value";
  set_command() {
    // Opaque to the optimizer: the strings' contents are not compile-time constants.
    benchmark::DoNotOptimize(verb.data());
    benchmark::DoNotOptimize(key.data());
    benchmark::DoNotOptimize(value.data());
  }
};

constexpr std::string_view expected_set = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";

void per_command(benchmark::State& state) {
  state.counters["sec/command"] = benchmark::Counter(
      1, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void uredis_encode_set(benchmark::State& state) {
  const set_command c;
  uredis::util::byte_buffer out;
  out.reserve(4096);  // warm: a connection's buffer has long reached its working size
  for (auto _ : state) {
    uredis::resp::encoder(out).command(std::string_view(c.verb), std::string_view(c.key),
                                       std::string_view(c.value));
    benchmark::DoNotOptimize(out.data().data());
    benchmark::ClobberMemory();
    out.consume(out.size());  // what a completed send does
  }
  uredis::resp::encoder(out).command(std::string_view(c.verb), std::string_view(c.key),
                                     std::string_view(c.value));
  if (out.data() != expected_set) state.SkipWithError("uredis: wrong encoding");
  per_command(state);
}

void hiredis_format_set(benchmark::State& state) {
  const set_command c;
  for (auto _ : state) {
    char* cmd = nullptr;
    const int len = redisFormatCommand(&cmd, "SET %s %s", c.key.c_str(), c.value.c_str());
    benchmark::DoNotOptimize(cmd);
    benchmark::ClobberMemory();
    if (len != static_cast<int>(expected_set.size())) state.SkipWithError("hiredis: wrong size");
    redisFreeCommand(cmd);
  }
  per_command(state);
}

void hiredis_format_set_argv(benchmark::State& state) {
  const set_command c;
  const char* argv[] = {c.verb.c_str(), c.key.c_str(), c.value.c_str()};
  const std::size_t argvlen[] = {c.verb.size(), c.key.size(), c.value.size()};
  for (auto _ : state) {
    char* cmd = nullptr;
    const int len = redisFormatCommandArgv(&cmd, 3, argv, argvlen);
    benchmark::DoNotOptimize(cmd);
    benchmark::ClobberMemory();
    if (len != static_cast<int>(expected_set.size())) state.SkipWithError("hiredis: wrong size");
    redisFreeCommand(cmd);
  }
  per_command(state);
}

}  // namespace

BENCHMARK(uredis_encode_set);
BENCHMARK(hiredis_format_set);
BENCHMARK(hiredis_format_set_argv);

BENCHMARK_CAPTURE(uredis_parse, bulk_stream_1000x64B, bulk_stream);
BENCHMARK_CAPTURE(hiredis_parse, bulk_stream_1000x64B, bulk_stream);
BENCHMARK_CAPTURE(uredis_parse, bulk_array_1000x64B, bulk_array);
BENCHMARK_CAPTURE(hiredis_parse, bulk_array_1000x64B, bulk_array);

BENCHMARK_MAIN();
