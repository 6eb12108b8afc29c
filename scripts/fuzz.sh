#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan + UBSan and fuzzes the RESP parser for
# FUZZ_SECONDS (default 30), starting from a scratch copy of the seed corpus. Exits non-zero on
# any crash, leak, sanitizer report or failed invariant; the reproducer is kept under
# <build dir>/fuzz-artifacts/.
#
#   scripts/fuzz.sh                      # 30 s
#   FUZZ_SECONDS=600 scripts/fuzz.sh     # longer
#   scripts/fuzz.sh -jobs=2              # extra arguments go to libFuzzer
#   build-fuzz/tests/fuzz/parser_fuzz build-fuzz/fuzz-artifacts/crash-...   # replay a crash
#
# Environment: FUZZ_SECONDS, FUZZ_BUILD_DIR (default build-fuzz), NINJA_JOBS (default 2).
# Idempotent: an existing, configured build dir is re-used as it is.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds="${FUZZ_SECONDS:-30}"
build="${FUZZ_BUILD_DIR:-build-fuzz}"
jobs="${NINJA_JOBS:-2}"

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (libFuzzer needs clang)" >&2
  exit 1
fi

if [[ ! -f "$build/build.ninja" ]]; then
  CXX=clang++ CC=clang meson setup "$build" \
    -Dfuzz=enabled -Dtests=disabled -Dbench=disabled -Dtools=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
fi
ninja -C "$build" -j "$jobs" tests/fuzz/parser_fuzz

fuzzer="$build/tests/fuzz/parser_fuzz"
case "$build" in /*) artifacts="$build/fuzz-artifacts/" ;; *) artifacts="$root/$build/fuzz-artifacts/" ;; esac
mkdir -p "$artifacts"

# libFuzzer adds what it finds to the corpus dir: work on a copy so the seeds stay small.
corpus="$(mktemp -d "${TMPDIR:-/tmp}/uredis-fuzz-corpus.XXXXXX")"
log="$(mktemp "${TMPDIR:-/tmp}/uredis-fuzz-log.XXXXXX")"
trap 'rm -rf "$corpus" "$log"' EXIT
cp tests/fuzz/corpus/* "$corpus/"

echo "fuzz.sh: fuzzing parser_fuzz for ${seconds}s (artifacts in $artifacts)"
status=0
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
  "$fuzzer" "$corpus" \
    -max_total_time="$seconds" \
    -detect_leaks=1 \
    -timeout=10 \
    -dict=tests/fuzz/resp.dict \
    -artifact_prefix="$artifacts" \
    -print_final_stats=1 \
    "$@" >"$log" 2>&1 || status=$?

# The exit status is the verdict; the grep catches a report printed by a sanitizer configured
# not to halt (e.g. a caller's own UBSAN_OPTIONS in the environment of a child).
if [[ $status -ne 0 ]] || grep -qE 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY: ' "$log"; then
  tail -n 60 "$log" >&2
  echo "fuzz.sh: FAILED (exit $status); reproducer(s) in $artifacts" >&2
  exit 1
fi
grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
grep -E '^#[0-9]+ +DONE' "$log" | tail -n 1 || true
echo "fuzz.sh: OK, no crash, leak or sanitizer report in ${seconds}s"
