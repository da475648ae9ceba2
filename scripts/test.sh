#!/usr/bin/env bash
# README command 2: install, build, run every test (unit and integration).
# Integration tests start their own Postgres and Redis through CTest fixtures.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${GIFTCARD_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh"
cd "$BUILD_DIR"
ctest --output-on-failure -j "${GIFTCARD_TEST_JOBS:-2}" --timeout 300
