#!/usr/bin/env bash
# uredis-cli's raw-socket modes through Sentinel go where its connection went: --pipe with
# -u redis+sentinel://.../mymaster writes on the primary, and with sentinel_role=replica on the
# replica the Sentinel named, which refuses the write (READONLY) as redis-cli's user would see.
#
#   sentinel_raw_modes.sh UREDIS_CLI
set -u

uredis_cli=$1
command -v redis-cli > /dev/null || { echo "FAIL: redis-cli is not on PATH" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT

start_redis primary
start_redis replica --replicaof 127.0.0.1 "$primary_port"

# A Sentinel needs a config file of its own, which start_redis does not write.
for attempt in $(seq 20); do
  sentinel_port=$((20000 + RANDOM % 40000))
  cat > "$work/sentinel.conf" << EOF
port $sentinel_port
bind 127.0.0.1
dir $work
sentinel monitor mymaster 127.0.0.1 $primary_port 1
EOF
  redis-server "$work/sentinel.conf" --sentinel --daemonize no --logfile "$work/sentinel.log" &
  pid=$!
  sleep 0.5
  if kill -0 "$pid" 2> /dev/null; then
    redis_pids+=("$pid")
    break
  fi
  [ "$attempt" -lt 20 ] || { echo "FAIL: could not start redis-sentinel" >&2; exit 1; }
done

# The Sentinel learns of the replica from the primary's INFO.
for i in $(seq 150); do
  redis-cli -p "$sentinel_port" sentinel replicas mymaster 2> /dev/null | grep -qx "$replica_port" &&
    break
  [ "$i" -lt 150 ] || { echo "FAIL: the Sentinel never saw the replica" >&2; exit 1; }
  sleep 0.1
done

failures=0
url="redis+sentinel://127.0.0.1:$sentinel_port/mymaster"

# pipe NAME QUERY ERRORS: `SET through NAME` piped through Sentinel with ?QUERY; the tool must
# count ERRORS errors, and the primary must hold `through` = primary afterwards either way.
pipe() {
  local name=$1 query=$2 errors=$3 out
  out=$(printf 'SET through %s\r\n' "$name" | "$uredis_cli" -u "$url$query" --pipe 2>&1)
  if ! grep -q "errors: $errors, replies: 1" <<< "$out"; then
    echo "FAIL $name: expected $errors errors: $out"
    failures=$((failures + 1))
  fi
  if [ "$(redis-cli -p "$primary_port" GET through)" != primary ]; then
    echo "FAIL $name: the primary holds the wrong value (the write went to the wrong server)"
    failures=$((failures + 1))
  fi
}

pipe primary "" 0                        # written on the primary
pipe replica "?sentinel_role=replica" 1  # refused READONLY by the replica, not written there

[ "$failures" -eq 0 ] || exit 1
echo "ok: --pipe through Sentinel goes to the primary, or to the replica when asked"
