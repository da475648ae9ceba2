#!/usr/bin/env bash
# A/B of one service flag, set through the environment (libs/config reads
# GIFTCARD_<FLAG> for --<flag>): for each round, a fresh local stack per
# value, in alternating order, the same scenario on each. Prints CPU per
# call per process (giftbench's --cpu_watch), calls/s, the server counters
# per call (bench/counters.sh) and the B/A ratio of all-process CPU per
# round and its median. Not a test.
#
#   bench/flag_ab.sh GIFTCARD_ENGINE false true [SCENARIO]
#   (GIFTCARD_BENCH_SECONDS=10, GIFTCARD_BENCH_CONCURRENCY=16, GIFTCARD_BENCH_ROUNDS=3)
#
# A storage setting instead of a flag: VAR sql:<database> makes each value a
# statement run on that database once the stack is up, before giftbench
# issues its codes (@FILE runs that file), e.g.
#   bench/flag_ab.sh sql:code_vault "SELECT 1" "ALTER TABLE codes SET (fillfactor = 80)"
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
VAR=${1:?usage: bench/flag_ab.sh VAR VALUE_A VALUE_B [SCENARIO]}
A=${2:?value A}
B=${3:?value B}
SCENARIO=${4:-redeem}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIFTCARD_COUNTERS_DIR=$WORK/counters
"$ROOT/scripts/build.sh" >/dev/null

run() {  # run → giftbench's JSON line, then the counters per call
  local extra=() json calls
  [[ $SCENARIO == redeem ]] && extra=(--codes=$((SECONDS_PER_RUN * 3000 + 20000)))
  json=$("$BENCH" --label="$SCENARIO" --scenario="$SCENARIO" --concurrency="$CONCURRENCY" \
    --duration="${SECONDS_PER_RUN}s" --cpu_watch="$(cpu_watch)" \
    --settle_command="$ROOT/bench/settle.sh" \
    --window_command="$ROOT/bench/counters.sh" "${extra[@]}" 2>/dev/null |
    grep '^JSON ' | sed 's/^JSON //')
  echo "$json"
  calls=$({ field ok <<<"$json"; grep -o '"errors":{[^}]*}' <<<"$json" | grep -o ':[0-9]*' | tr -d :; } |
    awk '{ n += $1 } END { print n + 0 }')
  "$ROOT/bench/counters.sh" per "$calls"
}

declare -A ALL
RATIOS=()
printf '| round | %s | code-vault / account-credit / billing / Postgres / Redis / giftbench = all (µs CPU per call) | calls/s | counters per call |\n' "$VAR"
printf '|---|---|---|---|---|\n'
for round in $(seq 1 "$ROUNDS"); do
  order=("$A" "$B")
  ((round % 2 == 0)) && order=("$B" "$A")
  for value in "${order[@]}"; do
    echo "round $round/$ROUNDS: $VAR=$value" >&2
    flag=("$VAR=$value")
    [[ $VAR == sql:* ]] && flag=()
    env "${flag[@]}" GIFTCARD_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements" \
      "$ROOT/deploy/local/stack.sh" up >/dev/null
    # shellcheck disable=SC1091
    source "$STACK/env"
    psql "$PG_DSN dbname=postgres" -qAt -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
    if [[ $VAR == sql:* && -n $value ]]; then
      if [[ $value == @* ]]; then
        psql "$PG_DSN dbname=${VAR#sql:}" -v ON_ERROR_STOP=1 -qAt -f "${value#@}" >/dev/null
      else
        psql "$PG_DSN dbname=${VAR#sql:}" -v ON_ERROR_STOP=1 -qAt -c "$value" >/dev/null
      fi
    fi
    out=$(run)
    json=$(head -1 <<<"$out")
    counters=$(tail -1 <<<"$out")
    ALL[$round.$value]=$(cpu all <<<"$json")
    printf '| %s | %s | %s / %s / %s / %s / %s / %s = **%s** | %s | %s |\n' "$round" "$value" \
      "$(cpu code-vault <<<"$json")" "$(cpu account-credit <<<"$json")" "$(cpu billing <<<"$json")" \
      "$(cpu postgres <<<"$json")" "$(cpu redis <<<"$json")" "$(cpu giftbench <<<"$json")" \
      "$(cpu all <<<"$json")" "$(field throughput <<<"$json")" "$counters"
  done
  RATIOS+=("$(ratio "${ALL[$round.$B]}" "${ALL[$round.$A]}")")
done
"$ROOT/deploy/local/stack.sh" down >/dev/null
echo
echo "all-process CPU per call, $VAR=$B / $VAR=$A: ${RATIOS[*]} (median $(median "${RATIOS[@]}"))"
