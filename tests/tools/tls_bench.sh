#!/usr/bin/env bash
# uredis-bench over TLS: --tls without a host runs a short benchmark against its own private
# TLS server (made with a CA of its own), -p/--tls/--cacert and -u rediss:// against a given TLS
# server, --insecure, and a wrong CA or a missing --tls refused at once with exit 1. Every run
# is checked for requests == -n and no errors, and the server for the keys the SETs wrote.
# Needs redis-server, redis-cli, openssl and python3.
#
#   tls_bench.sh UREDIS_BENCH
set -euo pipefail
bench=${1:?usage: tls_bench.sh path/to/uredis-bench}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$here/redis_server.sh"
# shellcheck source=tls_certificates.sh
source "$here/tls_certificates.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
n=3000

# check_run NAME: the -q --json run in $work/NAME.* did every request without an error.
check_run() {
  python3 - "$work/$1.json" "$n" "$1" <<'PY'
import json, sys
path, n, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = json.load(open(path))
assert [o["test"] for o in data] == ["SET", "GET"], (name, data)
for o in data:
    assert o["requests"] == n and o["errors"] == 0 and o["reconnects"] == 0, (name, o)
    assert o["ops_per_sec"] > 0, (name, o)
PY
  [ "$(grep -c 'requests per second' "$work/$1.out")" -eq 2 ] || fail "$1: $(cat "$work/$1.out")"
}

# The private server, with TLS: one command. (Its plaintext port is off: --tls is needed.)
timeout 60 "$bench" --tls -q -n "$n" -c 4 -P 8 -t set,get --json "$work/private.json" \
  > "$work/private.out" || fail "private TLS server: $(cat "$work/private.out")"
check_run private

c=$work/tls
make_tls_certificates "$c"
start_tls_redis tls "$c"
keys() { redis-cli --tls --cacert "$c/ca.crt" -h localhost -p "$tls_port" "$@"; }

# A given TLS server: flags, then -u rediss:// with its ssl_ca_certs, then --insecure.
timeout 60 "$bench" --tls --cacert "$c/ca.crt" -h localhost -p "$tls_port" -q -n "$n" -c 3 \
  -t set,get -r 100 --json "$work/flags.json" > "$work/flags.out" || fail "flags: $(cat "$work/flags.out")"
check_run flags
[ "$(keys DBSIZE)" -gt 1 ] || fail "the SETs over TLS left no keys"
timeout 60 "$bench" -u "rediss://localhost:$tls_port/3?ssl_ca_certs=$c/ca.crt" -q -n "$n" -c 2 \
  -t set,get --json "$work/url.json" > "$work/url.out" || fail "-u rediss://: $(cat "$work/url.out")"
check_run url
[ "$(keys -n 3 DBSIZE)" = 1 ] || fail "-u rediss://.../3 did not write to database 3"
timeout 60 "$bench" --tls --insecure -h 127.0.0.1 -p "$tls_port" -q -n "$n" -c 1 -P 16 \
  -t set,get --json "$work/insecure.json" > "$work/insecure.out" || fail "--insecure: $(cat "$work/insecure.out")"
check_run insecure

# Refused: a wrong CA, the wrong host for the certificate, plaintext to a TLS port.
refused() {
  local name=$1 pattern=$2
  shift 2
  local status=0
  timeout 30 "$bench" "$@" -q -n 100 -t get > "$work/refused.out" 2> "$work/refused.err" || status=$?
  [ "$status" -eq 1 ] || fail "$name: exit $status, expected 1"
  grep -q -- "$pattern" "$work/refused.err" || fail "$name: stderr '$(cat "$work/refused.err")'"
}
refused "wrong CA" "cannot connect to localhost:$tls_port: the server's TLS certificate is not signed" \
  --tls --cacert "$c/other.crt" -h localhost -p "$tls_port"
refused "host not in the certificate" "does not name the host" \
  --tls --cacert "$c/ca.crt" -h 127.0.0.1 -p "$tls_port"
refused "no --tls" "cannot connect to localhost:$tls_port" -h localhost -p "$tls_port"
status=0
"$bench" --tls --cert "$c/client.crt" -q -n 10 > /dev/null 2> "$work/usage.err" || status=$?
[ "$status" -eq 2 ] && grep -q -- "--cert and --key go together" "$work/usage.err" ||
  fail "--cert without --key: exit $status, '$(cat "$work/usage.err")'"
echo "tls_bench ok"
