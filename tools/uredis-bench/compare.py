#!/usr/bin/env python3
"""uredis-bench next to redis-benchmark: the same flags, the same private redis-server.

    python3 tools/uredis-bench/compare.py BUILD/tools/uredis-bench/uredis-bench \\
        [--rounds 3] [--server-cpu 0] [--client-cpu 1] -- -c 50 -P 1 -t get -n 200000

Starts redis-server (from PATH, no persistence) pinned to --server-cpu, then runs, --rounds
times and alternating, `redis-benchmark -p PORT -q FLAGS` and `uredis-bench -p PORT -q FLAGS`,
each pinned to --client-cpu with taskset. For each run it reads the client's CPU time from the
kernel (wait4's rusage of the child: user + system, microsecond resolution, the whole process
including its start-up) and the throughput each tool prints, and reports per test the median
requests per second and client CPU microseconds per request, and their ratios (of the medians,
and the median of each round's own ratio, steadier on a host whose speed drifts). uredis-bench's
own figure (its measured phase only, no start-up, connection set-up or warm-up) is shown too.

Give one test per invocation (-t get): CPU time is per process, so it is divided by -n.

--floor BUILD/bench/pipeline_floor (with -c 1 -P 256 -t get only): runs that program as a third
client in each round, the least any client can do for that test (bench/pipeline_floor.cpp), and
reports each tool's CPU per request beside it.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(cpu, workdir):
    port = free_port()
    proc = subprocess.Popen(
        ["taskset", "-c", str(cpu), "redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", workdir, "--logfile",
         os.path.join(workdir, "redis.log")])
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start")


def run(cmd):
    """Runs cmd; returns (stdout, (user, system) CPU seconds of the child)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{cmd[3]} failed ({proc.returncode}): {out}")
    return out, (usage.ru_utime, usage.ru_stime)


def throughput(out):
    """The one test's 'requests per second' figure (redis-benchmark rewrites its line with \\r)."""
    found = re.findall(r"([0-9.]+) requests per second", out.replace("\r", "\n"))
    if not found:
        sys.exit(f"no throughput in: {out!r}")
    # CPU time is per process: with several tests (-t ping is PING_INLINE and PING_MBULK) it
    # would not be per request of any of them.
    if len(found) > 1:
        sys.exit(f"{len(found)} tests ran; give -t one test (e.g. ping_mbulk, not ping)")
    return float(found[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("uredis_bench")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--floor", help="bench/pipeline_floor, run beside them (-c 1 -P 256 -t get)")
    argv = sys.argv[1:]
    if "--" not in argv:
        p.error("give the benchmark flags after --")
    cut = argv.index("--")
    a = p.parse_args(argv[:cut])
    flags = argv[cut + 1:]
    if "-n" not in flags:
        sys.exit("give -n: CPU per request is the process's CPU time divided by it")
    n = int(flags[flags.index("-n") + 1])
    for tool in ("redis-server", "redis-benchmark", "taskset"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not on PATH")

    workdir = tempfile.mkdtemp(prefix="uredis-compare.")
    server, port = start_server(a.server_cpu, workdir)
    pin = ["taskset", "-c", str(a.client_cpu)]
    results = {"redis-benchmark": [], "uredis-bench": []}
    if a.floor:
        def flag(name):
            return flags[flags.index(name) + 1] if name in flags[:-1] else None
        if (flag("-c"), flag("-P"), flag("-t")) != ("1", "256", "get"):
            sys.exit("--floor measures -c 1 -P 256 -t get only")
        results["floor"] = []
    own_cpu = []
    try:
        for i in range(a.rounds):
            # Odd rounds swap the two tools, so a drift in the host's speed favours neither.
            for tool in ("redis-benchmark", "uredis-bench")[::-1 if i % 2 else 1]:
                binary = "redis-benchmark" if tool == "redis-benchmark" else a.uredis_bench
                out, (user, system) = run(pin + [binary, "-p", str(port), "-q"] + flags)
                results[tool].append(
                    (throughput(out), (user + system) / n * 1e6, user / n * 1e6,
                     system / n * 1e6))
                if tool == "uredis-bench":
                    own_cpu.append(float(re.search(r"cpu=([0-9.]+) ns/op", out).group(1)) / 1000)
            if a.floor:
                out, (user, system) = run(pin + [a.floor, str(port), str(n)])
                results["floor"].append(
                    (throughput(out), (user + system) / n * 1e6, user / n * 1e6, system / n * 1e6))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"flags: {' '.join(flags)}  ({a.rounds} rounds, medians; server on CPU {a.server_cpu}, "
          f"client on CPU {a.client_cpu})")
    med = {}
    for tool, runs in results.items():
        rps = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        user = statistics.median(r[2] for r in runs)
        system = statistics.median(r[3] for r in runs)
        med[tool] = (rps, cpu)
        print(f"  {tool:<16} {rps:12.0f} req/s   {cpu:8.3f} us CPU/req (whole process: user "
              f"{user:.3f} + sys {system:.3f})   runs: "
              f"{', '.join(f'{r[0]:.0f}/{r[1]:.3f}' for r in runs)}")
    print(f"  {'':<16} {'':>12}         {statistics.median(own_cpu):8.3f} us CPU/req "
          f"(uredis-bench's measured phase)")
    (rb_rps, rb_cpu), (ub_rps, ub_cpu) = med["redis-benchmark"], med["uredis-bench"]
    print(f"  ratio uredis/redis-benchmark: throughput {ub_rps / rb_rps:.2f}x, "
          f"client CPU per request {ub_cpu / rb_cpu:.2f}x")
    # Each round's two runs ran back to back: the median of their ratios is steadier than the
    # ratio of the medians when the host's speed changes between rounds.
    def paired(i):
        ratios = [u[i] / r[i] for u, r in zip(results["uredis-bench"], results["redis-benchmark"])
                  if r[i] > 0]  # a tiny -n can read as 0 s of user time
        return statistics.median(ratios) if ratios else float("nan")
    print(f"  paired (median of each round's ratio): throughput {paired(0):.2f}x, "
          f"CPU per request {paired(1):.2f}x, user {paired(2):.2f}x, sys {paired(3):.2f}x")
    if a.floor:
        def part(tool, i):
            return statistics.median(r[i] for r in results[tool])
        for i, name in ((2, "user"), (3, "sys")):
            print(f"  ratio uredis/redis-benchmark, {name} CPU per request: "
                  f"{part('uredis-bench', i) / part('redis-benchmark', i):.2f}x")
        print(f"  floor / redis-benchmark, whole-process CPU per request: "
              f"{med['floor'][1] / rb_cpu:.2f}x")


if __name__ == "__main__":
    main()
