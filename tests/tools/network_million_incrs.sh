#!/usr/bin/env bash
# 1,000,000 `INCR k` lines piped into uredis-cli in one run: every reply must be there, right and
# in order ("(integer) 1" .. "(integer) 1000000"), within a time limit, and with bounded memory
# (the commands are pipelined through a bounded window, not all queued at once). Prints the time
# it took.
#
#   network_million_incrs.sh UREDIS_CLI
set -u

uredis_cli=$1
lines=1000000
time_limit=30       # seconds; a run takes about half a second on a laptop
memory_limit=65536  # KiB of peak RSS; queueing everything would take well over 100 MiB

work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT

start_redis main

yes 'INCR k' | head -n $lines > "$work/in"
seq 1 $lines | sed 's/^/(integer) /' > "$work/expected"

measure=()
if [ -x /usr/bin/time ]; then measure=(/usr/bin/time -f '%e %M' -o "$work/usage"); fi
start=$(date +%s.%N)
timeout $((time_limit * 2)) "${measure[@]}" "$uredis_cli" -p "$main_port" < "$work/in" \
  > "$work/out" 2> "$work/err"
status=$?
end=$(date +%s.%N)
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
echo "$lines pipelined INCRs: ${elapsed}s"

failures=0
if [ $status -ne 0 ]; then
  echo "FAIL: exit status $status; stderr: $(head -c 500 "$work/err")"
  failures=$((failures + 1))
fi
if ! cmp -s "$work/expected" "$work/out"; then
  echo "FAIL: the replies differ from (integer) 1 .. (integer) $lines:"
  cmp "$work/expected" "$work/out"
  echo "  got $(wc -l < "$work/out") lines; first differing lines:"
  diff "$work/expected" "$work/out" | head -n 6
  failures=$((failures + 1))
fi
if [ -s "$work/err" ]; then
  echo "FAIL: unexpected stderr: $(head -c 500 "$work/err")"
  failures=$((failures + 1))
fi
if awk -v e="$elapsed" -v l=$time_limit 'BEGIN { exit !(e > l) }'; then
  echo "FAIL: took ${elapsed}s, more than ${time_limit}s"
  failures=$((failures + 1))
fi
final=$(redis-cli -p "$main_port" GET k)
if [ "$final" != "$lines" ]; then
  echo "FAIL: the server's k is '$final', expected $lines"
  failures=$((failures + 1))
fi
if [ -s "$work/usage" ]; then
  read -r _ peak_kib < "$work/usage"
  echo "peak RSS: ${peak_kib} KiB"
  if [ "$peak_kib" -gt $memory_limit ]; then
    echo "FAIL: peak RSS ${peak_kib} KiB, more than ${memory_limit} KiB"
    failures=$((failures + 1))
  fi
fi

[ $failures -eq 0 ]
