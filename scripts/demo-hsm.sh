#!/usr/bin/env bash
# The issuing CA's key in a SoftHSM2 token, end to end with the tools a PKI operator uses
# (docs/HSM.md): a token with a random PIN, the CA key generated inside it (OpenSC pkcs11-tool),
# its certificate issued by a root CA, user certificates signed by the token key (GnuTLS
# certtool), revocore configured with the key's PKCS#11 URI; then import, a CRL, a lock, OCSP
# over HTTP, all checked by openssl. Everything lives in DIR (default ./demo-hsm, rebuilt each
# run); the OCSP responder listens on a free loopback port and is stopped at the end.
#
# Usage: scripts/demo-hsm.sh [DIR]    (REVOCORE_BUILD_DIR picks the build; REVOCORE_NO_BUILD=1
#                                      skips setup and build, as the test suite does)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$(realpath "${REVOCORE_BUILD_DIR:-build}")
if [ -z "${REVOCORE_NO_BUILD:-}" ]; then
  scripts/setup.sh
  scripts/build.sh
fi
revocore=$build/cli/revocore
dir=$(realpath -m "${1:-demo-hsm}")
module=/usr/lib/softhsm/libsofthsm2.so
rm -rf "$dir"
mkdir -p "$dir/softhsm/tokens" "$dir/pki" "$dir/certs"
cd "$dir"
step() { printf '\n== %s\n' "$*"; }
server=
cleanup() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; }
trap cleanup EXIT

step "A SoftHSM2 token with a random PIN, kept in a file only revocore's user can read"
export SOFTHSM2_CONF=$dir/softhsm/softhsm2.conf
echo "directories.tokendir = $dir/softhsm/tokens" >"$SOFTHSM2_CONF"
pin=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
so_pin=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
(umask 077 && printf '%s\n' "$pin" >"$dir/pin")
softhsm2-util --init-token --free --label revocore-demo --so-pin "$so_pin" --pin "$pin" >/dev/null
token="pkcs11:token=revocore-demo"
key_uri="$token;object=issuing-ca;type=private"

step "The issuing CA's key pair, generated inside the token (it never leaves it)"
pkcs11-tool --module "$module" --token-label revocore-demo --login --pin "$pin" \
  --keypairgen --key-type EC:prime256v1 --label issuing-ca --id 01 | sed -n 1,2p
GNUTLS_PIN=$pin p11tool --login --provider "$module" --export-pubkey "$token;id=%01" \
  --outfile pki/issuing-ca.pub 2>/dev/null

step "A root CA (a file key, offline in real life) certifies the token's public key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout pki/root.key \
  -out pki/root.pem -subj '/O=revocore demo/CN=HSM demo root' -days 365 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  2>/dev/null
printf '%s\n' basicConstraints=critical,CA:TRUE keyUsage=critical,keyCertSign,cRLSign \
  subjectKeyIdentifier=hash authorityKeyIdentifier=keyid >pki/ca.ext
openssl x509 -new -subj '/O=revocore demo/CN=HSM demo issuing CA' -force_pubkey pki/issuing-ca.pub \
  -CA pki/root.pem -CAkey pki/root.key -days 180 -extfile pki/ca.ext -out pki/issuing-ca.pem
cat pki/root.pem pki/issuing-ca.pem >pki/chain.pem
openssl x509 -in pki/issuing-ca.pem -noout -subject

step "Three users' card certificates, signed by the token key (GnuTLS certtool)"
printf 'certificate,credential,type,user,user_name\n' >certs/manifest.csv
for user in 1001 1002 1003; do
  certtool --generate-privkey --key-type ecdsa --outfile "certs/$user.key" 2>/dev/null
  printf 'cn = "user %s card"\nserial = %s\nexpiration_days = 90\nsigning_key\ntls_www_client\n' \
    "$user" "$user" >"certs/$user.tmpl"
  GNUTLS_PIN=$pin certtool --generate-certificate --provider "$module" \
    --load-privkey "certs/$user.key" --load-ca-certificate pki/issuing-ca.pem \
    --load-ca-privkey "$key_uri" --template "certs/$user.tmpl" --outfile "certs/$user.pem" \
    2>/dev/null
  printf '%s.pem,card-%s,card,%s,User %s\n' "$user" "$user" "$user" "$user" >>certs/manifest.csv
done
openssl verify -CAfile pki/chain.pem certs/1001.pem

step "revocore, configured with the key's URI (no key file, no PIN in the configuration)"
"$revocore" -d data init >/dev/null
cat >>data/revocore.toml <<TOML

[[issuer]]
name = "hsm-ca"
certificate = "../pki/issuing-ca.pem"
private_key = "$key_uri;pin-source=file:$dir/pin"
pkcs11_module = "$module"
publish_directory = "crl"
TOML
"$revocore" -d data init >/dev/null
"$revocore" -d data --operator demo import --manifest certs/manifest.csv
"$revocore" -d data crl generate
openssl crl -inform DER -in data/crl/hsm-ca.crl -noout -CAfile pki/chain.pem -verify

step "Lock user 1002: the token signs the new CRL"
"$revocore" -d data --operator demo user lock 1002 --reason "Key compromise"
openssl crl -inform DER -in data/crl/hsm-ca.crl -noout -CAfile pki/chain.pem -verify
openssl crl -inform DER -in data/crl/hsm-ca.crl -noout -text | grep -A1 "Serial Number" | head -4

step "OCSP over HTTP: openssl asks with a nonce, so the token signs each answer on the spot"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$revocore" -d data serve --listen "127.0.0.1:$port" >serve.log 2>&1 &
server=$!
for _ in $(seq 50); do
  if grep -q "event=listening" serve.log; then break; fi
  sleep 0.1
done
for user in 1001 1002; do
  openssl ocsp -issuer pki/issuing-ca.pem -cert "certs/$user.pem" -url "http://127.0.0.1:$port/" \
    -CAfile pki/chain.pem 2>&1 | grep -E "verify|: "
done
# The answers a relying party must see: 1001 good, 1002 revoked, both verified.
openssl ocsp -issuer pki/issuing-ca.pem -cert certs/1001.pem -url "http://127.0.0.1:$port/" \
  -CAfile pki/chain.pem 2>&1 | grep -q "1001.pem: good"
openssl ocsp -issuer pki/issuing-ca.pem -cert certs/1002.pem -url "http://127.0.0.1:$port/" \
  -CAfile pki/chain.pem 2>&1 | grep -q "1002.pem: revoked"

step "Pre-signing through the token, then an answer from the store"
"$revocore" -d data ocsp presign
openssl ocsp -issuer pki/issuing-ca.pem -cert certs/1003.pem -url "http://127.0.0.1:$port/" \
  -CAfile pki/chain.pem -no_nonce 2>&1 | grep -E "verify|1003.pem: good"
if grep -q "$pin" serve.log data/revocore.toml; then
  echo "the PIN appears in the log or the configuration" >&2
  exit 1
fi
echo
echo "HSM demo done: the CA key stayed in the token; everything is in $dir"
