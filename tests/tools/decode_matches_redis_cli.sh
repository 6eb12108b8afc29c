#!/usr/bin/env bash
# Shows every reply of the redis-cli corpus to the real redis-cli (through a fake server that
# answers its PING with the file's bytes) and to `uredis-cli --decode`, and fails on any
# difference. redis-cli must be on PATH: without it this test fails, it does not skip.
#
#   decode_matches_redis_cli.sh UREDIS_CLI FAKE_REPLY_SERVER CORPUS_DIR
#
# With UPDATE_GOLDEN=1 it also (re)writes CORPUS_DIR/NAME.txt with redis-cli's output.
set -u

uredis_cli=$1
fake_server=$2
corpus=$3

# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
require_redis_cli

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2> /dev/null; wait "$server_pid" 2> /dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

files=("$corpus"/*.resp)
if [ ${#files[@]} -lt 50 ] || [ ! -f "${files[0]}" ]; then
  echo "FAIL: corpus $corpus has ${#files[@]} files, expected at least 50" >&2
  exit 1
fi

# One server for the whole corpus: connection i gets file i.
"$fake_server" "${files[@]}" > "$work/port" 2> "$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
  [ -s "$work/port" ] && break
  sleep 0.05
done
port=$(head -n 1 "$work/port")
if [ -z "$port" ]; then
  echo "FAIL: fake_reply_server printed no port" >&2
  cat "$work/server.err" >&2
  exit 1
fi

failures=0
for f in "${files[@]}"; do
  name=$(basename "$f" .resp)
  # --show-pushes yes: print push frames as redis-cli does on a terminal (it hides them when its
  # output is a pipe).
  if ! timeout 20 redis-cli -p "$port" --no-raw --show-pushes yes PING > "$work/expected" \
      2> "$work/expected.err"; then
    echo "FAIL $name: redis-cli failed: $(cat "$work/expected.err")"
    failures=$((failures + 1))
    continue
  fi
  timeout 20 "$uredis_cli" --decode < "$f" > "$work/actual" 2> "$work/actual.err"
  status=$?
  if [ $status -ne 0 ]; then
    echo "FAIL $name: uredis-cli --decode exited $status: $(cat "$work/actual.err")"
    failures=$((failures + 1))
  elif ! cmp -s "$work/expected" "$work/actual"; then
    echo "FAIL $name: output differs from redis-cli (- redis-cli, + uredis-cli)"
    diff -u <(od -An -c "$work/expected") <(od -An -c "$work/actual") | head -n 40
    failures=$((failures + 1))
  fi
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then cp "$work/expected" "$corpus/$name.txt"; fi
done

if ! wait "$server_pid"; then
  echo "FAIL: fake_reply_server: $(cat "$work/server.err")"
  failures=$((failures + 1))
fi
server_pid=

echo "${#files[@]} replies compared, $failures failed"
[ $failures -eq 0 ]
