// What a cluster client pays per command to pick the node (the Cluster issue's target: at most
// 20 ns): the key's hash slot read from the command's descriptor (cmd::slot_of / check_slots:
// CRC16 with hash tags, no encoding) and the slot map's two array reads (slot -> shard ->
// primary). For scale, std::hash of the same key, which any hash-based router would pay at
// least.
//
//   route/get          slot_of(cmd::get{key}) + slot_map::primary_of
//   route/mget3        check_slots(cmd::mget{3 keys sharing a hash tag}) + primary_of
//   route/get_replica  what a GET pays under read policy prefer_replica (round_robin is the
//                      same work): the slot, the command encoded into a reused buffer (its
//                      name says whether it only reads; the client sends those bytes), the
//                      name looked up (read_router::is_read_only_request) and the replica
//                      chosen (read_router::node_for)
//   encode/get         the encoding alone, which every command pays once on any policy
//   batch/push_set     batch::push of a SET, which notes the entry's slot for a cluster's
//                      exec(batch) (a single server's batch pays it too)
//   encode/set         the same SET's encoding alone: what push cost before it noted slots
//   std_hash/key       std::hash<std::string_view> of the key alone
//
// Keys are redis-benchmark's "key:NNNNNNNNNNNN" (16 bytes), 4096 of them, visited in order so
// the loop is not one key cached in a register. The map is three shards, a replica each, as
// redis-cli --cluster create lays them out.

#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "uredis/client/batch.hpp"
#include "uredis/cluster/read_router.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/cmd/keys_of.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace {

using uredis::cluster::slot_map;

std::vector<std::string> make_keys() {
  std::vector<std::string> keys;
  for (int i = 0; i < 4096; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "key:%012d", i * 2654435761u % 1000000);
    keys.emplace_back(buf);
  }
  return keys;
}

slot_map three_shards() {
  auto node = [](int port) {
    return uredis::resp::reply::make_array({uredis::resp::reply::make_bulk_string("127.0.0.1"),
                                            uredis::resp::reply::make_integer(port)});
  };
  auto range = [&](int first, int last, int port) {
    return uredis::resp::reply::make_array({uredis::resp::reply::make_integer(first),
                                            uredis::resp::reply::make_integer(last), node(port),
                                            node(port + 100)});
  };
  const auto reply = uredis::resp::reply::make_array(
      {range(0, 5460, 7000), range(5461, 10922, 7001), range(10923, 16383, 7002)});
  return *slot_map::from_cluster_slots(reply, "127.0.0.1");
}

void route_get(benchmark::State& state) {
  const auto keys = make_keys();
  const slot_map map = three_shards();
  std::size_t i = 0;
  for (auto _ : state) {
    const uredis::cmd::get get{std::string_view(keys[i++ & 4095])};
    benchmark::DoNotOptimize(map.primary_of(uredis::cmd::slot_of(get).value_or(0)));
  }
}
BENCHMARK(route_get)->Name("route/get");

void route_mget3(benchmark::State& state) {
  std::vector<std::array<std::string, 3>> groups;
  for (const std::string& k : make_keys()) {
    groups.push_back({"{" + k + "}:a", "{" + k + "}:b", "{" + k + "}:c"});
  }
  const slot_map map = three_shards();
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& g = groups[i++ & 4095];
    const std::array<std::string_view, 3> keys{g[0], g[1], g[2]};
    const uredis::cmd::mget mget{keys};
    const auto slots = uredis::cmd::check_slots(mget);
    benchmark::DoNotOptimize(map.primary_of(slots.slot));
  }
}
BENCHMARK(route_mget3)->Name("route/mget3");

void route_get_replica(benchmark::State& state) {
  const auto keys = make_keys();
  const slot_map map = three_shards();
  uredis::cluster::read_router reads;
  reads.reset(map);
  uredis::util::byte_buffer bytes;
  std::size_t i = 0;
  for (auto _ : state) {
    const uredis::cmd::get get{std::string_view(keys[i++ & 4095])};
    const std::uint16_t slot = uredis::cmd::slot_of(get).value_or(0);
    bytes.clear();
    uredis::resp::encoder e{bytes};
    get.encode(e);
    const std::uint16_t node =
        reads.is_read_only_request(bytes.data())
            ? reads.node_for(map, slot, uredis::cluster::read_policy::prefer_replica)
            : map.primary_of(slot);
    benchmark::DoNotOptimize(node);
  }
}
BENCHMARK(route_get_replica)->Name("route/get_replica");

void encode_get(benchmark::State& state) {
  const auto keys = make_keys();
  uredis::util::byte_buffer bytes;
  std::size_t i = 0;
  for (auto _ : state) {
    const uredis::cmd::get get{std::string_view(keys[i++ & 4095])};
    bytes.clear();
    uredis::resp::encoder e{bytes};
    get.encode(e);
    benchmark::DoNotOptimize(bytes.data().data());
  }
}
BENCHMARK(encode_get)->Name("encode/get");

void batch_push_set(benchmark::State& state) {
  const auto keys = make_keys();
  uredis::batch<> b;
  b.reserve(keys.size(), keys.size() * 48);
  std::size_t i = 0;
  for (auto _ : state) {
    if ((i & 4095) == 0) b.clear();  // once per 4,096 pushes: the buffers keep their room
    b.push(uredis::cmd::set{std::string_view(keys[i++ & 4095]), "v"});
  }
  benchmark::DoNotOptimize(b.bytes().data());
}
BENCHMARK(batch_push_set)->Name("batch/push_set");

void encode_set(benchmark::State& state) {
  const auto keys = make_keys();
  uredis::util::byte_buffer bytes;
  std::size_t i = 0;
  for (auto _ : state) {
    const uredis::cmd::set set{std::string_view(keys[i++ & 4095]), "v"};
    bytes.clear();
    uredis::resp::encoder e{bytes};
    set.encode(e);
    benchmark::DoNotOptimize(bytes.data().data());
  }
}
BENCHMARK(encode_set)->Name("encode/set");

void std_hash_key(benchmark::State& state) {
  const auto keys = make_keys();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(std::hash<std::string_view>{}(keys[i++ & 4095]));
  }
}
BENCHMARK(std_hash_key)->Name("std_hash/key");

}  // namespace

BENCHMARK_MAIN();
