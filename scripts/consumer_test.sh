#!/usr/bin/env bash
# Uses uredis the two ways a downstream project does, in a temporary directory, and runs what it
# builds against a private redis-server:
#
#   subproject  tests/consumer, a tiny Meson project that pulls uredis in as a subproject, built
#               twice with a consumer's strict flags: GCC 12 at -O2 with -Wall -Wextra
#               -Wpedantic -Werror, and Clang 14 with -Werror under ASan and UBSan. Proves that
#               dependency('uredis') works from outside, that uredis' own tests, benchmarks and
#               tools stay off as a subproject, that the public headers are enough, and that
#               they compile warning-free in user code (tests/consumer/callbacks.cpp). It builds
#               and runs the README's quickstart and every other complete program of the README
#               (the Redis Cluster ones against a private 3-primary cluster).
#   installed   `meson install` into a temporary prefix, then the README's quickstart built with
#               plain g++ and `pkg-config --cflags --libs uredis`, against the installed tree only.
#
# UREDIS_CONSUMER_BUILDS="gcc" (or "clang install", ...) runs some of gcc, clang and install.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

builds="${UREDIS_CONSUMER_BUILDS:-gcc clang install}"
# A sanitizer report fails the program that caused it (scripts/test.sh sets the same).
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

work="$(mktemp -d "${TMPDIR:-/tmp}/uredis-consumer.XXXXXX")"
sentinel_pid=""
# shellcheck source=../tests/tools/redis_server.sh
source "$uredis_root/tests/tools/redis_server.sh"
# shellcheck source=../tests/tools/redis_cluster.sh
source "$uredis_root/tests/tools/redis_cluster.sh"
trap 'stop_all_redis; [[ -n "$sentinel_pid" ]] && kill "$sentinel_pid" 2>/dev/null
      rm -rf "$work"' EXIT

# The consumer project: tests/consumer plus the README's programs and a copy of uredis.
src="$work/consumer"
mkdir -p "$src"
cp -r "$uredis_root/tests/consumer/." "$src/"
# The README's quickstart, exactly as written there.
sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$uredis_root/README.md" |
  sed '1,2d;$d' | sed '$d' >"$src/quickstart.cpp"
[[ -s "$src/quickstart.cpp" ]] || uredis_die "no quickstart block found in README.md"
# Every other complete program of the README (<!-- example:NAME:begin --> ... end), as NAME.cpp;
# tests/consumer/meson.build builds those named in examples.txt, and each is run below.
examples=()
while read -r name; do
  sed -n "/<!-- example:$name:begin -->/,/<!-- example:$name:end -->/p" "$uredis_root/README.md" |
    sed '1,2d;$d' | sed '$d' >"$src/$name.cpp"
  [[ -s "$src/$name.cpp" ]] || uredis_die "README example '$name' is empty"
  examples+=("$name")
done < <(sed -n 's/^<!-- example:\([a-z_]*\):begin -->$/\1/p' "$uredis_root/README.md")
# The Redis Cluster programs (<!-- cluster_example:NAME:begin --> ... end): built the same way,
# run with a seed node's port as their argument.
cluster_examples=()
while read -r name; do
  sed -n "/<!-- cluster_example:$name:begin -->/,/<!-- cluster_example:$name:end -->/p" \
    "$uredis_root/README.md" | sed '1,2d;$d' | sed '$d' >"$src/$name.cpp"
  [[ -s "$src/$name.cpp" ]] || uredis_die "README cluster example '$name' is empty"
  cluster_examples+=("$name")
done < <(sed -n 's/^<!-- cluster_example:\([a-z_]*\):begin -->$/\1/p' "$uredis_root/README.md")
printf '%s\n' "${examples[@]}" "${cluster_examples[@]}" >"$src/examples.txt"
rm -rf "$src/subprojects"
mkdir -p "$src/subprojects/uredis"
# A copy, not a link: the subproject sees exactly the source files, none of the build dirs.
tar -C "$uredis_root" --exclude=./.git --exclude='./build*' \
  --exclude=./tests/consumer/subprojects -cf - . | tar -C "$src/subprojects/uredis" -xf -

# A private redis-server on a free loopback port, for every program below.
start_redis main
port=$main_port
export REDIS_URL="redis://127.0.0.1:$port"

# A Sentinel watching that server, for the README's Sentinel program (REDIS_SENTINEL_URL).
for _ in $(seq 1 20); do
  sentinel_port=$((20000 + RANDOM % 40000))
  [[ "$sentinel_port" == "$port" ]] && continue
  printf 'sentinel monitor mymaster 127.0.0.1 %s 1\n' "$port" >"$work/sentinel.conf"
  redis-server "$work/sentinel.conf" --sentinel --port "$sentinel_port" --bind 127.0.0.1 \
    --dir "$work" --daemonize no --logfile "$work/sentinel.log" &
  sentinel_pid=$!
  for _ in $(seq 1 50); do
    redis-cli -p "$sentinel_port" ping >/dev/null 2>&1 && break
    kill -0 "$sentinel_pid" 2>/dev/null || break
    sleep 0.1
  done
  redis-cli -p "$sentinel_port" ping >/dev/null 2>&1 && break
  kill "$sentinel_pid" 2>/dev/null || true
  sentinel_pid=""
done
[[ -n "$sentinel_pid" ]] || uredis_die "could not start redis-server --sentinel"
export REDIS_SENTINEL_URL="redis+sentinel://127.0.0.1:$sentinel_port/mymaster"

# A private Redis Cluster of three primaries (no replicas), for the cluster programs.
cluster_port=""
if ((${#cluster_examples[@]})); then
  start_primaries cluster 3
  cluster_port=$cluster0_port
fi

# Runs the quickstart at $1 (it must print the greeting).
run_quickstart() {
  local output
  output="$(timeout 30 "$1")" || uredis_die "$1 failed: $output"
  [[ "$output" == "hello from uredis" ]] || uredis_die "$1 printed '$output'"
}

# Builds the consumer project with compiler $1 and runs its programs.
subproject_build() {
  local name="$1" build="$work/build-$1" targets prog
  local -a env opts
  redis-cli -p "$port" flushall >/dev/null # each build starts from an empty server
  case "$name" in
    gcc) env=(CXX=g++ CC=gcc) opts=() ;;
    # Clang 14 cannot compile uredis' coroutine templates under UBSan's function check (a
    # compiler bug: "error: Cannot represent a difference across sections", LLVM issue 49689),
    # so a consumer must turn that one check off, as the README says; the rest of UBSan stays.
    clang) env=(CXX=clang++ CC=clang) opts=("-Db_sanitize=address,undefined"
      -Dcpp_args=-fno-sanitize=function) ;;
    *) uredis_die "unknown consumer build '$name' (gcc clang install)" ;;
  esac
  # debugoptimized is -O2 -g; the project's warning_level=3 adds -Wall -Wextra -Wpedantic.
  # Forcing the fallback: an installed uredis must not stand in for the subproject.
  env "${env[@]}" meson setup "$build" "$src" -Dbuildtype=debugoptimized -Dwerror=true \
    "${opts[@]}" --wrap-mode=nodownload --force-fallback-for=uredis >"$work/setup-$name.log" ||
    { cat "$work/setup-$name.log"; uredis_die "$name: meson setup failed"; }
  ninja -C "$build" -j "$uredis_jobs"

  # uredis' developer targets must be absent from a consumer's build.
  targets="$(meson introspect "$build" --targets)"
  for t in uredis-cli resp_parser; do
    if grep -q "\"name\": \"$t\"" <<<"$targets"; then
      uredis_die "$name: consumer build contains uredis' developer target '$t'"
    fi
  done
  grep -q '"name": "consumer"' <<<"$targets" || uredis_die "$name: consumer target missing"
  if grep -qiE 'dependency (gtest|gmock|benchmark)' "$build/meson-logs/meson-log.txt"; then
    uredis_die "$name: consumer configure looked for a test or benchmark dependency"
  fi

  meson test -C "$build" --print-errorlogs
  run_quickstart "$build/quickstart"
  for prog in callbacks "${examples[@]}"; do
    timeout 30 "$build/$prog" >"$work/$prog.out" 2>&1 ||
      uredis_die "$name: $prog failed: $(cat "$work/$prog.out")"
    uredis_log "$name: $prog: $(tr '\n' '|' <"$work/$prog.out")"
  done
  for prog in "${cluster_examples[@]}"; do
    timeout 30 "$build/$prog" "$cluster_port" >"$work/$prog.out" 2>&1 ||
      uredis_die "$name: $prog failed: $(cat "$work/$prog.out")"
    uredis_log "$name: $prog: $(tr '\n' '|' <"$work/$prog.out")"
  done
  uredis_log "$name: consumer, quickstart, callbacks, ${#examples[@]} README examples and" \
    "${#cluster_examples[@]} cluster examples pass"
}

# Installs uredis into a temporary prefix and builds the quickstart against it with plain g++.
installed_build() {
  local build="$work/build-install" prefix="$work/prefix" pc_dir
  redis-cli -p "$port" flushall >/dev/null
  # Only the library: its tests, tools and benchmarks are not installed.
  CXX=g++ CC=gcc meson setup "$build" "$src/subprojects/uredis" --prefix="$prefix" \
    -Dbuildtype=release -Dtests=disabled -Dbench=disabled -Dtools=disabled \
    >"$work/setup-install.log" ||
    { cat "$work/setup-install.log"; uredis_die "install: meson setup failed"; }
  ninja -C "$build" -j "$uredis_jobs"
  meson install -C "$build" --quiet
  pc_dir="$(dirname "$(find "$prefix" -name uredis.pc -print -quit)")"
  [[ -f "$pc_dir/uredis.pc" ]] || uredis_die "install: no uredis.pc under $prefix"

  local -a flags
  read -ra flags < <(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs uredis)
  uredis_log "install: pkg-config --cflags --libs uredis: ${flags[*]}"
  # The quickstart sees the installed tree only: no -I into the repository.
  g++ -std=c++20 -O2 -Wall -Wextra -Wpedantic -Werror "$src/quickstart.cpp" \
    -o "$work/quickstart-installed" "${flags[@]}"
  run_quickstart "$work/quickstart-installed"
  uredis_log "install: the quickstart built against the installed uredis passes"
}

for b in $builds; do
  start=$SECONDS
  case "$b" in
    install) installed_build ;;
    *) subproject_build "$b" ;;
  esac
  uredis_log "$b: $((SECONDS - start)) s"
done
