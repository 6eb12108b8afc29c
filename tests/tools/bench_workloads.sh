#!/usr/bin/env bash
# uredis-bench's memtier-style options against a real redis-server (redis_server.sh), checked
# through what the server ends up holding or through the reported figures:
#   --key-pattern sequential  -r 1000 -n 1000 sets every key exactly once (1 and 2 shards)
#   --key-pattern zipf        far fewer distinct keys than uniform for the same -n
#   --command                 placeholders whole and inside arguments, quoting
#   --duration                runs that long, whatever -n's default
#   --rate                    holds the rate; a server stall shows in the latency of the
#                             requests due meanwhile (no coordinated omission), unlike the
#                             closed loop, where only the -c requests in flight see it
#   reconnects                CLIENT KILL mid-run: each connection reconnects (counted), and
#                             the GETs, read-only, are resent (at most the one a connection was
#                             reading when killed may fail)
# Needs redis-server, redis-cli and python3.
set -euo pipefail
bench=${1:?usage: bench_workloads.sh path/to/uredis-bench}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$here/redis_server.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start_redis main --enable-debug-command yes  # DEBUG SLEEP for the stall
# shellcheck disable=SC2154 # main_port: set by start_redis
cli() { redis-cli -p "$main_port" "$@"; }
run() { "$bench" -p "$main_port" -q "$@"; }
field() {  # field FILE KEY [SUBKEY]: a number from the first object of a --json file
  python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))[0]
for k in sys.argv[2:]: o=o[k]
print(o)' "$@"
}

for shards in 1 2; do
  cli flushall >/dev/null
  run -t set -r 1000 --key-pattern sequential -n 1000 -c 10 --threads "$shards" >/dev/null
  [ "$(cli dbsize)" -eq 1000 ] || fail "sequential, $shards shard(s): $(cli dbsize) keys, not 1000"
done

cli flushall >/dev/null
run -t set -r 1000000 -n 20000 >/dev/null
uniform=$(cli dbsize)
cli flushall >/dev/null
run -t set -r 1000000 -n 20000 --key-pattern zipf >/dev/null
zipf=$(cli dbsize)
echo "distinct keys for 20000 SETs over 10^6 keys: uniform $uniform, zipf $zipf"
[ "$uniform" -gt 19000 ] || fail "uniform: only $uniform distinct keys"
[ "$zipf" -lt $((uniform * 3 / 4)) ] || fail "zipf is not skewed: $zipf distinct keys"
[ "$(cli exists key:000000000000)" -eq 1 ] || fail "zipf: the hottest key (0) was never set"

cli flushall >/dev/null
run --command "HSET h:__key__ f:__data__ '__data__ x'" -r 10 --key-pattern sequential -n 10 \
  -d 5 -c 2 >"$work/cmd.txt"
grep -q "^HSET h:__key__ f:__data__ '__data__ x': .* errors=0 " "$work/cmd.txt" ||
  fail "template run: $(cat "$work/cmd.txt")"
[ "$(cli dbsize)" -eq 10 ] || fail "template: $(cli dbsize) keys, not 10"
[ "$(cli hget h:key:000000000007 f:xxxxx)" = "xxxxx x" ] || fail "template: wrong field or value"
run --command "INCRBY nosuchcmd" -n 100 -c 1 >"$work/err.txt"
grep -q "errors=100 " "$work/err.txt" || fail "error replies not counted: $(cat "$work/err.txt")"

start=$(date +%s.%N)
run -t get --duration 1.5 --json "$work/d.json" >/dev/null
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
echo "--duration 1.5: $(field "$work/d.json" requests) requests in ${elapsed}s of process time"
python3 -c "import sys; e=float(sys.argv[1]); sys.exit(0 if 1.4 < e < 4 else 1)" "$elapsed" ||
  fail "--duration 1.5 took ${elapsed}s"

run -t get --rate 2000 --duration 2 --json "$work/r.json" >/dev/null
ops=$(field "$work/r.json" ops_per_sec)
echo "--rate 2000: $ops requests per second"
python3 -c "import sys; sys.exit(0 if 1800 < float(sys.argv[1]) < 2200 else 1)" "$ops" ||
  fail "--rate 2000 gave $ops/s"

# A 500 ms stall 0.7 s into a 2 s run at 1000/s: a quarter of the requests are due while the
# server sleeps, and wait up to 500 ms each, so p90 is ~300 ms. The closed loop, at full speed,
# has only its 50 in-flight requests caught: p90 stays far below.
(sleep 0.7; [ "$(cli debug sleep 0.5)" = OK ] || echo "FAIL: DEBUG SLEEP refused" >&2) &
stall=$!
run -t get --rate 1000 --duration 2 --json "$work/stall.json" >/dev/null
wait "$stall"
p90=$(field "$work/stall.json" latency_us p90)
echo "--rate 1000 with a 500 ms stall: p90 $p90 us"
[ "$p90" -ge 200000 ] || fail "the stall is hidden from the fixed-rate latency (p90 $p90 us)"
(sleep 0.7; [ "$(cli client kill type normal)" -eq 10 ] || echo "FAIL: CLIENT KILL missed" >&2) &
killer=$!
run -t get --duration 2 -c 10 --json "$work/kill.json" >/dev/null
wait "$killer"
reconnects=$(field "$work/kill.json" reconnects)
errors=$(field "$work/kill.json" errors)
echo "CLIENT KILL of 10 connections mid-run: $reconnects reconnects, $errors errors"
[ "$reconnects" -eq 10 ] || fail "expected 10 reconnects, counted $reconnects"
[ "$errors" -le 10 ] || fail "GETs failed across a reconnect: $errors errors"
echo "bench_workloads: ok"
