#!/usr/bin/env bash
# uredis-cli and uredis-bench do not retry their first connect (session_config::
# retry_first_connect = false), as redis-cli and redis-benchmark do not: a server that is not
# there fails the run at once, with a non-zero exit status and a message naming the address.
# "At once" is checked by counting connections, not by a clock: a server that accepts each
# connection and closes it sees each of the tool's connections once (with the retry policy
# applied to the first connect, it saw 11 per connection, over ~4 s).
#
#   first_connect.sh UREDIS_CLI UREDIS_BENCH
set -euo pipefail
cli=${1:?usage: first_connect.sh path/to/uredis-cli path/to/uredis-bench}
bench=${2:?usage: first_connect.sh path/to/uredis-cli path/to/uredis-bench}
tmp=$(mktemp -d)
server_pid=
trap '[ -z "$server_pid" ] || kill "$server_pid" 2> /dev/null; rm -rf "$tmp"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# A loopback port that was free a moment ago (bound to port 0, then released).
dead_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# run NAME EXPECTED_STATUS STDERR_GLOB COMMAND...: the command's exit status and stderr.
run() {
  local name=$1 expected=$2 glob=$3 status=0
  shift 3
  timeout 60 "$@" < /dev/null > "$tmp/out" 2> "$tmp/err" || status=$?
  [ "$status" -eq "$expected" ] || fail "$name: exit status $status, expected $expected; stderr: $(head -c 300 "$tmp/err")"
  # shellcheck disable=SC2053
  [[ $(cat "$tmp/err") == $glob ]] || fail "$name: stderr '$(head -c 300 "$tmp/err")' does not match '$glob'"
  [ ! -s "$tmp/out" ] || fail "$name: printed '$(head -c 300 "$tmp/out")' on stdout"
}

# --- Nothing listens ---
run "uredis-cli, dead port" 1 "Could not connect to Redis at 127.0.0.1:$dead_port: Connection refused" \
  "$cli" -p "$dead_port" PING
run "uredis-bench, dead port" 1 "uredis-bench: PING_INLINE: cannot connect to 127.0.0.1:$dead_port: connection refused" \
  "$bench" -p "$dead_port" -q -n 10 -t ping_inline

# --- A server that accepts and closes every connection ---
# It writes its port to $tmp/port, then one line to $tmp/accepts per connection, before closing
# it: a tool that has seen the close has had its connection counted.
python3 - "$tmp" << 'PY' &
import os, socket, sys
tmp = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(128)
with open(os.path.join(tmp, "port.tmp"), "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(os.path.join(tmp, "port.tmp"), os.path.join(tmp, "port"))
with open(os.path.join(tmp, "accepts"), "a") as log:
    while True:
        c, _ = s.accept()
        log.write("accepted\n")
        log.flush()
        c.close()
PY
server_pid=$!
for _ in $(seq 200); do
  [ -f "$tmp/port" ] && break
  sleep 0.05
done
[ -f "$tmp/port" ] || fail "the accept-and-close server did not start"
port=$(cat "$tmp/port")

# count_connections NAME INPUT EXPECTED COMMAND...: the command, reading INPUT, fails (status
# 1), having connected EXPECTED times.
count_connections() {
  local name=$1 input=$2 expected=$3 status=0 seen
  shift 3
  : > "$tmp/accepts"
  timeout 60 "$@" < "$input" > "$tmp/out" 2> "$tmp/err" || status=$?
  [ "$status" -eq 1 ] || fail "$name: exit status $status, expected 1; stderr: $(head -c 300 "$tmp/err")"
  grep -q "127.0.0.1:$port" "$tmp/err" || fail "$name: stderr '$(head -c 300 "$tmp/err")' does not name the address"
  seen=$(wc -l < "$tmp/accepts")
  [ "$seen" -eq "$expected" ] || fail "$name: $seen connections, expected $expected (the first connect was retried)"
}

printf 'PING\nPING\n' > "$tmp/two"
count_connections "uredis-cli, a command" /dev/null 1 "$cli" -p "$port" PING
count_connections "uredis-cli, stdin" "$tmp/two" 1 "$cli" -p "$port"
count_connections "uredis-bench, -c 3" /dev/null 3 "$bench" -p "$port" -q -n 10 -c 3 -t ping_inline

echo "ok"
