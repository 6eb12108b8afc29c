#!/usr/bin/env bash
# distributed_lock's benchmarks beside their peers, on one private redis-server, in one run:
#   - uncontended acquire(no_wait) + release on one connection, against the bare pair it
#     reduces to (SET name token NX PX ttl, then DEL name) on the same connection, with heap
#     allocations per cycle (bench/lock_timing.cpp); redis-py's Lock acquire(blocking=False) +
#     release beside them, for reference;
#   - a handoff, release() to the waiter's acquire: uredis with lock::wakeups (and without, on
#     its retry timer alone) against redis-py's Lock with its default polling (sleep=0.1), a
#     holder thread and a waiter thread on two connections, the release falling at a random
#     moment between two polls.
# Needs redis-server on PATH and Debian's python3-redis (redis-py 4.3) for /usr/bin/python3.
#
#   scripts/lock_bench.sh [LOCK_TIMING] [CYCLES] [HANDOFFS] [PY_HANDOFFS]
#   (defaults: build-release/bench/lock_timing, 20000 cycles, 2000 handoffs, 100 for redis-py
#   and for uredis without wakeups)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
program=${1:-$root/build-release/bench/lock_timing}
cycles=${2:-20000}
handoffs=${3:-2000}
py_handoffs=${4:-100}
[ -x "$program" ] || { echo "no $program (ninja -C build-release bench/lock_timing)" >&2; exit 1; }
/usr/bin/python3 -c 'import redis' 2> /dev/null ||
  { echo "redis-py is missing: apt-get install python3-redis" >&2; exit 1; }

work=$(mktemp -d)
# shellcheck source=../tests/tools/redis_server.sh
source "$root/tests/tools/redis_server.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT
start_redis bench

echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on 127.0.0.1:$bench_port;" \
  "$cycles cycles, $handoffs handoffs ($py_handoffs for redis-py and for polling)"
"$program" "$bench_port" "$cycles" "$handoffs" "$py_handoffs" "$work/uredis.txt"
/usr/bin/python3 - "$bench_port" "$cycles" "$py_handoffs" "$work/uredis.txt" <<'PY'
import random, statistics, sys, threading, time
import redis

port, cycles, rounds = (int(a) for a in sys.argv[1:4])
uredis = dict((k, float(v)) for k, v in (l.split() for l in open(sys.argv[4])))
TTL = 10  # seconds, as lock_timing's 10,000 ms


def summary(us):
    us = sorted(us)
    at = lambda q: us[int(q * (len(us) - 1) + 0.5)]
    return len(us), at(0.50), at(0.99), statistics.fmean(us), us[-1]


def row(what, s):
    print("%-52s %7d %9.1f %9.1f %9.1f %9.1f" % ((what,) + s))


# Uncontended: acquire(blocking=False) + release on one connection, as lock_timing's cycle.
r = redis.Redis(port=port)
lock = r.lock("bench:lock:py-uncontended", timeout=TTL)
def cycle():
    start = time.perf_counter()
    assert lock.acquire(blocking=False)
    lock.release()
    return (time.perf_counter() - start) * 1e6
py_cycles = min(cycles, 5000)
for _ in range(500):
    cycle()
uncontended = summary([cycle() for _ in range(py_cycles)])
row("redis-py %s Lock acquire(blocking=False)+release" % redis.__version__, uncontended)

# Handoff: a holder thread and a waiter thread, each with its own connection.
name = "bench:lock:py-handoff"
holder = redis.Redis(port=port).lock(name, timeout=TTL)
waiter = redis.Redis(port=port).lock(name, timeout=TTL)  # sleep=0.1, the default
started, finished = threading.Event(), threading.Event()
acquired_at = [0.0]
def wait_loop():
    for _ in range(rounds):
        started.wait()
        started.clear()
        waiter.acquire()  # blocking, polling every `sleep`
        acquired_at[0] = time.perf_counter()
        waiter.release()
        finished.set()
thread = threading.Thread(target=wait_loop)
thread.start()
rng = random.Random(42)
samples = []
for _ in range(rounds):
    assert holder.acquire(blocking=False)
    started.set()
    # The waiter's first try fails within 5 ms; then the release falls anywhere in its
    # 100 ms poll, as it would for a lock held an unknown while.
    time.sleep(0.005 + rng.uniform(0, 0.1))
    released_at = time.perf_counter()
    holder.release()
    finished.wait()
    finished.clear()
    samples.append((acquired_at[0] - released_at) * 1e6)
thread.join()
handoff = summary(samples)
row("redis-py %s Lock, default polling (sleep=0.1)" % redis.__version__, handoff)

print()
print("%-60s %11s %11s %9s" % ("side by side, this run", "uredis", "peer", "ratio"))
def pair(what, ours, peer):
    print("%-60s %11.1f %11.1f %8.3gx" % (what, ours, peer, ours / peer))
for q in ("p50", "p99", "mean"):
    pair("uncontended cycle %s us: lock vs bare SET NX PX + DEL" % q,
         uredis["lock_" + q], uredis["bare_" + q])
for q, i in (("p50", 1), ("p99", 2), ("mean", 3)):
    pair("uncontended cycle %s us: lock vs redis-py Lock" % q, uredis["lock_" + q], uncontended[i])
for q in ("p50", "p99", "mean"):
    pair("handoff %s us: lock + wakeups vs bare PUBLISH->SET NX" % q,
         uredis["handoff_" + q], uredis["bare_handoff_" + q])
for q, i in (("p50", 1), ("p99", 2), ("mean", 3)):
    pair("handoff %s us: lock + wakeups vs redis-py Lock (sleep=0.1)" % q,
         uredis["handoff_" + q], handoff[i])
print("%-60s %11.2f %11s" % ("uncontended lock cycle: heap allocations per cycle",
                             uredis["lock_allocs"], ""))
PY
