#!/usr/bin/env bash
# THE test command (CI runs it through .ci/run): every build, every test, every compiler.
#
#   1. setup     missing packages, the gcc and clang build dirs
#   2. gcc       GCC 12 build with -Werror (library, tests, tools, benchmarks) and `meson test`
#   3. clang     the same with Clang 14, under ASan and UBSan
#   4. fuzz      scripts/fuzz.sh: the libFuzzer parser target under ASan/UBSan, ~30 s
#   5. consumer  scripts/consumer_test.sh: uredis as a Meson subproject of a tiny program
#
# Every stage runs even when an earlier one failed (except setup), so one run shows everything;
# the exit status is non-zero if anything failed. UREDIS_STAGES="gcc consumer" runs a subset.
#
# Compiling is CPU-bound and the tests mostly wait (on servers, failovers, timeouts), so the
# work that follows a stage's tests overlaps them, at the lowest priority (nice 19: the tests
# get every cycle they ask for):
#
#   gcc: compile │ gcc: tests          │ clang: tests                   │
#                │ clang: compile (bg) │ fuzz, then consumer (bg) ...   │
#
# A background stage's output is printed whole when its turn comes in the stage order.
# The last line is "N passed, N failed[, N skipped][ (M gtest cases skipped)][ (K flaky...)]":
# the meson tests of both builds (one per test program), plus one each for the fuzz run and the
# consumer build. A gtest program with some cases skipped still passes as a program; its
# skipped cases are counted apart, from the JUnit report, so a skip is never taken for a pass.
# A test program that fails runs once more, alone; one that passes then counts as passed and
# flaky, and is named with its first failure on the last screen (as every failed test is).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$uredis_root"

stages="${UREDIS_STAGES:-gcc clang fuzz consumer}"
passed=0
failed=0
skipped=0
gtest_skipped=0
failed_stages=()
timings=()
failure_digest=""
flaky=0
bg_dir="$(mktemp -d "${TMPDIR:-/tmp}/uredis-test.XXXXXX")"
trap 'rm -rf "$bg_dir"' EXIT

# Prints "CASES SKIPPED" for the gtest cases of the last meson test run in build dir $1. Meson
# runs each gtest program (protocol: 'gtest') with --gtest_output=xml and files its suites in
# meson-logs/testlog.junit.xml as "<project>.<test>.<suite>"; its exit-code tests go under the
# bare project name, and are counted from testlog.json instead.
gtest_cases() {
  python3 - "$1/meson-logs/testlog.junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as et

try:
    root = et.parse(sys.argv[1]).getroot()
except (OSError, et.ParseError):
    root = et.Element("testsuites")
cases = skipped = 0
for suite in root.iter("testsuite"):
    if "." not in suite.get("name", ""):
        continue
    for case in suite.iter("testcase"):
        cases += 1
        skipped += case.find("skipped") is not None
print(cases, skipped)
PY
}

# Adds the results of the meson test run in build dir $1 to the totals; sets last_bad.
last_bad=0
count_testlog() {
  local log="$1/meson-logs/testlog.json" rerun="$1/meson-logs/testlog-rerun.json"
  local ok bad skip cases case_skips again=0
  last_bad=0
  [[ -f "$log" ]] || return 0
  ok=$(grep -cE '"result": "(OK|EXPECTEDFAIL)"' "$log" || true)
  bad=$(grep -cE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" || true)
  skip=$(grep -cE '"result": "SKIP"' "$log" || true)
  [[ ! -f "$rerun" ]] || again=$(grep -cE '"result": "(OK|EXPECTEDFAIL)"' "$rerun" || true)
  ok=$((ok + again)) bad=$((bad - again))
  passed=$((passed + ok))
  failed=$((failed + bad))
  flaky=$((flaky + again))
  skipped=$((skipped + skip))
  read -r cases case_skips < <(gtest_cases "$1") || true
  cases=${cases:-0} case_skips=${case_skips:-0}
  gtest_skipped=$((gtest_skipped + case_skips))
  uredis_log "$(basename "$1"): $ok test programs passed ($cases gtest cases, $case_skips of them" \
    "skipped; $again of the programs only when run again), $bad failed, $skip skipped"
  last_bad=$bad
  ((bad + again == 0)) || failure_digest+="$(failed_tests "$log" "$rerun" "$(basename "$1")")"$'\n'
}

# Prints, for each test that failed in meson log $1 (its second run in log $2, build $3), its
# name, whether the second run passed, and the end of its output: the run's full log is long,
# and whoever reads only its last screen must still see what broke.
failed_tests() {
  python3 - "$@" <<'PY'
import json, os, sys

def results(path):
    if not os.path.exists(path):
        return {}
    return {t["name"]: t for t in map(json.loads, open(path))}

first, again, build = results(sys.argv[1]), results(sys.argv[2]), sys.argv[3]
bad = ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS")
for name, t in first.items():
    if t.get("result") not in bad:
        continue
    second = again.get(name, {}).get("result")
    verdict = "flaky: passed when run again" if second in ("OK", "EXPECTEDFAIL") else "failed"
    print(f"--- {build}: {name} ({t['result']} after {t.get('duration', 0):.1f} s; {verdict})")
    out = (t.get("stdout") or "").splitlines()
    marks = ("Failure", "FAILED", "Which is", "Expected", "Actual", "error", "Error")
    failures = [l for l in out if any(m in l for m in marks)]
    for l in (failures[:12] + ["..."] + out[-15:]) if failures else out[-25:]:
        print("    " + l[:300])
PY
}

# A sanitizer report fails the test that caused it (UBSan alone would print and go on).
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="detect_leaks=1"

# True when stage $1 is part of this run.
wants() { [[ " $stages " == *" $1 "* ]]; }

# Runs "$@" as background job $1's command at the lowest priority; its output goes to
# bg_dir/$1.log and "exit-status seconds" to bg_dir/$1.rc when it ends.
run_niced() {
  local name="$1" start rc=0
  shift
  start=$(date +%s)
  nice -n 19 "$@" >"$bg_dir/$name.log" 2>&1 || rc=$?
  echo "$rc $(($(date +%s) - start))" >"$bg_dir/$name.rc"
}

# What overlaps stage $1's tests (see the top): started once its own compile is done.
start_overlap() {
  case "$1" in
    gcc)
      if wants clang; then
        touch "$bg_dir/clang-compile.started"
        run_niced clang-compile ninja -C "$(uredis_build_dir clang)" -j "$uredis_jobs" -k 0 &
      fi
      ;;
    clang)
      local s later=()
      for s in fuzz consumer; do
        if wants "$s"; then
          later+=("$s")
          touch "$bg_dir/$s.started"
        fi
      done
      ((${#later[@]})) || return 0
      (
        for s in "${later[@]}"; do
          case "$s" in
            fuzz) FUZZ_BUILD_DIR="$(uredis_build_dir fuzz)" NINJA_JOBS="$uredis_jobs" \
              run_niced fuzz bash scripts/fuzz.sh ;;
            consumer) run_niced consumer bash scripts/consumer_test.sh ;;
          esac
        done
      ) &
      ;;
  esac
}

# Waits for background job $1; false when it was never started.
await() {
  [[ -e "$bg_dir/$1.started" ]] || return 1
  while [[ ! -e "$bg_dir/$1.rc" ]]; do sleep 1; done
}

build_and_test() {
  local dir
  dir="$(uredis_build_dir "$1")"
  rm -f "$dir"/meson-logs/testlog{,-rerun}.{json,txt,junit.xml}
  # Compiled in the background already, or being: what is left (or broken) is built here.
  if [[ "$1" == clang ]]; then await clang-compile || true; fi
  ninja -C "$dir" -j "$uredis_jobs" -k 0 # -k 0: report every broken file, not just the first
  start_overlap "$1"
  # Meson reads <test>.xml after each gtest program: one that dies before writing its report
  # must not leave the last run's to be read as its own.
  meson introspect "$dir" --tests | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["protocol"] == "gtest":
        path = os.path.join(t["workdir"] or sys.argv[1], t["name"] + ".xml")
        if os.path.exists(path):
            os.remove(path)
' "$dir"
  meson test -C "$dir" --num-processes "$uredis_jobs" --print-errorlogs && return 0
  # A test program that failed runs once more, alone: the tests drive real servers on a shared
  # two-core machine, and one that fails twice is a failure. One that passes the second time is
  # reported as flaky on the last screen (a bug to fix, but not a reason to refuse the build).
  local names
  names=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t.get("result") in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"):
        print(t["name"])
' "$dir/meson-logs/testlog.json")
  [[ -n "$names" ]] || return 1 # meson itself failed: nothing to rerun
  uredis_log "$1: running the failed test programs again, alone:" $names
  # shellcheck disable=SC2086 # one argument per test name
  meson test -C "$dir" --no-rebuild --num-processes 1 --print-errorlogs --logbase testlog-rerun $names
}

fuzz() {
  [[ -f scripts/fuzz.sh ]] || uredis_die "scripts/fuzz.sh is missing"
  FUZZ_BUILD_DIR="$(uredis_build_dir fuzz)" NINJA_JOBS="$uredis_jobs" bash scripts/fuzz.sh
}

# Runs one stage in a subshell with errexit on, records its time and result.
run_stage() {
  local name="$1" start rc
  shift
  uredis_log "stage $name"
  start=$(date +%s)
  set +e
  (
    set -euo pipefail
    "$@"
  )
  rc=$?
  set -e
  record_stage "$name" "$rc" $(($(date +%s) - start)) ""
}

# Prints the output of stage $1, which ran in the background, and records its result.
collect_background() {
  local rc seconds
  uredis_log "stage $1 (ran in the background while the clang tests ran)"
  cat "$bg_dir/$1.log"
  read -r rc seconds <"$bg_dir/$1.rc"
  record_stage "$1" "$rc" "$seconds" " (in the background)"
}

# Records stage $1's exit status $2 and time $3 (seconds; $4 says more about it), and counts
# its tests.
record_stage() {
  local name="$1" rc="$2" bad
  local verdict=ok
  ((rc == 0)) || verdict=FAILED
  timings+=("$(printf '%-9s %4ds  %s%s' "$name" "$3" "$verdict" "$4")")

  bad=0
  case "$name" in
    gcc | clang)
      count_testlog "$(uredis_build_dir "$name")"
      bad=$last_bad
      ;;
    *) ((rc != 0)) || passed=$((passed + 1)) ;; # fuzz and consumer: one test each
  esac
  if ((rc != 0)); then
    failed_stages+=("$name")
    # A stage that failed before its tests could (e.g. a compile error) still counts.
    ((bad > 0)) || failed=$((failed + 1))
  fi
}

total_start=$(date +%s)
uredis_log "stage setup"
start=$(date +%s)
setup_configs=()
for s in $stages; do
  case "$s" in gcc | clang) setup_configs+=("$s") ;; esac
done
if ((${#setup_configs[@]})); then
  bash scripts/setup.sh "${setup_configs[@]}"
else
  bash scripts/setup.sh --packages-only
fi
timings+=("$(printf '%-9s %4ds  ok' setup $(($(date +%s) - start)))")

for s in $stages; do
  case "$s" in
    gcc | clang) run_stage "$s" build_and_test "$s" ;;
    fuzz) if await fuzz; then collect_background fuzz; else run_stage fuzz fuzz; fi ;;
    consumer)
      if await consumer; then
        collect_background consumer
      else
        run_stage consumer bash scripts/consumer_test.sh
      fi
      ;;
    *) uredis_die "unknown stage '$s' (gcc clang fuzz consumer)" ;;
  esac
done

echo
uredis_log "timings"
for t in "${timings[@]}"; do echo "    $t"; done
printf '    %-9s %4ds\n' total $(($(date +%s) - total_start))
if ((${#failed_stages[@]})); then
  uredis_log "FAILED stages: ${failed_stages[*]}"
fi
if [[ -n "$failure_digest" ]]; then
  uredis_log "failed tests"
  printf '%s' "$failure_digest"
fi
echo
summary="$passed passed, $failed failed"
((skipped == 0)) || summary+=", $skipped skipped"
((gtest_skipped == 0)) || summary+=" ($gtest_skipped gtest cases skipped)"
((flaky == 0)) || summary+=" ($flaky flaky: failed, then passed when run again)"
echo "$summary"
((${#failed_stages[@]} == 0 && failed == 0))
