# Test certificates for the tools' TLS tests, made with openssl at run time, sourced (bash):
#
#   source tls_certificates.sh
#   make_tls_certificates "$work/tls"
#
# makes in that directory:
#   ca.crt                  the CA the servers' certificates lead to
#   server.crt, server.key  for DNS:localhost and DNS:redis.test only (no IP address: a client
#                           that connects to 127.0.0.1 must send --sni to be accepted)
#   client.crt, client.key  a client certificate of the same CA (tls-auth-clients yes)
#   other.crt               a CA that signed nothing here (a wrong --cacert)
#   cadir/                  ca.crt under its OpenSSL hash name (--cacertdir)

make_tls_certificates() {
  local d=$1
  mkdir -p "$d/cadir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=uredis-test-ca \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2> /dev/null || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=uredis-other-ca \
    -keyout "$d/other.key" -out "$d/other.crt" 2> /dev/null || return 1
  echo "subjectAltName=DNS:localhost,DNS:redis.test" > "$d/server.ext"
  echo "extendedKeyUsage=clientAuth" > "$d/client.ext"
  local who
  for who in server client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$d/$who.key" \
      -out "$d/$who.csr" 2> /dev/null || return 1
    openssl x509 -req -days 2 -in "$d/$who.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
      -CAcreateserial -extfile "$d/$who.ext" -out "$d/$who.crt" 2> /dev/null || return 1
  done
  cp "$d/ca.crt" "$d/cadir/$(openssl x509 -hash -noout -in "$d/ca.crt").0"
}

# start_tls_redis NAME CERT_DIR [redis-server arguments...]: start_redis with TLS only, on
# ${NAME}_port, with the certificates of make_tls_certificates.
start_tls_redis() {
  local name=$1 d=$2
  shift 2
  start_redis "$name" --tls-only --tls-cert-file "$d/server.crt" --tls-key-file "$d/server.key" \
    --tls-ca-cert-file "$d/ca.crt" --tls-auth-clients no "$@"
}
