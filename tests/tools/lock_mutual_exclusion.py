#!/usr/bin/env python3
"""uredis-lock excludes: six uredis-lock processes at once (and two redis-py Lock holders on the
same name, when /usr/bin/python3 has redis-py) take turns on one lock, each holder appending
"token start end" to a shared file while it holds it. No two holding intervals may overlap, and
the fencing tokens must strictly increase in holding order (redis-py's holders have none).

    lock_mutual_exclusion.py UREDIS_LOCK
"""

import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

WORKERS = 6
ROUNDS = 5  # acquisitions per worker
PY_WORKERS = 2
PY_ROUNDS = 4
NAME = "exclusive"

# Runs while holding: a start stamp, a short pause (so overlaps would show), an end stamp, then
# the record, all inside the lock.
RECORD = ('s=$(date +%s%N); sleep 0.005; e=$(date +%s%N); '
          'echo "$UREDIS_LOCK_TOKEN $s $e" >> "$1"')

# A redis-py Lock holder: Lock(name) writes the key `name` holding its token with PX, as
# uredis-lock does, so the two exclude each other.
PY_HOLDER = r'''
import sys, time, redis
port, name, path, rounds = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
r = redis.Redis(host="127.0.0.1", port=port)
for _ in range(rounds):
    with r.lock(name, timeout=5, sleep=0.01, blocking_timeout=30):
        s = time.time_ns()
        time.sleep(0.005)
        e = time.time_ns()
        with open(path, "a") as f:
            f.write("py %d %d\n" % (s, e))
'''


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def start_redis(work):
    for _ in range(20):
        port = random.randint(20000, 59999)
        log = os.path.join(work, "redis.log")
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", work, "--logfile", log])
        for _ in range(200):
            if proc.poll() is not None:
                break  # the port was taken
            if os.path.exists(log) and "Ready to accept connections" in open(log).read():
                return proc, port
            time.sleep(0.05)
        proc.kill()
        proc.wait()
    fail("could not start redis-server")


def has_redis_py():
    return subprocess.run(["/usr/bin/python3", "-c", "import redis"], capture_output=True,
                          check=False).returncode == 0


def main():
    uredis_lock = sys.argv[1]
    if not shutil.which("redis-server"):
        fail("redis-server must be on PATH")
    work = tempfile.mkdtemp()
    server, port = start_redis(work)
    record = os.path.join(work, "intervals")
    failures = []
    try:
        def worker(i):
            for _ in range(ROUNDS):
                done = subprocess.run(
                    [uredis_lock, "-p", str(port), "--ttl", "2000", NAME, "--",
                     "sh", "-c", RECORD, "sh", record],
                    capture_output=True, text=True, timeout=60, check=False)
                if done.returncode != 0:
                    failures.append("worker %d: exit %d: %s" % (i, done.returncode, done.stderr))

        def py_worker(i):
            done = subprocess.run(
                ["/usr/bin/python3", "-c", PY_HOLDER, str(port), NAME, record, str(PY_ROUNDS)],
                capture_output=True, text=True, timeout=60, check=False)
            if done.returncode != 0:
                failures.append("redis-py %d: exit %d: %s" % (i, done.returncode, done.stderr))

        use_py = has_redis_py()
        if not use_py:
            print("note: /usr/bin/python3 has no redis module: uredis-lock competitors only")
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
        if use_py:
            threads += [threading.Thread(target=py_worker, args=(i,)) for i in range(PY_WORKERS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        if failures:
            fail("; ".join(failures))

        rows = [line.split() for line in open(record).read().splitlines()]
        expected = WORKERS * ROUNDS + (PY_WORKERS * PY_ROUNDS if use_py else 0)
        if len(rows) != expected:
            fail("%d intervals recorded, expected %d" % (len(rows), expected))
        intervals = sorted((int(s), int(e), token) for token, s, e in rows)
        last_token = 0
        for (s1, e1, t1), (s2, e2, t2) in zip(intervals, intervals[1:]):
            if s2 < e1:
                fail("holders overlap: %s [%d, %d] and %s [%d, %d]" % (t1, s1, e1, t2, s2, e2))
        for _, _, token in intervals:
            if token == "py":
                continue
            if int(token) <= last_token:
                fail("fencing token %s after %d: not increasing in holding order"
                     % (token, last_token))
            last_token = int(token)
        print("ok: %d intervals (%s), none overlapping, tokens increasing, in %.1f s"
              % (len(rows), "with redis-py" if use_py else "uredis-lock only", elapsed))
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
