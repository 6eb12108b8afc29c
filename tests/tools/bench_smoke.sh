#!/usr/bin/env bash
# uredis-bench against its own private redis-server: one line per test with -q, and a --json
# file with the documented keys, requests == -n and no errors. Needs redis-server and python3.
set -euo pipefail
bench=${1:?usage: bench_smoke.sh path/to/uredis-bench}
n=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bench" -q -n "$n" -t ping,set,get,incr --json "$tmp/out.json" >"$tmp/out.txt"
cat "$tmp/out.txt"

fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(wc -l <"$tmp/out.txt")" -eq 4 ] || fail "expected 4 lines"
for t in PING SET GET INCR; do
  grep -Eq "^$t: [0-9]+\.[0-9]{2} requests per second, p50=[0-9]+ p90=[0-9]+ p99=[0-9]+ p99\.9=[0-9]+ max=[0-9]+ usec, cpu=[0-9]+ ns/op, errors=0$" \
    "$tmp/out.txt" || fail "no good line for $t"
done

python3 - "$tmp/out.json" "$n" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
data = json.load(open(path))
assert [o["test"] for o in data] == ["PING", "SET", "GET", "INCR"], data
keys = {"test", "requests", "ops_per_sec", "errors", "reconnects", "client_cpu_ns_per_op", "latency_us"}
for o in data:
    assert set(o) == keys, o
    assert set(o["latency_us"]) == {"p50", "p90", "p99", "p999", "max"}, o
    assert o["requests"] == n, o
    assert o["errors"] == 0, o
    assert o["reconnects"] == 0, o
    assert o["ops_per_sec"] > 0 and o["client_cpu_ns_per_op"] > 0, o
    l = o["latency_us"]
    assert l["p50"] <= l["p90"] <= l["p99"] <= l["p999"] <= l["max"], o
print("json ok")
PY

# A bad flag is a usage error (exit 2), not a run.
set +e
"$bench" -t nosuchtest >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown test not rejected with exit 2"
echo "bench_smoke: ok"
