#!/usr/bin/env bash
# The client-side cache, measured two ways, each beside its peer in the same run:
#   - a cached GET hit, through the callback API and the coroutine API, beside a plain
#     std::unordered_map lookup of the same key copied into a std::optional<std::string>, with
#     heap allocations per op, values of 3 and 100 bytes (bench/cache_bench.cpp, Google
#     Benchmark; the ratios are printed at the end);
#   - uredis-bench -t get over a zipf-distributed keyspace (-r 10000, --key-pattern zipf), with
#     and without --cache, alternately ROUNDS times each on its own private redis-server:
#     median throughput, client CPU per request, the private server's CPU per request
#     (--server-cpu) and the hit ratio. The run without the cache gets --prefill too, so both
#     read the same 10000 keys. Every connection (-c 50) has its own cache, so each misses
#     every key it reads once.
# Needs redis-server on PATH and python3.
#
#   scripts/cache_bench.sh [BUILD_DIR] [REQUESTS] [ROUNDS]
#   (defaults: build-release, 1000000 GETs per run, 3 rounds; build with
#   ninja -C BUILD_DIR bench/cache_bench tools/uredis-bench/uredis-bench)
#   Extra uredis-bench flags may be given in UREDIS_BENCH_FLAGS (e.g. "-c 10 --threads 2").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=${1:-$root/build-release}
requests=${2:-1000000}
rounds=${3:-3}
cache_bench="$build/bench/cache_bench"
bench="$build/tools/uredis-bench/uredis-bench"
for p in "$cache_bench" "$bench"; do
  [ -x "$p" ] || { echo "no $p (ninja -C $build bench/cache_bench tools/uredis-bench/uredis-bench)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2206 # word splitting wanted
extra=(${UREDIS_BENCH_FLAGS:-})

echo "== cached GET hit beside std::unordered_map (bench/cache_bench)"
"$cache_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_enable_random_interleaving=true --benchmark_out="$work/hit.json" \
  --benchmark_out_format=json

flags=(-q -t get -r 10000 --key-pattern zipf -n "$requests" --server-cpu "${extra[@]}")
echo
echo "== uredis-bench ${flags[*]} [--cache | --prefill], $rounds rounds each, alternately"
for ((i = 1; i <= rounds; ++i)); do
  "$bench" "${flags[@]}" --prefill --json "$work/plain.$i.json"
  "$bench" "${flags[@]}" --cache --json "$work/cache.$i.json"
done

python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])

print("\n== hit cost, CPU time per op (median of 5), ratio to unordered_map of the same size")
rows = {}
for b in json.load(open(work + "/hit.json"))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    rows[b["run_name"]] = b
for size in (3, 100):
    peer = rows.get("unordered_map/%d" % size)
    for name in ("hit/callback/%d" % size, "hit/coroutine/%d" % size, "unordered_map/%d" % size):
        b = rows.get(name)
        if b is None:
            continue
        ratio = b["cpu_time"] / peer["cpu_time"] if peer else float("nan")
        print("%-22s %8.1f ns  %5.2f allocs/op  %6.2fx unordered_map" %
              (name, b["cpu_time"], b["allocs/op"], ratio))

def load(kind):
    return [json.load(open("%s/%s.%d.json" % (work, kind, i)))[0] for i in range(1, rounds + 1)]

plain, cache = load("plain"), load("cache")
def med(runs, f):
    return statistics.median(f(o) for o in runs)
def hit_ratio(o):
    c = o["cache"]
    return c["hits"] / max(1, c["hits"] + c["misses"])

print("\n== zipf GET, -r 10000 (median of %d)" % rounds)
print("%-28s %14s %14s %9s" % ("", "no cache", "--cache", "ratio"))
for what, f in (("throughput (requests/s)", lambda o: o["ops_per_sec"]),
                ("client CPU (ns/op)", lambda o: o["client_cpu_ns_per_op"]),
                ("server CPU (ns/op)", lambda o: o["server_cpu_ns_per_op"]),
                ("p50 latency (us)", lambda o: o["latency_us"]["p50"]),
                ("p99 latency (us)", lambda o: o["latency_us"]["p99"])):
    a, b = med(plain, f), med(cache, f)
    print("%-28s %14.1f %14.1f %8.3fx" % (what, a, b, b / a if a else float("nan")))
h = med(cache, hit_ratio)
print("%-28s %14s %13.1f%%" % ("hit ratio", "", 100 * h))
s0, s1 = med(plain, lambda o: o["server_cpu_ns_per_op"]), med(cache, lambda o: o["server_cpu_ns_per_op"])
print("server CPU/op fell by %.1f%% (the hit ratio would predict %.1f%%; each miss costs the server "
      "a wrapped read: CLIENT CACHING YES, MULTI, PTTL, GET, EXEC)" % (100 * (1 - s1 / s0), 100 * h))
c = cache[len(cache) // 2]["cache"]
print("cache (a median run): hits=%d misses=%d invalidations=%d evictions=%d entries=%d bytes=%d" %
      (c["hits"], c["misses"], c["invalidations"], c["evictions"], c["entries"], c["bytes"]))
PY
