#!/usr/bin/env bash
# GET over TLS: uredis-bench beside redis-benchmark against the same TLS redis-server, in the same
# run, with plaintext uredis-bench beside them for the cost of TLS itself:
#   - pipelined: -t get -P 256 -c 1 (one connection, 256 in flight)
#   - many connections: -t get -P 1 -c 50
# The server runs on CPU 0 and the clients on CPU 1 when there are two (taskset); the clients
# take turns, the order alternating every round. For each run: the throughput the tool reports
# and its whole process CPU time (user + sys, wait4's rusage: the TLS handshakes included) per
# GET. Prints every run, then the medians and the ratios uredis-bench / redis-benchmark.
# Needs redis-server, redis-benchmark (with TLS: Debian's has it), openssl and python3.
#
#   scripts/tls_bench.sh [BUILD_DIR] [ROUNDS] [PIPELINED_GETS] [UNPIPELINED_GETS]
#   (defaults: build-release, 3 rounds, 2000000 and 200000 GETs per run; build with
#   bash scripts/setup.sh release && ninja -C build-release tools/uredis-bench/uredis-bench)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=${1:-$root/build-release}
rounds=${2:-3}
n_pipelined=${3:-2000000}
n_single=${4:-200000}
bench="$build/tools/uredis-bench/uredis-bench"
[ -x "$bench" ] || { echo "no $bench (ninja -C $build tools/uredis-bench/uredis-bench)" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=../tests/tools/redis_server.sh
source "$root/tests/tools/redis_server.sh"
trap 'stop_all_redis; rm -rf "$work"' EXIT

# A CA and a server certificate for 127.0.0.1 (the README's "TLS" section does the same).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca \
  -keyout "$work/ca.key" -out "$work/ca.crt" 2> /dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
  -keyout "$work/server.key" -out "$work/server.csr" 2> /dev/null
echo "subjectAltName=IP:127.0.0.1,DNS:localhost" > "$work/server.ext"
openssl x509 -req -days 1 -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
  -CAcreateserial -extfile "$work/server.ext" -out "$work/server.crt" 2> /dev/null

# One server, plaintext on bench_port and TLS on tls_port.
tls_port=$((20000 + RANDOM % 40000))
start_redis bench --tls-port "$tls_port" --tls-cert-file "$work/server.crt" \
  --tls-key-file "$work/server.key" --tls-ca-cert-file "$work/ca.crt" --tls-auth-clients no
pin=()
if command -v taskset > /dev/null && [ "$(nproc)" -ge 2 ]; then
  taskset -p -c 0 "$bench_pid" > /dev/null
  pin=(taskset -c 1)
fi
redis-cli -p "$bench_port" SET key:__rand_int__ xxx > /dev/null  # the key both tools GET

tls=(--tls --cacert "$work/ca.crt" -p "$tls_port")
plain=(-p "$bench_port")
echo "$(redis-benchmark --version 2> /dev/null || echo redis-benchmark); redis-server" \
  "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# run NAME GETS COMMAND...: one run, pinned; appends "requests/s cpu_ns_per_get" to $work/NAME.
run() {
  local name=$1 n=$2
  shift 2
  python3 - "$work" "$name" "$n" "${pin[@]}" "$@" <<'PY'
import os, re, subprocess, sys
work, name, n, command = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
p = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
out = p.stdout.read().decode()
_, status, usage = os.wait4(p.pid, 0)
# Both tools print "GET: 123456.78 requests per second" with -q (redis-benchmark ends each
# progress update with \r; the last line is the result).
rates = re.findall(r"GET: ([0-9.]+) requests per second", out)
if os.waitstatus_to_exitcode(status) != 0 or not rates:
    sys.exit("%s failed:\n%s" % (name, out))
rate = float(rates[-1])
cpu_ns = (usage.ru_utime + usage.ru_stime) * 1e9 / n
with open("%s/%s" % (work, name), "a") as f:
    f.write("%f %f\n" % (rate, cpu_ns))
print("  %-22s %12.0f GET/s  %8.0f ns CPU/GET (user %.2fs sys %.2fs)" %
      (name, rate, cpu_ns, usage.ru_utime, usage.ru_stime))
PY
}

pipelined=(-t get -P 256 -c 1 -q)
single=(-t get -P 1 -c 50 -q)
for r in $(seq "$rounds"); do
  echo "round $r"
  a=(run uredis_tls_p256 "$n_pipelined" "$bench" "${tls[@]}" "${pipelined[@]}" -n "$n_pipelined")
  b=(run redis_tls_p256 "$n_pipelined" redis-benchmark "${tls[@]}" "${pipelined[@]}" -n "$n_pipelined")
  c=(run uredis_plain_p256 "$n_pipelined" "$bench" "${plain[@]}" "${pipelined[@]}" -n "$n_pipelined")
  d=(run uredis_tls_c50 "$n_single" "$bench" "${tls[@]}" "${single[@]}" -n "$n_single")
  e=(run redis_tls_c50 "$n_single" redis-benchmark "${tls[@]}" "${single[@]}" -n "$n_single")
  if [ $((r % 2)) -eq 1 ]; then
    "${a[@]}"; "${b[@]}"; "${c[@]}"; "${d[@]}"; "${e[@]}"
  else
    "${e[@]}"; "${d[@]}"; "${c[@]}"; "${b[@]}"; "${a[@]}"
  fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work" <<'PY'
import statistics, sys
work = sys.argv[1]
def med(name):
    rows = [tuple(map(float, l.split())) for l in open("%s/%s" % (work, name))]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
def compare(title, ours, theirs, peer):
    (ra, ca), (rb, cb) = med(ours), med(theirs)
    print("%s" % title)
    print("  throughput  uredis-bench %10.0f GET/s  %-15s %10.0f GET/s  ratio %.2fx" %
          (ra, peer, rb, ra / rb))
    print("  CPU/GET     uredis-bench %10.0f ns     %-15s %10.0f ns     ratio %.2fx" %
          (ca, peer, cb, ca / cb))
print("\nmedians; ratio = uredis-bench / peer")
compare("GET -P 256 -c 1 over TLS (target: throughput >= 1x, CPU <= 0.5x)",
        "uredis_tls_p256", "redis_tls_p256", "redis-benchmark")
compare("GET -P 256 -c 1, uredis-bench over TLS / plaintext (the cost of TLS)",
        "uredis_tls_p256", "uredis_plain_p256", "plaintext")
compare("GET -P 1 -c 50 over TLS (target: throughput >= 1x at lower CPU)",
        "uredis_tls_c50", "redis_tls_c50", "redis-benchmark")
PY
