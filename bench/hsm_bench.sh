#!/usr/bin/env bash
# Signing with a key in a PKCS#11 token (SoftHSM2) against a file key, same run:
#   1. P-256 signatures per second through pki::Signer (bench/hsm_sign_bench), 1 and 2 threads,
#      with `openssl speed ecdsap256` as the peer outside revocore;
#   2. `revocore ocsp presign` of USERS x 4 certificates (x 2 CertID hashes) with the delegated
#      responder key in the token, against the same data with the key in a file.
# Loopback only, nothing served; bounded by USERS.
#
# Usage: bench/hsm_bench.sh [USERS]   (default 25000: 100,000 certificates, 200,000 signatures)
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-25000}
build=${REVOCORE_BUILD_DIR:-build}
scripts/setup.sh --bench
source bench/bench_common.sh
bench_start hsm-bench
module=/usr/lib/softhsm/libsofthsm2.so
export SOFTHSM2_CONF=$work/softhsm2.conf
mkdir -p "$work/tokens"
echo "directories.tokendir = $work/tokens" >"$SOFTHSM2_CONF"
pin=bench-pin-0000
(umask 077 && echo "$pin" >"$work/pin")
softhsm2-util --init-token --free --label bench --so-pin 12345678 --pin "$pin" >/dev/null
pkcs11-tool --module "$module" --token-label bench --login --pin "$pin" --keypairgen \
  --key-type EC:prime256v1 --label responder --id 01 >/dev/null
GNUTLS_PIN=$pin p11tool --login --provider "$module" --export-pubkey 'pkcs11:token=bench;id=%01' \
  --outfile "$work/token-responder.pub" 2>/dev/null

bench_data "$users" >/dev/null
printf 'extendedKeyUsage=critical,OCSPSigning\nkeyUsage=critical,digitalSignature\n' >"$work/pki/ext"
openssl x509 -new -subj '/CN=bench token responder' -force_pubkey "$work/token-responder.pub" \
  -CA "$work/pki/ca.pem" -CAkey "$work/pki/ca.key" -days 30 -extfile "$work/pki/ext" \
  -out "$work/pki/token-responder.pem" 2>/dev/null
uri="pkcs11:token=bench;object=responder;type=private;pin-source=file:$work/pin"

echo "== signatures per second (pki::Signer, P-256, 220-byte message)"
"$build/bench/hsm_sign_bench" "$work/pki/responder.pem" "$work/pki/responder.key" \
  "$work/pki/token-responder.pem" "$uri" "$module" --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true 2>/dev/null | grep median
echo "== peer: openssl speed ecdsap256 (sign/s, 1 thread)"
openssl speed -seconds 3 ecdsap256 2>/dev/null | grep -E "^ *256 bits ecdsa"

echo "== revocore ocsp presign, $((users * 4)) certificates x 2 CertID hashes"
cp -a "$work/data" "$work/data-token"
sed -i "s|^ocsp_certificate = .*|ocsp_certificate = \"../pki/token-responder.pem\"|; s|^ocsp_private_key = .*|ocsp_private_key = \"$uri\"\npkcs11_module = \"$module\"|" \
  "$work/data-token/revocore.toml"
for variant in data data-token; do
  start=$(date +%s.%N)
  "$build/cli/revocore" -d "$work/$variant" ocsp presign
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" -v v="$variant" -v n="$((users * 8))" \
    'BEGIN {printf "%s: %.1f s, %.0f signatures/s\n", v, b - a, n / (b - a)}'
done

echo "== OCSP POST with a nonce over HTTP (each answer signed on the spot), wrk -t2 -c16, 5 s x 3"
cat >"$work/nonce.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/ocsp-request"
local f = io.open("$work/request-nonce.der", "rb"); wrk.body = f:read("*a"); f:close()
LUA
for variant in data data-token; do
  port=$(free_port)
  "$build/cli/revocore" -d "$work/$variant" serve --listen "127.0.0.1:$port" --threads 2 \
    >"$work/$variant-serve.out" 2>"$work/$variant-serve.err" &
  pids+=($!)
  wait_port "$port"
  runs=()
  for _ in 1 2 3; do
    out=$(timeout 30 wrk -t2 -c16 -d5s -s "$work/nonce.lua" "http://127.0.0.1:$port/" 2>&1)
    if grep -q "Non-2xx\|Socket errors" <<<"$out"; then grep -E 'Non-2xx|Socket errors' <<<"$out" >&2; fi
    runs+=("$(awk '/Requests\/sec/ {print $2}' <<<"$out")")
  done
  kill "${pids[-1]}"
  wait "${pids[-1]}" 2>/dev/null || true
  median=$(printf '%s\n' "${runs[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$variant: median $median req/s (runs: ${runs[*]})"
done
