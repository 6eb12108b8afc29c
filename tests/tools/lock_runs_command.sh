#!/usr/bin/env bash
# uredis-lock runs its command under the lock and gets out of the way: the command's exit
# status (128+N for a signal) is the tool's, UREDIS_LOCK_TOKEN grows from run to run, --status
# tells held from free, a SIGTERM to the tool reaches the command and the lock is released
# after it; bad arguments exit 2 with the usage, a server that is not there exits 1 at once.
#
#   lock_runs_command.sh UREDIS_LOCK
set -euo pipefail
lock=${1:?usage: lock_runs_command.sh path/to/uredis-lock}
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

# --- The command's exit status is the tool's ---
status=0
ul job -- sh -c 'exit 3' || status=$?
[ "$status" -eq 3 ] || fail "exit 3: the tool exited $status"
ul job -- true || fail "true: the tool failed"
status=0
ul job -- sh -c 'kill -KILL $$' || status=$?
[ "$status" -eq 137 ] || fail "killed by SIGKILL: the tool exited $status, expected 137"
[ "$(rcli EXISTS job)" = 0 ] || fail "the lock is still held after the runs"

# --- stdout, stderr and stdin are the command's own ---
out=$(echo piped | ul job -- sh -c 'cat; echo to-stderr >&2' 2> "$work/err")
[ "$out" = piped ] || fail "stdin/stdout: got '$out'"
[ "$(cat "$work/err")" = to-stderr ] || fail "stderr: got '$(cat "$work/err")'"

# --- The fencing token: set, decimal, strictly increasing ---
first=$(ul job -- sh -c 'echo "$UREDIS_LOCK_TOKEN"')
second=$(UREDIS_LOCK_TOKEN=stale ul job -- sh -c 'echo "$UREDIS_LOCK_TOKEN"')
[[ $first =~ ^[0-9]+$ && $second =~ ^[0-9]+$ ]] || fail "tokens '$first', '$second' are not decimal"
[ "$second" -gt "$first" ] || fail "token $second after $first did not grow"

# --- --status: free, and held with its ttl while a command runs ---
[ "$(ul --status job)" = free ] || fail "--status of a free lock: '$(ul --status job)'"
# In the background: "$lock" itself, so $! is its pid (not a subshell's).
"$lock" -p "$main_port" --ttl 5000 job -- sh -c "touch '$work/running'; exec sleep 5" &
holder=$!
for _ in $(seq 200); do [ -e "$work/running" ] && break; sleep 0.02; done
[ -e "$work/running" ] || fail "the holder's command never started"
held=$(ul --status job)
[[ $held =~ ^held,\ ttl\ [0-9]+\ ms$ ]] || fail "--status of a held lock: '$held'"
ttl=${held#held, ttl }
ttl=${ttl% ms}
[ "$ttl" -gt 0 ] && [ "$ttl" -le 5000 ] || fail "--status ttl $ttl is not in 1..5000"

# --- SIGTERM to the tool: forwarded to the command, then the lock is released ---
start=$(date +%s%N)
kill -TERM "$holder"
status=0
wait "$holder" || status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$status" -eq 143 ] || fail "SIGTERM: the tool exited $status, expected 143 (the command's)"
[ "$elapsed_ms" -lt 2000 ] || fail "SIGTERM: the tool took $elapsed_ms ms to end"
[ "$(rcli EXISTS job)" = 0 ] || fail "SIGTERM: the lock is still held after the tool ended"

# A command that handles SIGTERM itself decides the status.
rm -f "$work/running"
"$lock" -p "$main_port" job -- sh -c "trap 'exit 0' TERM; touch '$work/running'; while :; do sleep 0.05; done" &
holder=$!
for _ in $(seq 200); do [ -e "$work/running" ] && break; sleep 0.02; done
kill -TERM "$holder"
status=0
wait "$holder" || status=$?
[ "$status" -eq 0 ] || fail "a command that exits 0 on SIGTERM: the tool exited $status"
[ "$(rcli EXISTS job)" = 0 ] || fail "the lock is still held after the trapping command ended"

# --- A command that cannot run: 127 (not found) or 126, and the lock is given back ---
status=0
ul job -- /nonexistent/command 2> "$work/err" || status=$?
[ "$status" -eq 127 ] || fail "missing command: the tool exited $status, expected 127"
grep -q "cannot run '/nonexistent/command'" "$work/err" || fail "missing command: '$(cat "$work/err")'"
status=0
ul job -- "$work" 2> /dev/null || status=$?
[ "$status" -eq 126 ] || fail "a directory as the command: the tool exited $status, expected 126"
[ "$(rcli EXISTS job)" = 0 ] || fail "the lock is held after commands that could not run"

# --- Bad arguments: a message, the usage, exit 2; --help on stdout, exit 0 ---
for bad in "" "job" "--ttl 5 job true" "--bogus job true" "--status job true"; do
  status=0
  # shellcheck disable=SC2086
  "$lock" -p "$main_port" $bad > "$work/out" 2> "$work/err" || status=$?
  [ "$status" -eq 2 ] || fail "bad arguments '$bad': exit $status, expected 2"
  grep -q '^uredis-lock: ' "$work/err" || fail "bad arguments '$bad': no message: $(cat "$work/err")"
  grep -q '^usage: uredis-lock' "$work/err" || fail "bad arguments '$bad': no usage on stderr"
  [ ! -s "$work/out" ] || fail "bad arguments '$bad': printed on stdout"
done
"$lock" --help | grep -q '^usage: uredis-lock' || fail "--help does not print the usage"

# --- --redlock: three servers, then one of them down ---
start_redis r1
start_redis r2
start_redis r3
urls="redis://127.0.0.1:$r1_port,redis://127.0.0.1:$r2_port,redis://127.0.0.1:$r3_port"
status=0
token=$(timeout 30 "$lock" --redlock "$urls" job -- sh -c 'echo "$UREDIS_LOCK_TOKEN"' 2> "$work/err") || status=$?
[ "$status" -eq 0 ] || fail "--redlock: exit $status: $(cat "$work/err")"
[[ $token =~ ^[1-9][0-9]*$ ]] || fail "--redlock: token '$token'"
[ "$(timeout 30 "$lock" --redlock "$urls" --status job)" = free ] || fail "--redlock --status after a run"
rm -f "$work/running"
"$lock" --redlock "$urls" job -- sh -c "touch '$work/running'; exec sleep 5" &
holder=$!
for _ in $(seq 200); do [ -e "$work/running" ] && break; sleep 0.02; done
[ -e "$work/running" ] || fail "--redlock: the holder's command never started"
[ "$(redis-cli -p "$r2_port" EXISTS job)" = 1 ] || fail "--redlock: no key on the second server"
[[ $(timeout 30 "$lock" --redlock "$urls" --status job) =~ ^held,\ ttl\ [0-9]+\ ms$ ]] ||
  fail "--redlock --status while held"
status=0
timeout 30 "$lock" --redlock "$urls" --no-wait job -- true 2> /dev/null || status=$?
[ "$status" -eq 75 ] || fail "--redlock --no-wait while held: exit $status, expected 75"
kill -TERM "$holder"
wait "$holder" || true
# A minority down: still a lock.
kill "$r3_pid"
wait "$r3_pid" 2> /dev/null || true
timeout 30 "$lock" --redlock "$urls" job -- true 2> "$work/err" ||
  fail "--redlock with one of three servers down: $(cat "$work/err")"
for p in "$r1_port" "$r2_port"; do
  [ "$(redis-cli -p "$p" EXISTS job)" = 0 ] || fail "--redlock: key left on port $p"
done

# --- No server: exit 1 at once, naming the address ---
port=$(dead_port)
start=$(date +%s%N)
status=0
timeout 30 "$lock" -p "$port" job -- true 2> "$work/err" || status=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$status" -eq 1 ] || fail "dead port: exit $status, expected 1"
grep -q "cannot connect to Redis at 127.0.0.1:$port" "$work/err" || fail "dead port: '$(cat "$work/err")'"
[ "$elapsed_ms" -lt 2000 ] || fail "dead port: $elapsed_ms ms to fail (the first connect is retried?)"
echo "ok"
