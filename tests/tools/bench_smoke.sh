#!/usr/bin/env bash
# uredis-bench against its own private redis-server: one line per test with -q, a --json file
# with exactly the documented keys, requests == -n and no errors; no progress line when stderr
# is not a terminal, and one on a terminal (run under script(1)) for a run over a second; usage
# errors exit 2. Needs redis-server and python3 (and script, from util-linux).
set -euo pipefail
bench=${1:?usage: bench_smoke.sh path/to/uredis-bench}
n=20000
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bench" -q -n "$n" -t ping,set,get,incr --json "$tmp/out.json" >"$tmp/out.txt" 2>"$tmp/err.txt"
cat "$tmp/out.txt"
# "ping" is both PINGs, as in redis-benchmark.
[ "$(wc -l <"$tmp/out.txt")" -eq 5 ] || fail "expected 5 lines"
for t in PING_INLINE PING_MBULK SET GET INCR; do
  grep -Eq "^$t: [0-9]+\.[0-9]{2} requests per second, p50=[0-9]+ p90=[0-9]+ p99=[0-9]+ p99\.9=[0-9]+ max=[0-9]+ usec, cpu=[0-9]+ ns/op, errors=0 reconnects=0$" \
    "$tmp/out.txt" || fail "no good line for $t"
done
[ ! -s "$tmp/err.txt" ] || fail "stderr is not a terminal, yet something was printed: $(cat "$tmp/err.txt")"

python3 - "$tmp/out.json" "$n" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
data = json.load(open(path))
assert [o["test"] for o in data] == ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR"], data
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

# The block output (no -q) names errors and reconnects.
"$bench" -n 2000 -t get >"$tmp/block.txt"
grep -q "^  errors: 0, reconnects: 0$" "$tmp/block.txt" || fail "block output lacks errors/reconnects"

# A terminal gets the progress line (\r-rewritten) for a run over a second; -q silences it.
if command -v script >/dev/null; then
  script -qec "$bench -t get --duration 1.6 2>&1 >/dev/null" /dev/null >"$tmp/tty.txt"
  grep -q "GET: rps=[0-9.]* (overall: [0-9.]*) requests=[0-9]* elapsed=1\.[0-9] s" "$tmp/tty.txt" ||
    fail "no progress line on a terminal: $(cat -v "$tmp/tty.txt")"
  script -qec "$bench -q -t get --duration 1.6 2>&1 >/dev/null" /dev/null >"$tmp/tty-q.txt"
  ! grep -q "rps=" "$tmp/tty-q.txt" || fail "a progress line despite -q"
else
  fail "script(1) is not installed (util-linux)"
fi

# Bad command lines are usage errors (exit 2), not runs.
usage_error() {
  set +e
  "$bench" "$@" >/dev/null 2>&1
  local status=$?
  set -e
  [ "$status" -eq 2 ] || fail "'$*' exited $status, not 2"
}
usage_error -t nosuchtest
usage_error -t get --command "GET __key__"
usage_error --key-pattern zipf -t get
usage_error --key-pattern nosuch -r 10
usage_error --rate 0
usage_error --rate 1e-9                # its schedule's interval would overflow
usage_error -d 0                       # as redis-benchmark: at least one byte
usage_error -d 536870913 -t set        # above a server's bulk string limit (512 MiB)
usage_error --duration -1
usage_error --duration 1 -n 10
usage_error --command "SET 'unterminated"
echo "bench_smoke: ok"
