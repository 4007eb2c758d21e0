#!/usr/bin/env bash
# Mass revocation end to end: lock USERS users (4 certificates each; 1,000,000 by default)
# through one batch job, including its CRL regeneration, then ask the OCSP responder about a
# sample of 64 certificates spread over the whole range: every one must answer revoked.
# Loopback only; bounded in time. Peak memory is the batch process's maximum resident set.
#
# Usage: bench/batch_bench.sh [USERS] [CHUNK]     (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-250000}
chunk=${2:-10000}
build=${REVOCORE_BUILD_DIR:-build}
scripts/setup.sh --bench
source bench/bench_common.sh
revocore=$build/cli/revocore
bench_start batch-bench
bench_data "$users"
"$revocore" --data-dir "$work/data" crl generate >/dev/null   # the base CRL before the lock

# The job, timed as a whole (targets stored, chunks applied, CRL regenerated, fsyncs included).
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/rss" "$revocore" --data-dir "$work/data" --operator bench \
  batch lock --file "$work/users.txt" --reason "Key compromise" --chunk "$chunk" \
  > "$work/job.out" 2> "$work/job.err"
end=$(date +%s.%N)
cat "$work/job.out"
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')
changed=$(sed -n 's/.* \([0-9]*\) certificates changed.*/\1/p' "$work/job.out")
crl_entries=$("$revocore" --data-dir "$work/data" --json crl show "$work/data/crl/bench-ca.crl" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["entries"]))')

# OCSP for the sample, from a responder started after the job.
port=$(free_port)
"$revocore" --data-dir "$work/data" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pids+=($!)
wait_port "$port"
revoked=0
for request in "$work"/sample/*.der; do
  curl -s --max-time 5 --data-binary @"$request" -H 'Content-Type: application/ocsp-request' \
    -o "$work/answer.der" "http://127.0.0.1:$port/"
  if openssl ocsp -respin "$work/answer.der" -VAfile "$work/pki/responder.pem" -resp_text 2>&1 |
    grep -q "Cert Status: revoked"; then
    revoked=$((revoked + 1))
  fi
done

echo
echo "users: $users; certificates: $((users * 4)); chunk: $chunk"
echo "batch job including CRL: $seconds s; certificates changed: $changed" \
  "($(awk -v c="$changed" -v s="$seconds" 'BEGIN {printf "%.0f", c / s}')/s)"
echo "peak RSS of the batch process: $(( $(cat "$work/rss") / 1024 )) MiB"
echo "CRL entries after the job: $crl_entries"
echo "OCSP sample answering revoked: $revoked/64"
