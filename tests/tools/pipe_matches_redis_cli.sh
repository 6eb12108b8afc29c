#!/usr/bin/env bash
# uredis-cli --pipe next to redis-cli --pipe: the same input into each, on servers started empty
# the same way; stdout, stderr and the exit status must be identical, byte for byte, and so must
# what the servers hold afterwards. The main case is 1,000,000 SETs in RESP (DBSIZE and 2,000
# sampled values compared, and checked against what was sent); the others cover error replies,
# inline commands, an empty input, -n and -3, the timeout when the last reply never comes, and a
# server that is not there.
#
#   pipe_matches_redis_cli.sh UREDIS_CLI
set -u

uredis_cli=$1
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
require_redis_cli
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT

start_redis expected
start_redis actual
checks=0
failures=0
fail() {
  echo "FAIL $1"
  failures=$((failures + 1))
}

# compare NAME INPUT FLAGS...: redis-cli on one server, uredis-cli on the other, both flushed.
# $compared, if set, lists what must be identical (default: status out err).
compare() {
  local name=$1 input=$2
  shift 2
  checks=$((checks + 1))
  redis-cli -p "$expected_port" FLUSHALL > /dev/null
  redis-cli -p "$actual_port" FLUSHALL > /dev/null
  timeout 120 redis-cli -p "$expected_port" "$@" --pipe < "$input" > "$work/expected.out" \
    2> "$work/expected.err"
  echo $? > "$work/expected.status"
  timeout 120 "$uredis_cli" -p "$actual_port" "$@" --pipe < "$input" > "$work/actual.out" \
    2> "$work/actual.err"
  echo $? > "$work/actual.status"
  local what
  for what in ${compared:-status out err}; do
    if ! cmp -s "$work/expected.$what" "$work/actual.$what"; then
      fail "$name: $what differs (- redis-cli, + uredis-cli)"
      diff -u "$work/expected.$what" "$work/actual.$what" | head -n 20
      return
    fi
  done
}

# Both servers hold the same keys in db DB: DBSIZE, and the values of the keys given on stdin.
same_state() {
  local name=$1 db=$2
  checks=$((checks + 1))
  local e a
  e=$(redis-cli -p "$expected_port" -n "$db" DBSIZE)
  a=$(redis-cli -p "$actual_port" -n "$db" DBSIZE)
  [ "$e" = "$a" ] || fail "$name: DBSIZE $a, redis-cli's server has $e"
  sed 's/^/GET /' > "$work/gets"
  redis-cli -p "$expected_port" -n "$db" < "$work/gets" > "$work/expected.values"
  redis-cli -p "$actual_port" -n "$db" < "$work/gets" > "$work/actual.values"
  cmp -s "$work/expected.values" "$work/actual.values" ||
    fail "$name: sampled values differ: $(diff "$work/expected.values" "$work/actual.values" | head -n 4)"
}

# 1,000,000 SETs in RESP.
n=1000000
awk -v n=$n 'BEGIN {
  for (i = 0; i < n; i++) {
    k = "key:" i; v = "value:" i
    printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
  }
}' > "$work/sets"
compare "1M SETs" "$work/sets"
[ "$(cat "$work/actual.out")" = $'All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: 1000000' ] ||
  fail "1M SETs: summary '$(cat "$work/actual.out")'"
awk -v n=$n 'BEGIN { srand(7); for (i = 0; i < 2000; i++) print "key:" int(rand() * n) }' |
  same_state "1M SETs" 0
[ "$(redis-cli -p "$actual_port" DBSIZE)" = $n ] || fail "1M SETs: DBSIZE is not $n"
[ "$(redis-cli -p "$actual_port" GET key:123456)" = value:123456 ] || fail "1M SETs: key:123456"

# Error replies (their text on stderr), inline commands, RESP and inline mixed.
printf 'SET a 1\r\nSET b 2\r\nFOO\r\n*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\nINCR a x\r\nGET a\nRPUSH l x y z\r\nLPOP b\r\n' > "$work/mixed"
compare "errors and inline commands" "$work/mixed"
printf 'a\nb\nc\nl\n' | same_state "errors and inline commands" 0
grep -q '^errors: 3, replies: 8$' "$work/actual.out" || fail "mixed: $(tail -n 1 "$work/actual.out")"

# An empty input: only the ECHO goes out.
compare "empty input" /dev/null

# The database and RESP3 of the session.
printf 'SET in2 yes\r\nHSET h f v\r\nHGETALL h\r\n' > "$work/db"
compare "-n 2" "$work/db" -n 2
printf 'in2\n' | same_state "-n 2" 2
compare "-3" "$work/db" -3

# The last reply never comes (BLPOP blocks): redis-cli's timeout message and summary.
printf 'SET a 1\r\nBLPOP nothing 0\r\n' > "$work/blocked"
compare "--pipe-timeout" "$work/blocked" --pipe-timeout 1
grep -q '^No replies for 1 seconds: exiting.$' "$work/actual.err" || fail "timeout: $(cat "$work/actual.err")"

# A truncated last command: the ECHO behind it breaks the protocol, the server says so and
# closes the connection. The same stdout and status as redis-cli, and the same stderr plus one
# line: uredis-cli says that the connection closed, where redis-cli 7.0 exits without a word.
printf 'SET a 1\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n' > "$work/truncated"
compared="status out" compare "truncated input" "$work/truncated"
checks=$((checks + 1))
[ "$(cat "$work/actual.err")" = "$(cat "$work/expected.err")
Error reading from the server: Server closed the connection" ] ||
  fail "truncated input: stderr '$(cat "$work/actual.err")', redis-cli's '$(cat "$work/expected.err")'"
# An inline command without its line end: the CRLF before the ECHO ends it.
printf 'SET a 1\r\nSET b 2' > "$work/unterminated"
compare "unterminated inline command" "$work/unterminated"
printf 'a\nb\n' | same_state "unterminated inline command" 0

# Nobody listens.
port=$(dead_port)
checks=$((checks + 1))
redis-cli -p "$port" --pipe < "$work/mixed" > "$work/expected.out" 2> "$work/expected.err"
echo $? > "$work/expected.status"
"$uredis_cli" -p "$port" --pipe < "$work/mixed" > "$work/actual.out" 2> "$work/actual.err"
echo $? > "$work/actual.status"
for what in status out err; do
  cmp -s "$work/expected.$what" "$work/actual.$what" || fail "dead server: $what differs"
done

echo "$checks checks, $failures failed"
[ $failures -eq 0 ]
