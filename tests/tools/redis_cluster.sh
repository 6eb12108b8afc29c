# A real Redis Cluster of primaries only, for the shell tests and scripts/cluster_bench.sh,
# sourced after redis_server.sh (bash).
#
#   source redis_server.sh; source redis_cluster.sh
#   start_primaries c 3          # nodes c0 c1 c2 (c0_port ...), made a cluster; their ports in
#                                # c_ports; returns once every node says cluster_state:ok
#
# The nodes are start_redis servers (stop_all_redis stops them) with cluster-enabled yes, a
# bus port below start_redis's range (so the two never collide), joined by
# `redis-cli --cluster create --cluster-yes`, which spreads the slots evenly.

# start_primaries PREFIX COUNT [redis-server arguments...]
start_primaries() {
  local prefix=$1 count=$2
  shift 2
  local addresses=() ports=() i v
  for i in $(seq 0 $((count - 1))); do
    start_redis "$prefix$i" --cluster-enabled yes --cluster-config-file "$prefix$i-nodes.conf" \
      --dbfilename "$prefix$i.rdb" --cluster-port $((10000 + RANDOM % 10000)) "$@"
    v="${prefix}${i}_port"
    ports+=("${!v}")
    addresses+=("127.0.0.1:${!v}")
  done
  if ! redis-cli --cluster create "${addresses[@]}" --cluster-yes > "$work/$prefix-create.log" 2>&1; then
    echo "FAIL: redis-cli --cluster create failed" >&2
    cat "$work/$prefix-create.log" >&2
    exit 1
  fi
  local p ok
  for _ in $(seq 200); do
    ok=1
    for p in "${ports[@]}"; do
      if [[ $(redis-cli -p "$p" CLUSTER INFO) != *cluster_state:ok* ]]; then
        ok=0
        break
      fi
    done
    [ $ok = 1 ] && break
    sleep 0.1
  done
  if [ $ok = 0 ]; then
    echo "FAIL: the cluster did not reach cluster_state:ok" >&2
    exit 1
  fi
  eval "${prefix}_ports=(${ports[*]})"
}
