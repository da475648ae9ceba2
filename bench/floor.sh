#!/usr/bin/env bash
# The floor for Postgres: what a redemption costs with the suite's own
# schema (its triggers, indexes, change log and events) and its own
# statements, batched as well as they can be. pgbench, one client, sends
# the very statements the engines send (storage/sql/*.sql and the event
# relay's libs/outbox/sql/*.sql, read from their files), with the engines'
# session settings (FLOOR_PGOPTIONS below), B redemptions to a batch
# (bench/run.sh: 16):
#   code-vault's database:     reserve_many, then complete_many (two
#                              commits; the engine makes one of them when
#                              a flight carries both, about a quarter of
#                              its flights under bench/run.sh's load);
#   account-credit's database: BEGIN, lock_accounts, find_requests,
#                              write_transfers, COMMIT;
#   both, every 96 redemptions: the relay's pass (lock_counter, waiting,
#                              move, advance_counter), as a relay moving
#                              about 100 events a pass does.
# They run on two databases made from the services' schemas, never on the
# services' own: the floor's redemptions have no credits on the other side,
# and the audit would rightly call them broken. Not a test.
#
#   bench/floor.sh setup CODES   (re)creates floor_code_vault and
#                                floor_account_credit: CODES active codes,
#                                200 accounts
#   bench/floor.sh script DB     the pgbench script for DB (code_vault or
#                                account_credit) on stdout; pgbench runs it
#                                with -D b=B (a divisor of 96) and
#                                -D n=OFFSET (it redeems codes OFFSET+1 on,
#                                which must be fewer than CODES), and
#                                PGOPTIONS=$(bench/floor.sh options)
#   bench/floor.sh options       the engines' session settings, for PGOPTIONS
#   bench/floor.sh drain         relays what a run left in the outboxes
#                                (bench/settle.sh waits for empty ones)
#   bench/floor.sh drop
#
# Its batches (GIFTCARD_BENCH_FLOOR_BATCHES in bench/run.sh, 600) redeem about as
# many codes as a RedeemCode window does, so the full-page images that follow
# the settle step's checkpoint weigh alike in both. Needs the stack's env (PG_DSN).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${PG_DSN:?source the env file of the stack first}"
DATABASES=(code_vault account_credit)
# The floor databases are PREFIXcode_vault and PREFIXaccount_credit; an A/B sets two prefixes.
PREFIX=${GIFTCARD_FLOOR_PREFIX:-floor_}
# The settings every engine and pool session runs with (pg::SessionSettings
# in libs/pg/pool.cc), timeouts aside. Without them pgbench's sessions made a
# custom plan on every execution: reserve_many took 202 µs of executor time
# per redemption instead of 57, find_requests 64 instead of 3.
export FLOOR_PGOPTIONS="-c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_hashjoin=off -c jit=off"
q() { psql "$PG_DSN dbname=$1" -X -q -v ON_ERROR_STOP=1 "${@:2}"; }

# statement FILE PREFIX [N=EXPR]... → FILE's statement for pgbench: comment
# lines dropped, each $N a pgbench variable :PREFIX<N> (or EXPR when given).
statement() {
  local file=$1 prefix=$2
  shift 2
  local args=()
  for a in "$@"; do args+=(-e "s/\\\$${a%%=*}\\b/${a#*=}/g"); done
  sed -e '/^[[:space:]]*--/d' "${args[@]}" "$file" |
    sed -E "s/\\\$([0-9]+)/:${prefix}\\1/g"
  echo ';'
}

# The relay's pass, every 96 redemptions (a batch size divides 96).
relay() {
  local sql=$ROOT/libs/outbox/sql
  cat <<'EOF'
\if :n % 96 = 0
BEGIN;
EOF
  statement "$sql/lock_counter.sql" x | sed '$d'
  echo '\gset'
  statement "$sql/waiting.sql" x | sed '$d'
  echo '\gset'
  statement "$sql/move.sql" x 1=:last_event_id 2=100000
  statement "$sql/advance_counter.sql" x 1=:count
  cat <<'EOF'
COMMIT;
\endif
EOF
}

script_code_vault() {
  local sql=$ROOT/services/code_vault/storage/sql
  cat <<'EOF'
\set n :n + :b
\set lo :n - :b
-- The batch's codes, accounts (distinct within a batch, as the engine
-- guarantees), request ids, and the credit's answer for complete_many.
SELECT array_agg('floor-' || (i % 200) ORDER BY i)::text AS r1,
       array_agg('floor-' || i ORDER BY i)::text AS r2,
       array_agg(i - :lo ORDER BY i)::text AS r3,
       array_agg(code_hash ORDER BY i)::text AS r4,
       array_agg('storefront'::text ORDER BY i)::text AS r5,
       array_agg(gen_random_uuid()::text ORDER BY i)::text AS c3,
       array_agg(500 ORDER BY i)::text AS c4
FROM floor_items WHERE i > :lo AND i <= :n
\gset
EOF
  statement "$sql/reserve_many.sql" r
  statement "$sql/complete_many.sql" c 1=:r1 2=:r2
  relay
}

script_account_credit() {
  local sql=$ROOT/services/account_credit/storage/sql
  cat <<'EOF'
\set n :n + :b
\set lo :n - :b
-- The batch's credits of 500, to distinct accounts, each with the
-- balance after it, as the engine's plan computes it from the locked rows.
SELECT array_agg(x.request_id ORDER BY x.j)::text AS w1,
       array_agg('credit|' || x.account_id || '|EUR|500|DE' ORDER BY x.j)::text AS w2,
       array_agg('CREDIT'::text ORDER BY x.j)::text AS w3,
       array_agg(x.account_id ORDER BY x.j)::text AS w4,
       array_agg('gift-funding/EUR'::text ORDER BY x.j)::text AS w5,
       array_agg('EUR'::text ORDER BY x.j)::text AS w6,
       array_agg(500 ORDER BY x.j)::text AS w7,
       array_agg(a.balance_minor + 500 ORDER BY x.j)::text AS w8,
       array_agg('FL' || (:lo + x.j) ORDER BY x.j)::text AS w9,
       array_agg(500 ORDER BY x.j)::text AS w10,
       array_agg(0 ORDER BY x.j)::text AS w11,
       array_agg(0 ORDER BY x.j)::text AS w12
FROM (SELECT j, gen_random_uuid()::text AS request_id, 'floor-' || ((:lo + j) % 200) AS account_id
      FROM generate_series(1, :b::int) j) x
JOIN accounts a USING (account_id)
\gset
BEGIN;
EOF
  statement "$sql/lock_accounts.sql" w 1=:w4
  statement "$sql/find_requests.sql" w 1=:w1
  statement "$sql/write_transfers.sql" w
  echo 'COMMIT;'
  relay
}

setup() {
  local codes=${1:?codes}
  for db in "${DATABASES[@]}"; do
    q postgres -c "DROP DATABASE IF EXISTS ${PREFIX}$db" -c "CREATE DATABASE ${PREFIX}$db"
    local dir=$ROOT/services/$db/schema
    for f in "$dir"/*.sql; do q "${PREFIX}$db" -f "$f" >/dev/null; done
  done
  q "${PREFIX}code_vault" >/dev/null <<EOF
INSERT INTO batches (request_id, request_fingerprint, code_count, currency_code, amount_minor, region)
VALUES ('floor', 'floor', $codes, 'EUR', 500, 'DE');
CREATE TABLE floor_items (i bigint PRIMARY KEY, code_hash bytea NOT NULL);
INSERT INTO floor_items SELECT i, sha256(('floor-' || i)::bytea) FROM generate_series(1, $codes) i;
INSERT INTO codes (code_hash, pepper_key_id, serial, batch_id, pin_last4, currency_code,
                   amount_minor, region, state, activate_time)
SELECT code_hash, 'floor', 'FL' || lpad(i::text, 12, '0'), (SELECT batch_id FROM batches),
       'FLOR', 'EUR', 500, 'DE', 'ACTIVE', now()
FROM floor_items;
EOF
  q "${PREFIX}account_credit" >/dev/null <<EOF
INSERT INTO accounts (account_id, country, currency_code, billing_channel)
SELECT 'floor-' || k, 'DE', 'EUR', 'DIRECT' FROM generate_series(0, 199) k;
EOF
  drain
}

drain() {  # the relay's own pass (relay above), once per database
  local script
  script=$(mktemp)
  relay >"$script"
  for db in "${DATABASES[@]}"; do
    pgbench -n -t 1 -D n=0 -f "$script" "${PG_DSN} dbname=${PREFIX}$db" >/dev/null 2>&1 ||
      { echo "floor: the relay's pass failed on ${PREFIX}$db" >&2; rm -f "$script"; exit 1; }
  done
  rm -f "$script"
}

case ${1:-} in
  setup) setup "${2:-}" ;;
  script) "script_${2:?code_vault or account_credit}" ;;
  options) echo "$FLOOR_PGOPTIONS" ;;
  drain) drain ;;
  drop) for db in "${DATABASES[@]}"; do q postgres -c "DROP DATABASE IF EXISTS ${PREFIX}$db"; done ;;
  *)
    echo "usage: bench/floor.sh setup CODES | script DB | options | drain | drop" >&2
    exit 2
    ;;
esac
