#pragma once
// options: uredis-bench's command line, with redis-benchmark's flags and their meaning.
//
// Invariants of a parsed options: clients >= 1, requests >= 1, pipeline >= 1, threads >= 1,
// threads <= clients, tests non-empty and each a known name (see workload.hpp).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uredis::bench {

struct options {
  std::optional<std::string> host;      // -h
  std::optional<std::uint16_t> port;    // -p
  std::string unix_socket;              // -s
  std::optional<std::string> password;  // -a
  std::string user;                     // --user
  std::size_t clients = 50;             // -c
  std::uint64_t requests = 100'000;     // -n
  std::size_t data_size = 3;            // -d
  std::uint64_t keyspace = 0;           // -r (0: the literal key "key:__rand_int__")
  std::size_t pipeline = 1;             // -P
  std::vector<std::string> tests;       // -t, lower case
  bool quiet = false;                   // -q
  bool csv = false;                     // --csv
  std::size_t threads = 1;              // --threads
  bool resp3 = false;                   // -3
  std::string json_file;                // --json

  /// No -h, -p or -s: start a private redis-server.
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
