#pragma once
// shard: one thread's share of one test: a reactor, its connections, and the closed loop that
// keeps up to -P commands in flight on each connection until the shard's requests are done.
//
// Timeline, shared with the other shards and main() through a barrier of (shards + 1):
//   connect every connection -> arrive (start) -> run the loop -> arrive (end) -> close.
// main() reads the clock and getrusage() between the two arrivals, so connection set-up and
// teardown are not measured. A shard always arrives twice, even when it failed to set up.
//
// Latency is per command, from exec() (the reactor sends at the end of that turn) to the reply
// callback, in microseconds. Nothing is allocated per request: the send times live in a ring
// of -P slots per connection (replies come back in order), the keys in the request_builder.

#include <barrier>
#include <cstddef>
#include <cstdint>
#include <string>

#include "options.hpp"
#include "uredis/util/histogram.hpp"
#include "workload.hpp"

namespace uredis::bench {

struct shard_result {
  util::histogram latency;
  std::uint64_t completed = 0;   // replies and failures
  std::uint64_t errors = 0;      // failures: error replies and transport errors
  std::uint64_t reconnects = 0;  // always 0 in this cut: a failed connection stays down
  std::string failure;           // why the shard could not run, if it could not
};

/// Runs `requests` requests of `test` over `clients` connections; fills `out`. `index` seeds
/// the key generator, so shards pick different keys.
void run_shard(const options& o, const connection_config& config, const test_info& test,
               std::uint64_t requests, std::size_t clients, std::size_t index, std::barrier<>& sync,
               shard_result& out);

}  // namespace uredis::bench
