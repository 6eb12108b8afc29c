#pragma once
// report: one test's figures and the three ways uredis-bench prints them: redis-benchmark-like
// text (a block, or one line with -q), CSV (--csv), and a JSON array (--json FILE).
//
// JSON: one object per test, keys test, requests, ops_per_sec, errors, reconnects,
// client_cpu_ns_per_op and latency_us {p50, p90, p99, p999, max}.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "options.hpp"
#include "uredis/util/histogram.hpp"

namespace uredis::bench {

struct test_report {
  std::string_view title;      // "SET"
  std::uint64_t requests = 0;  // completed (replies and failures)
  double seconds = 0;
  double ops_per_sec = 0;
  std::uint64_t errors = 0;
  std::uint64_t reconnects = 0;
  double client_cpu_ns_per_op = 0;
  std::uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;  // microseconds

  /// Fills the latency fields from `h`.
  void set_latency(const util::histogram& h) noexcept;
};

void print_csv_header(std::FILE* out);
void print_report(std::FILE* out, const options& o, const test_report& r);
/// Writes `reports` as a JSON array to `path`; false (and errno set) on failure.
bool write_json(const std::string& path, const std::vector<test_report>& reports);

}  // namespace uredis::bench
