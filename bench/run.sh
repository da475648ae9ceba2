#!/usr/bin/env bash
# Measures the suite against baselines taken in the same run on this machine,
# and writes docs/benchmarks.md. Not a test: figures vary between machines and
# runs; only the ratios of one run mean something.
#
#   bench/run.sh        (GIFTCARD_BENCH_SECONDS=10, GIFTCARD_BENCH_CONCURRENCY=16,
#                        GIFTCARD_BENCH_ROUNDS=3)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${GIFTCARD_BUILD_DIR:-$ROOT/build}
SECONDS_PER_RUN=${GIFTCARD_BENCH_SECONDS:-10}
CONCURRENCY=${GIFTCARD_BENCH_CONCURRENCY:-16}
ROUNDS=${GIFTCARD_BENCH_ROUNDS:-3}
OUT=${GIFTCARD_BENCH_OUT:-$ROOT/docs/benchmarks.md}
BENCH="$BUILD_DIR/tools/giftbench/giftbench"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"  # pg_cpu_ticks, field, ratio, cpu, median
# The stacks measured archive no WAL (deploy/local/stack.sh), as pgbench's
# baseline does not: the archiver's copies would count as Postgres's CPU.
export GIFTCARD_STACK_BACKUP=${GIFTCARD_STACK_BACKUP:-off}

"$ROOT/scripts/build.sh" >/dev/null
# pg_stat_statements counts the statements a redemption costs.
GIFTCARD_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements" \
  "$ROOT/deploy/local/stack.sh" up >/dev/null
# shellcheck disable=SC1091
source "${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}/env"
PG_PORT=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_DSN")
# pgbench reaches Postgres the way the services do (the stack's Unix
# socket, or TCP with GIFTCARD_STACK_TRANSPORT=tcp): the same transport on
# both sides of every ratio.
PGBENCH_HOST=$(sed 's/.*host=\([^ ]*\).*/\1/' <<<"$CODE_VAULT_PG_DSN")
REDIS_PORT=${REDIS_ADDR##*:}

WORK=$(mktemp -d)
export GIFTCARD_COUNTERS_DIR=$WORK/counters
# giftbench's own messages go to a log, shown when a step fails.
trap 'status=$?; if ((status != 0)); then echo "bench/run.sh failed ($status); giftbench last said:" >&2; tail -20 "$WORK/giftbench.log" >&2 2>/dev/null; fi; rm -rf "$WORK"' EXIT
stop() {  # stop MESSAGE: a baseline failed; no figure is written from a failed run
  echo "bench: $*; stopping, docs/benchmarks.md not written" >&2
  "$ROOT/deploy/local/stack.sh" down >/dev/null || true
  exit 1
}
json() { grep '^JSON ' | sed 's/^JSON //'; }
# settle: before each measured window, Postgres finishes the background
# work what came before left behind (bench/settle.sh: the event relays
# drained, every table with rows vacuumed and analyzed, a checkpoint,
# autovacuum idle), so that work is not counted in the window's Postgres CPU (the
# relays' statements, the checkpointer and autovacuum are in Postgres's
# figures). giftbench runs it too, after it has issued and activated its
# codes and before its warm-up: without that, the vacuum and the relay of
# the preparation's writes fell into some windows and not others (Postgres
# read 1,519-1,830 µs per redemption in those, 600-750 in the rest).
settle() { "$ROOT/bench/settle.sh"; }
run() {  # run LABEL ARGS... → JSON line of giftbench
  local label=$1
  shift
  "$BENCH" --label="$label" --duration="${SECONDS_PER_RUN}s" --cpu_watch="$(cpu_watch)" \
    --settle_command="$ROOT/bench/settle.sh" \
    --window_command="$ROOT/bench/counters.sh" "$@" 2>>"$WORK/giftbench.log" | json
}
# counters JSON → the server counters of that run's window, per call
# (bench/counters.sh), as a JSON object.
counters() {
  local calls  # answered calls: ok and refused (an invalid guess is refused)
  calls=$({ field ok <<<"$1"; grep -o '"errors":{[^}]*}' <<<"$1" | grep -o ':[0-9]*' | tr -d :; } |
    awk '{ n += $1 } END { print n + 0 }')
  "$ROOT/bench/counters.sh" per "$calls"
}
# counter JSON NAME → one figure of counters' output.
counter() { grep -o "\"$2\":[0-9.]*" <<<"$1" | head -1 | cut -d: -f2; }

# pgbench_measured NAME REDEMPTIONS_PER_TXN PGBENCH_ARGS... → "TPS CPU_US WAL"
# where CPU_US is Postgres's and pgbench's CPU per redemption and WAL the
# bytes of WAL written per redemption (the whole server's). Stops the
# run when pgbench fails or reports a failed transaction: a failed baseline
# is not a figure.
pgbench_measured() {
  local name=$1 per_txn=$2 before after times rc=0 out=$WORK/pgbench.out wal_before wal
  shift 2
  settle
  wal_before=$(psql "$PG_DSN dbname=postgres" -XAtc 'SELECT pg_current_wal_lsn()')
  before=$(pg_cpu_ticks)
  times=$({ TIMEFORMAT='%U %S'; time pgbench "$@" >"$out" 2>&1; } 2>&1) || rc=$?
  sleep 0.5  # the backends exit after pgbench; let the postmaster reap them
  after=$(pg_cpu_ticks)
  wal=$(psql "$PG_DSN dbname=postgres" -XAtc "SELECT pg_current_wal_lsn() - '$wal_before'::pg_lsn")
  local tps txns failed
  tps=$(grep -o 'tps = [0-9.]*' "$out" | head -1 | cut -d' ' -f3 || true)
  txns=$(grep -o 'number of transactions actually processed: [0-9]*' "$out" | grep -o '[0-9]*$' || true)
  failed=$(grep -o 'number of failed transactions: [0-9]*' "$out" | grep -o '[0-9]*$' || true)
  if [[ $rc -ne 0 || -z $tps || -z $txns || $txns -eq 0 || ${failed:-0} -ne 0 ]]; then
    tail -20 "$out" >&2
    stop "baseline '$name' failed (exit $rc, ${failed:-?} failed transactions)"
  fi
  awk -v tps="$tps" -v txns="$txns" -v ticks=$((after - before)) -v hz="$CLK_TCK" \
    -v own="$times" -v per="$per_txn" -v wal="$wal" 'BEGIN {
      split(own, u, " ")
      printf "%s %.0f %.0f\n", tps, (ticks / hz + u[1] + u[2]) * 1e6 / (txns * per), wal / (txns * per)
    }'
}
STACK=${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}
# The processes whose CPU giftbench counts over each measured window (giftbench
# adds itself): the services, Postgres with its backends, Redis.
cpu_watch() {
  echo "code-vault=$(cat "$STACK/code-vault.pid"),account-credit=$(cat "$STACK/account-credit.pid"),billing=$(cat "$STACK/billing.pid"),postgres=$(head -1 "$STACK/pg/data/postmaster.pid")+,redis=$(cat "$STACK/redis/redis.pid")"
}
cpu_cells() {  # cpu_cells JSON → "vault / credit / billing / pg / redis / bench = all"
  local j=$1
  echo "$(cpu code-vault <<<"$j") / $(cpu account-credit <<<"$j") / $(cpu billing <<<"$j") / $(cpu postgres <<<"$j") / $(cpu redis <<<"$j") / $(cpu giftbench <<<"$j") = **$(cpu all <<<"$j")**"
}
rss_mib() { ps -o rss= -p "$(cat "${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}/$1.pid")" | awk '{printf "%.0f", $1 / 1024}'; }

psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
  -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres bench
# The ceiling's batches can still deadlock now and then (a bitmap scan locks
# codes in heap order, an index scan in key order); pgbench retries them, but
# each would first wait deadlock_timeout's second.
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
  -c "ALTER DATABASE bench SET deadlock_timeout = '20ms'" >/dev/null
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench -f "$ROOT/bench/setup.sql" 2>/dev/null

# The floor (bench/floor.sh): the suite's own redemption statements, 16 to
# a batch, one client, on databases of their own.
FLOOR_TXNS=${GIFTCARD_BENCH_FLOOR_BATCHES:-600}
"$ROOT/bench/floor.sh" setup $((ROUNDS * FLOOR_TXNS * 16 + 16)) >/dev/null
for db in code_vault account_credit; do "$ROOT/bench/floor.sh" script "$db" >"$WORK/floor_$db.pgbench"; done
# floor ROUND DB → "TPS CPU_US WAL" of that database's part of a redemption
floor() {
  local m
  m=$(PGOPTIONS=$("$ROOT/bench/floor.sh" options) pgbench_measured "floor, $2's statements" 16 \
    -n -M prepared -c 1 -t "$FLOOR_TXNS" -D b=16 -D n=$((($1 - 1) * FLOOR_TXNS * 16)) \
    -h "$PGBENCH_HOST" -p "$PG_PORT" -U postgres -f "$WORK/floor_$2.pgbench" "floor_$2")
  "$ROOT/bench/floor.sh" drain >/dev/null  # the last few batches' events, before the next settle
  echo "$m"
}

echo "baseline: redis-benchmark, the guard's SET NX PX, 50 clients" >&2
REDIS_RPS=$(redis-benchmark -p "$REDIS_PORT" -c 50 -n 200000 -q -r 1000000 \
  SET 'giftcard:{__rand_int__}:lock' token NX PX 10000 2>/dev/null | tr '\r' '\n' |
  grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1)

# One round: each baseline next to the scenarios it is compared with, so a
# ratio compares figures taken under the same conditions. Several rounds,
# because this shared machine's figures swing by a third from one minute to
# the next: the table shows each round's ratio and their median.
R_RATIOS=() A_RATIOS=() S_RATIOS=() O_RATIOS=() F_RATIOS=() C_RATIOS=() RSS_MAX=0
CPU_RATIOS=() INVALID_RATIOS=()
RUNS="" ROUND_ROWS="" CPU_ROWS="" COUNTER_ROWS="" FLOOR_ROWS=""
# counter_row ROUND SCENARIO COUNTERS → a row of the counters table
counter_row() {
  local c=$3 batches
  batches=$(grep -o '"batch_[^"]*":[0-9.]*' <<<"$c" | sed 's/"batch_\([^"]*\)":/\1 /' | paste -sd, - |
    sed 's/,/, /g')
  echo "| $1 | $2 | $(counter "$c" ctxt_code_vault) | $(counter "$c" ctxt_account_credit) | $(counter "$c" ctxt_billing) | $(counter "$c" pg_statements) | $(counter "$c" pg_commits) | $(counter "$c" pg_wal_bytes) | ${batches:-none} |"
}
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: pgbench, one redemption's SQL, $CONCURRENCY clients" >&2
  M=$(pgbench_measured "pgbench redemption SQL" 1 -n -M prepared -c "$CONCURRENCY" -j 2 \
    -T "$SECONDS_PER_RUN" -h "$PGBENCH_HOST" -p "$PG_PORT" -U postgres -f "$ROOT/bench/redemption.sql" bench)
  read -r PGBENCH_TPS PGBENCH_CPU _ <<<"$M"
  echo "round $round/$ROUNDS: pgbench ceiling, the same SQL 16 redemptions to a transaction" >&2
  M=$(pgbench_measured "ceiling, 16 to a transaction" 16 -n -M prepared -c "$CONCURRENCY" -j 2 \
    -T "$SECONDS_PER_RUN" --max-tries=100 -h "$PGBENCH_HOST" -p "$PG_PORT" -U postgres \
    -f "$ROOT/bench/redemption_batch16.sql" bench)
  read -r CEILING_TPS CEILING_CPU _ <<<"$M"
  CEILING=$(awk -v t="$CEILING_TPS" 'BEGIN { printf "%.0f", t * 16 }')
  # 16 to a transaction doing fewer redemptions a second than one to a
  # transaction is a broken baseline (a plan over missing statistics, a
  # stall), not a figure.
  if awk -v c="$CEILING" -v p="$PGBENCH_TPS" 'BEGIN { exit !(c < p) }'; then
    stop "baseline 'ceiling' ran $CEILING redemptions/s, below the single-transaction $PGBENCH_TPS"
  fi
  echo "round $round/$ROUNDS: the floor, the suite's own statements 16 to a batch, one client" >&2
  # Assigned first: a failed floor then stops the run (set -e), where a
  # substitution inside read's here-string would pass unnoticed.
  M=$(floor "$round" code_vault)
  read -r _ FLOOR_CV_CPU FLOOR_CV_WAL <<<"$M"
  M=$(floor "$round" account_credit)
  read -r _ FLOOR_AC_CPU FLOOR_AC_WAL <<<"$M"
  FLOOR_CPU=$((FLOOR_CV_CPU + FLOOR_AC_CPU))
  echo "round $round/$ROUNDS: Health/Check and the scenarios" >&2
  HEALTH=$(run health --scenario=health --concurrency="$CONCURRENCY")
  CODES=$((SECONDS_PER_RUN * 3000 + 20000))
  REDEEM=$(run redeem --scenario=redeem --concurrency="$CONCURRENCY" --codes="$CODES")
  REDEEM_COUNTERS=$(counters "$REDEEM")
  for s in code-vault account-credit billing; do
    RSS_MAX=$(printf '%s\n' "$RSS_MAX" "$(rss_mib "$s")" | sort -n | tail -1)
  done
  APPLY=$(run apply-credit --scenario=apply-credit --concurrency="$CONCURRENCY")
  APPLY_COUNTERS=$(counters "$APPLY")
  INVALID=$(run invalid --scenario=invalid-flood --concurrency="$CONCURRENCY")
  INVALID_COUNTERS=$(counters "$INVALID")
  STATUS=$(run code-status --scenario=code-status --concurrency="$CONCURRENCY")
  CHECK=$(run check-code --scenario=check-code --concurrency="$CONCURRENCY")
  PEAK=$(field throughput <<<"$REDEEM")
  RATE70=$(awk -v p="$PEAK" 'BEGIN { printf "%.0f", p * 0.7 }')
  OPEN=$(run redeem-open --scenario=redeem --rate="$RATE70" --codes="$CODES")
  FLOODED=$(run redeem-with-flood --scenario=redeem --concurrency="$CONCURRENCY" \
    --codes="$CODES" --flood_rate=1000)

  H=$(field throughput <<<"$HEALTH")
  R=$(field throughput <<<"$REDEEM")
  A=$(field throughput <<<"$APPLY")
  S=$(field throughput <<<"$STATUS")
  F=$(field throughput <<<"$FLOODED")
  P50=$(field p50_ms <<<"$OPEN")
  P99=$(field p99_ms <<<"$OPEN")
  R_RATIOS+=("$(ratio "$R" "$PGBENCH_TPS")")
  C_RATIOS+=("$(ratio "$R" "$CEILING")")
  CPU_RATIOS+=("$(ratio "$(cpu all <<<"$REDEEM")" "$PGBENCH_CPU")")
  INVALID_RATIOS+=("$(ratio "$(cpu all <<<"$INVALID")" "$PGBENCH_CPU")")
  CPU_ROWS+="| $round | pgbench redemption SQL, one to a transaction | Postgres and pgbench = **${PGBENCH_CPU}** |"$'\n'
  CPU_ROWS+="| $round | the same SQL, 16 to a transaction (per redemption) | Postgres and pgbench = **${CEILING_CPU}** |"$'\n'
  CPU_ROWS+="| $round | the floor: the suite's own statements, 16 to a batch, one client (per redemption; code-vault's database + account-credit's) | Postgres and pgbench = **${FLOOR_CPU}** (${FLOOR_CV_CPU} + ${FLOOR_AC_CPU}) |"$'\n'
  FLOOR_ROWS+="| $round | ${PGBENCH_CPU} | ${FLOOR_CPU} | $(ratio "$FLOOR_CPU" "$PGBENCH_CPU") | $(cpu postgres <<<"$REDEEM") | $(ratio "$(cpu postgres <<<"$REDEEM")" "$FLOOR_CPU") | $((FLOOR_CV_WAL + FLOOR_AC_WAL)) (${FLOOR_CV_WAL} + ${FLOOR_AC_WAL}) | $(counter "$REDEEM_COUNTERS" pg_wal_bytes) |"$'\n'
  CPU_ROWS+="| $round | invalid guess (closed loop) | $(cpu_cells "$INVALID") |"$'\n'
  COUNTER_ROWS+="$(counter_row "$round" RedeemCode "$REDEEM_COUNTERS")"$'\n'
  COUNTER_ROWS+="$(counter_row "$round" ApplyCredit "$APPLY_COUNTERS")"$'\n'
  COUNTER_ROWS+="$(counter_row "$round" "invalid guess" "$INVALID_COUNTERS")"$'\n'
  CPU_ROWS+="| $round | RedeemCode | $(cpu_cells "$REDEEM") |"$'\n'
  CPU_ROWS+="| $round | ApplyCredit | $(cpu_cells "$APPLY") |"$'\n'
  CPU_ROWS+="| $round | GetCodeStatus | $(cpu_cells "$STATUS") |"$'\n'
  A_RATIOS+=("$(ratio "$A" "$PGBENCH_TPS")")
  S_RATIOS+=("$(ratio "$S" "$H")")
  O_RATIOS+=("$(ratio "$P99" "$P50")")
  F_RATIOS+=("$(ratio "$F" "$R")")
  ROUND_ROWS+="| $round | ${PGBENCH_TPS} | ${CEILING} | ${H} | ${R} | ${A} | ${S} | ${RATE70}: p50 ${P50} ms, p99 ${P99} ms | ${F} |"$'\n'
  RUNS+="# round $round: pgbench ${PGBENCH_TPS} TPS"$'\n'"${HEALTH}"$'\n'"${REDEEM}"$'\n'"${APPLY}"$'\n'
  RUNS+="${STATUS}"$'\n'"${CHECK}"$'\n'"${OPEN}"$'\n'"${FLOODED}"$'\n'"${INVALID}"$'\n'
done
# The mixed workload with an invalid flood beside it, once: overload must be
# refused by our own admission control (a reason and RetryInfo), never shed
# by gRPC's thread limit (RESOURCE_EXHAUSTED without a reason).
MIXED_SECONDS=${GIFTCARD_BENCH_MIXED_SECONDS:-90}
echo "mixed: 32 callers, a 300/s invalid flood beside, ${MIXED_SECONDS} s" >&2
MIXED=$("$BENCH" --label=mixed --scenario=mixed --concurrency=32 --flood_rate=300 \
  --duration="${MIXED_SECONDS}s" --codes=$((MIXED_SECONDS * 800 + 20000)) \
  --cpu_watch="$(cpu_watch)" --settle_command="$ROOT/bench/settle.sh" 2>>"$WORK/giftbench.log" | json)
MIXED_SHED=$(grep -o '"RESOURCE_EXHAUSTED":[0-9]*' <<<"$MIXED" | cut -d: -f2 || true)
MIXED_SHED=${MIXED_SHED:-0}
MIXED_OK=$(grep -o '"ok":[0-9]*' <<<"$MIXED" | cut -d: -f2)
MIXED_P50=$(field p50_ms <<<"$MIXED")
MIXED_P99=$(field p99_ms <<<"$MIXED")
RUNS+="# mixed"$'\n'"${MIXED}"$'\n'
AUDIT=$("$BENCH" --scenario=health --duration=1s --warmup=0s --audit 2>>"$WORK/giftbench.log" | tail -1)
"$ROOT/bench/floor.sh" drop >/dev/null
"$ROOT/deploy/local/stack.sh" down >/dev/null

rounds() { local IFS=' '; echo "$*"; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "met" : "not met") }'; }
verdict_max() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t ? "met" : "not met") }'; }
row() {  # row TEXT TARGET min|max RATIOS...
  local text=$1 target=$2 kind=$3
  shift 3
  local m
  m=$(median "$@")
  local v
  if [[ $kind == min ]]; then v=$(verdict "$m" "$target"); else v=$(verdict_max "$m" "$target"); fi
  echo "| $text | $(rounds "$@") | $m | $v |"
}

cat >"$OUT" <<MD
# Benchmarks

Written by \`bench/run.sh\` on $(date -u +%Y-%m-%d) — do not edit by hand. Everything ran on
one machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),
$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), the three services, Postgres 15,
Redis 7 and the load generator. ${ROUNDS} rounds; in each, every baseline and scenario
ran ${SECONDS_PER_RUN} s after 1 s of warm-up, ${CONCURRENCY} concurrent callers in closed
loop. Before each window, and after giftbench has issued and activated its codes,
Postgres is settled (\`bench/settle.sh\`: the event relays drained, \`VACUUM
(ANALYZE)\` of every table with rows, a \`CHECKPOINT\`, autovacuum idle), so no window counts the background
work of the preparation or of the window before. A ratio
compares figures of one round; the verdict is on the median.
Command: \`bench/run.sh\`.

## Targets

| target | ratio in each round | median | |
|---|---|---|---|
$(row "all-process CPU per redemption ≤ 1.2 × pgbench's all-process CPU per single-transaction redemption" 1.2 max "${CPU_RATIOS[@]}")
$(row "all-process CPU per invalid guess ≤ 0.3 × the same pgbench figure" 0.3 max "${INVALID_RATIOS[@]}")
$(row "RedeemCode ≥ 0.5 × pgbench redemption baseline" 0.5 min "${R_RATIOS[@]}")
$(row "ApplyCredit ≥ 0.5 × pgbench redemption baseline" 0.5 min "${A_RATIOS[@]}")
$(row "GetCodeStatus ≥ 0.6 × Health/Check on the same server" 0.6 min "${S_RATIOS[@]}")
$(row "open loop at 70% of peak: p99 ≤ 5 × p50" 5 max "${O_RATIOS[@]}")
$(row "redemptions with a 1,000/s invalid flood beside them ≥ 0.8 × without" 0.8 min "${F_RATIOS[@]}")
$(row "RedeemCode ≥ 1.0 × the ceiling (the same SQL, 16 redemptions to a transaction): the direction" 1.0 min "${C_RATIOS[@]}")
| resident memory per service under the redeem scenario ≤ 128 MiB | largest: ${RSS_MAX} MiB | | $(verdict_max "$RSS_MAX" 128) |
| \`mixed\`, 32 callers, 300/s invalid flood beside, ${MIXED_SECONDS} s: calls shed without a reason = 0 | ${MIXED_SHED} of $((MIXED_OK + MIXED_SHED))+ | | $(verdict_max "$MIXED_SHED" 0) |
| same run: p99 ≤ 5 × p50 | p50 ${MIXED_P50} ms, p99 ${MIXED_P99} ms | $(ratio "$MIXED_P99" "$MIXED_P50") | $(verdict_max "$(ratio "$MIXED_P99" "$MIXED_P50")" 5) |

Audit after the runs: ${AUDIT}

## Figures of each round (per second unless said)

| round | pgbench redemption SQL (TPS) | ceiling: 16 to a transaction (redemptions/s) | Health/Check | RedeemCode | ApplyCredit | GetCodeStatus | open loop at 70% of RedeemCode | RedeemCode beside the flood |
|---|---|---|---|---|---|---|---|---|
${ROUND_ROWS}
## CPU per call, per process (µs, over each measured window)

Read from \`/proc/<pid>/stat\` by giftbench at the start and the end of the
window (Postgres: the postmaster with every backend and background process),
divided by the calls answered in it. On this shared machine these figures are
steadier than throughput, and they say where the next microsecond goes.

| round | scenario | code-vault / account-credit / billing / Postgres / Redis / giftbench = all |
|---|---|---|
${CPU_ROWS}
pgbench's rows count Postgres (the postmaster, its live backends and the
ones it reaped: cutime and cstime) and pgbench itself, per redemption.

## The floor for Postgres

What a redemption costs Postgres with the suite's own schema, batched as
well as it can be: \`bench/floor.sh\` has pgbench (one client) send the
very statements the engines send, read from their \`.sql\` files, 16
redemptions to a batch, on two databases made from the services'
schemas: in code-vault's, \`reserve_many\` then \`complete_many\`; in
account-credit's, \`lock_accounts\`, \`find_requests\` and
\`write_transfers\` in one transaction; in both, the event relay's pass
after every 6th batch. Every trigger, index, change-log and event row is
written as in the suite. No service, no Redis, no round trip between
services. µs of Postgres's and pgbench's CPU per redemption, and WAL bytes
per redemption (the floor's: both databases; RedeemCode's: from its
counters above).

| round | pgbench's minimal SQL, one to a transaction | the floor | floor ÷ pgbench | RedeemCode's Postgres | RedeemCode's Postgres ÷ floor | the floor's WAL bytes (code-vault + account-credit) | RedeemCode's WAL bytes |
|---|---|---|---|---|---|---|---|
${FLOOR_ROWS}
## Server counters per call (over each measured window)

Context switches of every thread of each service (\`/proc/<pid>/task/*/status\`),
Postgres statements (\`pg_stat_statements\`), commits (\`pg_stat_database\`) and
WAL bytes (\`pg_stat_wal\`) per answered call, and the mean size of each
batching stage's batches (the services' \`giftcard_sql_batch_size\`). Taken by
\`bench/counters.sh\` just before and just after the window, so they may
include a few calls either side of it.

| round | scenario | code-vault switches | account-credit switches | billing switches | statements | commits | WAL bytes | mean batch per stage |
|---|---|---|---|---|---|---|---|---|
${COUNTER_ROWS}
pgbench runs one redemption's minimal SQL (conditional UPDATE, ledger INSERT,
balance UPDATE; \`-M prepared\`, ${CONCURRENCY} clients, over the transport the
services use: $( [[ ${PGBENCH_HOST} == /* ]] && echo "the Unix socket" || echo "loopback TCP")). Health/Check is on
code-vault, from giftbench with ${CONCURRENCY} callers. The ceiling runs the same
SQL 16 redemptions to a transaction (\`bench/redemption_batch16.sql\`, deadlocks
retried), the figure batching at every hop could approach. redis-benchmark, \`SET key
token NX PX 10000\` with 50 clients: ${REDIS_RPS}/s.

## Every run (giftbench's JSON lines)

\`\`\`
${RUNS}\`\`\`
MD
echo "wrote $OUT" >&2
