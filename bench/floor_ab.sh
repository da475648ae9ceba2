#!/usr/bin/env bash
# A/B of a schema change on the floor (bench/floor.sh): two pairs of floor
# databases, A as the migrations make them and B with a SQL file run on top
# (one for code-vault's database, one for account-credit's; '-' for none),
# measured in alternating order. Prints, per round and database, Postgres's
# and pgbench's CPU per redemption and the WAL bytes per redemption. The CPU
# swings by a fifth between identical rounds on this machine, the WAL bytes
# do not; for a trigger's own cost read pg_stat_user_functions (turn on
# track_functions) and pg_stat_statements. Needs a running local stack
# (deploy/local/stack.sh up; the WAL and the CPU are the whole server's).
#
#   bench/floor_ab.sh CODE_VAULT_SQL|- ACCOUNT_CREDIT_SQL|-
#                     (GIFTCARD_BENCH_ROUNDS=4, GIFTCARD_FLOOR_BATCH=16,
#                      GIFTCARD_FLOOR_BATCHES=400)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
# shellcheck disable=SC1091
source "$STACK/env"
TWEAK_CV=${1:?usage: bench/floor_ab.sh CODE_VAULT_SQL|- ACCOUNT_CREDIT_SQL|-}
TWEAK_AC=${2:?account-credit SQL or -}
ROUNDS=${GIFTCARD_BENCH_ROUNDS:-4}
BATCH=${GIFTCARD_FLOOR_BATCH:-16}
BATCHES=${GIFTCARD_FLOOR_BATCHES:-400}
PER_ROUND=$((BATCH * BATCHES))
HOST=$(sed 's/.*host=\([^ ]*\).*/\1/' <<<"$CODE_VAULT_PG_DSN")
PORT=$(sed 's/.*port=\([0-9]*\).*/\1/' <<<"$PG_DSN")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for prefix in fa_ fb_; do
  GIFTCARD_FLOOR_PREFIX=$prefix "$ROOT/bench/floor.sh" setup $((ROUNDS * PER_ROUND + 96)) >/dev/null
done
[[ $TWEAK_CV != - ]] && psql "$PG_DSN dbname=fb_code_vault" -Xq -v ON_ERROR_STOP=1 -f "$TWEAK_CV" >/dev/null
[[ $TWEAK_AC != - ]] && psql "$PG_DSN dbname=fb_account_credit" -Xq -v ON_ERROR_STOP=1 -f "$TWEAK_AC" >/dev/null
for db in code_vault account_credit; do "$ROOT/bench/floor.sh" script "$db" >"$WORK/$db.pgbench"; done

measure() {  # measure PREFIX DB OFFSET → "CPU_US/WAL_BYTES" per redemption
  local wal_before before after times wal
  "$ROOT/bench/settle.sh"
  wal_before=$(psql "$PG_DSN dbname=postgres" -XAtc 'SELECT pg_current_wal_lsn()')
  before=$(pg_cpu_ticks)
  times=$({ TIMEFORMAT='%U %S'; time PGOPTIONS=$("$ROOT/bench/floor.sh" options) pgbench -n -M prepared \
    -c 1 -t "$BATCHES" -D b="$BATCH" -D n="$3" -h "$HOST" -p "$PORT" -U postgres \
    -f "$WORK/$2.pgbench" "$1$2" >"$WORK/pgbench.out" 2>&1; } 2>&1) ||
    { tail -5 "$WORK/pgbench.out" >&2; exit 1; }
  sleep 0.5  # the postmaster reaps pgbench's backend
  after=$(pg_cpu_ticks)
  wal=$(psql "$PG_DSN dbname=postgres" -XAtc "SELECT pg_current_wal_lsn() - '$wal_before'::pg_lsn")
  GIFTCARD_FLOOR_PREFIX=$1 "$ROOT/bench/floor.sh" drain
  awk -v ticks=$((after - before)) -v hz="$CLK_TCK" -v own="$times" -v n="$PER_ROUND" -v wal="$wal" \
    'BEGIN { split(own, u, " "); printf "%.0f/%.0f", (ticks / hz + u[1] + u[2]) * 1e6 / n, wal / n }'
}

echo "| round | A code-vault | A account-credit | B code-vault | B account-credit | B/A CPU |"
echo "|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  declare -A v=()
  order=(fa_ fb_)
  ((round % 2 == 0)) && order=(fb_ fa_)
  for prefix in "${order[@]}"; do
    for db in code_vault account_credit; do
      v[$prefix$db]=$(measure "$prefix" "$db" $(((round - 1) * PER_ROUND)))
    done
  done
  a=$((${v[fa_code_vault]%/*} + ${v[fa_account_credit]%/*}))
  b=$((${v[fb_code_vault]%/*} + ${v[fb_account_credit]%/*}))
  echo "| $round | ${v[fa_code_vault]} | ${v[fa_account_credit]} | ${v[fb_code_vault]} | ${v[fb_account_credit]} | $(ratio "$b" "$a") |"
done
for prefix in fa_ fb_; do GIFTCARD_FLOOR_PREFIX=$prefix "$ROOT/bench/floor.sh" drop >/dev/null; done
