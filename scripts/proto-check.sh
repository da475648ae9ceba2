#!/usr/bin/env bash
# buf lint over proto/giftcard/v1, and buf breaking against the previous
# commit's API (once that commit has proto/buf.yaml). buf reads an image that
# protoc builds, so the google/rpc and google/api imports come from Debian's
# golang-github-gogo-googleapis-dev, with no module registry involved.
#   scripts/proto-check.sh [REPO_DIR]
set -euo pipefail
ROOT=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
GOOGLEAPIS=/usr/share/gocode/src/github.com/gogo/googleapis
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

image() {  # image PROTO_DIR OUT
  (cd "$1" && protoc -I. -I"$GOOGLEAPIS" --include_imports --include_source_info -o "$2" \
    giftcard/v1/*.proto)
}

image "$ROOT/proto" "$work/now.binpb"
buf lint "$work/now.binpb" --config "$ROOT/proto/buf.yaml"
echo "buf lint: clean"

if git -C "$ROOT" cat-file -e HEAD~1:proto/buf.yaml 2>/dev/null; then
  mkdir -p "$work/before"
  git -C "$ROOT" archive HEAD~1 proto | tar -x -C "$work/before"
  image "$work/before/proto" "$work/before.binpb"
  buf breaking "$work/now.binpb" --against "$work/before.binpb" --config "$ROOT/proto/buf.yaml"
  echo "buf breaking: no breaking change against $(git -C "$ROOT" rev-parse --short HEAD~1)"
else
  echo "buf breaking: the previous commit has no proto/buf.yaml; nothing to compare against"
fi
