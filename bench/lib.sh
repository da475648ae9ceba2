# Shared by bench/run.sh and the A/B scripts (bench/outbox_ab.sh, bench/gateway_ab.sh,
# bench/floor_ab.sh):
# settings from the environment, the stack's processes, and the arithmetic
# of ratios. Source it after setting ROOT.
# shellcheck shell=bash
BUILD_DIR=${GIFTCARD_BUILD_DIR:-$ROOT/build}
SECONDS_PER_RUN=${GIFTCARD_BENCH_SECONDS:-10}
CONCURRENCY=${GIFTCARD_BENCH_CONCURRENCY:-16}
ROUNDS=${GIFTCARD_BENCH_ROUNDS:-3}
BENCH="$BUILD_DIR/tools/giftbench/giftbench"
STACK=${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}
# The stacks measured archive no WAL (deploy/local/stack.sh), as pgbench's
# baseline does not: the archiver's copies would count as Postgres's CPU.
export GIFTCARD_STACK_BACKUP=${GIFTCARD_STACK_BACKUP:-off}

# Builds, starts a fresh local stack and sources its env file.
bench_stack_up() {
  "$ROOT/scripts/build.sh" >/dev/null
  "$ROOT/deploy/local/stack.sh" up >/dev/null
  # shellcheck disable=SC1091
  source "$STACK/env"
}

# giftbench's --cpu_watch for the stack's processes (Postgres with its children).
cpu_watch() {
  echo "code-vault=$(cat "$STACK/code-vault.pid"),account-credit=$(cat "$STACK/account-credit.pid"),billing=$(cat "$STACK/billing.pid"),gateway=$(cat "$STACK/gateway.pid"),postgres=$(head -1 "$STACK/pg/data/postmaster.pid")+,redis=$(cat "$STACK/redis/redis.pid")"
}
# cpu NAME < giftbench JSON → µs of CPU per call of that process ("all": every one).
cpu() { grep -o "\"cpu_us_per_call\":{[^}]*}" | grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2; }
# field NAME < giftbench JSON → that number.
field() { grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# CPU clock ticks Postgres has used: the postmaster, its live children, and
# the children it has reaped (cutime, cstime), so a backend that exited
# during a run still counts.
CLK_TCK=$(getconf CLK_TCK)
pg_cpu_ticks() {
  local pm t=0 s c
  local -a f
  pm=$(head -1 "$STACK/pg/data/postmaster.pid")
  for c in $(pgrep -P "$pm"); do
    s=$(cat "/proc/$c/stat" 2>/dev/null) || continue
    s=${s##*) }  # the command may hold spaces and parentheses
    read -ra f <<<"$s"
    t=$((t + f[11] + f[12]))  # utime, stime (fields 14 and 15)
  done
  s=$(cat "/proc/$pm/stat")
  s=${s##*) }
  read -ra f <<<"$s"
  echo $((t + f[11] + f[12] + f[13] + f[14]))
}
