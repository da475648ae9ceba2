#!/usr/bin/env bash
# ARCHITECTURE.md is a map: each file or folder it names (a path in
# backquotes from the repository's root, or relative to the service its
# row is about) must exist, and each function or type it names must be defined
# somewhere, so that the map cannot drift from the rooms it describes.
set -euo pipefail
SRC=${1:?usage: check_architecture_map.sh SOURCE_DIR}
map="$SRC/ARCHITECTURE.md"
fail=0 paths=0 names=0
while IFS= read -r line; do
  # The service a table row is about, for the paths relative to it.
  svc=$(grep -oE 'services/[a-z_]+/' <<<"$line" | head -1 || true)
  while IFS= read -r token; do
    # Placeholders, globs and what lies outside the repository (the shared
    # DESIGN.md beside the checkout) are not checked.
    [[ -z $token || $token == *'<'* || $token == *'*'* || $token == *'{'* || $token == ../* ]] &&
      continue
    if [[ $token == */* ]]; then
      paths=$((paths + 1))
      if [[ ! -e $SRC/$token && ! ( -n $svc && -e $SRC/$svc$token ) ]]; then
        echo "FAIL: ARCHITECTURE.md names $token, which does not exist"; fail=1
      fi
    elif [[ $token =~ ^([A-Z][A-Za-z]+::)*[A-Z][A-Za-z]+$ ]]; then
      names=$((names + 1))
      if ! grep -rqE "\b${token##*::}\(|(struct|class) ${token##*::}\b" "$SRC/services" "$SRC/libs"; then
        echo "FAIL: ARCHITECTURE.md names $token, which is defined nowhere"; fail=1
      fi
    fi
  done < <(grep -oE '`[^`]+`' <<<"$line" | tr -d '`')
done <"$map"
if ((paths < 20 || names < 3)); then
  echo "FAIL: read only $paths paths and $names functions from $map"; fail=1
fi
((fail == 0)) && echo "architecture map: $paths paths and $names functions, all found"
exit $fail
