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
