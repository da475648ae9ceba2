#!/usr/bin/env bash
# Configures and builds into build/ with Ninja and ccache, two jobs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${GIFTCARD_BUILD_DIR:-$ROOT/build}
# CI builds with warnings as errors (CI=true there).
WERROR=OFF
[[ -n ${CI:-} ]] && WERROR=ON
# CI also builds without debug information: a quarter less compile time
# (gateway_test.cc: 30 s with -g, 21 s without), and nothing there reads it.
FLAGS=()
[[ -n ${CI:-} ]] && FLAGS+=("-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG")
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DGIFTCARD_WERROR="${GIFTCARD_WERROR:-$WERROR}" "${FLAGS[@]}" >/dev/null
cmake --build "$BUILD_DIR" -j "${GIFTCARD_JOBS:-2}"
