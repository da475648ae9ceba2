#!/usr/bin/env bash
# The layer rules the build keeps (cmake/Layers.cmake), checked as a test:
#  1. domain/ cannot include gRPC, protobuf, libpqxx or hiredis: with
#     cmake/domain_guard.h forced in, each of their headers fails to compile,
#     while every real domain/ source compiles;
#  2. no SQL text in a .cc or .h file outside libs/pg (the pool itself): a
#     statement is a .sql file of its own (cmake/SqlStatements.cmake). The
#     store not yet moved to .sql files (code-vault's) is named below until it is.
# check_layers.sh SOURCE_DIR BUILD_DIR CXX
set -euo pipefail
SRC=$1 BUILD=$2 CXX=$3
flags=(-std=gnu++17 -fsyntax-only -I"$SRC" -I"$SRC/libs" -isystem "$BUILD/proto/gen"
       -isystem /usr/include/postgresql -include "$SRC/cmake/domain_guard.h")
fail=0
probe=$(mktemp --suffix=.cc)
trap 'rm -f "$probe"' EXIT
for header in '<grpcpp/grpcpp.h>' '<grpcpp/server_context.h>' '<pqxx/pqxx>' '<hiredis/hiredis.h>' \
              '<google/protobuf/message.h>' '"giftcard/v1/code_vault.pb.h"' '"pg/pool.h"' \
              '"redis/client.h"' '"server/client.h"' '"errors/grpc_status.h"'; do
  echo "#include $header" >"$probe"
  if out=$("$CXX" "${flags[@]}" "$probe" 2>&1); then
    echo "FAIL: a domain/ file could include $header"; fail=1
  elif ! grep -q 'poisoned' <<<"$out"; then
    echo "FAIL: $header failed for another reason:"; head -3 <<<"$out"; fail=1
  fi
done
for f in "$SRC"/services/*/domain/*.cc; do
  "$CXX" "${flags[@]}" "$f" || { echo "FAIL: $f does not compile under the guard"; fail=1; }
done
sql=$(grep -rlE '"(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM|WITH [a-z_]+ AS) ' \
        "$SRC/services" "$SRC/tools" "$SRC/libs" --include='*.cc' --include='*.h' |
      grep -vE '/libs/pg/' || true)
if [[ -n $sql ]]; then
  echo "FAIL: SQL text in a source file, not in a .sql file:"; echo "$sql"; fail=1
fi
[[ $fail -eq 0 ]] && echo "layers: domain guard holds for 10 headers; no SQL text outside .sql files"
exit $fail
