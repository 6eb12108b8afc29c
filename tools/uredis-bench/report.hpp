#pragma once
// report: one test's figures and the three ways uredis-bench prints them: redis-benchmark-like
// text (a block, or one line with -q), CSV (--csv), and JSON (--json FILE).
//
// JSON: the file is one array with one object per test, in the order they ran:
//
//   [
//     {"test": "GET", "requests": 100000, "ops_per_sec": 151234.56, "errors": 0,
//      "reconnects": 0, "client_cpu_ns_per_op": 4321.0,
//      "latency_us": {"p50": 301, "p90": 410, "p99": 601, "p999": 1200, "max": 2100}}
//   ]
//
// exactly those keys; with --count-allocations each object also has "allocations" (heap
// allocations made during the measured phase); with --server-cpu (and a private server whose CPU
// time can be read), "server_cpu_ns_per_op"; with --cache, "cache": {"hits", "misses",
// "invalidations", "evictions", "entries", "bytes"} summed over the connections (the counters over
// the measured phase, entries and bytes at its end). Latencies are microseconds from the histogram
// (util/histogram.hpp: 1.6% precision above 128 us). A --command test is titled with its
// template text, escaped as JSON and CSV require.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "options.hpp"
#include "uredis/cache/store.hpp"
#include "uredis/util/histogram.hpp"

namespace uredis::bench {

struct test_report {
  std::string_view title;      // "SET", or the --command text (lives in the options)
  std::uint64_t requests = 0;  // completed (replies and failures)
  double seconds = 0;
  double ops_per_sec = 0;
  std::uint64_t errors = 0;
  std::uint64_t reconnects = 0;
  double client_cpu_ns_per_op = 0;
  std::uint64_t allocations = 0;  // during the measured phase
  /// --server-cpu: the private redis-server's CPU time per request over the measured phase;
  /// negative when not known (not asked, a server given with -h/-p/-s, or no
  /// /proc/<pid>/task/*/schedstat).
  double server_cpu_ns_per_op = -1;
  /// --cache: summed over every connection; counters over the measured phase, entries and
  /// bytes at its end.
  cache::store_stats cache;
  std::uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;  // microseconds

  /// Fills the latency fields from `h`.
  void set_latency(const util::histogram& h) noexcept;
};

void print_csv_header(std::FILE* out, const options& o);
void print_report(std::FILE* out, const options& o, const test_report& r);
/// Writes `reports` as a JSON array to `path`; false (and errno set) on failure.
bool write_json(const std::string& path, const options& o, const std::vector<test_report>& reports);

}  // namespace uredis::bench
