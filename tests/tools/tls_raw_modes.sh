#!/usr/bin/env bash
# uredis-cli's raw-socket modes over TLS, next to redis-cli --tls on a real TLS redis-server:
# --pipe (a few thousand SETs and an error reply: the same stdout, stderr and exit status, and
# every key there afterwards; 2 MiB values, so commands and replies span many TLS records; -n,
# -3 and -u rediss://), SUBSCRIBE and PSUBSCRIBE (a message published by another client,
# printed exactly as redis-cli prints it), MONITOR (a command shows up), and a wrong CA in pipe
# mode (redis-cli's line and exit status).
#
#   tls_raw_modes.sh UREDIS_CLI
set -u

uredis_cli=$1
for tool in redis-cli openssl; do
  command -v "$tool" > /dev/null || { echo "FAIL: $tool is not on PATH" >&2; exit 1; }
done

work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
# shellcheck source=tls_certificates.sh
source "$(dirname "$0")/tls_certificates.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT

c=$work/tls
make_tls_certificates "$c"
start_tls_redis tls "$c"
tls=(--tls --cacert "$c/ca.crt" -h localhost -p "$tls_port")
cli() { redis-cli "${tls[@]}" "$@"; }

checks=0
failures=0
fail() {
  echo "FAIL $1"
  failures=$((failures + 1))
}

# --- --pipe ---

# pipe NAME INPUT ARGS...: redis-cli --pipe, then uredis-cli --pipe, on the flushed server;
# stdout, stderr and status must be identical. The uredis-cli run is what the server keeps.
pipe() {
  local name=$1 input=$2 which tool
  shift 2
  checks=$((checks + 1))
  for which in expected actual; do
    tool=$uredis_cli
    [ "$which" = expected ] && tool=redis-cli
    cli FLUSHALL > /dev/null
    timeout 60 "$tool" "$@" --pipe < "$input" > "$work/$which.out" 2> "$work/$which.err"
    echo $? > "$work/$which.status"
  done
  for w in status out err; do
    if ! cmp -s "$work/expected.$w" "$work/actual.$w"; then
      fail "$name: $w differs (- redis-cli, + uredis-cli)"
      diff -u "$work/expected.$w" "$work/actual.$w" | head -n 20
    fi
  done
}

keys=5000
for i in $(seq "$keys"); do
  printf '*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$%d\r\nvalue-%d\r\n' \
    $((4 + ${#i})) "$i" $((6 + ${#i})) "$i"
done > "$work/sets"
pipe "$keys SETs" "$work/sets" "${tls[@]}"
[ "$(cat "$work/actual.out")" = "$(printf 'All data transferred. Waiting for the last reply...\nLast reply received from server.\nerrors: 0, replies: %d' "$keys")" ] ||
  fail "$keys SETs: stdout '$(cat "$work/actual.out")'"
checks=$((checks + 1))
[ "$(cli DBSIZE)" = "$keys" ] && [ "$(cli GET "key:$keys")" = "value-$keys" ] ||
  fail "$keys SETs: the server holds $(cli DBSIZE) keys"

# An error reply among the others: its line on stderr, exit status 1.
printf 'SET a 1\r\nINCR a\r\nSET b x\r\nINCR b\r\nGET a\r\n' > "$work/errors"
pipe "an error reply" "$work/errors" "${tls[@]}"
checks=$((checks + 1))
[ "$(cat "$work/actual.status")" = 1 ] && grep -q "not an integer" "$work/actual.err" ||
  fail "an error reply: status $(cat "$work/actual.status"), stderr '$(cat "$work/actual.err")'"

# 2 MiB values: requests and replies span many TLS records, sent while replies come back.
big=$(head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'v')
for i in 1 2 3 4; do
  printf '*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n%s\r\n*2\r\n$6\r\nSTRLEN\r\n$3\r\nbig\r\n' \
    "${#big}" "$big"
done > "$work/big"
pipe "2 MiB values" "$work/big" "${tls[@]}"
checks=$((checks + 1))
[ "$(cli STRLEN big)" = $((2 * 1024 * 1024)) ] || fail "2 MiB values: STRLEN $(cli STRLEN big)"

# The session's set-up replayed over TLS (-n, -3), and -u rediss://.
pipe "-n 2 -3" "$work/errors" "${tls[@]}" -n 2 -3
checks=$((checks + 1))
[ "$(cli -n 2 GET a)" = 2 ] && [ "$(cli DBSIZE)" = 0 ] || fail "-n 2 -3: db 2 holds '$(cli -n 2 GET a)'"
pipe "-u rediss://" "$work/sets" -u "rediss://localhost:$tls_port" --cacert "$c/ca.crt"
checks=$((checks + 1))
[ "$(cli DBSIZE)" = "$keys" ] || fail "-u rediss://: the server holds $(cli DBSIZE) keys"

# A wrong CA: refused before anything is sent, in redis-cli's words.
pipe "a wrong CA" "$work/sets" --tls --cacert "$c/other.crt" -h localhost -p "$tls_port"
checks=$((checks + 1))
[ "$(cat "$work/actual.status")" = 1 ] &&
  [ "$(cat "$work/actual.err")" = "Could not connect to Redis at localhost:$tls_port: SSL_connect failed: certificate verify failed" ] ||
  fail "a wrong CA: status $(cat "$work/actual.status"), stderr '$(cat "$work/actual.err")'"

# --- SUBSCRIBE and MONITOR ---

# The streaming connection: a client with flag P (subscribed) or O (MONITOR).
streaming_clients() { cli CLIENT LIST | grep -E ' flags=[A-Za-z]*[PO]' || true; }
wait_for() {
  local i
  for i in $(seq 250); do
    eval "$1" && return 0
    sleep 0.02
  done
  return 1
}

# stream WHICH TRAFFIC MARKER ARGS...: starts redis-cli --no-raw (WHICH=expected) or uredis-cli (actual) with
# ARGS over TLS, waits until the server lists it as streaming, runs TRAFFIC (redis-cli input
# lines) from another client, waits for MARKER in the output, then ends the stream with
# CLIENT KILL. Output in $work/WHICH.out, .err, .status.
stream() {
  local which=$1 traffic=$2 marker=$3
  shift 3
  local tool=("$uredis_cli")
  [ "$which" = expected ] && tool=(redis-cli --no-raw)
  "${tool[@]}" "${tls[@]}" "$@" < /dev/null > "$work/$which.out" 2> "$work/$which.err" &
  local pid=$!
  wait_for '[ -n "$(streaming_clients)" ]' || fail "$which $*: the stream did not start"
  printf '%s\n' "$traffic" | cli > /dev/null
  wait_for 'grep -q "$marker" "$work/$which.out"' || fail "$which $*: '$marker' never came"
  cli CLIENT KILL ID "$(streaming_clients | sed 's/^id=\([0-9]*\) .*/\1/')" > /dev/null
  wait_for '! kill -0 "$pid" 2> /dev/null' || { fail "$which $*: still running"; kill "$pid"; }
  wait "$pid"
  echo $? > "$work/$which.status"
  wait_for '[ -z "$(streaming_clients)" ]'
}

traffic=$'PUBLISH news "hello over tls"\nPUBLISH other ignored\nPUBLISH news END'
for args in "SUBSCRIBE news" "PSUBSCRIBE n*"; do
  for which in expected actual; do
    # shellcheck disable=SC2086 # the command's words
    stream "$which" "$traffic" '"END"' $args
  done
  checks=$((checks + 1))
  for w in out err status; do
    cmp -s "$work/expected.$w" "$work/actual.$w" || {
      fail "$args: $w differs (- redis-cli, + uredis-cli)"
      diff -u "$work/expected.$w" "$work/actual.$w" | head -n 20
    }
  done
  checks=$((checks + 1))
  grep -q '"hello over tls"' "$work/actual.out" || fail "$args: no message in '$(cat "$work/actual.out")'"
done

stream actual 'SET monitored "over tls"' '"monitored"' MONITOR
checks=$((checks + 1))
grep -qE '^[0-9]+\.[0-9]{6} \[0 127\.0\.0\.1:[0-9]+\] "SET" "monitored" "over tls"$' \
  "$work/actual.out" && [ "$(head -n 1 "$work/actual.out")" = OK ] ||
  fail "MONITOR: '$(cat "$work/actual.out")'"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
