#!/usr/bin/env bash
# uredis-lock against another holder of the same name: --no-wait gives up at once and --wait MS
# after about MS (exit 75); the watchdog keeps a lock held for many ttls while its command runs;
# a waiter gets the lock when the holder ends; and a lock taken away while its command runs
# (the key overwritten) makes the tool SIGTERM the command within about ttl/3 and exit 75.
#
#   lock_contention.sh UREDIS_LOCK
set -euo pipefail
lock=${1:?usage: lock_contention.sh path/to/uredis-lock}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$here/redis_server.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
start_redis main
rcli() { redis-cli -p "$main_port" "$@"; }
ul() { timeout 30 "$lock" -p "$main_port" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_for_file() {
  for _ in $(seq 250); do [ -e "$1" ] && return 0; sleep 0.02; done
  fail "$1 never appeared"
}

# attempt NAME EXPECTED_STATUS MIN_MS MAX_MS ARGS...: runs the tool, checks status and duration.
attempt() {
  local name=$1 expected=$2 min=$3 max=$4 start status=0 elapsed
  shift 4
  start=$(now_ms)
  ul "$@" 2> "$work/err" || status=$?
  elapsed=$(($(now_ms) - start))
  [ "$status" -eq "$expected" ] || fail "$name: exit $status, expected $expected: $(cat "$work/err")"
  [ "$elapsed" -ge "$min" ] && [ "$elapsed" -le "$max" ] ||
    fail "$name: took $elapsed ms, expected $min..$max"
}

# --- The watchdog: --ttl 300 held through a command of 1.5 s or more (5 ttls) ---
# The command runs until told to stop, so a slow machine cannot end it before the checks.
"$lock" -p "$main_port" --ttl 300 job -- sh -c \
  "touch '$work/running'; while [ ! -e '$work/stop' ]; do sleep 0.02; done" 2> "$work/holder_err" &
holder=$!
wait_for_file "$work/running"
acquired=$(now_ms)
attempt "--no-wait while held" 75 0 1000 --no-wait job -- touch "$work/ran"
grep -q "is held by another owner" "$work/err" || fail "--no-wait: message '$(cat "$work/err")'"
attempt "--wait 200 while held" 75 190 1200 --wait 200 job -- touch "$work/ran"
grep -q "still held by another owner after 200 ms" "$work/err" || fail "--wait 200: '$(cat "$work/err")'"
# Past 1.5 s since the holder's command started: only the watchdog can have kept the lock.
left=$((1500 - ($(now_ms) - acquired)))
[ "$left" -le 0 ] || sleep "$(printf '0.%03d' "$left")"
held=$(ul --status job)
[[ $held =~ ^held,\ ttl\ [0-9]+\ ms$ ]] || fail "after 5 ttls: --status says '$held' ($(cat "$work/holder_err"))"
[ "${held//[^0-9]/}" -le 300 ] || fail "after 5 ttls: ttl over the 300 ms given: '$held'"
attempt "--no-wait after 5 ttls" 75 0 1000 --no-wait job -- touch "$work/ran"
[ ! -e "$work/ran" ] || fail "a command ran while another uredis-lock held the lock"
touch "$work/stop"
status=0
wait "$holder" || status=$?
[ "$status" -eq 0 ] || fail "the watchdog's holder exited $status: $(cat "$work/holder_err")"
[ "$(rcli EXISTS job)" = 0 ] || fail "the lock is still held after the holder ended"

# --- A waiter gets the lock once the holder ends, and runs after it ---
rm -f "$work/running"
"$lock" -p "$main_port" job -- sh -c "touch '$work/running'; sleep 0.4; date +%s%N > '$work/first'" &
holder=$!
wait_for_file "$work/running"
ul --wait 5000 job -- sh -c "date +%s%N > '$work/second'" || fail "the waiter did not get the lock"
wait "$holder" || fail "the first holder failed"
[ "$(cat "$work/second")" -gt "$(cat "$work/first")" ] || fail "the waiter ran before the holder ended"

# --- Lost: the key overwritten while the command runs -> SIGTERM to it, exit 75 ---
rm -f "$work/running"
"$lock" -p "$main_port" --ttl 300 job -- sh -c \
  "trap 'echo got-term > \"$work/term\"; exit 0' TERM; touch '$work/running'; while :; do sleep 0.02; done" \
  2> "$work/lost_err" &
holder=$!
wait_for_file "$work/running"
rcli SET job other > /dev/null
start=$(now_ms)
status=0
wait "$holder" || status=$?
elapsed=$(($(now_ms) - start))
[ "$status" -eq 75 ] || fail "lost lock: exit $status, expected 75: $(cat "$work/lost_err")"
[ "$elapsed" -le 1000 ] || fail "lost lock: took $elapsed ms to notice (ttl/3 is 100 ms)"
grep -q "lock 'job' lost while the command ran (it expired or was taken by another owner): sending it SIGTERM" \
  "$work/lost_err" || fail "lost lock: message '$(cat "$work/lost_err")'"
[ "$(cat "$work/term" 2> /dev/null)" = got-term ] || fail "lost lock: the command got no SIGTERM"
[ "$(rcli GET job)" = other ] || fail "lost lock: the new owner's key was touched: '$(rcli GET job)'"
echo "ok"
