#!/usr/bin/env bash
# README command 1: install, build, start the local stack, run the demo.
#
# The demo is one card's life: an admin issues and activates a batch with
# giftctl, a customer redeems a card and the billing system takes the credit
# (giftdemo plays the storefront and the billing system), then support
# answers "what happened to this card?", audits the books, reads finance's
# liability report and the card's events, with giftctl. It ends over HTTP/JSON:
# the storefront redeems the third card with curl through giftcard-gateway,
# and the support console's address is printed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${GIFTCARD_BUILD_DIR:-$ROOT/build}
# GIFTCARD_DEMO_BUILT=1: the packages are there and the build is done (the
# README's test runs the demo so); install and build are skipped.
if [[ ${GIFTCARD_DEMO_BUILT:-0} != 1 ]]; then
  "$ROOT/scripts/install-deps.sh"
  "$ROOT/scripts/build.sh"
fi
"$ROOT/deploy/local/stack.sh" up
# shellcheck disable=SC1091
source "${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}/env"

giftctl() { "$BUILD_DIR/tools/giftctl/giftctl" "$@"; }
step() { printf '\n[%s] %s\n    $ giftctl %s\n' "$1" "$2" "${*:3}"; giftctl "${@:3}" | sed 's/^/    /'; }

# The PIN file is the only copy of the PINs: kept (mode 0600, in a private
# directory of the stack's, deleted with its data by the next `up` or
# `down`) so the README's examples can look a card up by its PIN.
stack_dir=${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}
mkdir -p -m 700 "$stack_dir/demo"
cards="$stack_dir/demo/cards-$(date +%Y%m%d-%H%M%S).csv"
run_id=$(date +%s%N)
account="demo-$run_id"

# A real batch goes to the printer encrypted (--recipient=<its key's
# fingerprint>); the demo redeems its own cards, so it asks for plain text.
step 1 "Admin: issue 3 cards of 25.00 EUR for Germany (PINs go to a 0600 CSV)" \
  codes issue --count=3 --amount=25.00 --currency=EUR --region=DE --plaintext --out="$cards"
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

# The storefront over HTTP/JSON (README, "HTTP API"): the third card, with curl.
account2="demo-http-$run_id"
printf '\n[18] The storefront over HTTP/JSON, with curl: open an account, redeem the third card\n'
printf '    $ PIN=$(sed -n 4p cards.csv | cut -d, -f2)   # the PIN file of step 1\n'
printf '    $ curl -sS -X PUT %s/v1/accounts/%s -H "Authorization: Bearer $GIFTCARD_TOKEN_STOREFRONT" \\\n' \
  "$GATEWAY_URL" "$account2"
printf '        -d %s\n' "'{\"country\":\"DE\",\"currency_code\":\"EUR\",\"billing_channel\":\"BILLING_CHANNEL_DIRECT\"}'"
curl -fsS -X PUT "$GATEWAY_URL/v1/accounts/$account2" \
  -H "Authorization: Bearer $GIFTCARD_TOKEN_STOREFRONT" -H 'Content-Type: application/json' \
  -d '{"country":"DE","currency_code":"EUR","billing_channel":"BILLING_CHANNEL_DIRECT"}' | sed 's/^/    /'
echo
printf '    $ curl -sS -X POST %s/v1/codes:redeem -H "Authorization: Bearer $GIFTCARD_TOKEN_STOREFRONT" \\\n' \
  "$GATEWAY_URL"
printf '        -d "{\\"code\\":\\"$PIN\\",\\"account_id\\":\\"%s\\",\\"request_id\\":\\"http-%s\\",\\"client_ip\\":\\"203.0.113.7\\"}"\n' \
  "$account2" "$run_id"
pin3=$(sed -n 4p "$cards" | cut -d, -f2)
curl -fsS -X POST "$GATEWAY_URL/v1/codes:redeem" \
  -H "Authorization: Bearer $GIFTCARD_TOKEN_STOREFRONT" -H 'Content-Type: application/json' \
  -d "{\"code\":\"$pin3\",\"account_id\":\"$account2\",\"request_id\":\"http-$run_id\",\"client_ip\":\"203.0.113.7\"}" |
  sed 's/^/    /'
echo

# Four more cards, issued and not yet activated, for the README's admin
# examples; and the names the README's examples use ($DEMO_*).
spare="$stack_dir/demo/spare-$(date +%Y%m%d-%H%M%S).csv"
giftctl codes issue --count=4 --amount=25.00 --currency=EUR --region=DE --plaintext \
  --out="$spare" >/dev/null
spare_serial=$(sed -n 2p "$spare" | cut -d, -f1)
spare_batch=$(giftctl codes status --json "$spare_serial" | sed -n 's/.*"batch_id":"\([^"]*\)".*/\1/p')
cat >"$stack_dir/demo/env" <<ENV
# Written by scripts/demo.sh: what the README's examples name. Source it
# after the stack's env file.
export DEMO_DIR=$stack_dir/demo
export DEMO_CARDS=$cards            # serial,pin of the demo's three cards (0600)
export DEMO_SERIAL=$serial          # the card giftdemo redeemed
export DEMO_ACCOUNT=$account        # the account it credited
export DEMO_INVOICE=inv-$run_id-2   # the invoice that left credit.low behind
export DEMO_BATCH=$batch
export DEMO_SPARE_CARDS=$spare      # four more cards, issued, not activated
export DEMO_SPARE_BATCH=$spare_batch
ENV

echo
echo "demo: done. The stack is still running: deploy/local/stack.sh status | down"
echo "demo: the README's examples use \$DEMO_* from $stack_dir/demo/env (source it after the stack's env)"
echo "demo: the cards' PINs are in $cards (mode 0600; deleted by the next up or down). Look one up:"
echo "demo:   sed -n 2p $cards | cut -d, -f2 | giftctl codes status --pin_stdin"
echo "demo: HTTP/JSON API at $GATEWAY_URL/v1/ (OpenAPI document: $GATEWAY_URL/v1/openapi.json)"
echo "demo: support console at $GATEWAY_URL/console/ (sign in with GIFTCARD_TOKEN_SUPPORT or"
echo "      GIFTCARD_TOKEN_ADMIN from ${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}/env)"
