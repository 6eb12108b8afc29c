#!/usr/bin/env bash
# uredis-bench --cache: a GET run over a small keyspace (which --cache prefills) is answered
# mostly by the connections' client-side caches, and the figures say so (JSON "cache" object,
# the -q line, CSV columns); a --command read naming __key__ goes through the cache too;
# --server-cpu reports the private server's CPU per request; bad values are usage errors.
# Needs redis-server, redis-cli and python3.
set -euo pipefail
bench=${1:?usage: bench_cache.sh path/to/uredis-bench}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$here/redis_server.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The private server: 4 connections, 100 keys, 20000 GETs: at most 400 misses (each
# connection's cache misses each key once), the rest hits.
n=20000
"$bench" -q -c 4 -n "$n" -r 100 -t get --cache --server-cpu --json "$work/get.json" >"$work/get.txt"
cat "$work/get.txt"
grep -Eq "^GET: .* errors=0 reconnects=0 server_cpu=[0-9]+ ns/op cache: hits=[0-9]+ misses=[0-9]+ invalidations=0$" \
  "$work/get.txt" || fail "no good -q line with the cache's figures"
python3 - "$work/get.json" "$n" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))[0]
n = int(sys.argv[2])
c = o["cache"]
assert set(c) == {"hits", "misses", "invalidations", "evictions", "entries", "bytes"}, c
assert o["requests"] == n and o["errors"] == 0, o
assert c["hits"] > 0, c
assert c["hits"] + c["misses"] == n, c  # every GET looked up (no read waited: -P 1)
assert c["misses"] <= 400, c
assert 0 < c["entries"] <= 400 and c["bytes"] > 0, c
assert c["evictions"] == 0 and c["invalidations"] == 0, c
assert o["server_cpu_ns_per_op"] > 0, o
print("json ok: hits=%d misses=%d" % (c["hits"], c["misses"]))
PY

# Without --cache: no "cache" object, nor the server's CPU unless asked.
"$bench" -q -c 4 -n 2000 -r 100 -t get --json "$work/plain.json" >/dev/null
python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))[0]; assert "cache" not in o and "server_cpu_ns_per_op" not in o, o' \
  "$work/plain.json"

# CSV gets the three columns.
"$bench" -c 2 -n 2000 -r 10 -t get --cache --csv >"$work/get.csv"
head -1 "$work/get.csv" | grep -q '"cache_hits","cache_misses","cache_invalidations"$' ||
  fail "CSV header lacks the cache columns"
grep -Eq '^"GET",.*,"[1-9][0-9]*","[0-9]+","0"$' "$work/get.csv" || fail "CSV row: no hits"

# A --command read (keys: the arguments holding __key__) on a server whose keys exist.
start_redis main
# shellcheck disable=SC2154 # main_port: set by start_redis
"$bench" -p "$main_port" -q -c 1 -n 50 -r 50 --key-pattern sequential -t set >/dev/null
[ "$(redis-cli -p "$main_port" dbsize)" -eq 50 ] || fail "the SETs did not fill 50 keys"
"$bench" -p "$main_port" -c 2 -n 4000 -r 50 --cache --command "GET __key__" \
  --json "$work/cmd.json" >/dev/null
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))[0]["cache"]; assert c["hits"] > 0 and c["misses"] <= 100, c' \
  "$work/cmd.json"

# Usage errors (exit 2).
usage_error() {
  set +e
  "$bench" "$@" >/dev/null 2>&1
  local status=$?
  set -e
  [ "$status" -eq 2 ] || fail "expected exit 2 for: $*, got $status"
}
usage_error --cache-max-bytes 0 -t get
usage_error --cache-max-bytes x -t get
usage_error --server-cpu -p "$main_port" -t get
echo "ok"
