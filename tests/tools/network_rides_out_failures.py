#!/usr/bin/env python3
"""uredis-cli riding out connection failures while commands stream in on stdin.

Thousands of `INCR c` lines are piped into uredis-cli, paced so that the stream is still
flowing when the test strikes: it kills the server and restarts it on the same port, or kills
the tool's connection with CLIENT KILL (several times), or keeps the server down for longer
than the retry policy keeps trying. Then:

  - there is exactly one output line per input line: "(integer) N", or one of the tool's own
    error lines ("(error) uredis-cli: not sent (...)", "... may have run ...");
  - the integers agree with the server (the accounting written down in tools/uredis-cli/run.hpp):
    between two printed integers a and b, b = a + 1 + k where k (the increments nobody saw) is at
    most the number of "may have run" lines between them; a server restart starts again from 1
    with no gap, and no "may have run" line after it;
  - the server's counter equals the last integer printed;
  - the exit status is 1 if some command failed, 0 otherwise;
  - and, with MULTI and WATCH open when the connection is killed, what belonged to them is
    refused instead of running on the new connection outside its transaction.

    network_rides_out_failures.py UREDIS_CLI
"""
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

LINES = 20000
CHUNK = 100          # lines written at once
PAUSE = 0.004        # seconds between chunks: the stream lasts about a second
INT = re.compile(rb"^\(integer\) (-?\d+)$")
TOOL_ERROR = rb"(error) uredis-cli: "
MAY_HAVE_RUN = rb"(error) uredis-cli: may have run"
NOT_SENT = rb"(error) uredis-cli: not sent ("

failures = []


def fail(message):
    print("FAIL " + message)
    failures.append(message)


class Server:
    """A redis-server on a loopback port, restartable on the same port."""

    def __init__(self, work, name):
        self.work, self.name, self.proc = work, name, None
        for _ in range(20):
            self.port = random.randint(20000, 60000)
            if self.start():
                return
        sys.exit("FAIL: could not start redis-server")

    def start(self):
        log = os.path.join(self.work, self.name + ".log")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", self.work,
             "--logfile", log])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # the port was taken
            try:
                with open(log, "rb") as f:
                    if b"Ready to accept connections" in f.read():
                        return True
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        self.kill()
        return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.kill()
        if getattr(self, "admin", None) is not None:
            self.admin.close()
            self.admin = None
        os.remove(os.path.join(self.work, self.name + ".log"))
        for _ in range(100):  # the port may stay busy for a moment
            if self.start():
                return
            time.sleep(0.05)
        sys.exit("FAIL: could not restart redis-server on port %d" % self.port)

    def kill_clients(self):
        """CLIENT KILL TYPE normal SKIPME yes over a connection kept open, so that it lands
        within microseconds, while the tool still has commands in flight; returns the count."""
        if getattr(self, "admin", None) is None:
            self.admin = socket.create_connection(("127.0.0.1", self.port))
        args = [b"CLIENT", b"KILL", b"TYPE", b"normal", b"SKIPME", b"yes"]
        self.admin.sendall(b"*%d\r\n" % len(args) +
                           b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        reply = b""
        while not reply.endswith(b"\r\n"):
            reply += self.admin.recv(64)
        return int(reply[1:-2])

    def cli(self, *args):
        out = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                             capture_output=True, timeout=30, check=True)
        return out.stdout.strip()


def run_stream(uredis_cli, server, strike_at, strike):
    """Pipes LINES `INCR c` lines into uredis-cli, calling strike(write) after the chunks in
    strike_at; strike may write more lines with write(n). Returns the status, the output lines,
    stderr and the number of lines written."""
    tool = subprocess.Popen([uredis_cli, "-p", str(server.port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = {}

    def read(name, stream):
        out[name] = stream.read()

    readers = [threading.Thread(target=read, args=(n, s))
               for n, s in (("out", tool.stdout), ("err", tool.stderr))]
    for r in readers:
        r.start()
    written = 0

    def write(n):
        nonlocal written
        tool.stdin.write(b"INCR c\n" * n)
        tool.stdin.flush()
        written += n

    def await_first_connection():
        # Under load (sanitizers, a busy machine) the tool may not have connected yet: a failure
        # during its first connect ends it as redis-cli ends ("Could not connect"), which is
        # not the case under test. Strike once its commands run on the server.
        deadline = time.monotonic() + 10
        while b"cmd=incr" not in server.cli("CLIENT", "LIST") and time.monotonic() < deadline:
            time.sleep(0.01)

    try:
        for i in range(LINES // CHUNK):
            write(CHUNK)
            if i in strike_at:
                if i == min(strike_at):
                    await_first_connection()
                strike(write)
            time.sleep(PAUSE)
        tool.stdin.close()
    except BrokenPipeError:  # the tool ended early: check() reports it, with its stderr
        pass
    status = tool.wait(timeout=120)
    for r in readers:
        r.join()
    return status, out["out"].splitlines(), out["err"], written


def check(name, status, lines, err, written, counter, expect_restart):
    """The accounting of the module's docstring; returns the number of tool errors."""
    if len(lines) != written:
        fail("%s: %d output lines for %d input lines, exit status %d; last lines %r; stderr %r"
             % (name, len(lines), written, status, lines[-3:], err[-2000:]))
        return 0
    last, unknown, resets, errors, unknown_after_reset = 0, 0, 0, 0, 0
    first_after_reset = None
    for n, line in enumerate(lines, 1):
        m = INT.match(line)
        if not m:
            if not line.startswith(TOOL_ERROR):
                fail("%s: line %d is neither an integer nor the tool's error: %r"
                     % (name, n, line))
                return errors
            errors += 1
            if line.startswith(MAY_HAVE_RUN):
                unknown += 1
                if resets:
                    unknown_after_reset += 1
            continue
        v = int(m.group(1))
        if last + 1 <= v <= last + 1 + unknown:
            pass
        elif 1 <= v <= 1 + unknown and v <= last:  # the counter started again: a new server
            resets += 1
            first_after_reset = v
        else:
            fail("%s: line %d: %d after %d with %d 'may have run' lines between"
                 % (name, n, v, last, unknown))
            return errors
        last, unknown = v, 0
    if counter != last:
        fail("%s: the server's counter is %d, the last integer printed %d" % (name, counter, last))
    if expect_restart:
        if resets != 1 or first_after_reset != 1:
            fail("%s: expected one restart counting again from 1; restarts %d, first %s"
                 % (name, resets, first_after_reset))
        if unknown_after_reset:
            fail("%s: %d 'may have run' lines after the restart" % (name, unknown_after_reset))
    elif resets:
        fail("%s: the counter went back %d times without a restart" % (name, resets))
    if status != (1 if errors else 0):
        fail("%s: exit status %d with %d failed commands" % (name, status, errors))
    if err:
        fail("%s: unexpected stderr: %r" % (name, err[:300]))
    print("%s: %d lines, %d tool errors (%d may have run), last %d, exit %d"
          % (name, len(lines), errors, sum(l.startswith(MAY_HAVE_RUN) for l in lines), last,
             status))
    return errors


def transactions(uredis_cli, server):
    """A MULTI and a WATCH whose connection is killed while the tool waits for input: what
    belonged to them is refused, not run on the new connection (transaction_guard.hpp)."""
    server.cli("FLUSHALL")
    tool = subprocess.Popen([uredis_cli, "-p", str(server.port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(text):
        tool.stdin.write(text.encode())
        tool.stdin.flush()
        time.sleep(0.3)  # answered, and the tool waits for input again

    def kill():
        if server.kill_clients() != 1:
            fail("transactions: CLIENT KILL did not find the tool's connection")
        time.sleep(0.3)  # the tool sees the loss while it waits

    write("WATCH w\nGET w\nMULTI\nINCR a\n")
    kill()
    write("INCR b\nEXEC\nGET a\nGET b\nWATCH w\n")
    kill()
    write("SET x 1\nMULTI\nSET w 2\nEXEC\nWATCH w\nUNWATCH\nMULTI\nINCR c\nEXEC\n")
    out, err = tool.communicate(timeout=30)
    lost = "(error) uredis-cli: not sent (its transaction was lost with the connection)"
    expected = ["OK", "(nil)", "OK", "QUEUED",      # WATCH w, GET w, MULTI, INCR a; killed
                lost, lost,                          # INCR b, EXEC: that MULTI is gone
                "(nil)", "(nil)", "OK",              # GET a, GET b: nothing ran; WATCH w; killed
                "OK", lost, lost, lost,              # SET x 1 runs; MULTI, SET w 2, EXEC: unguarded
                "OK", "OK", "OK", "QUEUED", "1) (integer) 1"]  # a new WATCH and transaction
    got = out.decode(errors="replace").splitlines()
    if got != expected:
        fail("transactions: output\n  %s\nexpected\n  %s" % (got, expected))
    if tool.returncode != 1 or err:
        fail("transactions: exit %d, stderr %r" % (tool.returncode, err[:300]))
    state = [server.cli("GET", k) for k in ("a", "b", "w", "x", "c")]
    if state != [b"", b"", b"", b"1", b"1"]:
        fail("transactions: the server holds a, b, w, x, c = %s" % state)
    print("transactions: %d lines as expected" % len(got))


def main():
    uredis_cli = sys.argv[1]
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        sys.exit("FAIL: redis-server and redis-cli must be on PATH")
    work = tempfile.mkdtemp()
    server = Server(work, "main")
    try:
        # 1. The server killed (SIGKILL: nothing is answered, nothing saved) and restarted on the
        # same port in the middle of the stream, three times over (timings vary).
        for round_ in range(3):
            server.cli("DEL", "c")
            status, lines, err, written = run_stream(uredis_cli, server, {LINES // CHUNK // 3},
                                                     lambda write: server.restart())
            check("restart %d" % round_, status, lines, err, written,
                  int(server.cli("GET", "c") or 0), expect_restart=True)

        # 2. The server down longer than the retry policy keeps trying (its 10 retries wait at
        # most 5.3 s in all), with lines arriving meanwhile: those fail as "not sent", and the
        # lines after them reconnect and carry on.
        def long_outage(write):
            # The lines before the outage answered first: with replies still owed, the tool
            # waits for them (it reads on only once it owes nothing) until the retries run out,
            # so the lines below would be read after that and ride into the restart instead.
            answered_before = (LINES // CHUNK // 3 + 1) * CHUNK
            deadline = time.monotonic() + 60
            while int(server.cli("GET", "c") or 0) < answered_before:
                if time.monotonic() > deadline:
                    fail("long outage: the lines before it were not answered within 60 s")
                    break
                time.sleep(0.01)
            time.sleep(0.2)  # their replies reach the tool
            server.kill()
            time.sleep(0.5)
            write(CHUNK)
            time.sleep(7.5)
            server.restart()

        server.cli("DEL", "c")
        status, lines, err, written = run_stream(uredis_cli, server, {LINES // CHUNK // 3},
                                                 long_outage)
        check("long outage", status, lines, err, written, int(server.cli("GET", "c") or 0),
              expect_restart=True)
        not_sent = sum(l.startswith(NOT_SENT) for l in lines)
        if not_sent < CHUNK:
            fail("long outage: %d 'not sent' lines, expected at least %d" % (not_sent, CHUNK))

        # 3. The tool's connection killed by CLIENT KILL, five times during the stream.
        kills = []

        def client_kill(write):
            write(10 * CHUNK)  # the kill lands while these are in flight
            # Under load (sanitizers, a busy machine) the tool may be between two sockets:
            # strike as soon as it has one, rather than at nothing.
            deadline = time.monotonic() + 5
            killed = server.kill_clients()
            while killed < 1 and time.monotonic() < deadline:
                time.sleep(0.005)
                killed = server.kill_clients()
            kills.append(killed)

        for round_ in range(3):
            server.cli("DEL", "c")
            kills.clear()
            strike_at = set(range(20, LINES // CHUNK - 20, (LINES // CHUNK - 40) // 5))
            status, lines, err, written = run_stream(uredis_cli, server, strike_at, client_kill)
            if any(k < 1 for k in kills):
                fail("CLIENT KILL %d: some kills found no connection: %s" % (round_, kills))
            check("CLIENT KILL %d" % round_, status, lines, err, written,
                  int(server.cli("GET", "c") or 0), expect_restart=False)

        # 4. Transactions and WATCH through CLIENT KILL.
        transactions(uredis_cli, server)
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
