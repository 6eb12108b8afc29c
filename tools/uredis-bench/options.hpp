#pragma once
// options: uredis-bench's command line: redis-benchmark's common flags with their meaning, and
// memtier-style additions (--duration, --rate, --key-pattern, --command, --json, --busy-poll,
// --pin) the client-side cache (--cache, --cache-max-bytes, --prefill), --server-cpu and the TLS
// flags (tls_flags.hpp), documented
// in usage() and README.md beside this file.
//
// Invariants of a parsed options (error empty): clients >= 1, requests >= 1, pipeline >= 1,
// threads >= 1, threads <= clients; exactly one of `tests` (each a name that selects a test,
// see workload.hpp) and `command` is non-empty; duration and rate are > 0 when set; a key pattern
// other than uniform comes with a keyspace (-r); zipf_exponent > 0; -n and --duration are
// not both given; cache_max_bytes > 0 implies prefill; server_cpu needs a private server;
// cluster comes with a keyspace (-r), and without cache, prefill, server_cpu, a Unix socket, a
// database other than 0, or TLS on a private cluster.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tls_flags.hpp"

namespace uredis::bench {

/// How each request picks its key number in 0..keyspace-1 (-r).
enum class key_pattern : std::uint8_t {
  uniform,     // every key equally likely (redis-benchmark's -r)
  sequential,  // 0, 1, 2, ... per shard, wrapping; the shards interleave (see keys.hpp)
  zipf,        // rank r (key r-1) with probability proportional to r^-zipf_exponent
};

struct options {
  std::optional<std::string> host;      // -h
  std::optional<std::uint16_t> port;    // -p
  std::string unix_socket;              // -s
  std::optional<std::string> password;  // -a
  std::string user;                     // --user
  int db = 0;                           // the database of a -u URL
  /// --tls, --cacert, ... and rediss:// (tls_flags.hpp). With the private server, --tls makes
  /// it a TLS server with a CA of its own, trusted unless other CA flags are given.
  tools::tls_flags tls;
  std::size_t clients = 50;          // -c
  std::uint64_t requests = 100'000;  // -n (not with --duration)
  std::size_t data_size = 3;         // -d
  std::uint64_t keyspace = 0;        // -r (0: the literal key "key:__rand_int__")
  std::size_t pipeline = 1;          // -P
  std::vector<std::string> tests;    // -t names, lower case; empty with --command
  std::string command;               // --command template; empty with -t
  bool quiet = false;                // -q
  bool csv = false;                  // --csv
  std::size_t threads = 1;           // --threads (runtime shards)
  bool resp3 = false;                // -3
  std::string json_file;             // --json
  /// --duration: each test runs this long instead of -n requests.
  std::optional<std::chrono::nanoseconds> duration;
  /// --rate: requests per second across all connections (a fixed-rate schedule); 0: as fast
  /// as the closed loop goes.
  double rate = 0;
  key_pattern keys = key_pattern::uniform;  // --key-pattern
  double zipf_exponent = 0.99;              // --zipf-exponent (YCSB's default)
  bool busy_poll = false;                   // --busy-poll
  bool pin = false;                         // --pin
  bool count_allocations = false;           // --count-allocations: report them
  /// --cache / --cache-max-bytes: every connection keeps a client-side cache (optin tracking)
  /// of this many bytes; 0: no cache.
  std::size_t cache_max_bytes = 0;
  /// --prefill (implied by --cache): before a GET test, SET every key of -r (or the one key)
  /// to the -d value, so the reads find values (a missing key is never cached).
  bool prefill = false;
  /// --server-cpu: report the private redis-server's CPU time per request (measured phase).
  bool server_cpu = false;
  /// --cluster: the server given is a seed of a Redis Cluster; each shard sends every request
  /// through one cluster::cluster_client to the primary of its key's slot. With no server
  /// given, a private cluster of three primaries is started (private_cluster.hpp).
  bool cluster = false;

  /// No -h, -p, -s or -u: start a private redis-server.
  bool private_server() const noexcept { return !host && !port && unix_socket.empty(); }
};

struct parsed_options {
  bench::options options;
  std::string error;  // empty on success
  bool help = false;
};

parsed_options parse_options(int argc, char** argv);
std::string_view usage();

}  // namespace uredis::bench
