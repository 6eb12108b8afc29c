#!/usr/bin/env bash
# uredis-bench --cluster against a real 3-primary cluster: the requests land on every primary
# (INFO commandstats of each node: the SETs and GETs the run sent, summed over the nodes, are
# -n plus the warm-up's -c x -P, and each node took at least a fifth of them), the report counts
# -n requests and no errors; the private cluster (no -h/-p) runs too; --cluster without -r is a
# usage error; a seed that is not a cluster node, or is not there, fails the run naming it.
# Needs redis-server, redis-cli and python3.
#
#   bench_cluster.sh UREDIS_BENCH
set -euo pipefail
bench=${1:?usage: bench_cluster.sh path/to/uredis-bench}
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
# shellcheck source=redis_cluster.sh
source "$(dirname "$0")/redis_cluster.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

start_primaries c 3
echo "cluster: ${c_ports[*]}"
for p in "${c_ports[@]}"; do redis-cli -p "$p" CONFIG RESETSTAT > /dev/null; done

n=30000 clients=10 pipeline=4 threads=2
"$bench" --cluster -h 127.0.0.1 -p "${c_ports[1]}" -r 100000 -t set,get -n $n -c $clients \
  -P $pipeline --threads $threads -q --json "$work/out.json" > "$work/out.txt"
cat "$work/out.txt"

# calls CMD PORT: how many times the node ran CMD since the reset.
calls() {
  redis-cli -p "$2" INFO commandstats | tr -d '\r' |
    sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0
}
warm=$((clients * pipeline))
for cmd in set get; do
  total=0
  for p in "${c_ports[@]}"; do
    c=$(calls $cmd "$p")
    echo "$cmd on $p: $c"
    [ "$c" -ge $((n / 5)) ] || fail "$cmd: node $p took $c of $n: the keys do not spread"
    total=$((total + c))
  done
  [ "$total" -eq $((n + warm)) ] || fail "$cmd: $total calls on the nodes, expected $((n + warm))"
done
python3 - "$work/out.json" "$n" << 'PY'
import json, sys
data, n = json.load(open(sys.argv[1])), int(sys.argv[2])
assert [o["test"] for o in data] == ["SET", "GET"], data
for o in data:
    assert o["requests"] == n and o["errors"] == 0 and o["reconnects"] == 0, o
print("json ok")
PY
# Not one redirect: every request went to its slot's owner at once. (Other errors are the
# connection's set-up: Redis 7.0 does not know CLIENT SETINFO.)
for p in "${c_ports[@]}"; do
  ! redis-cli -p "$p" INFO errorstats | grep -Eq '^errorstat_(MOVED|ASK):' ||
    fail "node $p sent redirects: $(redis-cli -p "$p" INFO errorstats | tr -d '\r' | grep errorstat)"
done

# The private cluster: three primaries of its own, stopped at exit.
"$bench" --cluster -r 1000 -t set -n 3000 -c 4 -q > "$work/private.txt"
cat "$work/private.txt"
grep -Eq '^SET: [0-9.]+ requests per second,.* errors=0 reconnects=0$' "$work/private.txt" ||
  fail "the private cluster run did not report a clean SET"

# A usage error: without -r every request would have one key, on one node.
set +e
"$bench" --cluster -p "${c_ports[0]}" -t get > /dev/null 2> "$work/usage.txt"
status=$?
set -e
[ $status -eq 2 ] || fail "--cluster without -r: exit $status, expected 2"
grep -q -- "--cluster needs -r" "$work/usage.txt" || fail "no reason given: $(cat "$work/usage.txt")"
# A seed that is not a cluster node, and one that is not there: exit 1, naming it.
start_redis plain
for port in "$plain_port" "$(dead_port)"; do
  set +e
  "$bench" --cluster -p "$port" -r 10 -t get -n 100 -q > /dev/null 2> "$work/seed.txt"
  status=$?
  set -e
  [ $status -eq 1 ] || fail "seed $port: exit $status, expected 1"
  grep -q "^uredis-bench: GET: cannot read the cluster's topology from 127.0.0.1:$port: " \
    "$work/seed.txt" || fail "seed $port: $(cat "$work/seed.txt")"
done
echo "ok"
