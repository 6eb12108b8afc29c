#!/usr/bin/env bash
# GET and SET on a Redis Cluster: uredis-bench --cluster beside redis-benchmark --cluster with the
# same flags, against one 3-primary cluster (tests/tools/redis_cluster.sh), in the same run:
#   - -P 1 -c 50 and -P 16 -c 50, each -t set and -t get, keys drawn over -r 100000
# The three redis-servers run on CPU 0 and the clients on CPU 1 when there are two (taskset);
# the tools take turns, the order alternating every round (SETs before GETs, so the GETs find
# values). For each run: the throughput the tool reports and its whole process CPU time (user +
# sys, wait4's rusage: connecting and reading the topology included) per request. Prints every
# run, then the medians and the ratios uredis-bench / redis-benchmark.
#
# uredis-bench has one cluster client per shard (--threads, default 1): one connection per
# primary, which the -c clients share as request streams of -P each; redis-benchmark opens -c
# connections, each to one primary. Same requests in flight, not the same connections.
# Needs redis-server, redis-cli, redis-benchmark and python3.
#
#   scripts/cluster_bench.sh [BUILD_DIR] [ROUNDS] [UNPIPELINED_REQUESTS] [PIPELINED_REQUESTS]
#   (defaults: build-release, 3 rounds, 200000 and 1000000 requests per run; build with
#   bash scripts/setup.sh release && ninja -C build-release tools/uredis-bench/uredis-bench)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=${1:-$root/build-release}
rounds=${2:-3}
n_single=${3:-200000}
n_pipelined=${4:-1000000}
bench="$build/tools/uredis-bench/uredis-bench"
[ -x "$bench" ] || { echo "no $bench (ninja -C $build tools/uredis-bench/uredis-bench)" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=../tests/tools/redis_server.sh
source "$root/tests/tools/redis_server.sh"
# shellcheck source=../tests/tools/redis_cluster.sh
source "$root/tests/tools/redis_cluster.sh"
trap 'stop_all_redis; rm -rf "$work"' EXIT

start_primaries c 3
pin=()
if command -v taskset > /dev/null && [ "$(nproc)" -ge 2 ]; then
  for pid in "${redis_pids[@]}"; do taskset -p -c 0 "$pid" > /dev/null; done
  pin=(taskset -c 1)
fi
seed=(-h 127.0.0.1 -p "${c_ports[0]}")
echo "$(redis-benchmark --version 2> /dev/null || echo redis-benchmark); redis-server" \
  "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'); primaries ${c_ports[*]};" \
  "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# run NAME TEST REQUESTS COMMAND...: one run, pinned; appends "requests/s cpu_ns_per_request" to
# $work/NAME.
run() {
  local name=$1 test=$2 n=$3
  shift 3
  python3 - "$work" "$name" "$test" "$n" "${pin[@]}" "$@" <<'PY'
import os, re, subprocess, sys
work, name, test, n, command = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
p = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
out = p.stdout.read().decode()
_, status, usage = os.wait4(p.pid, 0)
# Both tools print "GET: 123456.78 requests per second" with -q (redis-benchmark ends each
# progress update with \r; the last line is the result).
rates = re.findall(r"%s: ([0-9.]+) requests per second" % test, out)
failed = os.waitstatus_to_exitcode(status) != 0 or not rates
# uredis-bench counts error replies; a run with any is not a figure.
if failed or (name.startswith("uredis") and "errors=0 " not in out):
    sys.exit("%s failed:\n%s" % (name, out))
rate = float(rates[-1])
cpu_ns = (usage.ru_utime + usage.ru_stime) * 1e9 / n
with open("%s/%s" % (work, name), "a") as f:
    f.write("%f %f\n" % (rate, cpu_ns))
print("  %-20s %12.0f %s/s  %8.0f ns CPU/%s (user %.2fs sys %.2fs)" %
      (name, rate, test, cpu_ns, test, usage.ru_utime, usage.ru_stime))
PY
}

cases=("set 1 $n_single" "set 16 $n_pipelined" "get 1 $n_single" "get 16 $n_pipelined")
for r in $(seq "$rounds"); do
  echo "round $r"
  for c in "${cases[@]}"; do
    read -r test depth n <<< "$c"
    title=${test^^}
    flags=(--cluster "${seed[@]}" -t "$test" -P "$depth" -c 50 -r 100000 -n "$n" -q)
    a=(run "uredis_${test}_p$depth" "$title" "$n" "$bench" "${flags[@]}")
    b=(run "redis_${test}_p$depth" "$title" "$n" redis-benchmark "${flags[@]}")
    if [ $((r % 2)) -eq 1 ]; then
      "${a[@]}"; "${b[@]}"
    else
      "${b[@]}"; "${a[@]}"
    fi
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work" <<'PY'
import statistics, sys
work = sys.argv[1]
def med(name):
    rows = [tuple(map(float, l.split())) for l in open("%s/%s" % (work, name))]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
print("\nmedians; ratio = uredis-bench / redis-benchmark (target: throughput >= 1x, CPU <= 0.5x)")
print("%-16s %14s %14s %7s %12s %12s %7s" %
      ("case", "uredis req/s", "redis req/s", "ratio", "uredis ns/op", "redis ns/op", "ratio"))
for test in ("set", "get"):
    for depth in (1, 16):
        (ra, ca), (rb, cb) = med("uredis_%s_p%d" % (test, depth)), med("redis_%s_p%d" % (test, depth))
        print("%-16s %14.0f %14.0f %6.2fx %12.0f %12.0f %6.2fx" %
              ("%s -P %d -c 50" % (test.upper(), depth), ra, rb, ra / rb, ca, cb, ca / cb))
PY
