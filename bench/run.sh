#!/usr/bin/env bash
# Measures the suite against baselines taken in the same run on this machine,
# and writes docs/benchmarks.md. Not a test: figures vary between machines and
# runs; only the ratios of one run mean something.
#
#   bench/run.sh                      (GIFTCARD_BENCH_SECONDS=10, CONCURRENCY=16)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${GIFTCARD_BUILD_DIR:-$ROOT/build}
SECONDS_PER_RUN=${GIFTCARD_BENCH_SECONDS:-10}
CONCURRENCY=${GIFTCARD_BENCH_CONCURRENCY:-16}
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

echo "baseline: pgbench, one redemption's SQL, $CONCURRENCY clients" >&2
createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres bench
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench -f "$ROOT/bench/setup.sql" 2>/dev/null
PGBENCH_TPS=$(pgbench -n -M prepared -c "$CONCURRENCY" -j 2 -T "$SECONDS_PER_RUN" -h 127.0.0.1 \
  -p "$PG_PORT" -U postgres -f "$ROOT/bench/redemption.sql" bench 2>&1 |
  grep -o 'tps = [0-9.]*' | head -1 | cut -d' ' -f3)

echo "baseline: redis-benchmark, the guard's SET NX PX, 50 clients" >&2
REDIS_RPS=$(redis-benchmark -p "$REDIS_PORT" -c 50 -n 200000 -q -r 1000000 \
  SET 'giftcard:{__rand_int__}:lock' token NX PX 10000 2>/dev/null | tr '\r' '\n' |
  grep -o '[0-9.]* requests per second' | tail -1 | cut -d' ' -f1)

echo "baseline: grpc.health.v1 Health/Check on code-vault" >&2
HEALTH=$(run health --scenario=health --concurrency="$CONCURRENCY")

echo "scenarios" >&2
CODES=$((SECONDS_PER_RUN * 3000 + 20000))
REDEEM=$(run redeem --scenario=redeem --concurrency="$CONCURRENCY" --codes="$CODES")
RSS_VAULT=$(rss_mib code-vault)
RSS_CREDIT=$(rss_mib account-credit)
RSS_BILLING=$(rss_mib billing)
APPLY=$(run apply-credit --scenario=apply-credit --concurrency="$CONCURRENCY")
STATUS=$(run code-status --scenario=code-status --concurrency="$CONCURRENCY")
CHECK=$(run check-code --scenario=check-code --concurrency="$CONCURRENCY")
PEAK=$(field throughput <<<"$REDEEM")
RATE70=$(awk -v p="$PEAK" 'BEGIN { printf "%.0f", p * 0.7 }')
OPEN=$(run redeem-open --scenario=redeem --rate="$RATE70" --codes="$CODES")
FLOODED=$(run redeem-with-flood --scenario=redeem --concurrency="$CONCURRENCY" \
  --codes="$CODES" --flood_rate=1000)
AUDIT=$("$BENCH" --scenario=health --duration=1s --warmup=0s --audit 2>/dev/null | tail -1)
"$ROOT/deploy/local/stack.sh" down >/dev/null

H=$(field throughput <<<"$HEALTH")
R=$(field throughput <<<"$REDEEM")
A=$(field throughput <<<"$APPLY")
S=$(field throughput <<<"$STATUS")
F=$(field throughput <<<"$FLOODED")
P50=$(field p50_ms <<<"$OPEN")
P99=$(field p99_ms <<<"$OPEN")
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "met" : "not met") }'; }
verdict_max() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t ? "met" : "not met") }'; }

cat >"$OUT" <<MD
# Benchmarks

Written by \`bench/run.sh\` on $(date -u +%Y-%m-%d) — do not edit by hand. Everything ran on
one machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),
$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), the three services, Postgres 15,
Redis 7 and the load generator. ${SECONDS_PER_RUN} s per run after 1 s of warm-up,
${CONCURRENCY} concurrent callers in closed loop. Command: \`bench/run.sh\`.

## Targets (issue 6)

| target | figure | ratio | |
|---|---|---|---|
| RedeemCode ≥ 0.5 × pgbench redemption baseline | ${R}/s vs ${PGBENCH_TPS}/s | $(ratio "$R" "$PGBENCH_TPS") | $(verdict "$(ratio "$R" "$PGBENCH_TPS")" 0.5) |
| ApplyCredit ≥ 0.5 × pgbench redemption baseline | ${A}/s vs ${PGBENCH_TPS}/s | $(ratio "$A" "$PGBENCH_TPS") | $(verdict "$(ratio "$A" "$PGBENCH_TPS")" 0.5) |
| GetCodeStatus ≥ 0.5 × Health/Check on the same server | ${S}/s vs ${H}/s | $(ratio "$S" "$H") | $(verdict "$(ratio "$S" "$H")" 0.5) |
| open loop at 70% of peak (${RATE70}/s): p99 ≤ 5 × p50 | p50 ${P50} ms, p99 ${P99} ms | $(ratio "$P99" "$P50") | $(verdict_max "$(ratio "$P99" "$P50")" 5) |
| redemptions with a 1,000/s invalid flood beside them ≥ 0.8 × without | ${F}/s vs ${R}/s | $(ratio "$F" "$R") | $(verdict "$(ratio "$F" "$R")" 0.8) |
| resident memory per service under the redeem scenario ≤ 128 MiB | code-vault ${RSS_VAULT}, account-credit ${RSS_CREDIT}, billing ${RSS_BILLING} MiB | | $(verdict_max "$(printf '%s\n' "$RSS_VAULT" "$RSS_CREDIT" "$RSS_BILLING" | sort -n | tail -1)" 128) |

Audit after the runs: ${AUDIT}

## Baselines, measured in the same run

| baseline | figure |
|---|---|
| pgbench, one redemption's minimal SQL (conditional UPDATE, ledger INSERT, balance UPDATE; \`-M prepared\`, ${CONCURRENCY} clients) | ${PGBENCH_TPS} TPS |
| grpc.health.v1 Health/Check on code-vault (giftbench, ${CONCURRENCY} callers) | ${H}/s |
| redis-benchmark, \`SET key token NX PX 10000\`, 50 clients | ${REDIS_RPS}/s |

## Every run (giftbench's JSON lines)

\`\`\`
${HEALTH}
${REDEEM}
${APPLY}
${STATUS}
${CHECK}
${OPEN}
${FLOODED}
\`\`\`
MD
echo "wrote $OUT" >&2
