#!/usr/bin/env bash
# lock_timing, briefly, on a private redis-server: it runs to the end (every acquire, release and
# handoff succeeded: it exits 1 otherwise), prints its rows, writes every summary key, and a
# handoff with wakeups is far below the retry timer's 10 ms floor (so the release woke it).
# Needs redis-server on PATH. A few seconds.
set -euo pipefail
program=${1:?usage: lock_timing_smoke.sh path/to/lock_timing}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=../tools/redis_server.sh
source "$here/../tools/redis_server.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT
start_redis smoke

"$program" "$smoke_port" 300 100 5 "$work/summary.txt" | tee "$work/out.txt"
for r in "uredis distributed_lock acquire" "uredis SET NX PX + DEL" "lock / bare" \
  "uredis distributed_lock + wakeups" "uredis distributed_lock, no wakeups"; do
  grep -qF "$r" "$work/out.txt" || fail "no row '$r'"
done
for k in lock_p50 lock_p99 lock_mean lock_allocs bare_p50 bare_p99 bare_mean bare_allocs \
  handoff_p50 handoff_p99 handoff_mean bare_handoff_p50 notice_p50 observer_p50 polled_p50 polled_p99 polled_mean; do
  grep -Eq "^$k [0-9]+\.[0-9]+$" "$work/summary.txt" || fail "no '$k' in the summary"
done
awk '$1 == "handoff_p50" && $2 >= 10000 { exit 1 }' "$work/summary.txt" ||
  fail "the median handoff took the retry timer's time: the release did not wake the waiter"
# A usage error is not a run.
set +e
"$program" >/dev/null 2>&1
status=$?
set -e
[ "$status" -eq 2 ] || fail "no arguments exited $status, not 2"
echo "lock_timing_smoke: ok"
