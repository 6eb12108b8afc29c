#!/usr/bin/env bash
# uredis-cli -c against redis-cli -c on the same real Redis Cluster (3 primaries, 3 replicas, on
# loopback ports, made with redis-cli --cluster create): for every case the cluster is reset to
# the same contents, `redis-cli --no-raw -c FLAGS...` runs, the cluster is reset again,
# `uredis-cli -c FLAGS...` runs, and their stdout, stderr and exit status must be identical,
# byte for byte. Cases: SET and GET on keys of every primary, a MOVED from a node that does not
# own the key (and from a replica), hash tags, CROSSSLOT, ASK during a manual migration
# (CLUSTER SETSLOT IMPORTING and MIGRATING), commands piped on stdin (where redis-cli prints
# "-> Redirected to slot ..."), repeats ("3 GET k"), SSUBSCRIBE, -n (a cluster has database 0
# only), -a and --user, -3, a TLS cluster, and a redirect to a primary that is down.
#
# One difference is expected: commands on stdin that could not be sent (their node is down, or
# refused the set-up after a redirect) make uredis-cli exit 1 (run.hpp), where redis-cli's
# prompt exits 0. Those cases name the status uredis-cli must return.
#
#   cluster_matches_redis_cli.sh UREDIS_CLI
set -u

uredis_cli=$1
work=$(mktemp -d)
# shellcheck source=redis_server.sh
source "$(dirname "$0")/redis_server.sh"
require_redis_cli
# shellcheck source=tls_certificates.sh
source "$(dirname "$0")/tls_certificates.sh"
trap 'report_exit $? "$BASH_COMMAND"; stop_all_redis; rm -rf "$work"' EXIT

# start_cluster PREFIX COUNT REPLICAS START_FUNCTION [redis-server arguments...]: COUNT nodes
# named PREFIX0... (ports in PREFIX0_port...), made a cluster; the primaries' ports end up in
# ${PREFIX}_primaries, the replicas' in ${PREFIX}_replicas. create_flags: redis-cli's flags
# to reach the nodes (TLS).
create_flags=()
start_cluster() {
  local prefix=$1 count=$2 replicas=$3 start=$4
  shift 4
  local addresses=() ports=() i v
  for i in $(seq 0 $((count - 1))); do
    # The bus port below start_redis's range (20000 and up), so that they never collide. A file
    # of its own for the RDB a replica receives, or a node started later would load it.
    "$start" "$prefix$i" --cluster-enabled yes --cluster-config-file "$prefix$i-nodes.conf" \
      --dbfilename "$prefix$i.rdb" --cluster-port $((10000 + RANDOM % 10000)) \
      --cluster-node-timeout 60000 "$@"
    v="${prefix}${i}_port"
    ports+=("${!v}")
    addresses+=("127.0.0.1:${!v}")
  done
  if ! redis-cli "${create_flags[@]}" --cluster create "${addresses[@]}" \
    --cluster-replicas "$replicas" --cluster-yes > "$work/$prefix-create.log" 2>&1; then
    echo "FAIL: redis-cli --cluster create failed" >&2
    cat "$work/$prefix-create.log" >&2
    exit 1
  fi
  # Settled: every node says ok, knows every node, and names the same primaries for the same
  # slots. (Not CLUSTER SLOTS: it lists a replica only once the others heard of its first sync,
  # which takes seconds and matters to no case here.)
  local p first ok
  for _ in $(seq 200); do
    ok=1
    first=
    for p in "${ports[@]}"; do
      local info served
      info=$(redis-cli "${create_flags[@]}" -p "$p" CLUSTER INFO)
      served=$(redis-cli "${create_flags[@]}" -p "$p" CLUSTER NODES |
        awk '$3 ~ /master/ && NF >= 9 { print $2, $9 }' | sort)
      if [[ $info != *cluster_state:ok* || $info != *"cluster_known_nodes:$count"* ]] ||
        [ "$(wc -l <<< "$served")" -ne $((count / (replicas + 1))) ] ||
        { [ -n "$first" ] && [ "$served" != "$first" ]; }; then
        ok=0
        break
      fi
      first=$served
    done
    [ $ok = 1 ] && break
    sleep 0.1
  done
  if [ $ok = 0 ]; then
    echo "FAIL: the cluster did not settle" >&2
    exit 1
  fi
  local primaries=() others=()
  for p in "${ports[@]}"; do
    if [ "$(redis-cli "${create_flags[@]}" -p "$p" ROLE | head -n 1)" = master ]; then
      primaries+=("$p")
    else
      others+=("$p")
    fi
  done
  eval "${prefix}_primaries=(${primaries[*]})"
  eval "${prefix}_replicas=(${others[*]})"
}

# owner PORT SLOT: the port of the primary that serves SLOT, as node PORT sees it.
owner() {
  redis-cli "${create_flags[@]}" -p "$1" CLUSTER NODES | awk -v slot="$2" '
    $3 ~ /master/ {
      for (i = 9; i <= NF; i++) {
        n = split($i, r, "-")
        if (n == 1) r[2] = r[1]
        if (slot + 0 >= r[1] + 0 && slot + 0 <= r[2] + 0) {
          split($2, a, "[:@]")
          print a[2]
        }
      }
    }'
}

# The users of every node: the default one, open, and alice with a password (AUTH on every
# node a redirect leads to).
users=(--user alice on '>alicepw' '~*' '&*' '+@all')

start_cluster c 6 1 start_redis "${users[@]}"
seed=${c_primaries[0]}
replica=${c_replicas[0]}
echo "cluster: primaries ${c_primaries[*]}, replicas ${c_replicas[*]}"

# The migration the ASK cases run into: slot of {mig} moving from its owner to another primary.
mig_slot=$(redis-cli -p "$seed" CLUSTER KEYSLOT '{mig}')
mig_source=$(owner "$seed" "$mig_slot")
for p in "${c_primaries[@]}"; do
  if [ "$p" != "$mig_source" ]; then mig_target=$p; fi
done
mig_source_id=$(redis-cli -p "$mig_source" CLUSTER MYID)
mig_target_id=$(redis-cli -p "$mig_target" CLUSTER MYID)

# The keys the cases read and write, set again before every run (the lists and hashes emptied
# first). {mig}old is written once before the migration starts, at the source, and never
# changes; {mig}new lives at the target only (ASK) and is deleted there.
cat > "$work/seed" << 'EOF'
SET a "on the node of a"
SET b "on the node of b"
SET c "on the node of c"
SET counter 10
DEL list
RPUSH list x y "z z"
DEL hash
HSET hash f1 v1 f2 "two words"
SET {t}1 one
SET {t}2 two
EOF
redis-cli -c -p "$seed" SET '{mig}old' "migrating, still at the source" > /dev/null
redis-cli -p "$mig_target" CLUSTER SETSLOT "$mig_slot" IMPORTING "$mig_source_id" > /dev/null
redis-cli -p "$mig_source" CLUSTER SETSLOT "$mig_slot" MIGRATING "$mig_target_id" > /dev/null
# The ASK cases test nothing unless the source sends ASK for a key it does not have.
if [[ $(redis-cli -p "$mig_source" GET '{mig}new') != "ASK $mig_slot 127.0.0.1:$mig_target" ]]; then
  echo "FAIL: no ASK from the source of the migration" >&2
  exit 1
fi

# The same contents before every run; two processes, so that the cases stay quick.
reset_cluster() {
  printf 'ASKING\nDEL {mig}new\n' | redis-cli -p "$mig_target" > /dev/null
  redis-cli -c -p "$seed" < "$work/seed" > /dev/null
}
reset=reset_cluster

checks=0
failures=0

# compare NAME INPUT -- FLAGS_AND_COMMAND...: INPUT is a file for stdin (or /dev/null).
# uredis_status, when set, is the exit status uredis-cli must return instead of redis-cli's;
# run_timeout, when set, the seconds after which both are stopped (streams never end).
compare() {
  local name=$1 input=$2
  shift 3
  checks=$((checks + 1))
  $reset
  timeout "${run_timeout:-30}" redis-cli --no-raw "$@" < "$input" \
    > "$work/expected.out" 2> "$work/expected.err"
  local want=$?
  $reset
  timeout "${run_timeout:-30}" "$uredis_cli" "$@" < "$input" \
    > "$work/actual.out" 2> "$work/actual.err"
  local got=$?
  want=${uredis_status:-$want}
  if [ $want -ne $got ]; then
    echo "FAIL $name: exit status $got, expected $want"
    failures=$((failures + 1))
  elif ! cmp -s "$work/expected.out" "$work/actual.out"; then
    echo "FAIL $name: stdout differs (- redis-cli, + uredis-cli)"
    diff -u "$work/expected.out" "$work/actual.out" | head -n 30
    failures=$((failures + 1))
  elif ! cmp -s "$work/expected.err" "$work/actual.err"; then
    echo "FAIL $name: stderr differs (- redis-cli, + uredis-cli)"
    diff -u "$work/expected.err" "$work/actual.err" | head -n 20
    failures=$((failures + 1))
  elif [ ! -s "$work/expected.out" ] && [ ! -s "$work/expected.err" ]; then
    echo "FAIL $name: redis-cli printed nothing: the case tests nothing"
    failures=$((failures + 1))
  fi
}

# One-shot commands: no "-> Redirected" line, the redirect is followed silently.
oneshot=(
  'GET a'
  'GET b'
  'GET c'
  'GET missing'
  'SET a new'
  'SET c new'
  'INCR counter'
  'LRANGE list 0 -1'
  'HGETALL hash'
  'MGET {t}1 {t}2 {t}3'
  'MSET {t}1 x {t}2 y'
  'MGET a b'
  'MSET a 1 c 2'
  'DEL a b'
  'GET {mig}old'
  'GET {mig}new'
  'SET {mig}new v'
  'MGET {mig}old {mig}new'
  'PING'
  'CLUSTER KEYSLOT a'
  'SELECT 1'
)
for c in "${oneshot[@]}"; do
  eval "words=($c)"
  compare "oneshot: $c" /dev/null -- -c -p "$seed" "${words[@]}"
done
for c in 'GET a' 'GET b' 'GET c' 'SET b new' 'GET {mig}new' 'PING'; do
  eval "words=($c)"
  compare "oneshot from a replica: $c" /dev/null -- -c -p "$replica" "${words[@]}"
done
for flags in '-3' '--user alice -a alicepw' '-a alicepw --user alice --no-auth-warning' \
  '-a wrongpw --no-auth-warning' '-n 1' '-n 0' "-u redis://alice:alicepw@127.0.0.1:$seed"; do
  for c in 'GET a' 'HGETALL hash' 'SET {mig}new v'; do
    eval "words=($c)"
    # shellcheck disable=SC2086
    compare "oneshot $flags: $c" /dev/null -- -c -p "$seed" $flags "${words[@]}"
  done
done

# Commands on stdin: redis-cli's prompt, which prints "-> Redirected to slot [N] located at
# HOST:PORT" and stays on that node for the next command.
cat > "$work/mixed" << 'EOF'
GET a
GET b
GET c
SET a "set through a redirect"
GET a
3 GET b
3 INCR counter
MGET {t}1 {t}2
MGET a b
MULTI
SET {t}1 in-multi
GET {t}2
EXEC
PING
CLUSTER KEYSLOT c
GET {mig}old
GET {mig}new
SET {mig}new "written at the target"
GET {mig}new
GET {mig}old
MGET {mig}old {mig}new
DEL a b c
GET a
EOF
compare "stdin" "$work/mixed" -- -c -p "$seed"
compare "stdin from a replica" "$work/mixed" -- -c -p "$replica"
compare "stdin -3" "$work/mixed" -- -c -3 -p "$seed"
compare "stdin with AUTH" "$work/mixed" -- -c --user alice -a alicepw -p "$seed"
uredis_status=1 compare "stdin with a wrong password" "$work/mixed" -- -c -a wrongpw \
  --no-auth-warning -p "$seed"
# Every redirect fails its SELECT: the command is not sent, the next one runs on that node.
uredis_status=1 compare "stdin -n 1" "$work/mixed" -- -c -n 1 -p "$seed"

# SSUBSCRIBE to a node that does not serve the channel's slot: MOVED, and the subscription
# made again on the right node (redis-cli prints "Reading messages..." twice).
run_timeout=2 compare "oneshot: SSUBSCRIBE a" /dev/null -- -c -p "$seed" SSUBSCRIBE a
printf 'GET a\nSSUBSCRIBE b\n' > "$work/ssubscribe"
run_timeout=2 compare "stdin: SSUBSCRIBE b" "$work/ssubscribe" -- -c -p "$seed"

# A TLS cluster (3 primaries): redirects lead to TLS ports, reached with the same TLS flags.
make_tls_certificates "$work/tls"
tls_flags=(--tls --cacert "$work/tls/ca.crt" --sni localhost)
start_tls_node() {
  local name=$1
  shift
  start_tls_redis "$name" "$work/tls" --tls-cluster yes --tls-replication yes "$@"
}
create_flags=("${tls_flags[@]}")
start_cluster tls 3 0 start_tls_node
create_flags=()
tls_seed=${tls_primaries[0]}
reset_tls() {
  redis-cli "${tls_flags[@]}" -c -p "$tls_seed" < "$work/seed" > /dev/null
}
reset=reset_tls
for c in 'GET a' 'GET b' 'GET c' 'SET c new' 'MGET a b'; do
  eval "words=($c)"
  compare "oneshot --tls: $c" /dev/null -- -c -p "$tls_seed" "${tls_flags[@]}" "${words[@]}"
done
head -n 8 "$work/mixed" > "$work/short"
compare "stdin --tls" "$work/short" -- -c -p "$tls_seed" "${tls_flags[@]}"
reset=reset_cluster

# A redirect to a primary that is down: the nodes still name it (no failover within the node
# timeout). Every command after it tries that node again.
reset_cluster
a_owner=$(owner "$seed" "$(redis-cli -p "$seed" CLUSTER KEYSLOT a)")
if [ "$a_owner" = "$seed" ]; then
  echo "FAIL: the seed node owns a; the case needs another node" >&2
  exit 1
fi
for i in $(seq 0 5); do
  v="c${i}_port"
  if [ "${!v}" = "$a_owner" ]; then
    v="c${i}_pid"
    kill -9 "${!v}"
    wait "${!v}" 2> /dev/null
  fi
done
reset=:
compare "oneshot to a node that is down" /dev/null -- -c -p "$seed" GET a
compare "oneshot to a node that is up" /dev/null -- -c -p "$seed" GET b
printf 'GET b\nGET a\nGET b\nSET c x\n' > "$work/down"
uredis_status=1 compare "stdin to a node that is down" "$work/down" -- -c -p "$seed"

echo "$checks checks, $failures failures"
[ $failures -eq 0 ]
