#!/usr/bin/env bash
# What the transactional outbox costs on the hot paths: RedeemCode and
# ApplyCredit with the event triggers on (A, as shipped) and off (B:
# `ALTER TABLE … DISABLE TRIGGER`, the same binaries and databases), in
# alternating order over several rounds on one local stack, so both sides
# see the same machine. Prints CPU per call per process (giftbench's
# --cpu_watch, steadier here than throughput) and the on/off ratio of each
# round and their median. Not a test.
#
#   bench/outbox_ab.sh   (GIFTCARD_BENCH_SECONDS=10, GIFTCARD_BENCH_CONCURRENCY=16,
#                         GIFTCARD_BENCH_ROUNDS=3)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"
bench_stack_up

triggers() {  # triggers ENABLE|DISABLE
  psql "$CODE_VAULT_PG_DSN" -qAt -c "ALTER TABLE codes $1 TRIGGER codes_emit_events"
  psql "$ACCOUNT_CREDIT_PG_DSN" -qAt -c "ALTER TABLE transfers $1 TRIGGER transfers_emit_events"
  psql "$BILLING_PG_DSN" -qAt -c \
    "ALTER TABLE credit_applications $1 TRIGGER credit_applications_emit_events"
}

run() {  # run SCENARIO → giftbench's JSON line
  local extra=()
  [[ $1 == redeem ]] && extra=(--codes=$((SECONDS_PER_RUN * 3000 + 20000)))
  "$BENCH" --label="$1" --scenario="$1" --concurrency="$CONCURRENCY" \
    --duration="${SECONDS_PER_RUN}s" --cpu_watch="$(cpu_watch)" "${extra[@]}" 2>/dev/null |
    grep '^JSON ' | sed 's/^JSON //'
}

declare -A RESULT
R_RATIOS=() A_RATIOS=()
printf '| round | outbox | RedeemCode µs CPU/call: vault / credit / pg / all | calls/s | ApplyCredit µs CPU/call: billing / credit / pg / all | calls/s |\n'
printf '|---|---|---|---|---|---|\n'
for round in $(seq 1 "$ROUNDS"); do
  order=(on off)
  ((round % 2 == 0)) && order=(off on)
  for variant in "${order[@]}"; do
    if [[ $variant == on ]]; then triggers ENABLE; else triggers DISABLE; fi
    echo "round $round/$ROUNDS: outbox $variant" >&2
    redeem=$(run redeem)
    apply=$(run apply-credit)
    RESULT[$round.$variant.redeem]=$(cpu all <<<"$redeem")
    RESULT[$round.$variant.apply]=$(cpu all <<<"$apply")
    printf '| %s | %s | %s / %s / %s / **%s** | %s | %s / %s / %s / **%s** | %s |\n' "$round" "$variant" \
      "$(cpu code-vault <<<"$redeem")" "$(cpu account-credit <<<"$redeem")" \
      "$(cpu postgres <<<"$redeem")" "$(cpu all <<<"$redeem")" "$(field throughput <<<"$redeem")" \
      "$(cpu billing <<<"$apply")" "$(cpu account-credit <<<"$apply")" \
      "$(cpu postgres <<<"$apply")" "$(cpu all <<<"$apply")" "$(field throughput <<<"$apply")"
  done
  R_RATIOS+=("$(ratio "${RESULT[$round.on.redeem]}" "${RESULT[$round.off.redeem]}")")
  A_RATIOS+=("$(ratio "${RESULT[$round.on.apply]}" "${RESULT[$round.off.apply]}")")
done
triggers ENABLE
"$ROOT/deploy/local/stack.sh" down >/dev/null
echo
echo "CPU per call, all processes, outbox on / off: RedeemCode ${R_RATIOS[*]} (median $(median "${R_RATIOS[@]}")), ApplyCredit ${A_RATIOS[*]} (median $(median "${A_RATIOS[@]}"))"
