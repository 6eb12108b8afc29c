# A real redis-server for the shell tests, sourced by them (bash).
#
#   source redis_server.sh
#   work=$(mktemp -d)
#   start_redis main                       # sets main_port, main_socket; logs to $work/main.log
#   start_redis secure --requirepass pw    # extra arguments go to redis-server
#   start_redis tls --tls-only --tls-cert-file ...   # TLS only, on ${name}_port (plaintext off)
#   ...
#   stop_all_redis                         # kills every server started (put it in the EXIT trap)
#
# Each server runs in the foreground of a background job (no daemonizing, so nothing survives
# the test), without persistence, in $work, on a random loopback port that was free: a port
# already taken makes the server exit at once, and another port is tried.

redis_pids=()

# A command that fails under `set -e` ends a test silently when its output goes to /dev/null.
# Call first in the EXIT trap, with $? and $BASH_COMMAND (in a trap: the command that was
# running), to say which one and show the end of each server's log:
#   trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT
report_exit() {
  local rc=$1 command=$2 log
  [ "$rc" -eq 0 ] && return 0
  echo "exit status $rc, last command: $command" >&2
  for log in "$work"/*.log; do
    if [ -f "$log" ]; then
      echo "--- tail of $log" >&2
      tail -n 5 "$log" >&2
    fi
  done
}

# The tests that compare with redis-cli need it: without it they fail, saying what to install
# (a missing tool is never a pass), and they name the version they compare with.
require_redis_cli() {
  if ! command -v redis-cli > /dev/null; then
    echo "FAIL: redis-cli is not on PATH (apt-get install redis-tools)" >&2
    exit 1
  fi
  echo "using $(redis-cli --version)"
}

# start_redis NAME [redis-server arguments...]
start_redis() {
  local name=$1
  shift
  local tls_only=false
  if [ "${1:-}" = --tls-only ]; then
    tls_only=true
    shift
  fi
  if ! command -v redis-server > /dev/null; then
    echo "FAIL: redis-server is not on PATH" >&2
    exit 1
  fi
  local attempt port pid
  for attempt in $(seq 20); do
    port=$((20000 + RANDOM % 40000))
    local listen=(--port "$port")
    if $tls_only; then listen=(--port 0 --tls-port "$port"); fi
    redis-server "${listen[@]}" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
      --dir "$work" --unixsocket "$work/$name.sock" --unixsocketperm 700 \
      --logfile "$work/$name.log" "$@" &
    pid=$!
    local i
    for i in $(seq 200); do
      if ! kill -0 "$pid" 2> /dev/null; then break; fi  # exited: the port was taken
      if grep -q 'Ready to accept connections' "$work/$name.log" 2> /dev/null; then
        redis_pids+=("$pid")
        printf -v "${name}_port" '%s' "$port"
        printf -v "${name}_socket" '%s' "$work/$name.sock"
        printf -v "${name}_pid" '%s' "$pid"
        return 0
      fi
      sleep 0.05
    done
    # Under set -e a failing kill or wait would end the caller: the server has usually exited
    # already (the port was taken), and wait returns its failure.
    kill "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    : > "$work/$name.log"
    [ "$attempt" -lt 20 ] || break
  done
  echo "FAIL: could not start redis-server '$name'" >&2
  cat "$work/$name.log" >&2
  exit 1
}

stop_all_redis() {
  local pid
  for pid in "${redis_pids[@]}"; do
    kill "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
  done
  redis_pids=()
}

# A loopback port nothing listens on (a server started and stopped again).
dead_port() {
  start_redis dead
  local port=$dead_port
  kill "$dead_pid"
  wait "$dead_pid" 2> /dev/null
  echo "$port"
}
