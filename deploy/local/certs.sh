#!/usr/bin/env bash
# Throwaway TLS material for the local stack and tests, made with OpenSSL:
#   certs.sh DIR [CA_NAME]
# DIR/ca.crt, and for each of server, storefront, billing-system, admin,
# support, code-vault, billing, tools: DIR/<name>.crt and DIR/<name>.key.
# The server certificate is for localhost/127.0.0.1; each client certificate's
# subject alternative name is its principal ("tools" is no principal: it only
# opens the connection, and the bearer token says who calls).
set -euo pipefail
DIR=$1
CA_NAME=${2:-giftcard-dev-ca}
mkdir -p "$DIR"
cd "$DIR"
umask 077
EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${EC[@]}" -keyout ca.key -out ca.crt -days 30 -subj "/CN=$CA_NAME" 2>/dev/null
for name in server storefront billing-system admin support code-vault billing tools; do
  if [[ $name == server ]]; then
    ext="subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
  else
    ext="subjectAltName=DNS:$name\nextendedKeyUsage=clientAuth"
  fi
  openssl req "${EC[@]}" -keyout "$name.key" -out "$name.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
    -out "$name.crt" -extfile <(printf "$ext") 2>/dev/null
  rm -f "$name.csr"
done
chmod 644 ./*.crt
