#!/usr/bin/env bash
# uredis-cli's failure paths next to redis-cli's: a server that cannot be reached, wrong
# passwords, a server that drops the connection or shuts down, commands the tool refuses, and
# command-line errors. Where uredis-cli means to behave like redis-cli, stdout, stderr and the
# exit status must be identical; the few deliberate differences (documented in run.hpp) are
# checked for what uredis-cli does instead.
#
#   network_errors.sh UREDIS_CLI
set -u

uredis_cli=$1
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
require_redis_cli
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT

shopt -s extglob  # the stderr patterns of expect() may use @(a|b)
checks=0
failures=0
fail() {
  echo "FAIL $1"
  failures=$((failures + 1))
}

# run WHICH INPUT ARGS...: runs redis-cli --no-raw (WHICH=expected) or uredis-cli (actual).
run() {
  local which=$1 input=$2
  shift 2
  if [ "$which" = expected ]; then
    timeout 30 redis-cli --no-raw "$@" < "$input" > "$work/$which.out" 2> "$work/$which.err"
  else
    timeout 30 "$uredis_cli" "$@" < "$input" > "$work/$which.out" 2> "$work/$which.err"
  fi
  echo $? > "$work/$which.status"
}

# same NAME INPUT ARGS...: identical stdout, stderr and exit status. SETUP, if set, runs before
# each of the two runs.
same() {
  local name=$1 input=$2
  shift 2
  checks=$((checks + 1))
  ${setup:-:}
  run expected "$input" "$@"
  ${setup:-:}
  run actual "$input" "$@"
  local what
  for what in status out err; do
    if ! cmp -s "$work/expected.$what" "$work/actual.$what"; then
      fail "$name: $what differs (- redis-cli, + uredis-cli)"
      diff -u "$work/expected.$what" "$work/actual.$what" | head -n 20
      return
    fi
  done
  if [ ! -s "$work/expected.out" ] && [ ! -s "$work/expected.err" ] && [ -z "${may_be_silent:-}" ]; then
    fail "$name: redis-cli printed nothing: the case tests nothing"
  fi
}

# expect NAME STATUS STDOUT STDERR_GLOB: what the last actual run did.
expect() {
  local name=$1 status=$2 out=$3 err=$4
  checks=$((checks + 1))
  if [ "$(cat "$work/actual.status")" != "$status" ]; then
    fail "$name: exit status $(cat "$work/actual.status"), expected $status"
  elif [ "$(cat "$work/actual.out")" != "$out" ]; then
    fail "$name: stdout '$(head -c 300 "$work/actual.out")', expected '$out'"
  # shellcheck disable=SC2053
  elif [[ $(cat "$work/actual.err") != $err ]]; then
    fail "$name: stderr '$(head -c 300 "$work/actual.err")' does not match '$err'"
  fi
}

printf 'PING\nECHO hello\n' > "$work/two"

# --- A server that cannot be reached ---
port=$(dead_port)
same "dead server" /dev/null -p "$port" PING
same "dead server, -3 -a -n" /dev/null -p "$port" -3 -a pw -n 2 PING
same "dead server, -h localhost" /dev/null -h localhost -p "$port" GET k
same "dead server, -u" /dev/null -u "redis://127.0.0.1:$port/1" GET k
same "no such socket" /dev/null -s "$work/missing.sock" PING
same "no such socket directory" /dev/null -s "$work/no/such/dir.sock" PING
: > "$work/not-a-socket"
same "socket path is a plain file" /dev/null -s "$work/not-a-socket" PING
same "unknown host" /dev/null -h no-such-host.invalid -p 6379 PING
# On stdin, redis-cli prints the message again for every line and ends with status 0; uredis-cli
# prints it once and fails.
run expected "$work/two" -p "$port"
run actual "$work/two" -p "$port"
expect "dead server, stdin" 1 '' "$(head -n 1 "$work/expected.err")"

# --- Passwords ---
start_redis secure --requirepass right --user alice on '>alicepw' '~*' '&*' '+@all'
p=$secure_port
same "wrong password" /dev/null -p "$p" -a wrong PING
same "wrong password -3" /dev/null -p "$p" -a wrong -3 PING
same "wrong password -2" /dev/null -p "$p" -a wrong -2 GET k
same "wrong password -n" /dev/null -p "$p" -a wrong -n 3 PING
same "wrong password, stdin" "$work/two" -p "$p" -a wrong
same "wrong password -3, stdin" "$work/two" -p "$p" -a wrong -3
same "wrong user password" /dev/null -p "$p" --user alice -a nope ACL WHOAMI
same "unknown user" /dev/null -p "$p" --user mallory -a alicepw PING
same "wrong password in -u" /dev/null -u "redis://:wrong@127.0.0.1:$p" PING
same "no password" /dev/null -p "$p" PING
same "no password -3" /dev/null -p "$p" -3 PING
same "no password -n" /dev/null -p "$p" -n 1 PING
REDISCLI_AUTH=right same "REDISCLI_AUTH" /dev/null -p "$p" PING
REDISCLI_AUTH=wrong same "wrong REDISCLI_AUTH" /dev/null -p "$p" PING
printf 'AUTH wrong\nAUTH right\nPING\n' > "$work/auth"
same "AUTH on stdin" "$work/auth" -p "$p"
start_redis open
same "password on a server without one" /dev/null -p "$open_port" -a pw PING

# --- The server ends the connection ---
# redis-cli prints the error and, on stdin, reconnects for the next line, losing the pipelined
# rest. uredis-cli reconnects and resends: the PINGs behind the kill were never run (the server
# stops reading a connection it closes after the reply), and are read-only anyway.
printf 'PING\nCLIENT KILL SKIPME no\nPING\nPING\n' > "$work/kill"
run expected "$work/kill" -p "$open_port"
run actual "$work/kill" -p "$open_port"
expect "connection killed, stdin" 0 $'PONG\n(integer) 1\nPONG\nPONG' ''
[ "$(head -n 2 "$work/expected.out")" = $'PONG\n(integer) 1' ] || fail "redis-cli killed: $(cat "$work/expected.out")"
# A write sent behind the kill is not resent: for all the tool knows it may have run (here it
# did not), and its line says so; the status is 1. The next command runs on a new connection.
printf 'INCR lost\nCLIENT KILL SKIPME no\nINCR lost\n' > "$work/kill-write"
run actual "$work/kill-write" -p "$open_port"
expect "connection killed before a write, stdin" 1 \
  $'(integer) 1\n(integer) 1\n(error) uredis-cli: may have run: the connection was lost after it was sent' ''
same "connection killed, one-shot" /dev/null -p "$open_port" CLIENT KILL SKIPME no
# SHUTDOWN ends the connection without a reply: nothing to say, status 0.
start_redis doomed1
start_redis doomed2
may_be_silent=1
run expected /dev/null -p "$doomed1_port" SHUTDOWN NOSAVE
run actual /dev/null -p "$doomed2_port" SHUTDOWN NOSAVE
for what in status out err; do
  checks=$((checks + 1))
  cmp -s "$work/expected.$what" "$work/actual.$what" || fail "SHUTDOWN: $what differs"
done
start_redis doomed3
printf 'INCR n\nSHUTDOWN NOSAVE\n' > "$work/shutdown"
run actual "$work/shutdown" -p "$doomed3_port"
expect "SHUTDOWN on stdin" 0 '(integer) 1' ''
may_be_silent=

# --- Commands uredis-cli refuses ---
for c in SYNC PSYNC HELP; do
  run actual /dev/null -p "$open_port" "$c" x
  expect "refused $c" 1 '' "uredis-cli: *"
done
# RESET would undo the connection's setup: the library refuses it unsent, and the line says so.
printf 'SET k 1\nRESET\nGET k\n' > "$work/reset"
run actual "$work/reset" -p "$open_port"
expect "refused RESET on stdin" 1 \
  $'OK\n(error) uredis-cli: not sent (RESET would undo this connection\'s setup (protocol, credentials, database, name, tracking): close() and connect() the connection instead)\n"1"' ''
printf 'ECHO before\nsync\nECHO after\n' > "$work/sync"
run actual "$work/sync" -p "$open_port"
expect "refused SYNC on stdin" 1 '"before"' "uredis-cli: sync is not supported*"

# --- Command-line errors: status 2 and the usage ---
usage() {
  checks=$((checks + 1))
  timeout 10 "$uredis_cli" "$@" < /dev/null > "$work/actual.out" 2> "$work/actual.err"
  local status=$?
  if [ $status -ne 2 ] || ! grep -q '^usage: uredis-cli' "$work/actual.err"; then
    fail "usage error for '$*': status $status, stderr: $(head -n 1 "$work/actual.err")"
  fi
}
usage -2 -3 PING
usage -p 0 PING
usage -p 65536 PING
usage -p x PING
usage -n x PING
usage -h
usage -u
usage -u 'http://127.0.0.1' PING
usage --bogus PING
usage --decode PING

# --- Replies come out before the tool waits for more input ---
checks=$((checks + 1))
mkfifo "$work/fifo"
"$uredis_cli" -p "$open_port" < "$work/fifo" > "$work/live.out" 2>&1 &
cli=$!
exec 3> "$work/fifo"
echo PING >&3
for _ in $(seq 100); do
  grep -q PONG "$work/live.out" && break
  sleep 0.05
done
grep -q PONG "$work/live.out" || fail "interactive input: no reply before the next line came"
echo 'ECHO done' >&3
exec 3>&-
wait $cli
[ "$(cat "$work/live.out")" = $'PONG\n"done"' ] || fail "interactive input: $(cat "$work/live.out")"

echo "$checks checks, $failures failed"
[ $failures -eq 0 ]
