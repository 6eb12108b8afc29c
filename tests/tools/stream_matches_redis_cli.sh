#!/usr/bin/env bash
# SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR: uredis-cli next to redis-cli --no-raw, each
# subscribed in turn to the same real redis-server and fed the same traffic (messages with
# spaces, quotes, binary bytes, 64 KiB payloads, a thousand in a burst; commands in db 0 and 2
# and from a script for MONITOR). Until the stream ends, their stdout, stderr and exit status
# must be identical, byte for byte, in RESP2 and RESP3 (-3), from the command line and from
# stdin. MONITOR's lines carry a time and a client port that differ from run to run: both are
# replaced by placeholders in both outputs before comparing, nothing else.
#
# The stream ends three ways: the connection killed (CLIENT KILL: "Error: Server closed the
# connection", status 1), SIGINT (status 130), or an error reply (the next command runs).
#
#   stream_matches_redis_cli.sh UREDIS_CLI
set -u

uredis_cli=$1
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
require_redis_cli
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT

start_redis main
port=$main_port
checks=0
failures=0
fail() {
  echo "FAIL $1"
  failures=$((failures + 1))
}
cli() { redis-cli -p "$port" "$@"; }

# The traffic, as redis-cli input lines.
big=$(head -c 65536 /dev/zero | tr '\0' 'x')
{
  echo 'PUBLISH news "hello world"'
  echo 'PUBLISH news "quotes \" and \\ backslash"'
  echo 'PUBLISH news "bytes \x00\x01\xff\r\n end"'
  echo 'PUBLISH news ""'
  echo "PUBLISH news $big"
  echo 'PUBLISH other "for patterns"'
  echo 'SPUBLISH news "sharded"'
  echo 'SPUBLISH other "sharded other"'
  for i in $(seq 1000); do echo "PUBLISH news burst-$i"; done
  echo 'SET k "v w"'
  echo 'GET k'
  echo 'EVAL "return redis.call(\"GET\", KEYS[1])" 1 k'
  echo 'SELECT 2'
  echo 'SET in2 "\x00z"'
  echo 'SELECT 0'
  # The end marker every case receives: the run waits for it before ending the stream.
  echo 'PUBLISH news END'
  echo 'SPUBLISH news END'
} > "$work/traffic"

# The streaming connection: a client with flag P (subscribed) or O (MONITOR). A command that
# failed (SUBSCRIBE with no channel) leaves neither flag, even while it is still listed.
streaming_clients() { cli CLIENT LIST | grep -E ' flags=[A-Za-z]*[PO]' || true; }
# The tool's stream is up once the server lists it that way.
wait_streaming() {
  local i
  for i in $(seq 250); do
    [ -n "$(streaming_clients)" ] && return 0
    sleep 0.02
  done
  return 1
}
wait_gone() {
  local i
  for i in $(seq 250); do
    [ -z "$(streaming_clients)" ] && return 0
    sleep 0.02
  done
}

# run WHICH END INPUT ARGS...: starts redis-cli --no-raw (WHICH=expected) or uredis-cli
# (actual) with ARGS and INPUT on stdin, sends the traffic, then ends the stream: END is kill
# (CLIENT KILL of the streaming connection) or int (SIGINT to the tool).
run() {
  local which=$1 end=$2 input=$3
  shift 3
  local tool=("$uredis_cli") i
  [ "$which" = expected ] && tool=(redis-cli --no-raw)
  # A background job ignores SIGINT unless told otherwise (no job control in a script).
  env --default-signal=INT "${tool[@]}" -p "$port" "$@" < "$input" > "$work/$which.out" \
    2> "$work/$which.err" &
  local pid=$!
  wait_streaming || fail "$which $*: the stream did not start"
  cli < "$work/traffic" > /dev/null
  for i in $(seq 500); do
    grep -q '"END"' "$work/$which.out" && break
    sleep 0.02
  done
  grep -q '"END"' "$work/$which.out" || fail "$which $*: the end marker never came"
  if [ "$end" = kill ]; then
    local id
    id=$(streaming_clients | sed 's/^id=\([0-9]*\) .*/\1/')
    cli CLIENT KILL ID "$id" > /dev/null
  else
    kill -INT "$pid"
  fi
  for i in $(seq 100); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.05
  done
  kill -0 "$pid" 2> /dev/null && { fail "$which $*: still running"; kill "$pid"; }
  wait "$pid"
  echo $? > "$work/$which.status"
  wait_gone
  # MONITOR: "1700000000.123456 [0 127.0.0.1:41234]" -> "TIME [0 ADDRESS]"; lua keeps its name.
  sed -E -i 's/^[0-9]+\.[0-9]{6} \[([0-9]+) (127\.0\.0\.1:[0-9]+|lua)\]/TIME [\1 \2]/;
             s/^TIME \[([0-9]+) 127\.0\.0\.1:[0-9]+\]/TIME [\1 ADDRESS]/' "$work/$which.out"
}

# compare NAME END INPUT ARGS...
compare() {
  local name=$1 end=$2 input=$3
  shift 3
  checks=$((checks + 1))
  cli FLUSHALL > /dev/null
  run expected "$end" "$input" "$@"
  cli FLUSHALL > /dev/null
  run actual "$end" "$input" "$@"
  local what
  for what in status out err; do
    if ! cmp -s "$work/expected.$what" "$work/actual.$what"; then
      fail "$name: $what differs (- redis-cli, + uredis-cli)"
      diff -u "$work/expected.$what" "$work/actual.$what" | cut -c 1-160 | head -n 20
      return
    fi
  done
  # The comparison means something only if messages were printed.
  [ "$(wc -l < "$work/actual.out")" -gt 3 ] || fail "$name: only $(wc -l < "$work/actual.out") lines"
}

for proto in '' -3; do
  p=${proto:+ $proto}
  compare "SUBSCRIBE$p" kill /dev/null $proto SUBSCRIBE news other
  grep -q '^3) "burst-1000"$' "$work/actual.out" || fail "SUBSCRIBE$p: the burst's last message is missing"
  compare "PSUBSCRIBE$p" kill /dev/null $proto PSUBSCRIBE 'n*' 'o?her' news
  compare "SSUBSCRIBE$p" kill /dev/null $proto SSUBSCRIBE news
  compare "MONITOR$p" kill /dev/null $proto MONITOR
  compare "SUBSCRIBE$p, SIGINT" int /dev/null $proto SUBSCRIBE news
  compare "MONITOR$p, SIGINT" int /dev/null $proto MONITOR
done
compare "SUBSCRIBE over a Unix socket" kill /dev/null -s "$main_socket" SUBSCRIBE news

# From stdin: the replies before come first, an error reply ends a stream and the next line
# runs, -n applies to the stream's connection too (MONITOR shows db 2).
printf 'PING\nSUBSCRIBE\nECHO next\nSUBSCRIBE news\nPING\n' > "$work/lines"
compare "stdin SUBSCRIBE" kill "$work/lines"
compare "stdin SUBSCRIBE -3" kill "$work/lines" -3
printf 'SET a 1\nMONITOR x\nMONITOR\nGET a\n' > "$work/monitor-lines"
compare "stdin MONITOR -n 2" kill "$work/monitor-lines" -n 2

echo "$checks checks, $failures failed"
[ $failures -eq 0 ]
