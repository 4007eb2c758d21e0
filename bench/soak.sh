#!/usr/bin/env bash
# Soak: wrk drives OCSP GETs at full rate for SECONDS against `revocore serve` holding USERS x 4
# certificates, while batch lock jobs of JOB users each revoke certificates underneath, one job
# after another, until the load ends. It reports and checks:
#   - HTTP errors: wrk's non-2xx answers and socket errors must be zero;
#   - consistency by sampling: after each job, 8 of its users' certificates must answer revoked,
#     and 4 users no job has reached yet must answer good (openssl ocsp, verified);
#   - memory: the responder's anonymous resident memory (RssAnon: heap, not LMDB's mapped file)
#     every 5 s must stay flat (last sample within 20% + 8 MiB of the first after warm-up).
# wrk rotates over 64 GET requests spread over the whole serial range, so the answers it gets
# change from good to revoked while it runs. Loopback only; bounded in time. Exits 1 on failure.
#
# Usage: bench/soak.sh [SECONDS] [USERS] [JOB]      (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
users=${2:-250000}
job=${3:-5000}
build=${REVOCORE_BUILD_DIR:-build}
scripts/setup.sh --bench
source bench/bench_common.sh
revocore=$build/cli/revocore
bench_start soak
bench_data "$users"
"$revocore" --data-dir "$work/data" crl generate >/dev/null

port=$(free_port)
"$revocore" --data-dir "$work/data" serve --listen "127.0.0.1:$port" --threads 2 \
  >"$work/serve.out" 2>"$work/serve.err" &
server=$!
pids+=("$server")
wait_port "$port"

# wrk's requests: the 64 sample requests as GET paths, round robin.
{
  echo 'local paths = {'
  for request in "$work"/sample/*.der; do
    printf '"/%s",\n' "$(base64 -w0 "$request" | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g')"
  done
  echo '}'
  echo 'local i = 0'
  echo 'request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end'
} > "$work/rotate.lua"

# ocsp_status SERIAL: "good", "revoked" or what went wrong.
ocsp_status() {
  local out
  out=$(openssl ocsp -issuer "$work/pki/ca.pem" -serial "$1" -url "http://127.0.0.1:$port/" \
    -no_nonce -VAfile "$work/pki/responder.pem" 2>&1 || true)
  if ! grep -q "Response verify OK" <<<"$out"; then echo "unverified"; return; fi
  if grep -q ": good" <<<"$out"; then echo good; elif grep -q ": revoked" <<<"$out"; then echo revoked; else echo "?"; fi
}

# The memory sampler.
(
  while kill -0 "$server" 2>/dev/null; do
    awk '/RssAnon/ {print $2}' "/proc/$server/status" >> "$work/rss-anon"
    sleep 5
  done
) &
pids+=($!)

# The load.
timeout $((seconds + 30)) wrk -t2 -c64 -d"${seconds}s" --latency -s "$work/rotate.lua" \
  "http://127.0.0.1:$port" > "$work/wrk.out" 2>&1 &
wrk_pid=$!
pids+=("$wrk_pid")

# The jobs underneath, with sampling after each, until the load ends.
shuf --random-source=<(yes) "$work/users.txt" > "$work/shuffled.txt"
jobs_done=0 locked_users=0 checks=0 inconsistent=0
while kill -0 "$wrk_pid" 2>/dev/null && [ $(((jobs_done + 1) * job)) -le "$users" ]; do
  sed -n "$((jobs_done * job + 1)),$(((jobs_done + 1) * job))p" "$work/shuffled.txt" > "$work/job.txt"
  "$revocore" --data-dir "$work/data" --operator soak batch lock --file "$work/job.txt" \
    --reason "Key compromise" --chunk 1000 > "$work/job.out" 2>&1
  jobs_done=$((jobs_done + 1))
  locked_users=$((locked_users + job))
  for user in $(shuf -n 8 "$work/job.txt"); do
    n=${user#u}
    for serial in $((4 * n + 1)) $((4 * n + 4)); do
      status=$(ocsp_status "$serial"); checks=$((checks + 1))
      if [ "$status" != revoked ]; then
        inconsistent=$((inconsistent + 1)); echo "serial $serial of locked $user: $status" >&2
      fi
    done
  done
  for user in $(sed -n "$((locked_users + 1)),\$p" "$work/shuffled.txt" | shuf -n 4); do
    n=${user#u}
    status=$(ocsp_status $((4 * n + 1))); checks=$((checks + 1))
    if [ "$status" != good ]; then
      inconsistent=$((inconsistent + 1)); echo "serial $((4 * n + 1)) of active $user: $status" >&2
    fi
  done
done
wait "$wrk_pid" || true
sleep 1

cat "$work/wrk.out"
errors=$(grep -E "Non-2xx|Socket errors" "$work/wrk.out" || true)
mapfile -t rss < "$work/rss-anon"
first=${rss[1]:-${rss[0]}}   # after warm-up
last=${rss[-1]}
echo
echo "soak: ${seconds} s of wrk (2 threads, 64 connections) on $((users * 4)) certificates"
echo "requests/s: $(awk '/Requests\/sec/ {print $2}' "$work/wrk.out"); p99: $(awk '$1=="99%" {print $2}' "$work/wrk.out")"
echo "batch jobs underneath: $jobs_done of $job users ($((locked_users * 4)) certificates revoked)"
echo "HTTP errors: ${errors:-none}"
echo "consistency samples: $checks, inconsistent: $inconsistent"
echo "responder RssAnon (KiB) every 5 s: ${rss[*]}"
failed=0
[ -n "$errors" ] && failed=1
[ "$inconsistent" -ne 0 ] && failed=1
[ "$jobs_done" -eq 0 ] && { echo "no batch job ran during the load" >&2; failed=1; }
if [ "$last" -gt $((first * 12 / 10 + 8192)) ]; then
  echo "memory grew from $first KiB to $last KiB" >&2; failed=1
fi
[ "$failed" -eq 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit "$failed"
