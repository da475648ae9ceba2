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

"$ROOT/scripts/build.sh" >/dev/null
"$ROOT/deploy/local/stack.sh" up >/dev/null
# shellcheck disable=SC1091
source "${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}/env"
PG_PORT=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_DSN")
REDIS_PORT=${REDIS_ADDR##*:}

json() { grep '^JSON ' | sed 's/^JSON //'; }
field() { grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
run() {  # run LABEL ARGS... → JSON line of giftbench
  local label=$1
  shift
  "$BENCH" --label="$label" --duration="${SECONDS_PER_RUN}s" "$@" 2>/dev/null | json
}
rss_mib() { ps -o rss= -p "$(cat "${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}/$1.pid")" | awk '{printf "%.0f", $1 / 1024}'; }

createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres bench
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench -f "$ROOT/bench/setup.sql" 2>/dev/null

echo "baseline: redis-benchmark, the guard's SET NX PX, 50 clients" >&2
REDIS_RPS=$(redis-benchmark -p "$REDIS_PORT" -c 50 -n 200000 -q -r 1000000 \
  SET 'giftcard:{__rand_int__}:lock' token NX PX 10000 2>/dev/null | tr '\r' '\n' |
  grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1)

# One round: each baseline next to the scenarios it is compared with, so a
# ratio compares figures taken under the same conditions. Several rounds,
# because this shared machine's figures swing by a third from one minute to
# the next: the table shows each round's ratio and their median.
R_RATIOS=() A_RATIOS=() S_RATIOS=() O_RATIOS=() F_RATIOS=() RSS_MAX=0 RUNS="" ROUND_ROWS=""
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS: pgbench, one redemption's SQL, $CONCURRENCY clients" >&2
  PGBENCH_TPS=$(pgbench -n -M prepared -c "$CONCURRENCY" -j 2 -T "$SECONDS_PER_RUN" -h 127.0.0.1 \
    -p "$PG_PORT" -U postgres -f "$ROOT/bench/redemption.sql" bench 2>&1 |
    grep -o 'tps = [0-9.]*' | head -1 | cut -d' ' -f3)
  echo "round $round/$ROUNDS: Health/Check and the scenarios" >&2
  HEALTH=$(run health --scenario=health --concurrency="$CONCURRENCY")
  CODES=$((SECONDS_PER_RUN * 3000 + 20000))
  REDEEM=$(run redeem --scenario=redeem --concurrency="$CONCURRENCY" --codes="$CODES")
  for s in code-vault account-credit billing; do
    RSS_MAX=$(printf '%s\n' "$RSS_MAX" "$(rss_mib "$s")" | sort -n | tail -1)
  done
  APPLY=$(run apply-credit --scenario=apply-credit --concurrency="$CONCURRENCY")
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
  A_RATIOS+=("$(ratio "$A" "$PGBENCH_TPS")")
  S_RATIOS+=("$(ratio "$S" "$H")")
  O_RATIOS+=("$(ratio "$P99" "$P50")")
  F_RATIOS+=("$(ratio "$F" "$R")")
  ROUND_ROWS+="| $round | ${PGBENCH_TPS} | ${H} | ${R} | ${A} | ${S} | ${RATE70}: p50 ${P50} ms, p99 ${P99} ms | ${F} |"$'\n'
  RUNS+="# round $round: pgbench ${PGBENCH_TPS} TPS"$'\n'"${HEALTH}"$'\n'"${REDEEM}"$'\n'"${APPLY}"$'\n'
  RUNS+="${STATUS}"$'\n'"${CHECK}"$'\n'"${OPEN}"$'\n'"${FLOODED}"$'\n'
done
AUDIT=$("$BENCH" --scenario=health --duration=1s --warmup=0s --audit 2>/dev/null | tail -1)
"$ROOT/deploy/local/stack.sh" down >/dev/null

median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
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
loop. A ratio compares figures of one round; the verdict is on the median.
Command: \`bench/run.sh\`.

## Targets (issue 6)

| target | ratio in each round | median | |
|---|---|---|---|
$(row "RedeemCode ≥ 0.5 × pgbench redemption baseline" 0.5 min "${R_RATIOS[@]}")
$(row "ApplyCredit ≥ 0.5 × pgbench redemption baseline" 0.5 min "${A_RATIOS[@]}")
$(row "GetCodeStatus ≥ 0.5 × Health/Check on the same server" 0.5 min "${S_RATIOS[@]}")
$(row "open loop at 70% of peak: p99 ≤ 5 × p50" 5 max "${O_RATIOS[@]}")
$(row "redemptions with a 1,000/s invalid flood beside them ≥ 0.8 × without" 0.8 min "${F_RATIOS[@]}")
| resident memory per service under the redeem scenario ≤ 128 MiB | largest: ${RSS_MAX} MiB | | $(verdict_max "$RSS_MAX" 128) |

Audit after the runs: ${AUDIT}

## Figures of each round (per second unless said)

| round | pgbench redemption SQL (TPS) | Health/Check | RedeemCode | ApplyCredit | GetCodeStatus | open loop at 70% of RedeemCode | RedeemCode beside the flood |
|---|---|---|---|---|---|---|---|
${ROUND_ROWS}
pgbench runs one redemption's minimal SQL (conditional UPDATE, ledger INSERT,
balance UPDATE; \`-M prepared\`, ${CONCURRENCY} clients). Health/Check is on
code-vault, from giftbench with ${CONCURRENCY} callers. redis-benchmark, \`SET key
token NX PX 10000\` with 50 clients: ${REDIS_RPS}/s.

## Every run (giftbench's JSON lines)

\`\`\`
${RUNS}\`\`\`
MD
echo "wrote $OUT" >&2
