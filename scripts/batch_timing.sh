#!/usr/bin/env bash
# 1,000 SETs three ways on one private redis-server, timed by hand: as one uredis batch
# (blocking_client::exec(batch), and co_await client.exec(batch)), as 1,000 blocking set() calls
# one by one, and as one redis-py pipeline (transaction=False: plain pipelining, as the batch
# does; Debian's python3-redis, redis-py 4.3). Prints the median and minimum of each over ROUNDS.
#
#   scripts/batch_timing.sh [BATCH_TIMING] [N] [ROUNDS]
#   (defaults: build-release/bench/batch_timing, 1000 SETs, 50 rounds)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
program=${1:-$root/build-release/bench/batch_timing}
n=${2:-1000}
rounds=${3:-50}
[ -x "$program" ] || { echo "no $program (ninja -C build-release bench/batch_timing)" >&2; exit 1; }
/usr/bin/python3 -c 'import redis' 2> /dev/null ||
  { echo "redis-py is missing: apt-get install python3-redis" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=../tests/tools/redis_server.sh
source "$root/tests/tools/redis_server.sh"
trap 'stop_all_redis; rm -rf "$work"' EXIT
start_redis bench

echo "$n SETs, $rounds rounds; redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
"$program" "$bench_port" "$n" "$rounds"
/usr/bin/python3 - "$bench_port" "$n" "$rounds" <<'PY'
import sys, time
import redis
port, n, rounds = (int(a) for a in sys.argv[1:])
r = redis.Redis(port=port)
keys = ["key:%d" % i for i in range(n)]
values = ["value:%d" % i for i in range(n)]
def once():
    p = r.pipeline(transaction=False)
    for k, v in zip(keys, values):
        p.set(k, v)
    assert all(p.execute())
once()
ms = []
for _ in range(rounds):
    start = time.perf_counter()
    once()
    ms.append((time.perf_counter() - start) * 1000)
ms.sort()
print("%-44s %9.3f %9.3f" % ("redis-py %s pipeline(transaction=False)" % redis.__version__,
                             ms[len(ms) // 2], ms[0]))
PY
