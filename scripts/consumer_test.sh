#!/usr/bin/env bash
# Builds and runs tests/consumer, a tiny program that pulls uredis in as a Meson subproject,
# in a temporary directory: proves that dependency('uredis') works from outside, that uredis'
# own tests, benchmarks and tools stay off as a subproject, and that the public headers are
# enough to use the library.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/uredis-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cp -r "$uredis_root/tests/consumer/." "$work/"
# The README's quickstart, exactly as written there.
sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$uredis_root/README.md" |
  sed '1,2d;$d' | sed '$d' >"$work/quickstart.cpp"
[[ -s "$work/quickstart.cpp" ]] || uredis_die "no quickstart block found in README.md"
# Every other complete program of the README (<!-- example:NAME:begin --> ... end), as NAME.cpp;
# tests/consumer/meson.build builds those named in examples.txt, and each is run below.
examples=()
while read -r name; do
  sed -n "/<!-- example:$name:begin -->/,/<!-- example:$name:end -->/p" "$uredis_root/README.md" |
    sed '1,2d;$d' | sed '$d' >"$work/$name.cpp"
  [[ -s "$work/$name.cpp" ]] || uredis_die "README example '$name' is empty"
  examples+=("$name")
done < <(sed -n 's/^<!-- example:\([a-z_]*\):begin -->$/\1/p' "$uredis_root/README.md")
printf '%s\n' "${examples[@]}" >"$work/examples.txt"
rm -rf "$work/subprojects"
mkdir -p "$work/subprojects/uredis"
# A copy, not a link: the subproject sees exactly the source files, none of the build dirs.
tar -C "$uredis_root" --exclude=./.git --exclude='./build*' \
  --exclude=./tests/consumer/subprojects -cf - . | tar -C "$work/subprojects/uredis" -xf -

# Forcing the fallback: an installed uredis must not stand in for the subproject.
meson setup "$work/build" "$work" -Dbuildtype=debugoptimized -Dwerror=true \
  --wrap-mode=nodownload --force-fallback-for=uredis
ninja -C "$work/build" -j "$uredis_jobs"

# uredis' developer targets must be absent from a consumer's build.
targets="$(meson introspect "$work/build" --targets)"
for t in uredis-cli resp_parser; do
  if grep -q "\"name\": \"$t\"" <<<"$targets"; then
    uredis_die "consumer build contains uredis' developer target '$t'"
  fi
done
grep -q '"name": "consumer"' <<<"$targets" || uredis_die "consumer target missing"
if grep -qiE 'dependency (gtest|gmock|benchmark)' "$work/build/meson-logs/meson-log.txt"; then
  uredis_die "consumer configure looked for a test or benchmark dependency"
fi

meson test -C "$work/build" --print-errorlogs

# Run the quickstart against a private redis-server on a free loopback port.
server_pid=""
trap '[[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 20); do
  port=$((20000 + RANDOM % 40000))
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --daemonize no --logfile "$work/redis.log" &
  server_pid=$!
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  kill "$server_pid" 2>/dev/null || true
  server_pid=""
done
[[ -n "$server_pid" ]] || uredis_die "could not start redis-server for the quickstart"
output="$(REDIS_URL="redis://127.0.0.1:$port" "$work/build/quickstart")"
[[ "$output" == "hello from uredis" ]] || uredis_die "quickstart printed '$output'"
uredis_log "quickstart: $output"
for name in "${examples[@]}"; do
  REDIS_URL="redis://127.0.0.1:$port" timeout 30 "$work/build/$name" >"$work/$name.out" ||
    uredis_die "README example '$name' failed: $(cat "$work/$name.out")"
  uredis_log "example $name: $(tr '\n' '|' <"$work/$name.out")"
done
