#!/usr/bin/env bash
# README command 1: install, build, start the local stack, run the demo.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh"
"$ROOT/deploy/local/stack.sh" up
# shellcheck disable=SC1091
source "${GIFTCARD_STACK_DIR:-/tmp/giftcard-stack}/env"
"${GIFTCARD_BUILD_DIR:-$ROOT/build}/tools/giftdemo/giftdemo"
echo
echo "The stack is still running: deploy/local/stack.sh status | down"
