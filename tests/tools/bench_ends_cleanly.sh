#!/usr/bin/env bash
# uredis-bench ends when it should and leaves nothing behind:
#   cache     a --cache run whose reads are all hits (a keyspace of 10 keys on 4 connections)
#             still ends at --duration: the hits yield to the loop, where the deadline fires
#   signals   SIGINT, SIGTERM or SIGHUP in the middle of a run stop its private redis-server
#             and remove the server's directory, and the tool dies by that signal
#   SIGKILL   no handler runs, yet the private server does not outlive the tool
# Needs redis-server.
set -euo pipefail
bench=${1:?usage: bench_ends_cleanly.sh path/to/uredis-bench}
fail() { echo "FAIL: $*" >&2; exit 1; }
leftover=
trap '[ -z "$leftover" ] || kill "$leftover" 2>/dev/null || true' EXIT

# All hits, 1 s: at most a few seconds including the private server's start.
start=$(date +%s)
timeout 30 "$bench" -q -c 4 -r 10 -t get --cache --duration 1 >/dev/null ||
  fail "an all-hit --cache run did not end at its --duration (status $?)"
(($(date +%s) - start <= 10)) || fail "an all-hit --cache run of 1 s took $(($(date +%s) - start)) s"
echo "cache: the all-hit run ended at its duration"

# The pid of the redis-server that process $1 started, once it runs (10 s at most).
server_of() {
  local p
  for _ in $(seq 100); do
    for p in /proc/[0-9]*; do
      # Field 4 of stat is the parent's pid (the command name in field 2 has no spaces here).
      if [ "$(cut -d' ' -f2,4 "$p/stat" 2>/dev/null)" = "(redis-server) $1" ]; then
        echo "${p#/proc/}"
        return
      fi
    done
    sleep 0.1
  done
  fail "uredis-bench (pid $1) started no redis-server within 10 s"
}

# Waits up to 5 s for process $1 to be gone.
gone() {
  for _ in $(seq 50); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

for sig in INT TERM HUP KILL; do
  # The signals' default actions, whatever this script inherited (a background job ignores
  # SIGINT, nohup SIGHUP): the tool leaves alone a signal it was started ignoring.
  env --default-signal=INT,TERM,HUP "$bench" -q -c 2 -P 16 -t get --duration 60 >/dev/null &
  tool=$!
  server=$(server_of "$tool")
  leftover=$server
  # The server's --dir, its private temporary directory, once it has moved there.
  dir=
  for _ in $(seq 100); do
    dir=$(readlink "/proc/$server/cwd" || true)
    case "$dir" in /tmp/uredis-bench.*) break ;; esac
    sleep 0.05
  done
  case "$dir" in /tmp/uredis-bench.*) ;; *) fail "SIG$sig: the server never moved to its directory ($dir)" ;; esac
  sleep 0.5                            # into the run
  kill -s "$sig" "$tool"
  set +e
  wait "$tool"
  status=$?
  set -e
  expected=$((128 + $(kill -l "$sig")))
  [ "$status" -eq "$expected" ] || fail "SIG$sig: the tool exited $status, not $expected"
  gone "$server" || fail "SIG$sig: the private redis-server (pid $server) outlived the tool"
  leftover=
  if [ "$sig" = KILL ]; then
    rm -rf "$dir"  # nothing could remove it
  else
    [ ! -e "$dir" ] || fail "SIG$sig: the server's directory $dir was left behind"
  fi
  echo "SIG$sig: the tool died by it, its server (pid $server) and $dir are gone"
done
echo "ok"
