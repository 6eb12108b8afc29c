#pragma once
// run: one test across every shard of the runtime. Splits -n and -c over the shards (the first
// shards take the remainders), gives each a shard (shard.hpp) through its mailbox, and drives
// the three phases with a phase_barrier:
//
//   set-up (connect, warm up) -> [ measured: t0 ... the last shard done ] -> teardown
//
// Wall time, CPU time (getrusage RUSAGE_SELF) and allocations are read just before the shards
// are told to start and by the last shard to finish (process_usage.hpp), so connection set-up,
// warm-up and teardown are not measured. While the measured phase runs, main() prints the
// progress line (progress.hpp). The shards' histograms are merged into one report.

#include <string>

#include "options.hpp"
#include "report.hpp"
#include "uredis/client/config.hpp"
#include "uredis/reactor/runtime.hpp"
#include "workload.hpp"

namespace uredis::bench {

/// Runs `work` on `rt`'s shards; on failure (a shard could not connect...) returns false and
/// sets `error`. Call from the thread that owns `rt`.
bool run_test(runtime& rt, const options& o, const connection_config& config, const workload& work,
              test_report& report, std::string& error);

}  // namespace uredis::bench
