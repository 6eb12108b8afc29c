#pragma once
// run: one test across every shard: splits -n and -c over --threads shards, starts one thread
// per shard, measures wall time and process CPU (getrusage RUSAGE_SELF: the client only, a
// private redis-server is a child) between the shards' start and end barriers, and merges the
// shards' histograms into one report.

#include <string>

#include "options.hpp"
#include "report.hpp"
#include "uredis/client/config.hpp"
#include "workload.hpp"

namespace uredis::bench {

/// Runs `test`; on failure (a shard could not connect...) returns false and sets `error`.
bool run_test(const options& o, const connection_config& config, const test_info& test,
              test_report& report, std::string& error);

}  // namespace uredis::bench
