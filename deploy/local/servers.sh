#!/usr/bin/env bash
# Throwaway Postgres and Redis on loopback, shared by deploy/local/stack.sh and
# the CTest fixtures. Source it, then call the functions. Works as root (the
# Postgres server runs as the 'postgres' user then) and as a normal user.

giftcard_pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -n "$d" ]] || { echo "PostgreSQL server binaries not found (apt install postgresql)" >&2; return 1; }
  echo "$d"
}

# Runs a command as the Postgres server user: 'postgres' when we are root.
giftcard_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
giftcard_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

giftcard_random_port() {
  local port
  while true; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    giftcard_port_busy "$port" || { echo "$port"; return; }
  done
}

# giftcard_pg_start DIR → prints the port. DIR gets data/, sock/, pg.log.
# GIFTCARD_PG_OPTIONS adds server options, e.g. for profiling:
#   "-c shared_preload_libraries=pg_stat_statements"
giftcard_pg_start() {
  local dir=$1 bin port attempt
  bin=$(giftcard_pg_bin) || return 1
  mkdir -p "$dir/data" "$dir/sock"
  chmod 755 "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    chown -R postgres "$dir/data" "$dir/sock"
    touch "$dir/pg.log" && chown postgres "$dir/pg.log"
  fi
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    giftcard_as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale \
      --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    # Settings that must outlive restarts and restores (WAL archiving).
    if [[ -n ${GIFTCARD_PG_CONF:-} ]]; then
      printf '%s\n' "$GIFTCARD_PG_CONF" | giftcard_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
    fi
  fi
  for attempt in 1 2 3 4 5; do
    port=${GIFTCARD_PG_PORT:-$(giftcard_random_port)}
    if giftcard_as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c max_connections=200 ${GIFTCARD_PG_OPTIONS:-}" \
        start >/dev/null 2>&1; then
      echo "$port" >"$dir/pg.port"
      echo "$port"
      return 0
    fi
  done
  echo "postgres failed to start; see $dir/pg.log" >&2
  tail -20 "$dir/pg.log" >&2
  return 1
}

# giftcard_pg_restart DIR: starts a stopped cluster again on its old port.
giftcard_pg_restart() {
  local dir=$1 bin port
  bin=$(giftcard_pg_bin) || return 1
  port=$(cat "$dir/pg.port")
  giftcard_as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c max_connections=200" \
    start >/dev/null
}

# giftcard_pg_stop DIR [fast|immediate]
giftcard_pg_stop() {
  local dir=$1 mode=${2:-fast} bin
  [[ -f "$dir/data/postmaster.pid" ]] || return 0
  bin=$(giftcard_pg_bin) || return 1
  giftcard_as_pg "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null 2>&1 || true
}

# giftcard_kill_and_wait SIGNAL SECONDS PID...: signals the pids, waits up
# to SECONDS for each to be gone (a zombie child of an exited shell counts
# as gone), then SIGKILLs what is left.
giftcard_kill_and_wait() {
  local sig=$1 tenths=$(($2 * 10)) pid i
  shift 2
  kill "-$sig" "$@" 2>/dev/null || true
  for pid in "$@"; do
    for i in $(seq 1 "$tenths"); do
      kill -0 "$pid" 2>/dev/null || break
      [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]] && break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# giftcard_pg_createdb PORT NAME
giftcard_pg_createdb() {
  psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt \
    -c "CREATE DATABASE \"$2\"" >/dev/null
}

# giftcard_redis_start DIR → prints the port. GIFTCARD_REDIS_REPLICAOF="HOST
# PORT" starts a replica of that master.
giftcard_redis_start() {
  local dir=$1 port attempt replica_of=()
  mkdir -p "$dir"
  # shellcheck disable=SC2206
  [[ -n ${GIFTCARD_REDIS_REPLICAOF:-} ]] && replica_of=(--replicaof $GIFTCARD_REDIS_REPLICAOF)
  for attempt in 1 2 3 4 5; do
    port=${GIFTCARD_REDIS_PORT:-$(giftcard_random_port)}
    # Also on a Unix socket, $dir/redis.sock (the local stack's services use it).
    if redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
        --unixsocket "$dir/redis.sock" --unixsocketperm 700 \
        --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "${replica_of[@]}" \
        >/dev/null 2>&1; then
      local i
      for i in $(seq 1 100); do
        if redis-cli -p "$port" ping >/dev/null 2>&1; then
          echo "$port" >"$dir/redis.port"
          echo "$port"
          return 0
        fi
        sleep 0.05
      done
    fi
  done
  echo "redis failed to start; see $dir/redis.log" >&2
  return 1
}

# giftcard_redis_stop DIR
giftcard_redis_stop() {
  local dir=$1
  [[ -f "$dir/redis.port" ]] || return 0
  redis-cli -p "$(cat "$dir/redis.port")" shutdown nosave >/dev/null 2>&1 || true
  # Wait for the pidfile, not kill -0: a stopped process may linger as a zombie.
  local i
  for i in $(seq 1 100); do
    [[ -f "$dir/redis.pid" ]] || break
    sleep 0.05
  done
  rm -f "$dir/redis.port"
}
