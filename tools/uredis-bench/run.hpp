#pragma once
// run: one test across every shard of the runtime. Splits -n and -c over the shards (the first
// shards take the remainders), gives each a shard (shard.hpp) through its mailbox, and drives
// the three phases with a phase_barrier:
//
//   set-up (connect, warm up) -> [ measured: t0 ... the last shard done ] -> teardown
//
// prefill_keys() runs before a GET test with --prefill (implied by --cache): a read of a
// missing key is never kept by the client-side cache, so without it a --cache GET run would
// measure misses only.
//
// Wall time, CPU time (getrusage RUSAGE_SELF) and allocations are read just before the shards
// are told to start and by the last shard to finish (process_usage.hpp), so connection set-up,
// warm-up and teardown are not measured. While the measured phase runs, main() prints the
// progress line (progress.hpp). The shards' histograms are merged into one report.

#include <string>

#include "options.hpp"
#include "private_server.hpp"
#include "report.hpp"
#include "uredis/client/config.hpp"
#include "uredis/reactor/runtime.hpp"
#include "workload.hpp"

namespace uredis::bench {

/// Runs `work` on `rt`'s shards; on failure (a shard could not connect...) returns false and
/// sets `error`. Call from the thread that owns `rt`. With `server` (--server-cpu), its CPU time
/// is read around the measured phase.
bool run_test(runtime& rt, const options& o, const connection_config& config, const workload& work,
              test_report& report, std::string& error, const private_server* server = nullptr);

/// --prefill: SETs every key a GET test reads (key:<n> for n in 0..-r-1, or the one key without
/// -r) to the -d value, pipelined on one connection of shard 0 (`config`, without its cache);
/// not measured. On failure returns false and sets `error`. Call from the thread that owns `rt`.
bool prefill_keys(runtime& rt, const options& o, const connection_config& config,
                  std::string& error);

}  // namespace uredis::bench
