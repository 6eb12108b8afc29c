#!/usr/bin/env bash
# uredis-cli's TLS flags against real TLS redis-servers, beside redis-cli where both mean to
# behave alike: each flag reaches the connection (a wrong CA is refused, --insecure connects,
# --cacertdir, --cert/--key for tls-auth-clients, --sni, --tls-ciphers, --tls-ciphersuites,
# -u rediss://), and the failures print redis-cli's lines with its exit status.
#
#   tls_cli.sh UREDIS_CLI
set -u

uredis_cli=$1
for tool in redis-cli openssl; do
  command -v "$tool" > /dev/null || { echo "FAIL: $tool is not on PATH" >&2; exit 1; }
done

work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
# shellcheck source=tls_certificates.sh
source "$(dirname "$0")/tls_certificates.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT

checks=0
failures=0
fail() {
  echo "FAIL $1"
  failures=$((failures + 1))
}

# run WHICH ARGS...: redis-cli (WHICH=expected) or uredis-cli (actual), stdin empty; output in
# $work/WHICH.out, .err, .status.
run() {
  local which=$1
  shift
  local tool=$uredis_cli
  [ "$which" = expected ] && tool=redis-cli
  timeout 30 "$tool" "$@" < /dev/null > "$work/$which.out" 2> "$work/$which.err"
  echo $? > "$work/$which.status"
}

# ok NAME EXPECTED_STDOUT ARGS...: uredis-cli succeeds and prints EXPECTED_STDOUT.
ok() {
  local name=$1 want=$2
  shift 2
  checks=$((checks + 1))
  run actual "$@"
  if [ "$(cat "$work/actual.status")" != 0 ] || [ "$(cat "$work/actual.out")" != "$want" ]; then
    fail "$name: status $(cat "$work/actual.status"), stdout '$(cat "$work/actual.out")'," \
      "stderr '$(cat "$work/actual.err")'"
  fi
}

# refused NAME STDERR_PATTERN ARGS...: uredis-cli exits 1, prints nothing on stdout, and its
# stderr matches the glob STDERR_PATTERN.
refused() {
  local name=$1 pattern=$2
  shift 2
  checks=$((checks + 1))
  run actual "$@"
  local err
  err=$(cat "$work/actual.err")
  # shellcheck disable=SC2053 # a glob on purpose
  if [ "$(cat "$work/actual.status")" != 1 ] || [ -s "$work/actual.out" ] || [[ $err != $pattern ]]; then
    fail "$name: status $(cat "$work/actual.status"), stdout '$(cat "$work/actual.out")'," \
      "stderr '$err' (wanted '$pattern')"
  fi
}

# same NAME ARGS...: uredis-cli and redis-cli print the same (redis-cli prints some lines
# twice: compared once) and exit with the same status.
same() {
  local name=$1
  shift
  checks=$((checks + 1))
  run expected "$@"
  run actual "$@"
  local w
  for w in out err status; do
    if [ "$(uniq "$work/expected.$w")" != "$(cat "$work/actual.$w")" ]; then
      fail "$name: $w differs: redis-cli '$(cat "$work/expected.$w")'," \
        "uredis-cli '$(cat "$work/actual.$w")'"
    fi
  done
}

c=$work/tls
make_tls_certificates "$c"
start_tls_redis tls "$c"
start_tls_redis mutual "$c" --tls-auth-clients yes
# TLS 1.2 only, one cipher; TLS 1.3 only, one suite.
start_tls_redis tls12 "$c" --tls-protocols TLSv1.2 --tls-ciphers ECDHE-RSA-AES128-GCM-SHA256
start_tls_redis tls13 "$c" --tls-protocols TLSv1.3 --tls-ciphersuites TLS_AES_128_GCM_SHA256
start_redis plain

at=(-h localhost -p "$tls_port")

# The CA: the right one, a wrong one, a directory, none (the system's store), one that is not there.
ok "--cacert" PONG --tls --cacert "$c/ca.crt" "${at[@]}" PING
same "wrong --cacert" --tls --cacert "$c/other.crt" "${at[@]}" PING
refused "wrong --cacert's exact line" \
  "Could not connect to Redis at localhost:$tls_port: SSL_connect failed: certificate verify failed" \
  --tls --cacert "$c/other.crt" "${at[@]}" PING
ok "--cacertdir" PONG --tls --cacertdir "$c/cadir" "${at[@]}" PING
same "no CA: the system's store does not know ours" --tls "${at[@]}" PING
same "a --cacert that is not there" --tls --cacert "$c/missing.crt" "${at[@]}" PING
refused "a --cacert that is not there: redis-cli's words" \
  "Could not negotiate a TLS connection: Invalid CA Certificate File/Directory" \
  --tls --cacert "$c/missing.crt" "${at[@]}" PING
refused "a --cacert that is not PEM" "Could not negotiate a TLS connection: *" \
  --tls --cacert "$c/server.ext" "${at[@]}" PING

# --insecure: a wrong CA, and a host the certificate does not name, are both let through.
ok "--insecure" PONG --tls --insecure --cacert "$c/other.crt" "${at[@]}" PING
ok "--insecure, by address" PONG --tls --insecure -h 127.0.0.1 -p "$tls_port" PING

# --sni: the certificate names localhost and redis.test, not 127.0.0.1.
refused "by address, no --sni" \
  "Could not connect to Redis at 127.0.0.1:$tls_port: SSL_connect failed: *does not name the host*" \
  --tls --cacert "$c/ca.crt" -h 127.0.0.1 -p "$tls_port" PING
ok "by address, --sni redis.test" PONG \
  --tls --cacert "$c/ca.crt" --sni redis.test -h 127.0.0.1 -p "$tls_port" PING
refused "--sni another name" "Could not connect to Redis at localhost:$tls_port: SSL_connect failed: *" \
  --tls --cacert "$c/ca.crt" --sni wrong.test "${at[@]}" PING

# --cert/--key with tls-auth-clients yes.
m=(--tls --cacert "$c/ca.crt" -h localhost -p "$mutual_port")
ok "--cert --key" PONG "${m[@]}" --cert "$c/client.crt" --key "$c/client.key" PING
refused "no client certificate" "Could not connect to Redis at localhost:$mutual_port: *" "${m[@]}" PING
refused "a key that is not the certificate's" "Could not negotiate a TLS connection: *" \
  "${m[@]}" --cert "$c/client.crt" --key "$c/other.key" PING
refused "a --key that is not there: redis-cli's words" \
  "Could not negotiate a TLS connection: Invalid private key" \
  "${m[@]}" --cert "$c/client.crt" --key "$c/missing.key" PING
checks=$((checks + 1))
run actual "${m[@]}" --cert "$c/client.crt" PING
[ "$(cat "$work/actual.status")" = 2 ] && grep -q -- "--cert and --key go together" "$work/actual.err" ||
  fail "--cert without --key: status $(cat "$work/actual.status"), stderr '$(cat "$work/actual.err")'"

# --tls-ciphers (TLS 1.2) and --tls-ciphersuites (TLS 1.3): the server's one, or another.
t12=(--tls --cacert "$c/ca.crt" -h localhost -p "$tls12_port")
t13=(--tls --cacert "$c/ca.crt" -h localhost -p "$tls13_port")
ok "--tls-ciphers the server's" PONG "${t12[@]}" --tls-ciphers ECDHE-RSA-AES128-GCM-SHA256 PING
refused "--tls-ciphers another" "Could not connect to Redis at localhost:$tls12_port: *" \
  "${t12[@]}" --tls-ciphers ECDHE-RSA-AES256-GCM-SHA384 PING
ok "--tls-ciphersuites the server's" PONG "${t13[@]}" --tls-ciphersuites TLS_AES_128_GCM_SHA256 PING
refused "--tls-ciphersuites another" "Could not connect to Redis at localhost:$tls13_port: *" \
  "${t13[@]}" --tls-ciphersuites TLS_AES_256_GCM_SHA384 PING

# -u rediss://, its ssl_* parameters, flags after it.
ok "-u rediss:// ?ssl_ca_certs" PONG -u "rediss://localhost:$tls_port?ssl_ca_certs=$c/ca.crt" PING
ok "-u rediss:// --cacert" PONG -u "rediss://localhost:$tls_port" --cacert "$c/ca.crt" PING
same "-u rediss:// with a wrong CA" -u "rediss://localhost:$tls_port" --cacert "$c/other.crt" PING
ok "-u rediss:// ?ssl_cert_reqs=none" PONG -u "rediss://127.0.0.1:$tls_port?ssl_cert_reqs=none" PING

# Plaintext to a TLS port, TLS to a plaintext port, nothing listening: exit 1, the address named.
refused "plaintext to a TLS port" "*localhost:$tls_port*" "${at[@]}" PING
refused "TLS to a plaintext port" "Could not connect to Redis at 127.0.0.1:$plain_port: *" \
  --tls --cacert "$c/ca.crt" -p "$plain_port" PING
port=$(dead_port)
same "TLS, nothing listening" --tls --cacert "$c/ca.crt" -p "$port" PING

# Commands from stdin, over TLS (--pipe and the streaming commands: tls_raw_modes.sh).
checks=$((checks + 1))
printf 'SET k v\nGET k\nINCR n\n' |
  timeout 30 "$uredis_cli" --tls --cacert "$c/ca.crt" "${at[@]}" > "$work/lines.out" 2>&1
[ "$(cat "$work/lines.out")" = "$(printf 'OK\n"v"\n(integer) 1')" ] ||
  fail "commands from stdin: '$(cat "$work/lines.out")'"

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
