#!/usr/bin/env bash
# Highly available Postgres and Redis on loopback, for `GIFTCARD_HA=1
# deploy/local/stack.sh up` and the `ha` tests: one etcd, Patroni clusters of
# three Postgres nodes (synchronous_mode: a commit is acknowledged only once
# a standby has it), and a Redis master with a replica watched by three
# Sentinels. Source it (after servers.sh), then call the functions. Works as
# root (Patroni and Postgres run as the 'postgres' user then) and as a normal
# user. Debian 12 packages: patroni, etcd-server, redis-sentinel.
#
# Failure detection is tuned for tests on one machine (Patroni ttl 10 s,
# loop_wait 2 s, retry_timeout 4 s; Sentinel down-after 1 s); production
# keeps Patroni's defaults (30/10/10) or what its network needs, see
# docs/scaling.md.

GIFTCARD_REDIS_MASTER_NAME=${GIFTCARD_REDIS_MASTER_NAME:-giftcard}

giftcard_ha_check_tools() {
  local missing=() t
  for t in etcd patroni patronictl redis-sentinel curl python3; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "HA stack needs: ${missing[*]} (apt install patroni etcd-server redis-sentinel;" \
      "scripts/install-deps.sh installs them)" >&2
    return 1
  fi
}

# Runs a command as the Postgres server user, replacing this process (no
# runuser parent left behind), so that `$!` of a background call is the
# command's own pid: a kill -9 of it is a kill -9 of Patroni.
giftcard_exec_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    exec "$@"
  fi
}

# giftcard_ha_port DIR → a free loopback port for a server the HA engines
# start themselves (they bind later, not at once): below the kernel's
# ephemeral range, so no client socket of the load can be holding it, and
# never one handed out before under DIR (DIR/ports).
giftcard_ha_port() {
  local dir=$1 low high port
  read -r low high </proc/sys/net/ipv4/ip_local_port_range
  mkdir -p "$dir"
  touch "$dir/ports"
  while true; do
    port=$(( 10000 + (RANDOM * 32768 + RANDOM) % (low - 10000) ))
    giftcard_port_busy "$port" && continue
    grep -qx "$port" "$dir/ports" && continue
    echo "$port" >>"$dir/ports"
    echo "$port"
    return
  done
}

# giftcard_etcd_start DIR → prints the client port.
giftcard_etcd_start() {
  local dir=$1 client peer i
  mkdir -p "$dir/data"
  client=$(giftcard_ha_port "$dir/..")
  peer=$(giftcard_ha_port "$dir/..")
  setsid etcd --name default --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "default=http://127.0.0.1:$peer" </dev/null >>"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  for i in $(seq 1 100); do
    if curl -fs "http://127.0.0.1:$client/health" 2>/dev/null | grep -q true; then
      echo "$client" >"$dir/etcd.port"
      echo "$client"
      return 0
    fi
    sleep 0.1
  done
  echo "etcd failed to start; see $dir/etcd.log" >&2
  return 1
}

giftcard_etcd_stop() {
  local dir=$1
  [[ -f "$dir/etcd.pid" ]] || return 0
  giftcard_kill_and_wait TERM 15 "$(cat "$dir/etcd.pid")"
  rm -f "$dir/etcd.pid" "$dir/etcd.port"
}

# giftcard_patroni_start DIR SCOPE ETCD_PORT [NODES]: a cluster of NODES
# (default 3) Patroni nodes in DIR/SCOPE/node1.., each with its own Postgres
# and REST ports; DIR/SCOPE/nodes lists "name pg_port rest_port" per node.
# Returns at once; giftcard_patroni_wait_healthy waits for it.
# With GIFTCARD_PATRONI_PGBACKREST=CONFIG, the leader archives every WAL
# segment through pgBackRest (stanza SCOPE of CONFIG), whichever node leads
# (archive_mode=on: pgBackRest's backup refuses `always`).
giftcard_patroni_start() {
  local dir=$1 scope=$2 etcd_port=$3 nodes=${4:-3} bin i archive=""
  bin=$(giftcard_pg_bin) || return 1
  if [[ -n ${GIFTCARD_PATRONI_PGBACKREST:-} ]]; then
    archive="        archive_mode: 'on'
        archive_timeout: 60"
  fi
  mkdir -p "$dir/$scope"
  chmod 755 "$dir" "$dir/$scope"
  : >"$dir/$scope/nodes"
  for i in $(seq 1 "$nodes"); do
    local node="$scope-$i" ndir="$dir/$scope/node$i" pg_port rest_port
    pg_port=$(giftcard_ha_port "$dir")
    rest_port=$(giftcard_ha_port "$dir")
    mkdir -p "$ndir/sock"
    cat >"$ndir/patroni.yml" <<YAML
scope: $scope
namespace: /giftcard/
name: $node
log:
  dir: $ndir
restapi:
  listen: 127.0.0.1:$rest_port
  connect_address: 127.0.0.1:$rest_port
etcd3:
  hosts: 127.0.0.1:$etcd_port
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 200
$archive
  initdb:
    - encoding: UTF8
    - no-locale
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$pg_port
  connect_address: 127.0.0.1:$pg_port
  data_dir: $ndir/data
  pgpass: $ndir/pgpass
  bin_dir: $bin
  authentication:
    superuser: {username: postgres}
    replication: {username: postgres}
    rewind: {username: postgres}
  parameters:
    unix_socket_directories: $ndir/sock
YAML
    # pgBackRest pushes WAL from the data directory its pg1-path names:
    # this node's, whichever node leads.
    [[ -n $archive ]] && cat >>"$ndir/patroni.yml" <<YAML
    archive_command: 'pgbackrest --config=$GIFTCARD_PATRONI_PGBACKREST --stanza=$scope --pg1-path=$ndir/data archive-push %p'
YAML
    echo "$node $pg_port $rest_port" >>"$dir/$scope/nodes"
    [[ $(id -u) -eq 0 ]] && chown -R postgres "$ndir"
    giftcard_patroni_node_start "$dir" "$scope" "$i"
  done
}

# giftcard_patroni_node_start DIR SCOPE I [fresh]: starts node I (again);
# `fresh` first deletes its data, as a replacement machine would join.
giftcard_patroni_node_start() {
  local ndir="$1/$2/node$3"
  [[ ${4:-} == fresh ]] && rm -rf "$ndir/data"
  (cd "$ndir" && giftcard_exec_as_pg setsid patroni "$ndir/patroni.yml" \
    </dev/null >>"$ndir/patroni.out" 2>&1) &
  echo $! >"$ndir/patroni.pid"
}

# giftcard_patroni_kill DIR SCOPE I: the node dies as its machine would:
# kill -9 to Patroni, its postmaster and every backend at once.
giftcard_patroni_kill() {
  local ndir="$1/$2/node$3" pids=() pm
  [[ -f "$ndir/patroni.pid" ]] && pids+=("$(cat "$ndir/patroni.pid")")
  if [[ -f "$ndir/data/postmaster.pid" ]]; then
    pm=$(head -1 "$ndir/data/postmaster.pid")
    pids+=("$pm")
    # shellcheck disable=SC2207
    pids+=($(pgrep -P "$pm" || true))
  fi
  [[ ${#pids[@]} -gt 0 ]] && kill -KILL "${pids[@]}" 2>/dev/null
  rm -f "$ndir/patroni.pid"
  return 0
}

# giftcard_patroni_stop DIR SCOPE: stops every node (Patroni stops its Postgres).
giftcard_patroni_stop() {
  local dir=$1 scope=$2 ndir pm pids=()
  [[ -f "$dir/$scope/nodes" ]] || return 0
  for ndir in "$dir/$scope"/node*; do
    [[ -f "$ndir/patroni.pid" ]] && pids+=("$(cat "$ndir/patroni.pid")")
  done
  [[ ${#pids[@]} -gt 0 ]] && giftcard_kill_and_wait TERM 15 "${pids[@]}"
  for ndir in "$dir/$scope"/node*; do
    rm -f "$ndir/patroni.pid"
    # A Postgres left behind by a killed Patroni.
    if [[ -f "$ndir/data/postmaster.pid" ]]; then
      pm=$(head -1 "$ndir/data/postmaster.pid")
      giftcard_kill_and_wait QUIT 15 "$pm"
    fi
  done
}

# giftcard_patroni_restore DIR SCOPE PGBACKREST_CONF TARGET: the cluster as
# it was at TARGET (pgBackRest's "YYYY-MM-DD HH:MM:SS.mmm+00"), by Patroni's
# own way to bootstrap from a backup: every node stopped, the cluster's
# state in etcd removed, every data directory emptied; node 1 bootstraps
# with pgBackRest's point-in-time restore (Patroni waits for its promotion),
# then the others join it as new replicas. Returns once node 1 was started;
# giftcard_patroni_restore_finish does the rest.
giftcard_patroni_restore() {
  local dir=$1 scope=$2 conf=$3 target=$4 ndir
  giftcard_patroni_stop "$dir" "$scope"
  printf '%s\nYes I am aware\n' "$scope" |
    patronictl -c "$dir/$scope/node1/patroni.yml" remove "$scope" >/dev/null 2>&1 || {
    echo "patronictl remove $scope failed" >&2
    return 1
  }
  for ndir in "$dir/$scope"/node*; do rm -rf "$ndir/data"; done
  ndir="$dir/$scope/node1"
  # Read only while no node of the cluster was initialized, so only by
  # this bootstrap; giftcard_patroni_restore_finish takes it out again.
  sed -i "/^bootstrap:\$/a\\
  # restore-begin\\
  method: pgbackrest_pitr\\
  pgbackrest_pitr:\\
    command: 'pgbackrest --config=$conf --stanza=$scope --type=time \"--target=$target\" --target-action=promote restore'\\
    keep_existing_recovery_conf: true\\
    no_params: true\\
  # restore-end" "$ndir/patroni.yml"
  giftcard_patroni_node_start "$dir" "$scope" 1
}

# giftcard_patroni_restore_finish DIR SCOPE [SECONDS]: waits until the
# restored node 1 leads and takes writes, then starts the other nodes on
# empty data directories (they copy it) and waits until the cluster is
# healthy.
giftcard_patroni_restore_finish() {
  local dir=$1 scope=$2 timeout=${3:-180} i n
  n=$(wc -l <"$dir/$scope/nodes")
  for i in $(seq 1 $((timeout * 2))); do
    psql "$(giftcard_patroni_dsn "$dir" "$scope") dbname=postgres target_session_attrs=read-write" \
      -qAt -c 'SELECT 1' >/dev/null 2>&1 && break
    if [[ $i == $((timeout * 2)) ]]; then
      echo "patroni cluster $scope: restored node not leading after ${timeout}s;" \
        "see $dir/$scope/node1/patroni.log" >&2
      return 1
    fi
    sleep 0.5
  done
  sed -i '/# restore-begin/,/# restore-end/d' "$dir/$scope/node1/patroni.yml"
  for i in $(seq 2 "$n"); do giftcard_patroni_node_start "$dir" "$scope" "$i" fresh; done
  giftcard_patroni_wait_healthy "$dir" "$scope" "$timeout"
}

# giftcard_patroni_cluster_json DIR SCOPE → Patroni's /cluster document, from
# the first node that answers.
giftcard_patroni_cluster_json() {
  local dir=$1 scope=$2 name pg rest
  while read -r name pg rest; do
    curl -fs -m 2 "http://127.0.0.1:$rest/cluster" 2>/dev/null && return 0
  done <"$dir/$scope/nodes"
  return 1
}

# giftcard_patroni_leader DIR SCOPE → "NAME PG_PORT" of the member that leads
# and runs, or fails.
giftcard_patroni_leader() {
  giftcard_patroni_cluster_json "$1" "$2" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["members"]:
    if m["role"] == "leader" and m["state"] == "running":
        print(m["name"], m["port"]); sys.exit(0)
sys.exit(1)'
}

# giftcard_patroni_wait_healthy DIR SCOPE [SECONDS]: waits until a leader
# runs and accepts writes, a synchronous standby is assigned and every member
# runs. DIR/SCOPE/nodes says how many members there are.
giftcard_patroni_wait_healthy() {
  local dir=$1 scope=$2 timeout=${3:-90} want i
  want=$(wc -l <"$dir/$scope/nodes")
  for i in $(seq 1 $((timeout * 2))); do
    if giftcard_patroni_cluster_json "$dir" "$scope" 2>/dev/null | python3 -c '
import json, sys
ms = json.load(sys.stdin)["members"]
ok = (len(ms) == int(sys.argv[1]) and all(m["state"] == "running" for m in ms)
      and sum(m["role"] == "leader" for m in ms) == 1
      and any(m["role"] == "sync_standby" for m in ms))
sys.exit(0 if ok else 1)' "$want" 2>/dev/null; then
      psql "$(giftcard_patroni_dsn "$dir" "$scope") dbname=postgres target_session_attrs=read-write" \
        -qAt -c 'SELECT 1' >/dev/null 2>&1 && return 0
    fi
    sleep 0.5
  done
  echo "patroni cluster $scope not healthy after ${timeout}s; see $dir/$scope/node*/patroni.log" >&2
  return 1
}

# giftcard_patroni_dsn DIR SCOPE → a libpq multi-host DSN naming every node
# (add target_session_attrs and dbname).
giftcard_patroni_dsn() {
  local hosts="" ports="" name pg rest
  while read -r name pg rest; do
    hosts+="${hosts:+,}127.0.0.1"
    ports+="${ports:+,}$pg"
  done <"$1/$2/nodes"
  echo "host=$hosts port=$ports user=postgres"
}

# giftcard_patroni_list DIR SCOPE: patronictl's table (who leads, who is the
# synchronous standby, lag).
giftcard_patroni_list() {
  patronictl -c "$1/$2/node1/patroni.yml" list 2>/dev/null
}

# giftcard_redis_ha_start DIR: a Redis master, one replica and three
# Sentinels that watch them (quorum 2). DIR/master.port, DIR/replica.port and
# DIR/sentinels ("127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3").
giftcard_redis_ha_start() {
  local dir=$1 master replica i port sentinels=""
  mkdir -p "$dir/master" "$dir/replica"
  master=$(giftcard_redis_start "$dir/master") || return 1
  replica=$(GIFTCARD_REDIS_REPLICAOF="127.0.0.1 $master" giftcard_redis_start "$dir/replica") ||
    return 1
  echo "$master" >"$dir/master.port"
  echo "$replica" >"$dir/replica.port"
  for i in 1 2 3; do
    local sdir="$dir/sentinel$i"
    mkdir -p "$sdir"
    port=$(giftcard_ha_port "$dir/..")
    cat >"$sdir/sentinel.conf" <<CONF
bind 127.0.0.1
port $port
daemonize yes
pidfile $sdir/sentinel.pid
logfile $sdir/sentinel.log
dir $sdir
sentinel monitor $GIFTCARD_REDIS_MASTER_NAME 127.0.0.1 $master 2
sentinel down-after-milliseconds $GIFTCARD_REDIS_MASTER_NAME 1000
sentinel failover-timeout $GIFTCARD_REDIS_MASTER_NAME 10000
sentinel parallel-syncs $GIFTCARD_REDIS_MASTER_NAME 1
CONF
    redis-sentinel "$sdir/sentinel.conf" >/dev/null 2>&1 || return 1
    echo "$port" >"$sdir/sentinel.port"
    sentinels+="${sentinels:+,}127.0.0.1:$port"
  done
  echo "$sentinels" >"$dir/sentinels"
  giftcard_redis_ha_wait_healthy "$dir"
}

# giftcard_redis_ha_master DIR → "HOST PORT" of the master the Sentinels name.
giftcard_redis_ha_master() {
  local p
  p=$(cat "$1/sentinel1/sentinel.port")
  redis-cli -p "$p" sentinel get-master-addr-by-name "$GIFTCARD_REDIS_MASTER_NAME" 2>/dev/null |
    paste -sd' '
}

# giftcard_redis_ha_wait_healthy DIR [SECONDS]: every Sentinel knows the
# master, the other Sentinels and a replica, and that master answers.
giftcard_redis_ha_wait_healthy() {
  local dir=$1 timeout=${2:-30} i s ok
  for i in $(seq 1 $((timeout * 5))); do
    ok=1
    for s in 1 2 3; do
      local info
      info=$(redis-cli -p "$(cat "$dir/sentinel$s/sentinel.port")" info sentinel 2>/dev/null)
      [[ $info == *"status=ok"*"slaves=1,sentinels=3"* ]] || ok=0
    done
    if [[ $ok == 1 ]]; then
      local master
      master=$(giftcard_redis_ha_master "$dir")
      redis-cli -p "${master#* }" ping >/dev/null 2>&1 && return 0
    fi
    sleep 0.2
  done
  echo "redis sentinels not healthy after ${timeout}s; see $dir/sentinel*/sentinel.log" >&2
  return 1
}

# giftcard_redis_ha_stop DIR
giftcard_redis_ha_stop() {
  local dir=$1 s
  for s in "$dir"/sentinel*; do
    [[ -f "$s/sentinel.port" ]] || continue
    redis-cli -p "$(cat "$s/sentinel.port")" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$s/sentinel.port"
  done
  giftcard_redis_stop "$dir/replica"
  giftcard_redis_stop "$dir/master"
}

# giftcard_ha_stop_all DIR: stops whatever the functions above started
# under DIR: every Patroni cluster, the Redis servers and Sentinels, etcd.
# The clusters and Redis stop side by side (each mostly waits on its
# shutdown checkpoint); etcd last, once no Patroni needs it.
giftcard_ha_stop_all() {
  local dir=$1 nodes
  for nodes in "$dir"/*/nodes; do
    [[ -f $nodes ]] && giftcard_patroni_stop "$dir" "$(basename "$(dirname "$nodes")")" &
  done
  [[ -d "$dir/redis" ]] && giftcard_redis_ha_stop "$dir/redis" &
  wait
  giftcard_etcd_stop "$dir/etcd"
  return 0
}
