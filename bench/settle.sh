#!/usr/bin/env bash
# Settles the local stack's Postgres before a measured window, so the window
# counts neither the background work the preparation or the window before
# left (the postmaster's children are in every Postgres CPU figure): the
# event relays have moved every event written so far, every table with rows
# is vacuumed and analyzed (so autovacuum does not start on the
# preparation's dead rows inside the window), a checkpoint has written the
# dirty pages, and no autovacuum worker runs. Not a test. Needs the stack's
# env (PG_DSN).
#
#   bench/settle.sh          (giftbench --settle_command=bench/settle.sh)
set -euo pipefail
: "${PG_DSN:?source the env file of the stack first}"
q() { psql "$PG_DSN dbname=$1" -qAt -c "$2"; }

databases=$(q postgres "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate")
for db in $databases; do
  [[ $(q "$db" "SELECT to_regclass('event_outbox') IS NOT NULL") == t ]] || continue
  for _ in $(seq 1 240); do
    [[ $(q "$db" "SELECT count(*) FROM event_outbox") == 0 ]] && break
    sleep 0.25
  done
done
# Only tables with rows: VACUUM on a table that has never had any makes the
# planner take it for empty (relpages 0, reltuples 0) rather than for
# unknown, and a generic plan made over it then reads it whole once it has
# grown (docs/decisions.md, "Plans made over empty tables").
for db in $databases; do
  for table in $(q "$db" "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
                          WHERE n_live_tup + n_dead_tup > 0"); do
    q "$db" "VACUUM (ANALYZE) $table" >/dev/null
  done
done
q postgres CHECKPOINT >/dev/null
for _ in $(seq 1 120); do
  [[ $(q postgres "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'") == 0 ]] &&
    exit 0
  sleep 0.5
done
