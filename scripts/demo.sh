#!/usr/bin/env bash
# README command 1: install, build, start the local stack, run the demo.
#
# The demo is one card's life: an admin issues and activates a batch with
# giftctl, a customer redeems a card and the billing system takes the credit
# (giftdemo plays the storefront and the billing system), then support
# answers "what happened to this card?", audits the books, reads finance's
# liability report and the card's events, with giftctl.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${GIFTCARD_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh"
"$ROOT/deploy/local/stack.sh" up
# shellcheck disable=SC1091
source "${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}/env"

giftctl() { "$BUILD_DIR/tools/giftctl/giftctl" "$@"; }
step() { printf '\n[%s] %s\n    $ giftctl %s\n' "$1" "$2" "${*:3}"; giftctl "${@:3}" | sed 's/^/    /'; }

# The PIN file is the only copy of the PINs: a private directory, removed at the end.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cards="$work/cards.csv"
run_id=$(date +%s%N)
account="demo-$run_id"

step 1 "Admin: issue 3 cards of 25.00 EUR for Germany (PINs go to a 0600 CSV)" \
  codes issue --count=3 --amount=25.00 --currency=EUR --region=DE --out="$cards"
serial=$(sed -n 2p "$cards" | cut -d, -f1)
batch=$(giftctl codes status --json "$serial" | sed -n 's/.*"batch_id":"\([^"]*\)".*/\1/p')
step 2 "Admin: the cards were sold; activate the batch" codes activate --batch_id="$batch"

"$BUILD_DIR/tools/giftdemo/giftdemo" "$cards" "$account" "inv-$run_id"

step 10 "Support: what happened to card $serial?" codes status "$serial"
step 11 "Support: the account that redeemed it" account show "$account"
step 12 "Support: its ledger, newest first" account ledger "$account"
step 13 "Support: what the second invoice took" invoice show "inv-$run_id-2"
step 14 "Admin: audit the books across the three services" audit
step 15 "Finance: what is owed as credit, per currency" report liability
step 16 "The card's events, as code-vault told them" \
  events list --service=code-vault --serial="$serial"
step 17 "The account's credit events, as account-credit told them" \
  events list --service=account-credit --account="$account"

echo
echo "demo: done. The stack is still running: deploy/local/stack.sh status | down"
