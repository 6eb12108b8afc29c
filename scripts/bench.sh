#!/usr/bin/env bash
# Builds the benchmarks in release mode (in build-bench) and runs the RESP suite: uredis' parser
# and encoder against hiredis on the same bytes. Prints Google Benchmark's table (median of
# BENCH_REPETITIONS runs, CPU time), then one ratio line per comparison.
#
#   scripts/bench.sh
#   BENCH_REPETITIONS=10 scripts/bench.sh
#   scripts/bench.sh --benchmark_filter=parse     # extra arguments go to the benchmark binary
#
# Environment: BENCH_BUILD_DIR (default build-bench), BENCH_REPETITIONS (default 5),
# NINJA_JOBS (default 2). Idempotent: an existing build dir is re-used (switched to release if
# it was configured otherwise).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build="${BENCH_BUILD_DIR:-build-bench}"
repetitions="${BENCH_REPETITIONS:-5}"
jobs="${NINJA_JOBS:-2}"

if [[ ! -f "$build/build.ninja" ]]; then
  meson setup "$build" -Dbuildtype=release -Dbench=enabled -Dtests=disabled -Dtools=disabled
elif ! meson introspect --buildoptions "$build" |
    python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(sys.stdin)}; sys.exit(o["buildtype"] != "release" or o["bench"] != "enabled")'; then
  meson configure "$build" -Dbuildtype=release -Dbench=enabled
fi
ninja -C "$build" -j "$jobs" bench/resp_bench

json="$(mktemp "${TMPDIR:-/tmp}/uredis-bench.XXXXXX")"
trap 'rm -f "$json"' EXIT

"$build/bench/resp_bench" \
  --benchmark_repetitions="$repetitions" \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="$json" --benchmark_out_format=json \
  "$@"

python3 - "$json" <<'PY'
import json, sys

with open(sys.argv[1]) as f:
    runs = json.load(f)["benchmarks"]
median = {r["run_name"]: r for r in runs if r.get("aggregate_name") == "median"}

def line(title, counter, unit, ours, theirs, target=None):
    if ours not in median or theirs not in median:
        return
    a, b = median[ours][counter], median[theirs][counter]
    ratio = b / a
    verdict = f"uredis {ratio:.2f}x faster" if ratio >= 1 else f"uredis {1 / ratio:.2f}x slower"
    if target:
        verdict += f" (target {target}x: {'met' if ratio >= target else 'NOT met'})"
    scale = 1e9 if unit.startswith("ns") else 1e6
    print(f"{title:<44} uredis {a * scale:9.1f} {unit}  {theirs.split('_')[0]:<7} "
          f"{b * scale:9.1f} {unit}  -> {verdict}")

print()
print("ratios (median CPU time; hiredis / uredis):")
line("parse 1000 pipelined 64 B bulk replies", "sec/reply", "ns/reply",
     "uredis_parse/bulk_stream_1000x64B", "hiredis_parse/bulk_stream_1000x64B", 5)
line("parse one array of 1000 64 B bulk strings", "sec/reply", "us/reply",
     "uredis_parse/bulk_array_1000x64B", "hiredis_parse/bulk_array_1000x64B", 5)
line("encode SET key value (redisFormatCommand)", "sec/command", "ns/cmd",
     "uredis_encode_set", "hiredis_format_set")
line("encode SET key value (redisFormatCommandArgv)", "sec/command", "ns/cmd",
     "uredis_encode_set", "hiredis_format_set_argv")
PY
