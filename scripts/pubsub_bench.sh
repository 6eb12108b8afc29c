#!/usr/bin/env bash
# Builds bench/pubsub_bench in release mode (in build-bench, as scripts/bench.sh does) and runs
# it: one subscriber receiving what `redis-benchmark -P 64 -n N PUBLISH ch __rand_int__`
# publishes, uredis's subscriber against a hiredis one, alternating rounds on one private
# redis-server. Prints the median round of each and the ratios. Exit status 2 if any message
# was lost.
#
#   scripts/pubsub_bench.sh                          # 2,000,000 messages, 5 rounds each
#   scripts/pubsub_bench.sh --messages 500000 --rounds 3
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${BENCH_BUILD_DIR:-build-bench}"
if [[ ! -f "$build/build.ninja" ]]; then
  meson setup "$build" -Dbuildtype=release -Dbench=enabled -Dtests=disabled -Dtools=disabled
fi
ninja -C "$build" -j "${NINJA_JOBS:-2}" bench/pubsub_bench
if [[ $# -eq 0 ]]; then set -- --messages 2000000 --rounds 5; fi
exec "$build/bench/pubsub_bench" "$@"
