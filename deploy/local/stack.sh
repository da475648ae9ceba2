#!/usr/bin/env bash
# The whole suite on one machine: throwaway Postgres and Redis on loopback and
# the three services from the build directory, and giftcard-gateway (HTTP/JSON
# and the support console) in front of them.
#
#   deploy/local/stack.sh up [--replicas=N]|roll|backup|restore --to=TIME|down|status
#
# `status` exits 0 when every process runs and 3 (LSB's "not running") when
# any does not, or when the stack is down.
#
# `up --replicas=N` (or GIFTCARD_STACK_REPLICAS=N) runs N processes of each
# service, each on a port of its own; their clients reach them as one
# "ipv4:a,b" target, balanced round-robin with health checking, and each
# drains for 1 s on SIGTERM (--drain_delay) before it takes no new calls.
# `roll` restarts every process of every service, one at a time, each on
# its own port again, waiting until it is SERVING before the next: a
# release rolled out under load (docs/decisions.md, "Rolling restart").
#
# GIFTCARD_BUILD_DIR  build directory with the service binaries (default: build)
# GIFTCARD_STACK_DIR  where state, logs and the env file go (default: /tmp/giftcard-stack)
#
# GIFTCARD_GATEWAY_PORT  the gateway's HTTP port (default 0: a free one; the
#                     env file's GATEWAY_URL says which)
# GIFTCARD_TLS=1      run with mutual TLS: a throwaway CA and certificates
#                     (deploy/local/certs.sh); the env file then also
#                     exports GIFTCARD_TLS_CA/CERT/KEY for clients
# GIFTCARD_STACK_TRANSPORT=tcp  the services reach Postgres and Redis over
#                     loopback TCP, as in production (default: their Unix
#                     sockets; the env file's PG_DSN and REDIS_ADDR stay TCP)
# GIFTCARD_STACK_CPUS=off  let the kernel place the services' threads
#                     anywhere (default: each service's threads stay on one
#                     CPU, code-vault and billing on the first allowed one,
#                     account-credit and the gateway on the second: --cpus,
#                     docs/decisions.md)
# GIFTCARD_STACK_BACKUP=off  no WAL archiving, so no `backup`/`restore`
#                     (default: archived through pgBackRest from the start;
#                     bench/ turns it off, as pgbench's baseline has none)
# GIFTCARD_HA=1       run on highly available engines (deploy/local/ha.sh):
#                     etcd, a Patroni cluster of three Postgres nodes per
#                     service (synchronous_mode), Redis with a replica and
#                     three Sentinels; the services get multi-host DSNs and
#                     find Redis through the Sentinels. `status` shows who
#                     leads. Needs patroni, etcd-server, redis-sentinel.
#
# `up` writes $GIFTCARD_STACK_DIR/env, a shell file with every address and
# dev token a client needs. Works as root and as a normal user, without stdin,
# and any number of times in a row. The stack is for development: `up` on a
# running stack and `down` delete its data (the databases, Redis, tokens,
# certificates: each `up` starts empty, with new tokens and new ports); the
# logs in $GIFTCARD_STACK_DIR/logs are kept, each `up` appending to them.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=servers.sh
source "$ROOT/deploy/local/servers.sh"
# shellcheck source=ha.sh
source "$ROOT/deploy/local/ha.sh"
BUILD_DIR=${GIFTCARD_BUILD_DIR:-$ROOT/build}
STACK_DIR=${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}
SERVICES=(account-credit code-vault billing)

binary_of() {
  case $1 in
    account-credit) echo "$BUILD_DIR/services/account_credit/account-credit" ;;
    code-vault) echo "$BUILD_DIR/services/code_vault/code-vault" ;;
    billing) echo "$BUILD_DIR/services/billing/billing" ;;
    gateway) echo "$BUILD_DIR/services/gateway/giftcard-gateway" ;;
  esac
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# How many processes each service runs (`up --replicas=N`).
replicas() { cat "$STACK_DIR/replicas" 2>/dev/null || echo 1; }

# The processes of a service: NAME, then NAME-2 … NAME-N.
instances_of() {
  local i
  echo "$1"
  for ((i = 2; i <= $(replicas); i++)); do echo "$1-$i"; done
}

# The service an instance belongs to (code-vault-2 → code-vault).
service_of() { [[ $1 =~ ^(.*)-[0-9]+$ ]] && echo "${BASH_REMATCH[1]}" || echo "$1"; }

# What a client dials for a service: one address, or every instance's as
# one "ipv4:" target (gRPC balances over it).
address_of() {
  local instance addresses=()
  for instance in $(instances_of "$1"); do
    addresses+=("127.0.0.1:$(cat "$STACK_DIR/$instance.port")")
  done
  if [[ ${#addresses[@]} -eq 1 ]]; then
    echo "${addresses[0]}"
  else
    local IFS=,
    echo "ipv4:${addresses[*]}"
  fi
}

wait_for_file() {
  local file=$1 pid=$2 i
  for i in $(seq 1 300); do
    [[ -s "$file" ]] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# The CPUs this shell may use, one per line (from Cpus_allowed_list).
allowed_cpus() {
  local part
  for part in $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | tr ',' ' '); do
    seq "${part%-*}" "${part#*-}"
  done
}

# The --cpus of an instance: one CPU, the hot pairs of calls on different
# ones, and a service's replicas spread over the CPUs.
cpu_of() {
  [[ ${GIFTCARD_STACK_CPUS:-on} == off ]] && return 0
  local cpus slot replica=1
  mapfile -t cpus < <(allowed_cpus)
  [[ $1 =~ -([0-9]+)$ ]] && replica=${BASH_REMATCH[1]}
  case $(service_of "$1") in
    code-vault | billing) slot=0 ;;
    *) slot=1 ;;
  esac
  echo "${cpus[$(((slot + replica - 1) % ${#cpus[@]}))]}"
}

# start_service INSTANCE [VAR=value...]: one process of a service with that
# extra environment, which is kept (mode 0600: it holds tokens) so `roll`
# starts it again the same way, on the same port.
start_service() {
  local name=$1
  shift
  (umask 077 && printf '%s\0' "$@" >"$STACK_DIR/$name.args")
  launch "$name" "127.0.0.1:0"
}

# launch INSTANCE LISTEN: starts it with its kept environment; waits for its port file.
# rotate_log NAME: before a process starts, its log moves aside once past
# GIFTCARD_STACK_LOG_MAX_MB (10): NAME.log → NAME.log.1 → .2 → .3, the
# oldest dropped, so a benchmark's megabytes do not pile up run after run.
rotate_log() {
  local log="$STACK_DIR/logs/$1.log" max=$((${GIFTCARD_STACK_LOG_MAX_MB:-10} * 1024 * 1024)) i
  [[ -f $log && $(stat -c %s "$log") -gt $max ]] || return 0
  for i in 2 1; do [[ -f $log.$i ]] && mv -f "$log.$i" "$log.$((i + 1))"; done
  mv -f "$log" "$log.1"
}

launch() {
  local name=$1 listen=$2 bin cpu args=()
  rotate_log "$name"
  mapfile -d '' args <"$STACK_DIR/$name.args"
  cpu=$(cpu_of "$name")
  [[ -n $cpu ]] && args=("GIFTCARD_CPUS=$cpu" "${args[@]}")
  [[ $(replicas) -gt 1 ]] && args=("GIFTCARD_DRAIN_DELAY=1s" "${args[@]}")
  bin=$(binary_of "$(service_of "$name")")
  [[ -x "$bin" ]] || { echo "missing $bin: build first (scripts/build.sh)" >&2; exit 1; }
  rm -f "$STACK_DIR/$name.port" "$STACK_DIR/$name.metrics-port"
  # The service runs in its own session so `down` can signal it cleanly and
  # it does not die with this shell.
  env "${args[@]}" setsid "$bin" --listen="$listen" --port_file="$STACK_DIR/$name.port" \
    --metrics_listen=127.0.0.1:0 --metrics_port_file="$STACK_DIR/$name.metrics-port" \
    </dev/null >>"$STACK_DIR/logs/$name.log" 2>&1 &
  echo $! >"$STACK_DIR/$name.pid"
  if ! wait_for_file "$STACK_DIR/$name.port" "$!"; then
    echo "$name failed to start; last log lines:" >&2
    tail -20 "$STACK_DIR/logs/$name.log" >&2
    exit 1
  fi
}

stop_service() {
  local name=$1 pid
  [[ -f "$STACK_DIR/$name.pid" ]] || return 0
  pid=$(cat "$STACK_DIR/$name.pid")
  giftcard_kill_and_wait TERM 25 "$pid"
  rm -f "$STACK_DIR/$name.pid" "$STACK_DIR/$name.port"
}

# Whether any part of a stack is running.
stack_running() {
  local s
  for s in "$STACK_DIR"/*.pid; do
    [[ -f "$s" ]] && kill -0 "$(cat "$s")" 2>/dev/null && return 0
  done
  [[ -f "$STACK_DIR/pg/data/postmaster.pid" ]] && return 0
  compgen -G "$STACK_DIR/ha/*/node*/patroni.pid" >/dev/null
}

stop_ha_engines() {
  local ha="$STACK_DIR/ha"
  [[ -d "$ha" ]] || return 0
  giftcard_ha_stop_all "$ha"
  rm -rf "$ha"
}

# Starts the HA engines; prints each service's DSN base, then the sentinels.
start_ha_engines() {
  local ha="$STACK_DIR/ha" etcd_port s
  giftcard_ha_check_tools || exit 1
  mkdir -p "$ha"
  chmod 755 "$ha"
  etcd_port=$(giftcard_etcd_start "$ha/etcd")
  for s in "${SERVICES[@]}"; do giftcard_patroni_start "$ha" "$s" "$etcd_port"; done
  giftcard_redis_ha_start "$ha/redis" >/dev/null
  for s in "${SERVICES[@]}"; do giftcard_patroni_wait_healthy "$ha" "$s" >/dev/null; done
}

# Stops everything and deletes the data; the logs stay. Only what `up`
# made is deleted, by name: never whatever else the directory holds.
stop_and_delete_data() {
  local s i
  for s in gateway billing code-vault account-credit; do
    for i in "$STACK_DIR/$s".pid "$STACK_DIR/$s"-[0-9]*.pid; do
      [[ -f "$i" ]] && stop_service "$(basename "$i" .pid)"
    done
  done
  giftcard_redis_stop "$STACK_DIR/redis"
  giftcard_pg_stop "$STACK_DIR/pg" fast
  stop_ha_engines
  rm -rf "$STACK_DIR/pg" "$STACK_DIR/redis" "$STACK_DIR/tls" "$STACK_DIR/caller-tokens" "$STACK_DIR/backup" \
    "$STACK_DIR/demo" \
    "$STACK_DIR/env" "$STACK_DIR/tokens"
  for s in "${SERVICES[@]}" gateway; do
    rm -f "$STACK_DIR/$s".{pid,port,metrics-port,args,http-port} \
      "$STACK_DIR/$s"-[0-9]*.{pid,port,metrics-port,args,http-port}
  done
  rm -f "$STACK_DIR/replicas"
}

cmd_down() {
  [[ -d "$STACK_DIR" ]] || { echo "stack: down (nothing running)"; return 0; }
  stop_and_delete_data
  echo "stack: down (data deleted; logs kept in $STACK_DIR/logs)"
}

# Backups (pgBackRest). The stack's one Postgres holds the three services'
# databases: one stanza, `giftcard`, so one backup and one restore target
# keep them consistent. With GIFTCARD_HA=1 each service has a Patroni
# cluster of its own: a stanza per cluster, named as the service, in the
# same repository; `backup` backs up all three and `restore` brings all
# three to the same TIME, where the sagas' recovery settles what crossed it.
# WAL is archived continuously from the start; `backup` takes a full backup
# (then incremental ones); `restore --to=TIME` brings all three databases
# back to that moment. The repository is $STACK_DIR/backup (production: an
# S3 bucket, README "Backups and point-in-time restore").
backup_conf() { echo "$STACK_DIR/backup/pgbackrest.conf"; }
backup_stanzas() { if [[ -d "$STACK_DIR/ha" ]]; then echo "${SERVICES[@]}"; else echo giftcard; fi; }
pgbackrest_run() {
  local stanza=$1
  shift
  giftcard_as_pg pgbackrest --config="$(backup_conf)" --stanza="$stanza" "$@"
}

backup_prepare() {
  rm -rf "$STACK_DIR/backup"
  mkdir -p "$STACK_DIR/backup"/{repo,log,lock,spool}
  [[ $(id -u) -eq 0 ]] && chown -R postgres "$STACK_DIR/backup"
  return 0
}

# postgresql.conf lines that archive every WAL segment through pgBackRest.
backup_pg_conf() {
  printf '%s\n' "archive_mode = on" \
    "archive_command = 'pgbackrest --config=$(backup_conf) --stanza=giftcard archive-push %p'" \
    "archive_timeout = 60"
}

# backup_configure [PORT]: the repository, the stanzas (the local Postgres on
# PORT, or every node of each Patroni cluster: pgBackRest backs up from
# whichever leads) and their creation. Until a stanza exists, an
# archive-push fails and Postgres retries it.
backup_configure() {
  local stanza name pg rest n
  {
    printf '%s\n' "[global]" "repo1-path=$STACK_DIR/backup/repo" "repo1-retention-full=2" \
      "log-path=$STACK_DIR/backup/log" "lock-path=$STACK_DIR/backup/lock" \
      "spool-path=$STACK_DIR/backup/spool" "compress-type=none" "start-fast=y" \
      "log-level-console=warn"
    if [[ -d "$STACK_DIR/ha" ]]; then
      for stanza in "${SERVICES[@]}"; do
        printf '\n[%s]\n' "$stanza"
        n=0
        while read -r name pg rest; do
          n=$((n + 1))
          printf '%s\n' "pg$n-path=$STACK_DIR/ha/$stanza/node$n/data" \
            "pg$n-socket-path=$STACK_DIR/ha/$stanza/node$n/sock" "pg$n-port=$pg" "pg$n-user=postgres"
        done <"$STACK_DIR/ha/$stanza/nodes"
      done
    else
      printf '%s\n' "" "[giftcard]" "pg1-path=$STACK_DIR/pg/data" "pg1-socket-path=$STACK_DIR/pg/sock" \
        "pg1-port=$1" "pg1-user=postgres"
    fi
  } | giftcard_as_pg tee "$(backup_conf)" >/dev/null
  for stanza in $(backup_stanzas); do pgbackrest_run "$stanza" stanza-create >/dev/null; done
}

# What every service process reads from files the stack wrote: the callers'
# token hashes and, with GIFTCARD_TLS=1, its certificates (`up` and `roll`).
export_service_files() {
  export GIFTCARD_TOKENS_FILE="$STACK_DIR/tokens"
  if [[ -d "$STACK_DIR/tls" ]]; then
    local tls="$STACK_DIR/tls"
    export GIFTCARD_TLS_CERT_FILE="$tls/server.crt" GIFTCARD_TLS_KEY_FILE="$tls/server.key"
    export GIFTCARD_TLS_CLIENT_CA_FILE="$tls/ca.crt" GIFTCARD_PEER_TLS_CA="$tls/ca.crt"
  fi
}

cmd_up() {
  local replicas=${GIFTCARD_STACK_REPLICAS:-1} arg
  for arg in "$@"; do
    case $arg in
      --replicas=*) replicas=${arg#--replicas=} ;;
      *) echo "usage: $0 up [--replicas=N]" >&2; exit 2 ;;
    esac
  done
  [[ $replicas =~ ^[1-9]$ ]] || { echo "--replicas: 1 to 9" >&2; exit 2; }
  if [[ -d "$STACK_DIR" ]] && stack_running; then
    echo "stack: a stack is running; starting a new one: its databases, Redis and tokens are" \
      "deleted (codes, accounts and ledgers start empty), ports change; logs are kept" >&2
  fi
  [[ -d "$STACK_DIR" ]] && stop_and_delete_data
  # Only what this script decides reaches the services and the health check.
  unset GIFTCARD_TLS_CA GIFTCARD_TLS_CERT GIFTCARD_TLS_KEY GIFTCARD_TLS_CERT_FILE \
    GIFTCARD_TLS_KEY_FILE GIFTCARD_TLS_CLIENT_CA_FILE GIFTCARD_PEER_TLS_CA
  mkdir -p "$STACK_DIR/logs"
  chmod 755 "$STACK_DIR"
  echo "$replicas" >"$STACK_DIR/replicas"
  local s i
  for s in "${SERVICES[@]}" gateway; do
    for i in $(instances_of "$s"); do
      rotate_log "$i"
      echo "==== deploy/local/stack.sh up at $(date -u +%FT%TZ): a new stack, empty databases ====" \
        >>"$STACK_DIR/logs/$i.log"
    done
  done

  # Each service's DSN (without dbname) and how code-vault finds Redis.
  local pg_port="" redis_port="" dsn_account_credit dsn_code_vault dsn_billing redis_env
  # With HA, support's reads that may be stale go to a standby.
  local standby_account_credit="GIFTCARD_PG_STANDBY_DSN=" standby_code_vault="GIFTCARD_PG_STANDBY_DSN="
  if [[ ${GIFTCARD_HA:-0} == 1 ]]; then
    if [[ ${GIFTCARD_STACK_BACKUP:-on} == off ]]; then
      start_ha_engines
    else
      backup_prepare
      GIFTCARD_PATRONI_PGBACKREST=$(backup_conf) start_ha_engines
      backup_configure
    fi
    local s
    for s in "${SERVICES[@]}"; do
      local base
      base="$(giftcard_patroni_dsn "$STACK_DIR/ha" "$s") target_session_attrs=read-write"
      psql "$base dbname=postgres" -v ON_ERROR_STOP=1 -qAt -c "CREATE DATABASE ${s//-/_}" >/dev/null
      printf -v "dsn_${s//-/_}" '%s' "$base"
    done
    standby_account_credit="GIFTCARD_PG_STANDBY_DSN=${dsn_account_credit/read-write/prefer-standby} dbname=account_credit"
    standby_code_vault="GIFTCARD_PG_STANDBY_DSN=${dsn_code_vault/read-write/prefer-standby} dbname=code_vault"
    redis_env="GIFTCARD_REDIS_SENTINELS=$(cat "$STACK_DIR/ha/redis/sentinels")"
  else
    if [[ ${GIFTCARD_STACK_BACKUP:-on} == off ]]; then
      pg_port=$(giftcard_pg_start "$STACK_DIR/pg")
    else
      backup_prepare
      pg_port=$(GIFTCARD_PG_CONF=$(backup_pg_conf) giftcard_pg_start "$STACK_DIR/pg")
      backup_configure "$pg_port"
    fi
    for db in code_vault account_credit billing; do giftcard_pg_createdb "$pg_port" "$db"; done
    redis_port=$(giftcard_redis_start "$STACK_DIR/redis")
    # The services reach Postgres and Redis over their Unix sockets (no
    # loopback TCP stack per round trip); GIFTCARD_STACK_TRANSPORT=tcp
    # keeps TCP, as production has it.
    if [[ ${GIFTCARD_STACK_TRANSPORT:-unix} == tcp ]]; then
      dsn_account_credit="host=127.0.0.1 port=$pg_port user=postgres"
      redis_env="GIFTCARD_REDIS_ADDRESS=127.0.0.1:$redis_port"
    else
      dsn_account_credit="host=$STACK_DIR/pg/sock port=$pg_port user=postgres"
      redis_env="GIFTCARD_REDIS_ADDRESS=unix:$STACK_DIR/redis/redis.sock"
    fi
    dsn_code_vault=$dsn_account_credit
    dsn_billing=$dsn_account_credit
  fi

  # Dev secrets, fresh for every stack. Services get them via the environment.
  local pepper token_storefront token_billing_system token_admin token_support
  local token_code_vault token_billing
  pepper="dev1:$(random_hex 32)"
  token_storefront=$(random_hex 16)
  token_billing_system=$(random_hex 16)
  token_admin=$(random_hex 16)
  token_support=$(random_hex 16)
  token_code_vault=$(random_hex 16)
  token_billing=$(random_hex 16)

  # The services keep only SHA-256 hashes of the tokens.
  local tokens_file="$STACK_DIR/tokens"
  {
    echo "# principal sha256(token) — written by deploy/local/stack.sh"
    echo "storefront $(printf %s "$token_storefront" | sha256sum | cut -d' ' -f1)"
    echo "billing-system $(printf %s "$token_billing_system" | sha256sum | cut -d' ' -f1)"
    echo "admin $(printf %s "$token_admin" | sha256sum | cut -d' ' -f1)"
    echo "support $(printf %s "$token_support" | sha256sum | cut -d' ' -f1)"
    echo "code-vault $(printf %s "$token_code_vault" | sha256sum | cut -d' ' -f1)"
    echo "billing $(printf %s "$token_billing" | sha256sum | cut -d' ' -f1)"
  } >"$tokens_file"
  export_service_files

  local tls_env=""
  if [[ ${GIFTCARD_TLS:-0} == 1 ]]; then
    local tls="$STACK_DIR/tls"
    bash "$ROOT/deploy/local/certs.sh" "$tls"
    export_service_files
    # Clients of the stack (this script's health check, tools, people).
    export GIFTCARD_TLS_CA="$tls/ca.crt" GIFTCARD_TLS_CERT="$tls/tools.crt"
    export GIFTCARD_TLS_KEY="$tls/tools.key"
    tls_env="export GIFTCARD_TLS_CA=$tls/ca.crt GIFTCARD_TLS_CERT=$tls/tools.crt GIFTCARD_TLS_KEY=$tls/tools.key"
  fi
  # With TLS, each service presents its own certificate to account-credit.
  peer_tls() {
    [[ ${GIFTCARD_TLS:-0} == 1 ]] || { echo "GIFTCARD_PEER_TLS_CERT="; return; }
    echo "GIFTCARD_PEER_TLS_CERT=$STACK_DIR/tls/$1.crt GIFTCARD_PEER_TLS_KEY=$STACK_DIR/tls/$1.key"
  }

  for i in $(instances_of account-credit); do
    start_service "$i" "GIFTCARD_PG_DSN=$dsn_account_credit dbname=account_credit" \
      "$standby_account_credit"
  done
  local ac_addr
  ac_addr=$(address_of account-credit)
  for i in $(instances_of code-vault); do
    # shellcheck disable=SC2046
    start_service "$i" "GIFTCARD_PG_DSN=$dsn_code_vault dbname=code_vault" \
      "$standby_code_vault" \
      "GIFTCARD_PEPPER_KEYS=$pepper" "$redis_env" \
      "GIFTCARD_ACCOUNT_CREDIT_ADDRESS=$ac_addr" "GIFTCARD_ACCOUNT_CREDIT_TOKEN=$token_code_vault" \
      $(peer_tls code-vault)
  done
  for i in $(instances_of billing); do
    # shellcheck disable=SC2046
    start_service "$i" "GIFTCARD_PG_DSN=$dsn_billing dbname=billing" \
      "GIFTCARD_ACCOUNT_CREDIT_ADDRESS=$ac_addr" "GIFTCARD_ACCOUNT_CREDIT_TOKEN=$token_billing" \
      $(peer_tls billing)
  done
  # The gateway forwards each HTTP caller's bearer token; under TLS it
  # presents the tools certificate, which names no principal. Its first
  # instance takes GIFTCARD_GATEWAY_PORT; the others a free port each.
  local http_port=${GIFTCARD_GATEWAY_PORT:-0}
  for i in $(instances_of gateway); do
    rm -f "$STACK_DIR/$i.http-port"
    # shellcheck disable=SC2046
    start_service "$i" "GIFTCARD_HTTP_LISTEN=127.0.0.1:$http_port" \
      "GIFTCARD_HTTP_PORT_FILE=$STACK_DIR/$i.http-port" \
      "GIFTCARD_CODE_VAULT_ADDRESS=$(address_of code-vault)" \
      "GIFTCARD_ACCOUNT_CREDIT_ADDRESS=$ac_addr" \
      "GIFTCARD_BILLING_ADDRESS=$(address_of billing)" \
      $(peer_tls tools)
    wait_for_file "$STACK_DIR/$i.http-port" "$(cat "$STACK_DIR/$i.pid")"
    # A restart (roll) listens on the same HTTP port again.
    sed -z -i "s|^GIFTCARD_HTTP_LISTEN=127.0.0.1:0\$|GIFTCARD_HTTP_LISTEN=127.0.0.1:$(cat "$STACK_DIR/$i.http-port")|" \
      "$STACK_DIR/$i.args" 2>/dev/null || true
    http_port=0
  done

  local env_file="$STACK_DIR/env"
  umask 077
  # giftctl reads its caller's token from a file (GIFTCTL_TOKEN_FILE).
  mkdir -p "$STACK_DIR/caller-tokens"
  printf %s "$token_admin" >"$STACK_DIR/caller-tokens/admin"
  printf %s "$token_support" >"$STACK_DIR/caller-tokens/support"
  cat >"$env_file" <<ENV
# Written by deploy/local/stack.sh up; source it to reach the local stack.
# With --replicas, each is an "ipv4:a,b" list of every instance (gRPC balances over it).
export CODE_VAULT_ADDR=$(address_of code-vault)
export ACCOUNT_CREDIT_ADDR=$ac_addr
export BILLING_ADDR=$(address_of billing)
# HTTP/JSON (README, "HTTP API") and the support console at \$GATEWAY_URL/console/.
export GATEWAY_URL=http://127.0.0.1:$(cat "$STACK_DIR/gateway.http-port")
export GIFTCARD_TOKEN_STOREFRONT=$token_storefront
export GIFTCARD_TOKEN_BILLING_SYSTEM=$token_billing_system
export GIFTCARD_TOKEN_ADMIN=$token_admin
export GIFTCARD_TOKEN_SUPPORT=$token_support
# Each service's database.
export ACCOUNT_CREDIT_PG_DSN="$dsn_account_credit dbname=account_credit"
export CODE_VAULT_PG_DSN="$dsn_code_vault dbname=code_vault"
export BILLING_PG_DSN="$dsn_billing dbname=billing"
$(if [[ -n $pg_port ]]; then
    echo "# The one Postgres and the one Redis of a stack without GIFTCARD_HA."
    echo "export PG_DSN=\"host=127.0.0.1 port=$pg_port user=postgres\""
    echo "export REDIS_ADDR=127.0.0.1:$redis_port"
  else
    echo "# GIFTCARD_HA=1: Redis through its Sentinels (master name $GIFTCARD_REDIS_MASTER_NAME)."
    echo "export REDIS_SENTINELS=$(cat "$STACK_DIR/ha/redis/sentinels")"
  fi)
# Prometheus text endpoints: curl http://\$CODE_VAULT_METRICS/metrics
export CODE_VAULT_METRICS=127.0.0.1:$(cat "$STACK_DIR/code-vault.metrics-port")
export ACCOUNT_CREDIT_METRICS=127.0.0.1:$(cat "$STACK_DIR/account-credit.metrics-port")
export BILLING_METRICS=127.0.0.1:$(cat "$STACK_DIR/billing.metrics-port")
export GATEWAY_METRICS=127.0.0.1:$(cat "$STACK_DIR/gateway.metrics-port")
export GIFTCTL_TOKEN_FILE=$STACK_DIR/caller-tokens/admin
$tls_env
ENV
  # shellcheck disable=SC1090
  source "$env_file"
  local instances=()
  for s in "${SERVICES[@]}"; do
    for i in $(instances_of "$s"); do instances+=("127.0.0.1:$(cat "$STACK_DIR/$i.port")"); done
  done
  "$BUILD_DIR/tools/giftctl/giftctl" health --wait=30s "${instances[@]}" >/dev/null
  # The gateway is ready once it reaches the three services.
  local i
  for i in $(seq 1 100); do
    curl -fsS "$GATEWAY_URL/readyz" >/dev/null 2>&1 && break
    [[ $i == 100 ]] && { echo "gateway not ready: $(curl -sS "$GATEWAY_URL/readyz" 2>&1)" >&2; exit 1; }
    sleep 0.2
  done
  echo "stack: up (env: $env_file, logs: $STACK_DIR/logs; the next 'up' or 'down' deletes the" \
    "data, not the logs)"
  echo "stack: HTTP/JSON at $GATEWAY_URL/v1/ (OpenAPI: $GATEWAY_URL/v1/openapi.json)," \
    "support console at $GATEWAY_URL/console/"
}

# Restarts every instance of every service, one at a time (account-credit
# first: the others call it), each on its own port again; the next waits
# until this one's health is SERVING. With one replica a service is away
# while it restarts; with two or more its clients use the others.
cmd_roll() {
  [[ -f "$STACK_DIR/replicas" ]] && stack_running || { echo "stack: not running" >&2; exit 1; }
  local s i port pid
  unset GIFTCARD_TLS_CA GIFTCARD_TLS_CERT GIFTCARD_TLS_KEY GIFTCARD_TLS_CERT_FILE \
    GIFTCARD_TLS_KEY_FILE GIFTCARD_TLS_CLIENT_CA_FILE GIFTCARD_PEER_TLS_CA
  export_service_files
  # shellcheck disable=SC1090
  source "$STACK_DIR/env"
  for s in "${SERVICES[@]}" gateway; do
    for i in $(instances_of "$s"); do
      port=$(cat "$STACK_DIR/$i.port")
      stop_service "$i"
      launch "$i" "127.0.0.1:$port"
      pid=$(cat "$STACK_DIR/$i.pid")
      "$BUILD_DIR/tools/giftctl/giftctl" health --wait=30s "127.0.0.1:$port" >/dev/null ||
        { echo "stack: $i did not come back SERVING" >&2; exit 1; }
      echo "stack: rolled $i (pid $pid, 127.0.0.1:$port)"
      # As Kubernetes' minReadySeconds: the clients' channels reconnect to
      # it (their backoff is at most 1 s) before the next instance drains,
      # or for a moment no instance of the service would be ready to them.
      sleep "${GIFTCARD_ROLL_SETTLE:-2}"
    done
  done
}

# backup [--type=full|diff|incr]: full the first time, incremental after;
# with GIFTCARD_HA=1, one per service's cluster.
cmd_backup() {
  [[ -f "$STACK_DIR/backup/pgbackrest.conf" ]] && stack_running ||
    { echo "stack: no stack with backups running (GIFTCARD_STACK_BACKUP=off?)" >&2; exit 1; }
  local type="" arg stanza kind
  for arg in "$@"; do
    case $arg in
      --type=full | --type=diff | --type=incr) type=${arg#--type=} ;;
      *) echo "usage: $0 backup [--type=full|diff|incr]" >&2; exit 2 ;;
    esac
  done
  for stanza in $(backup_stanzas); do
    kind=$type
    if [[ -z $kind ]]; then
      kind=incr
      pgbackrest_run "$stanza" info --output=json | grep -q '"label"' || kind=full
    fi
    pgbackrest_run "$stanza" backup --type="$kind"
    echo "stack: $kind backup of $stanza done at $(date -u +%FT%T.%6NZ) ($STACK_DIR/backup/repo)"
  done
}

# database_dsn DB → a DSN of the database DB that takes writes (with
# GIFTCARD_HA=1, on its service's cluster).
database_dsn() {
  local db=$1
  if [[ -d "$STACK_DIR/ha" ]]; then
    echo "$(giftcard_patroni_dsn "$STACK_DIR/ha" "${db//_/-}") target_session_attrs=read-write dbname=$1"
  else
    echo "host=$STACK_DIR/pg/sock port=$(cat "$STACK_DIR/pg/pg.port") user=postgres dbname=$db"
  fi
}

# restore --to=TIME: the three databases as they were at TIME (an ISO
# timestamp, e.g. 2026-12-07T10:15:00.123456Z), the services started on
# them. Each event stream gets a new stream_epoch: the ids after the
# restore point are handed out again.
cmd_restore() {
  local to="" arg
  for arg in "$@"; do
    case $arg in
      --to=*) to=${arg#--to=} ;;
      *) echo "usage: $0 restore --to=TIMESTAMP" >&2; exit 2 ;;
    esac
  done
  [[ -n $to ]] || { echo "usage: $0 restore --to=TIMESTAMP" >&2; exit 2; }
  # pgBackRest's spelling, in UTC: "2026-12-07 10:15:00.123+00".
  local target
  target=$(date -u -d "$to" '+%F %T.%3N+00' 2>/dev/null) ||
    { echo "stack: --to: not a time: $to" >&2; exit 2; }
  [[ -f "$STACK_DIR/backup/pgbackrest.conf" && -f "$STACK_DIR/replicas" ]] ||
    { echo "stack: no stack with backups (GIFTCARD_STACK_BACKUP=off?)" >&2; exit 1; }
  local s i db stanza pids=()
  # Every WAL segment written so far archived, so TIME is reachable (a
  # Postgres already down has archived what it completed).
  for stanza in $(backup_stanzas); do
    if [[ -d "$STACK_DIR/ha" ]]; then
      giftcard_patroni_leader "$STACK_DIR/ha" "$stanza" >/dev/null 2>&1 || continue
    else
      [[ -f "$STACK_DIR/pg/data/postmaster.pid" ]] || continue
    fi
    pgbackrest_run "$stanza" check >/dev/null
  done
  for s in gateway billing code-vault account-credit; do
    for i in $(instances_of "$s"); do
      [[ -f "$STACK_DIR/$i.port" ]] && cp "$STACK_DIR/$i.port" "$STACK_DIR/$i.port.kept"
      stop_service "$i"
    done
  done
  if [[ -d "$STACK_DIR/ha" ]]; then
    for s in "${SERVICES[@]}"; do
      giftcard_patroni_restore "$STACK_DIR/ha" "$s" "$(backup_conf)" "$target"
    done
    for s in "${SERVICES[@]}"; do giftcard_patroni_restore_finish "$STACK_DIR/ha" "$s"; done
  else
    giftcard_pg_stop "$STACK_DIR/pg" fast
    pgbackrest_run giftcard --delta --type=time "--target=$target" --target-action=promote restore
    giftcard_pg_restart "$STACK_DIR/pg"
    for i in $(seq 1 300); do
      [[ $(psql "$(database_dsn postgres)" -qAtc "SELECT pg_is_in_recovery()" 2>/dev/null) == f ]] &&
        break
      [[ $i == 300 ]] && { echo "stack: Postgres did not finish recovery" >&2; exit 1; }
      sleep 0.1
    done
  fi
  for db in code_vault account_credit billing; do
    psql "$(database_dsn "$db")" -v ON_ERROR_STOP=1 -qAtc \
      "WITH e AS (UPDATE event_counter SET stream_epoch = gen_random_uuid()::text
                  RETURNING stream_epoch, last_event_id)
       INSERT INTO event_stream_epochs (stream_epoch, after_event_id) SELECT * FROM e" >/dev/null
  done
  unset GIFTCARD_TLS_CA GIFTCARD_TLS_CERT GIFTCARD_TLS_KEY GIFTCARD_TLS_CERT_FILE \
    GIFTCARD_TLS_KEY_FILE GIFTCARD_TLS_CLIENT_CA_FILE GIFTCARD_PEER_TLS_CA
  export_service_files
  for s in "${SERVICES[@]}" gateway; do
    for i in $(instances_of "$s"); do
      launch "$i" "127.0.0.1:$(cat "$STACK_DIR/$i.port.kept")"
      rm -f "$STACK_DIR/$i.port.kept"
      pids+=("127.0.0.1:$(cat "$STACK_DIR/$i.port")")
    done
  done
  "$BUILD_DIR/tools/giftctl/giftctl" health --wait=30s "${pids[@]}" >/dev/null
  echo "stack: restored to $to; the services run on it (event streams have a new stream_epoch)"
}

# status: exit 0 when everything runs, 3 (LSB's "not running") when
# something or everything does not.
cmd_status() {
  local all_up=0 s pid
  local i
  if [[ ! -f "$STACK_DIR/replicas" ]] && ! stack_running; then
    echo "stack: stopped (nothing running; 'deploy/local/stack.sh up' starts one; logs:" \
      "$STACK_DIR/logs)"
    return 3
  fi
  for s in "${SERVICES[@]}" gateway; do
    for i in $(instances_of "$s"); do
      pid=$(cat "$STACK_DIR/$i.pid" 2>/dev/null || true)
      if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        if [[ $s == gateway ]]; then
          echo "$i: running (pid $pid, http://127.0.0.1:$(cat "$STACK_DIR/$i.http-port" 2>/dev/null))"
        else
          echo "$i: running (pid $pid, 127.0.0.1:$(cat "$STACK_DIR/$i.port" 2>/dev/null))"
        fi
      else
        echo "$i: stopped"; all_up=3
      fi
    done
  done
  if [[ -d "$STACK_DIR/ha" ]]; then
    local leader
    for s in "${SERVICES[@]}"; do
      if leader=$(giftcard_patroni_leader "$STACK_DIR/ha" "$s" 2>/dev/null); then
        echo "postgres $s: leader ${leader% *} (127.0.0.1:${leader#* })"
      else
        echo "postgres $s: no leader"; all_up=3
      fi
      giftcard_patroni_list "$STACK_DIR/ha" "$s" | sed 's/^/  /'
    done
    if leader=$(giftcard_redis_ha_master "$STACK_DIR/ha/redis") && [[ -n $leader ]]; then
      echo "redis: master ${leader/ /:} (sentinels $(cat "$STACK_DIR/ha/redis/sentinels"))"
    else
      echo "redis: no master known to the sentinels"; all_up=3
    fi
  else
    if [[ -f "$STACK_DIR/pg/data/postmaster.pid" ]]; then
      echo "postgres: running (127.0.0.1:$(cat "$STACK_DIR/pg/pg.port"))"
    else
      echo "postgres: stopped"; all_up=3
    fi
    if [[ -f "$STACK_DIR/redis/redis.port" ]] && redis-cli -p "$(cat "$STACK_DIR/redis/redis.port")" ping >/dev/null 2>&1; then
      echo "redis: running (127.0.0.1:$(cat "$STACK_DIR/redis/redis.port"))"
    else
      echo "redis: stopped"; all_up=3
    fi
  fi
  echo "data: $STACK_DIR (deleted by the next 'up' or 'down'); logs: $STACK_DIR/logs (kept;" \
    "each moved to .1, .2, .3 at a start once past ${GIFTCARD_STACK_LOG_MAX_MB:-10} MB)"
  return $all_up
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  roll) cmd_roll ;;
  backup) shift; cmd_backup "$@" ;;
  restore) shift; cmd_restore "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up [--replicas=N]|roll|backup|restore --to=TIME|down|status" >&2; exit 2 ;;
esac
