#!/usr/bin/env bash
# uredis-bench's default run next to redis-benchmark's, on the same real redis-server
# (redis_server.sh), so a user comparing the two sees the same table:
#   titles    the -q lines name the same tests in the same order (redis-benchmark's default
#             run, and a fixed list of it), for the default run and for a -t selection
#             (group names, any case, any order)
#   commands  what each test sends, as MONITOR shows it (values aside: redis-benchmark's are
#             random bytes, uredis-bench's 'x'), is what redis-benchmark sends
#   state     the LPUSH before the LRANGE tests filled the list they read (so LRANGE_600 got
#             600 elements); with -r, MSET's ten keys are ten drawn keys and ZADD's scores are
#             drawn numbers
# Needs redis-server, redis-cli, redis-benchmark and python3.
set -euo pipefail
bench=${1:?usage: bench_default_run.sh path/to/uredis-bench}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$here/redis_server.sh"
monitor_pid=
trap 'report_exit $? "$BASH_COMMAND"; [ -z "$monitor_pid" ] || kill "$monitor_pid" 2>/dev/null || true
  stop_all_redis; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v redis-benchmark >/dev/null || fail "redis-benchmark is not on PATH"

start_redis main
# shellcheck disable=SC2154 # main_port: set by start_redis
cli() { redis-cli -p "$main_port" "$@"; }
n=1000  # above 600: the list the LRANGE tests read must hold 600 elements
d=5

expected="PING_INLINE
PING_MBULK
SET
GET
INCR
LPUSH
RPUSH
LPOP
RPOP
SADD
HSET
SPOP
ZADD
ZPOPMIN
LPUSH (needed to benchmark LRANGE)
LRANGE_100 (first 100 elements)
LRANGE_300 (first 300 elements)
LRANGE_500 (first 500 elements)
LRANGE_600 (first 600 elements)
MSET (10 keys)"

# titles FILE: the test names of -q output (redis-benchmark rewrites a progress line with \r).
titles() { tr '\r' '\n' <"$1" | sed -n 's/^\(.*\): [^ ]* requests per second.*$/\1/p'; }

# run_monitored NAME TOOL ARGS...: runs the tool on a flushed server with its -q output in
# NAME.out and what the server received in NAME.monitor (complete: the ECHO after the run is
# awaited before MONITOR is stopped).
run_monitored() {
  local name=$1
  shift
  cli flushall >/dev/null
  redis-cli -p "$main_port" monitor >"$work/$name.monitor" &  # not cli: $! must be redis-cli
  monitor_pid=$!
  until grep -q '^OK' "$work/$name.monitor"; do sleep 0.05; done
  "$@" -p "$main_port" -q -n "$n" -c 10 -d "$d" >"$work/$name.out"
  cli echo "end of $name" >/dev/null
  until grep -q "end of $name" "$work/$name.monitor"; do sleep 0.05; done
  kill "$monitor_pid"
  wait "$monitor_pid" 2>/dev/null || true
  monitor_pid=
}

run_monitored rb redis-benchmark
run_monitored ub "$bench"
cat "$work/ub.out"
[ "$(titles "$work/rb.out")" = "$expected" ] ||
  fail "redis-benchmark's default run is not the expected one: $(titles "$work/rb.out")"
[ "$(titles "$work/ub.out")" = "$expected" ] || fail "titles differ: $(titles "$work/ub.out")"
[ "$(grep -c ' errors=0 reconnects=0$' "$work/ub.out")" -eq 20 ] || fail "errors in the run"

# The commands, in order, with consecutive repeats folded (PING_INLINE and PING_MBULK both show
# as "PING") and each tool's value written <value>. Aside: the set-up, not a test's: the PING
# that opens each uredis connection (its handshake), redis-benchmark's CONFIG GETs, the ECHO.
python3 - "$work/rb.monitor" "$work/ub.monitor" <<'PY'
import re, sys
def commands(path):
    out, value, seen = [], None, set()
    for line in open(path):
        head, _, rest = line.partition("]")  # "<time> [<db> <client address>", the command
        words = re.findall(r'"((?:[^"\\]|\\.)*)"', rest)
        if not words:
            continue
        client = head.split()[-1]
        first = client not in seen
        seen.add(client)
        if (first and words == ["PING"]) or words[0] in ("CONFIG", "echo"):
            continue
        if value is None and words[0] == "SET":
            value = words[2]
        words = ["<value>" if w == value else w for w in words]
        if not out or out[-1] != words:
            out.append(words)
    return out
rb, ub = commands(sys.argv[1]), commands(sys.argv[2])
for r, u in zip(rb, ub):
    print(f"{' '.join(r):<60} {' '.join(u)}" if r != u else " ".join(u))
assert rb == ub, "uredis-bench does not send what redis-benchmark sends"
assert len(ub) == 19, len(ub)
print("commands ok")
PY

# The list the LRANGE tests read holds what their LPUSH pushed (n, and the warm-up), so
# LRANGE mylist 0 599 answered 600 elements; MSET's key is there.
len=$(cli llen mylist)
[ "$len" -ge "$n" ] || fail "mylist holds $len elements, fewer than the $n pushed"
[ "$(cli lrange mylist 0 599 | wc -l)" -eq 600 ] || fail "LRANGE_600 reads fewer than 600"
[ "$(cli get key:__rand_int__)" = "$(printf 'x%.0s' $(seq "$d"))" ] || fail "SET/MSET value"

# -r: each MSET sets ten drawn keys, ZADD's score is a drawn number, as redis-benchmark draws
# each __rand_int__ of a command. (The warm-up draws the measured run's first keys again, and
# keys rarely collide in 10^9: about 10 new keys per request.)
cli flushall >/dev/null
"$bench" -p "$main_port" -q -t zadd,mset -r 1000000000 -n 100 -c 5 >/dev/null
keys=$(cli --scan --pattern 'key:*' | grep -cE '^key:[0-9]{12}$' || true)
[ "$keys" -ge 990 ] || fail "100 MSETs over -r 10^9 set $keys keys, not about 1000"
[ "$(cli zcard myzset)" -ge 100 ] || fail "ZADD: $(cli zcard myzset) members"
[ "$(cli zrange myzset -1 -1 withscores | sed -n 2p)" -gt 0 ] || fail "ZADD's scores are all 0"

# -t selects as redis-benchmark's: group names, any case, run in the default order.
for t in "PING,Lrange_300,mset" "mset,get,lpop" "lrange"; do
  redis-benchmark -p "$main_port" -q -n 100 -t "$t" >"$work/rb-t.out"
  "$bench" -p "$main_port" -q -n 100 -t "$t" >"$work/ub-t.out"
  [ "$(titles "$work/ub-t.out")" = "$(titles "$work/rb-t.out")" ] ||
    fail "-t $t: $(titles "$work/ub-t.out") vs redis-benchmark's $(titles "$work/rb-t.out")"
done
echo "bench_default_run: ok"
