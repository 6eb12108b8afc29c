#!/usr/bin/env bash
# uredis-cli --pipe against redis-cli --pipe on the same input, in the same run: N SETs in RESP
# sent by each in turn to one private redis-server (flushed before every run), for a few rounds,
# alternating which tool goes first. The server runs on CPU 0 and the tool on CPU 1 when there
# are two (taskset). For each run: wall time and the tool's CPU (user + sys, from wait4's
# rusage). Prints every run, then the medians and the ratios uredis-cli/redis-cli.
#
#   scripts/pipe_bench.sh [UREDIS_CLI] [ROUNDS] [SETS]
#   (defaults: build-release/tools/uredis-cli/uredis-cli, 5 rounds, 1000000 SETs)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
uredis_cli=${1:-$root/build-release/tools/uredis-cli/uredis-cli}
rounds=${2:-5}
n=${3:-1000000}
[ -x "$uredis_cli" ] || { echo "no $uredis_cli (ninja -C build-release tools/uredis-cli/uredis-cli)" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=../tests/tools/redis_server.sh
source "$root/tests/tools/redis_server.sh"
trap 'stop_all_redis; rm -rf "$work"' EXIT
start_redis bench
pin=()
if command -v taskset > /dev/null && [ "$(nproc)" -ge 2 ]; then
  taskset -p -c 0 "$bench_pid" > /dev/null
  pin=(taskset -c 1)
fi

# timed OUT TIME COMMAND...: runs COMMAND with stdin as given, stdout and stderr to OUT, and
# writes "wall user sys" (seconds) to TIME.
timed_py='
import os, subprocess, sys, time
out, times, command = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as f:
    start = time.monotonic()
    p = subprocess.Popen(command, stdout=f, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
with open(times, "w") as f:
    f.write("%.4f %.4f %.4f\n" % (wall, usage.ru_utime, usage.ru_stime))
sys.exit(os.waitstatus_to_exitcode(status))
'
timed() { python3 -c "$timed_py" "$@"; }

awk -v n="$n" 'BEGIN {
  for (i = 0; i < n; i++) {
    k = "key:" i; v = "value:" i
    printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
  }
}' > "$work/sets"
echo "input: $n SETs, $(wc -c < "$work/sets") bytes; $(redis-cli --version); redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"

# run NAME COMMAND...: one timed run; appends "wall cpu" to $work/NAME.
run() {
  local name=$1
  shift
  redis-cli -p "$bench_port" FLUSHALL > /dev/null
  timed "$work/out" "$work/time" "${pin[@]}" "$@" -p "$bench_port" --pipe < "$work/sets"
  grep -q "errors: 0, replies: $n" "$work/out" || { echo "$name failed: $(cat "$work/out")" >&2; exit 1; }
  [ "$(redis-cli -p "$bench_port" DBSIZE)" = "$n" ] || { echo "$name: DBSIZE is not $n" >&2; exit 1; }
  read -r wall user sys < "$work/time"
  local cpu
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.4f", u + s }')
  echo "$wall $cpu" >> "$work/$name"
  printf '  %-10s wall %6ss  cpu %6ss (user %s, sys %s)\n' "$name" "$wall" "$cpu" "$user" "$sys"
}

for r in $(seq "$rounds"); do
  echo "round $r"
  if [ $((r % 2)) -eq 1 ]; then
    run redis-cli redis-cli
    run uredis-cli "$uredis_cli"
  else
    run uredis-cli "$uredis_cli"
    run redis-cli redis-cli
  fi
done

median() {  # median FILE COLUMN
  cut -d' ' -f"$2" "$1" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rw=$(median "$work/redis-cli" 1)
rc=$(median "$work/redis-cli" 2)
uw=$(median "$work/uredis-cli" 1)
uc=$(median "$work/uredis-cli" 2)
echo "medians over $rounds rounds:"
echo "  redis-cli   wall ${rw}s  cpu ${rc}s"
echo "  uredis-cli  wall ${uw}s  cpu ${uc}s"
awk -v rw="$rw" -v rc="$rc" -v uw="$uw" -v uc="$uc" 'BEGIN {
  cpu = (rc > 0) ? sprintf("%.2f", uc / rc) : "n/a"
  printf "  ratio uredis-cli/redis-cli: wall %.2f, cpu %s\n", uw / rw, cpu
}'
