#!/usr/bin/env bash
# The gateway's OpenAPI document holds up outside this project: Redocly CLI's
# recommended rules (services/gateway/openapi/redocly.yaml, warnings as
# errors), and openapi-typescript generates client types from it.
# Both are npm packages scripts/install-deps.sh installs.
#   scripts/openapi-check.sh SOURCE_DIR OPENAPI_JSON
set -euo pipefail
source_dir=$1
doc=$2
for tool in redocly openapi-typescript; do
  command -v "$tool" >/dev/null ||
    { echo "openapi-check: $tool is missing: run scripts/install-deps.sh" >&2; exit 1; }
done
[[ -s $doc ]] || { echo "openapi-check: no document at $doc: build first" >&2; exit 1; }
redocly lint --config "$source_dir/services/gateway/openapi/redocly.yaml" "$doc"
out=$(mktemp --suffix=.d.ts)
trap 'rm -f "$out"' EXIT
openapi-typescript "$doc" -o "$out"
# Every operation's error responses reach the generated types.
grep -q '"giftcard.Error"' "$out" ||
  { echo "openapi-check: the error schema is missing from the generated types" >&2; exit 1; }
echo "openapi-check: Redocly lint clean, openapi-typescript generated $(wc -l <"$out") lines"
