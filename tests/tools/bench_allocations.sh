#!/usr/bin/env bash
# No heap allocation per request in steady state, for the whole harness (tool and library): the
# allocations uredis-bench counts during the measured phase (--count-allocations) must be the
# same for -n 2000 and -n 40000, test by test, closed loop and pipelined. (They are 0 today:
# the warm-up grows every buffer first; equality is what the issue asks for.)
# Needs redis-server and python3.
set -euo pipefail
bench=${1:?usage: bench_allocations.sh path/to/uredis-bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One test per descriptor shape: the inline PING, views (GET, LPOP, SPOP), dropped arrays
# (ZPOPMIN, LRANGE), held keys (ZADD with -r, MSET).
tests=ping,get,set,incr,lpush,lpop,spop,zadd,zpopmin,lrange_100,mset

counts() {  # counts FILE: "TEST=allocations ..." from a --json file
  python3 - "$1" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
print(" ".join(f'{o["test"]}={o["allocations"]}' for o in data))
PY
}

status=0
for shape in "-c 50 -P 1" "-c 4 -P 32" "-c 8 -P 4 --threads 2 -r 100000 --key-pattern zipf"; do
  # shellcheck disable=SC2086 # $shape is a list of flags
  "$bench" -q -t "$tests" $shape -n 2000 --count-allocations --json "$tmp/small.json" >/dev/null
  # shellcheck disable=SC2086
  "$bench" -q -t "$tests" $shape -n 40000 --count-allocations --json "$tmp/large.json" >/dev/null
  small=$(counts "$tmp/small.json")
  large=$(counts "$tmp/large.json")
  echo "$shape: -n 2000: $small; -n 40000: $large"
  if [ "$small" != "$large" ]; then
    echo "FAIL: the allocation count depends on -n ($shape)" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "bench_allocations: ok"
exit "$status"
