#!/usr/bin/env bash
# uredis-lock over TLS: -u rediss:// and the TLS flags reach the connection (the lock is taken
# and released on a TLS-only server, a wrong CA is refused with exit 1 before the command runs,
# --insecure and --cert/--key work), and --redlock lays the flags over every server.
#
#   tls_lock.sh UREDIS_LOCK
set -euo pipefail
lock=${1:?usage: tls_lock.sh path/to/uredis-lock}
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
c=$work/tls
make_tls_certificates "$c"
start_tls_redis one "$c"
start_tls_redis mutual "$c" --tls-auth-clients yes
for i in a b c; do start_tls_redis "red$i" "$c"; done
keys() { redis-cli --tls --cacert "$c/ca.crt" -h localhost "$@"; }

# The command runs under the lock; the fencing counter on the TLS server proves where it was.
out=$(timeout 30 "$lock" -u "rediss://localhost:$one_port" --cacert "$c/ca.crt" job -- \
  sh -c 'echo "token $UREDIS_LOCK_TOKEN"')
[[ $out == "token "[0-9]* ]] || fail "-u rediss:// --cacert: '$out'"
[ "$(keys -p "$one_port" EXISTS job)" = 0 ] || fail "the lock was not released"
[ "$(keys -p "$one_port" DBSIZE)" = 1 ] || fail "no fencing counter on the TLS server"
timeout 30 "$lock" --tls --insecure -h 127.0.0.1 -p "$one_port" job -- true ||
  fail "--tls --insecure"
timeout 30 "$lock" --tls --cacert "$c/ca.crt" --cert="$c/client.crt" --key "$c/client.key" \
  -h localhost -p "$mutual_port" job -- true || fail "--cert/--key on tls-auth-clients yes"

# Refused before the command runs: exit 1, the address named, nothing run.
status=0
timeout 30 "$lock" --tls --cacert "$c/other.crt" -h localhost -p "$one_port" job -- \
  touch "$work/ran" 2> "$work/err" || status=$?
[ "$status" -eq 1 ] || fail "wrong CA: exit $status"
[ ! -e "$work/ran" ] || fail "wrong CA: the command ran"
grep -q "localhost:$one_port.*not signed by a trusted CA" "$work/err" || fail "wrong CA: '$(cat "$work/err")'"
status=0
timeout 30 "$lock" --tls --cacert "$c/ca.crt" -h localhost -p "$mutual_port" job -- true \
  2> "$work/err" || status=$?
[ "$status" -eq 1 ] || fail "no client certificate: exit $status ($(cat "$work/err"))"

# Redlock over three TLS servers, the CA given once for all.
urls="rediss://localhost:$reda_port,rediss://localhost:$redb_port,rediss://localhost:$redc_port"
timeout 30 "$lock" --redlock "$urls" --cacert "$c/ca.crt" job -- true || fail "--redlock over TLS"
for p in "$reda_port" "$redb_port" "$redc_port"; do
  [ "$(keys -p "$p" DBSIZE)" = 1 ] || fail "redlock: no fencing counter on $p"
done
echo "tls_lock ok"
