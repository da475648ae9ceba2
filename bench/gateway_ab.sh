#!/usr/bin/env bash
# What HTTP/JSON through giftcard-gateway costs next to gRPC: GetCodeStatus
# by serial as the admin, over gRPC straight to code-vault (giftbench's
# code-status scenario, the baseline) and over HTTP through the gateway
# (wrk, GET /v1/codes/{serial}), in alternating order over several rounds
# on one local stack. Prints CPU per call per process (from /proc, over each
# measured window) and the HTTP/gRPC ratio of the services' CPU per call.
# Not a test.
#
#   bench/gateway_ab.sh   (GIFTCARD_BENCH_SECONDS=10, GIFTCARD_BENCH_CONCURRENCY=16,
#                          GIFTCARD_BENCH_ROUNDS=3; installs Debian's wrk if missing)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/bench/lib.sh"

if ! command -v wrk >/dev/null; then
  SUDO=()
  [[ $(id -u) -eq 0 ]] || SUDO=(sudo -n)
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q wrk >/dev/null
fi
bench_stack_up

# CPU ticks (utime + stime) of a process, or of the postmaster and its children.
ticks() {
  local pid=$1 with_children=${2:-} total=0 p
  local pids=("$pid")
  [[ -n $with_children ]] && mapfile -t -O 1 pids < <(pgrep -P "$pid")
  for p in "${pids[@]}"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
PG_PID=$(head -1 "$STACK/pg/data/postmaster.pid")
VAULT_PID=$(cat "$STACK/code-vault.pid")
GATEWAY_PID=$(cat "$STACK/gateway.pid")
snapshot() { echo "$(ticks "$GATEWAY_PID") $(ticks "$VAULT_PID") $(ticks "$PG_PID" +)"; }
HZ=$(getconf CLK_TCK)
# per_call BEFORE AFTER CALLS → "gateway vault pg services" in µs of CPU per call.
per_call() {
  awk -v b="$1" -v a="$2" -v n="$3" -v hz="$HZ" 'BEGIN {
    split(b, x, " "); split(a, y, " "); s = 0
    for (i = 1; i <= 3; i++) { v[i] = (y[i] - x[i]) * 1e6 / hz / n; s += v[i] }
    printf "%.0f %.0f %.0f %.0f", v[1], v[2], v[3], s }'
}

# One card to look at, issued as the admin.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cards="$work/cards.csv"
"$BUILD_DIR/tools/giftctl/giftctl" codes issue --count=1 --amount=5.00 --currency=EUR --region=DE \
  --plaintext --out="$cards" >/dev/null
SERIAL=$(sed -n 2p "$cards" | cut -d, -f1)

grpc_run() {  # → "calls gateway vault pg services", over giftbench's measured window
  local json calls g v p
  json=$("$BENCH" --label=grpc --scenario=code-status --concurrency="$CONCURRENCY" \
    --duration="${SECONDS_PER_RUN}s" \
    --cpu_watch="gateway=$GATEWAY_PID,code-vault=$VAULT_PID,postgres=$PG_PID+" 2>/dev/null |
    grep '^JSON ' | sed 's/^JSON //')
  calls=$(grep -o '"ok":[0-9]*' <<<"$json" | head -1 | cut -d: -f2)
  g=$(cpu gateway <<<"$json")
  v=$(cpu code-vault <<<"$json")
  p=$(cpu postgres <<<"$json")
  echo "$calls $(awk -v g="$g" -v v="$v" -v p="$p" 'BEGIN { printf "%.0f %.0f %.0f %.0f", g, v, p, g + v + p }')"
}

http_run() {  # → "calls gateway vault pg services"
  local before after out calls
  before=$(snapshot)
  out=$(wrk -t2 -c"$CONCURRENCY" -d"${SECONDS_PER_RUN}s" \
    -H "Authorization: Bearer $GIFTCARD_TOKEN_ADMIN" "$GATEWAY_URL/v1/codes/$SERIAL")
  after=$(snapshot)
  calls=$(grep -o '^ *[0-9]* requests in' <<<"$out" | grep -o '[0-9]*' | head -1)
  if grep -q 'Non-2xx' <<<"$out"; then
    echo "wrk saw errors: $out" >&2
    exit 1
  fi
  echo "$calls $(per_call "$before" "$after" "$calls")"
}

RATIOS=()
printf '| round | path | calls | µs CPU per call: gateway / vault / postgres = **services** |\n|---|---|---|---|\n'
for round in $(seq 1 "$ROUNDS"); do
  order=(grpc http)
  ((round % 2 == 0)) && order=(http grpc)
  declare -A services=()
  for path in "${order[@]}"; do
    echo "round $round/$ROUNDS: $path" >&2
    if [[ $path == grpc ]]; then r=$(grpc_run); else r=$(http_run); fi
    read -r calls g v p s <<<"$r"
    services[$path]=$s
    printf '| %s | %s | %s | %s / %s / %s = **%s** |\n' "$round" "$path" "$calls" "$g" "$v" "$p" "$s"
  done
  RATIOS+=("$(ratio "${services[http]}" "${services[grpc]}")")
done
"$ROOT/deploy/local/stack.sh" down >/dev/null
echo
echo "services' CPU per GetCodeStatus, HTTP through the gateway / gRPC: ${RATIOS[*]} (median $(median "${RATIOS[@]}"))"
