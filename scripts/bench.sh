#!/usr/bin/env bash
# Builds the benchmarks in release mode (in build-bench) and runs the suites: resp (uredis'
# parser and encoder against hiredis on the same bytes), core (pending FIFO, timers,
# cross-thread hops, inline_function, each against its std peer) and e2e (GET over loopback
# against a private redis-server, uredis against hiredis). Prints Google Benchmark's tables
# (median of BENCH_REPETITIONS runs), then one ratio line per comparison.
#
#   scripts/bench.sh
#   BENCH_REPETITIONS=10 scripts/bench.sh
#   BENCH_SUITES="core e2e" scripts/bench.sh
#   scripts/bench.sh --benchmark_filter=parse     # extra arguments go to every benchmark binary
#
# Environment: BENCH_BUILD_DIR (default build-bench), BENCH_REPETITIONS (default 5),
# BENCH_SUITES (default "resp core e2e"; "batch": transactions and scripts), NINJA_JOBS
# (default 2). Idempotent: an existing build dir is re-used (switched to release if it was
# configured otherwise).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

build="${BENCH_BUILD_DIR:-build-bench}"
repetitions="${BENCH_REPETITIONS:-5}"
suites="${BENCH_SUITES:-resp core e2e}"
jobs="${NINJA_JOBS:-2}"

if [[ ! -f "$build/build.ninja" ]]; then
  meson setup "$build" -Dbuildtype=release -Dbench=enabled -Dtests=disabled -Dtools=disabled
elif ! meson introspect --buildoptions "$build" |
    python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(sys.stdin)}; sys.exit(o["buildtype"] != "release" or o["bench"] != "enabled")'; then
  meson configure "$build" -Dbuildtype=release -Dbench=enabled
fi
targets=()
for s in $suites; do targets+=("bench/${s}_bench"); done
ninja -C "$build" -j "$jobs" "${targets[@]}"

out="$(mktemp -d "${TMPDIR:-/tmp}/uredis-bench.XXXXXX")"
trap 'rm -rf "$out"' EXIT

for s in $suites; do
  # Interleaved repetitions: a change of load on the machine hits both clients alike.
  "$build/bench/${s}_bench" \
    --benchmark_repetitions="$repetitions" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/$s.json" --benchmark_out_format=json \
    "$@"
done

python3 - "$out" <<'PY'
import glob, json, os, sys

median = {}
for path in glob.glob(os.path.join(sys.argv[1], "*.json")):
    with open(path) as f:
        for r in json.load(f)["benchmarks"]:
            if r.get("aggregate_name") == "median":
                median[r["run_name"]] = r

def fmt(seconds):
    for unit, scale in (("s", 1), ("ms", 1e3), ("us", 1e6), ("ns", 1e9)):
        if seconds * scale >= 1 or unit == "ns":
            return f"{seconds * scale:8.1f} {unit:<2}"

def line(title, counter, ours, theirs, peer, target=None):
    if ours not in median or theirs not in median:
        return
    a, b = median[ours][counter], median[theirs][counter]
    ratio = b / a
    verdict = f"uredis {ratio:.2f}x faster" if ratio >= 1 else f"uredis {1 / ratio:.2f}x slower"
    if target:
        verdict += f" (target {target}x: {'met' if ratio >= target else 'NOT met'})"
    print(f"{title:<60} uredis {fmt(a)}  {peer:<8} {fmt(b)}  -> {verdict}")

print()
print("ratios (medians; peer / uredis; CPU time unless the line says real time):")
line("parse 1000 pipelined 64 B bulk replies", "sec/reply",
     "uredis_parse/bulk_stream_1000x64B", "hiredis_parse/bulk_stream_1000x64B", "hiredis", 5)
line("parse one array of 1000 64 B bulk strings", "sec/reply",
     "uredis_parse/bulk_array_1000x64B", "hiredis_parse/bulk_array_1000x64B", "hiredis", 5)
line("encode SET key value (redisFormatCommand)", "sec/command",
     "uredis_encode_set", "hiredis_format_set", "hiredis")
line("encode SET key value (redisFormatCommandArgv)", "sec/command",
     "uredis_encode_set", "hiredis_format_set_argv", "hiredis")

core = [
    ("pipeline: push+feed 256, per command", "uredis_pipeline/counting_handler/256",
     "std_deque_function_pipeline/256"),
    ("pipeline: exec's callback_handler, per command", "uredis_pipeline/callback_handler/256",
     "std_deque_function_pipeline/256"),
    ("pipeline: with request bytes, per command",
     "uredis_pipeline/counting_handler_with_requests/256",
     "std_deque_function_pipeline_with_requests/256"),
    ("timer arm+cancel (10k armed)", "uredis_timer/arm_cancel/10000",
     "std_multimap_timer/arm_cancel/10000"),
    ("timer arm+fire (10k armed)", "uredis_timer/arm_fire/10000",
     "std_heap_timer/arm_fire/10000"),
    ("timer arm+fire, batch of 1024", "uredis_timer/arm_fire_batch/1024",
     "std_heap_timer/arm_fire_batch/1024"),
    ("timer rearm (10k armed)", "uredis_timer/rearm/10000", "std_multimap_timer/rearm/10000"),
    ("inline_function call", "uredis_inline_function/call", "std_function/call"),
    ("inline_function construct+move, 8 B capture", "uredis_inline_function/construct_move/8B",
     "std_function/construct_move/8B"),
    ("inline_function construct+move, 24 B capture",
     "uredis_inline_function/construct_move/24B", "std_function/construct_move/24B"),
    ("callback FIFO, 256 (24 B captures)", "uredis_ring_buffer_inline_function/fifo/256",
     "std_deque_function/fifo/256"),
]
for title, ours, theirs in core:
    line(title, "sec/op", ours, theirs, "std")
threads = [
    ("task hop one way (real time)", "uredis_spsc/one_way/real_time",
     "std_mutex_deque/one_way/real_time"),
    ("task round trip, spinning (real time)", "uredis_spsc/round_trip/real_time",
     "std_mutex_deque/round_trip/real_time"),
    ("shard round trip, sleeping (real time)",
     "uredis_runtime/submit_to_round_trip/busy_poll:0/real_time",
     "std_condvar/round_trip/real_time"),
]
for title, ours, theirs in threads:
    line(title, "sec/op", ours, theirs, "std")
line("shard round trip, sleeping (p50)", "p50",
     "uredis_runtime/submit_to_round_trip/busy_poll:0/real_time",
     "std_condvar/round_trip/real_time", "std")

e2e = [
    ("GET one in flight, callback API", "uredis_callback/get/one_in_flight/busy_poll:0"),
    ("GET one in flight, blocking_client", "uredis_blocking_client/get/one_in_flight"),
    ("GET one in flight, callback API, busy-poll", "uredis_callback/get/one_in_flight/busy_poll:1"),
]
suffix = "/process_time/real_time"
hiredis_one = "hiredis_redisCommand/get/one_in_flight" + suffix
for title, ours in e2e:
    line(title + " (real time)", "sec/op", ours + suffix, hiredis_one, "hiredis")
    line(title + " (p50)", "p50", ours + suffix, hiredis_one, "hiredis")
    line(title + " (p99.9)", "p999", ours + suffix, hiredis_one, "hiredis")
    line(title + " (process CPU)", "cpu/op", ours + suffix, hiredis_one, "hiredis")
ours, theirs = ("uredis_callback/get/pipeline/256" + suffix,
                "hiredis_append_getreply/get/pipeline/256" + suffix)
line("GET pipelined 256 (real time per GET)", "sec/op", ours, theirs, "hiredis")
line("GET pipelined 256 (process CPU per GET)", "cpu/op", ours, theirs, "hiredis")

for what in ("transaction", "script"):
    ours, theirs = (f"uredis_callback/{what}/pipeline/256" + suffix,
                    f"hiredis_append_getreply/{what}/pipeline/256" + suffix)
    line(f"{what} pipelined 256 (real time per {what})", "sec/op", ours, theirs, "hiredis")
    line(f"{what} pipelined 256 (process CPU per {what})", "cpu/op", ours, theirs, "hiredis")
PY
