#!/usr/bin/env bash
# Server counters over giftbench's measured window: giftbench runs
# `bench/counters.sh start` just before the window and `bench/counters.sh end`
# just after it (--window_command), and `bench/counters.sh per CALLS` prints
# each counter's growth per call, as JSON.
#
# Counted: context switches of each service (every thread, /proc/<pid>/task),
# Postgres statements (pg_stat_statements), commits (pg_stat_database) and WAL
# bytes (pg_stat_wal), and each batching stage's batches and calls (the
# services' giftcard_sql_batch_size histograms).
#
# Environment: the stack's env (PG_DSN, *_METRICS), GIFTCARD_STACK_DIR, and
# GIFTCARD_COUNTERS_DIR (where the snapshots go).
set -euo pipefail
STACK=${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}
DIR=${GIFTCARD_COUNTERS_DIR:?set GIFTCARD_COUNTERS_DIR}
mkdir -p "$DIR"

ctxt() {  # ctxt PID → voluntary + involuntary switches of all its threads
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n + 0 }'
}

snapshot() {
  local s
  for s in code-vault account-credit billing; do
    echo "ctxt_${s//-/_} $(ctxt "$(cat "$STACK/$s.pid")")"
  done
  # One query: its own statement and commit are in the figures, two per
  # window, nothing beside thousands of calls.
  psql "$PG_DSN dbname=postgres" -qAt -F' ' -c "
    SELECT 'pg_statements', coalesce((SELECT sum(calls) FROM pg_stat_statements), -1)
    UNION ALL SELECT 'pg_commits', (SELECT sum(xact_commit) FROM pg_stat_database)
    UNION ALL SELECT 'pg_wal_bytes', (SELECT wal_bytes FROM pg_stat_wal)"
  local m
  for m in "$CODE_VAULT_METRICS" "$ACCOUNT_CREDIT_METRICS" "$BILLING_METRICS"; do
    curl -fsS "http://$m/metrics" |
      sed -n 's/^giftcard_sql_batch_size_\(sum\|count\){statement="\([^"]*\)"} \([0-9.e+]*\)$/batch_\2_\1 \3/p'
  done
}

case ${1:-} in
  start | end) snapshot >"$DIR/$1.tmp" && mv "$DIR/$1.tmp" "$DIR/$1" ;;
  per)
    calls=${2:?calls}
    # Growth of each counter per call; a stage's mean batch = calls / batches.
    awk -v calls="$calls" '
      FNR == NR { start[$1] = $2; next }
      { d[$1] = $2 - start[$1]; order[++n] = $1 }
      END {
        out = ""
        for (i = 1; i <= n; i++) {
          k = order[i]
          if (k ~ /^batch_.*_count$/) continue
          if (k ~ /^batch_.*_sum$/) {
            stage = substr(k, 7, length(k) - 10)
            c = d["batch_" stage "_count"]
            if (c > 0) out = out sprintf("%s\"batch_%s\":%.1f", out == "" ? "" : ",", stage, d[k] / c)
            continue
          }
          if (k == "pg_statements" && start[k] < 0) continue
          out = out sprintf("%s\"%s\":%.2f", out == "" ? "" : ",", k, calls > 0 ? d[k] / calls : 0)
        }
        print "{" out "}"
      }' "$DIR/start" "$DIR/end"
    ;;
  *)
    echo "usage: bench/counters.sh start|end|per CALLS" >&2
    exit 2
    ;;
esac
