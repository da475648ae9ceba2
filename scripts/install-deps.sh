#!/usr/bin/env bash
# Installs the Debian 12 packages the suite builds and tests with (nothing
# else: no vendored or downloaded dependencies). A no-op when all are present.
#   install-deps.sh          what the build and the tests need
#   install-deps.sh --fuzz   and clang with its sanitizer runtimes (scripts/fuzz.sh)
set -euo pipefail

PACKAGES=(
  cmake ninja-build ccache g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libhiredis-dev libpqxx-dev libssl-dev libgtest-dev libgmock-dev libcpp-httplib-dev curl
  nlohmann-json3-dev libcli11-dev libboost1.81-dev libgpgmepp-dev libgpgme-dev gnupg libevent-dev
  postgresql redis-server golang-github-gogo-googleapis-dev grpc-proto
  python3-yaml  # deploy/k8s/check.py
)
# `kubectl kustomize` renders deploy/k8s: any kubectl will do; Debian's is
# kubernetes-client.
command -v kubectl >/dev/null || PACKAGES+=(kubernetes-client)
[[ ${1:-} == --fuzz ]] && PACKAGES+=(clang libclang-rt-14-dev)
# buf (proto lint and breaking checks) ships its binary in an npm package.
# Debian's npm conflicts with a Node.js that bundles its own (NodeSource's):
# only ask for it when there is no npm at all.
command -v buf >/dev/null || command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo -n)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing: ${missing[*]}" >&2
  "${SUDO[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q \
    "${missing[@]}" >/dev/null
fi
# The highly available engines of `GIFTCARD_HA=1 deploy/local/stack.sh` and
# the `ha` tests (deploy/local/ha.sh), and the headless browser of the
# console's test (ConsoleTest: Debian's chromium driven by chromedriver
# through Selenium, for /usr/bin/python3), and promtool (`prometheus`: the
# alert rules in deploy/observability are checked and unit-tested with it),
# without their recommended extras.
ha_missing=()
for p in patroni etcd-server redis-sentinel chromium chromium-driver python3-selenium prometheus pgbackrest; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || ha_missing+=("$p")
done
if [[ ${#ha_missing[@]} -gt 0 ]]; then
  echo "installing: ${ha_missing[*]}" >&2
  [[ ${#missing[@]} -gt 0 ]] || "${SUDO[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends \
    "${ha_missing[@]}" >/dev/null
fi
if ! command -v buf >/dev/null; then
  echo "installing: @bufbuild/buf (npm)" >&2
  "${SUDO[@]}" npm install -g --silent @bufbuild/buf@1.75.0 >/dev/null
fi
# The OpenAPI document's checks (scripts/openapi-check.sh): Redocly CLI's
# linter and openapi-typescript, as an API's users would run them.
if ! command -v redocly >/dev/null; then
  echo "installing: @redocly/cli (npm)" >&2
  "${SUDO[@]}" npm install -g --silent @redocly/cli@1.34.20 >/dev/null
fi
if ! command -v openapi-typescript >/dev/null; then
  echo "installing: openapi-typescript (npm)" >&2
  "${SUDO[@]}" npm install -g --silent openapi-typescript@7.9.1 >/dev/null
fi
