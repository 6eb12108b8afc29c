#!/usr/bin/env bash
# `uredis-cli --decode` on every NAME.resp of the golden corpus must print exactly NAME.txt, exit 0
# and say nothing on stderr. Needs no redis-cli: the redis-cli/ outputs were captured from it.
#
#   decode_golden.sh UREDIS_CLI GOLDEN_DIR
set -u

uredis_cli=$1
golden=$2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

count=0
failures=0
for f in "$golden"/redis-cli/*.resp "$golden"/rules/*.resp; do
  [ -f "$f" ] || continue
  count=$((count + 1))
  name=${f#"$golden"/}
  expected=${f%.resp}.txt
  timeout 20 "$uredis_cli" --decode < "$f" > "$work/out" 2> "$work/err"
  status=$?
  if [ $status -ne 0 ] || [ -s "$work/err" ]; then
    echo "FAIL $name: exit $status, stderr: $(cat "$work/err")"
    failures=$((failures + 1))
  elif ! cmp -s "$expected" "$work/out"; then
    echo "FAIL $name: output differs from $(basename "$expected") (- expected, + actual)"
    diff -u <(od -An -c "$expected") <(od -An -c "$work/out") | head -n 40
    failures=$((failures + 1))
  fi
done

if [ $count -lt 90 ]; then
  echo "FAIL: only $count corpus files under $golden"
  exit 1
fi
echo "$count replies decoded, $failures failed"
[ $failures -eq 0 ]
