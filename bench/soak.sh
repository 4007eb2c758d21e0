#!/usr/bin/env bash
# Soak: wrk drives OCSP GETs at full rate for SECONDS against `revocore serve` holding USERS x 4
# certificates, while batch lock jobs of JOB users each revoke certificates underneath, one job
# after another, until the load ends. Every check below can fail the run (exit 1):
#   - HTTP errors: wrk's non-2xx answers and socket errors must be zero;
#   - OCSP-level errors: the responder answers malformedRequest, unauthorized and internalError
#     with HTTP 200, which wrk cannot see, so its /metrics are read before and after: no such
#     outcome may be counted during the run;
#   - misses, not only pre-signed hits: wrk rotates over ROTATION requests (100,000 by default)
#     spread over the whole serial range, good and revoked; the report says what share of the
#     answers came pre-signed from the store and how many were signed under the load;
#   - consistency during the load: all through the load, a checker reads a random user of the
#     jobs started so far (the running one included) from the store (`revocore user show`, a
#     committed snapshot) and at once asks the responder about each of that user's certificates
#     the store shows revoked (`openssl ocsp`, one CertID, verified): an answer to a request sent
#     after the store showed the revocation must say revoked, and its producedAt (RFC 6960
#     4.2.1) may not be earlier than that (a stale pre-signed answer would be);
#   - consistency after the load: every certificate, asked of the responder (16 CertIDs per
#     request, each response's signature verified by OpenSSL) and compared with the store
#     (bench/ocsp_full_check.cpp);
#   - memory: the responder's anonymous resident memory (RssAnon: heap, not LMDB's mapped file)
#     must stay under an absolute bound: BASE_MIB + 64 KiB per connection (wrk's 64), whatever
#     the number of certificates (the responder keeps nothing per certificate in its heap).
# Loopback only; bounded in time.
#
# Usage: bench/soak.sh [SECONDS] [USERS] [JOB] [ROTATION]   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
users=${2:-250000}
job=${3:-5000}
rotation=${4:-100000}
connections=64
base_mib=${SOAK_BASE_MIB:-64}
build=${REVOCORE_BUILD_DIR:-build}
scripts/setup.sh --bench
source bench/bench_common.sh
revocore=$build/cli/revocore
bench_start soak
bench_data "$users" "$rotation"
"$revocore" --data-dir "$work/data" crl generate >/dev/null

port=$(free_port)
"$revocore" --data-dir "$work/data" serve --listen "127.0.0.1:$port" --threads 2 \
  >"$work/serve.out" 2>"$work/serve.err" &
server=$!
pids+=("$server")
wait_port "$port"

# wrk's requests: ROTATION GET paths over the whole range, round robin.
cut -d' ' -f2 "$work/rotation.txt" > "$work/paths.txt"
cat > "$work/rotate.lua" <<LUA
local paths = {}
for line in io.lines("$work/paths.txt") do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end
LUA

# metric NAME_AND_LABELS: its value in the responder's /metrics now (0 when absent).
metric() {
  curl -s "http://127.0.0.1:$port/metrics" |
    awk -v m="$1" 'index($0, m " ") == 1 {v = $2} END {print v + 0}'
}
outcomes=(good revoked unknown malformed_request unauthorized internal_error)
declare -A before after
for o in "${outcomes[@]}"; do before[$o]=$(metric "revocore_ocsp_responses_total{outcome=\"$o\"}"); done
before_presigned=$(metric revocore_ocsp_presigned_total)

# ocsp_answer SERIAL...: "SERIAL STATUS PRODUCED_AT" lines, or "unverified".
ocsp_answer() {
  local args=()
  for s in "$@"; do args+=(-serial "$s"); done
  local out
  out=$(openssl ocsp -issuer "$work/pki/ca.pem" "${args[@]}" -url "http://127.0.0.1:$port/" \
    -no_nonce -VAfile "$work/pki/responder.pem" -resp_text 2>&1 || true)
  if ! grep -q "Response verify OK" <<<"$out"; then echo unverified; return; fi
  local produced
  produced=$(date -d "$(awk -F': ' '/Produced At/ {print $2; exit}' <<<"$out")" +%s)
  awk -v p="$produced" '/^[0-9]+: (good|revoked|unknown)/ {sub(":", "", $1); print $1, $2, p}' <<<"$out"
}
revoked_of_user() {  # USER: the decimal serials of its certificates the store shows revoked
  "$revocore" --data-dir "$work/data" --json user show "$1" 2>/dev/null |
    python3 -c 'import json,sys
d = json.load(sys.stdin)
print(" ".join(str(int(c["serial"], 16)) for cr in d["credentials"] for c in cr["certificates"]
               if c["status"] == "revoked"))' 2>/dev/null
}

# The memory sampler.
(
  while kill -0 "$server" 2>/dev/null; do
    awk '/RssAnon/ {print $2}' "/proc/$server/status" >> "$work/rss-anon"
    sleep 2
  done
) &
pids+=($!)

# The load.
timeout $((seconds + 30)) wrk -t2 -c$connections -d"${seconds}s" --latency -s "$work/rotate.lua" \
  "http://127.0.0.1:$port" > "$work/wrk.out" 2>&1 &
wrk_pid=$!
pids+=("$wrk_pid")

# The checker during the load: for certificates of the job running now, a committed revocation
# seen in the store must be what the responder answers from then on.
checker() {  # $1: the users of the jobs started so far; runs until killed
  local checked=0 bad=0
  while true; do
    local user revoked answer
    user=$(shuf -n 1 "$1" 2>/dev/null || true)
    [ -n "$user" ] || { sleep 0.1; continue; }
    # The user's certificates the store shows revoked (one committed read), as decimal serials.
    revoked=$(revoked_of_user "$user")
    [ -n "$revoked" ] || continue
    local read_at
    read_at=$(date +%s)
    for serial in $revoked; do
      # One CertID per request: the form that is answered from the pre-signed store, where a
      # stale answer would hide (a request of several CertIDs is always signed afresh).
      answer=$(ocsp_answer "$serial")
      checked=$((checked + 1))
      local line
      line=$(awk -v s="$serial" '$1 == s' <<<"$answer")
      # Revoked, and produced no earlier than this check began (by whole seconds, with slack).
      if [ "$answer" = unverified ] || [ "$(awk '{print $2}' <<<"$line")" != revoked ] ||
         [ "$(awk '{print $3}' <<<"$line")" -lt $((read_at - 30)) ]; then
        bad=$((bad + 1)); echo "during the load: serial $serial revoked in the store at $read_at, OCSP said: ${line:-$answer}" >&2
      fi
    done
    echo "$checked $bad" > "$work/checker.$BASHPID"
  done
}

shuf --random-source=<(yes) "$work/users.txt" > "$work/shuffled.txt"
: > "$work/started.txt"
checker "$work/started.txt" &
checker_pid=$!
pids+=("$checker_pid")
jobs_done=0 locked_users=0
while kill -0 "$wrk_pid" 2>/dev/null && [ $(((jobs_done + 1) * job)) -le "$users" ]; do
  sed -n "$((jobs_done * job + 1)),$(((jobs_done + 1) * job))p" "$work/shuffled.txt" > "$work/job.txt"
  cat "$work/job.txt" >> "$work/started.txt"
  "$revocore" --data-dir "$work/data" --operator soak batch lock --file "$work/job.txt" \
    --reason "Key compromise" --chunk 1000 > "$work/job.out" 2>&1
  jobs_done=$((jobs_done + 1))
  locked_users=$((locked_users + job))
done
wait "$wrk_pid" || true
kill "$checker_pid" 2>/dev/null || true
wait "$checker_pid" 2>/dev/null || true
sleep 1
for o in "${outcomes[@]}"; do after[$o]=$(metric "revocore_ocsp_responses_total{outcome=\"$o\"}"); done
after_presigned=$(metric revocore_ocsp_presigned_total)
during_checked=0 during_bad=0
for f in "$work"/checker.*; do
  [ -f "$f" ] || continue
  read -r c b < "$f"; during_checked=$((during_checked + c)); during_bad=$((during_bad + b))
done

# After the load: every certificate, against the store.
full_check=$("$build/bench/ocsp_full_check" "$work/data" bench-ca "$work/pki/ca.pem" "$port" 2>&1) &&
  full_ok=1 || full_ok=0

cat "$work/wrk.out"
errors=$(grep -E "Non-2xx|Socket errors" "$work/wrk.out" || true)
ocsp_errors=0
for o in malformed_request unauthorized internal_error; do
  ocsp_errors=$((ocsp_errors + after[$o] - before[$o]))
done
answered=0
for o in "${outcomes[@]}"; do answered=$((answered + after[$o] - before[$o])); done
presigned=$((after_presigned - before_presigned))
mapfile -t rss < "$work/rss-anon"
peak=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
bound=$((base_mib * 1024 + connections * 64))
echo
echo "soak: ${seconds} s of wrk (2 threads, $connections connections) on $((users * 4)) certificates, rotating over $rotation requests"
echo "requests/s: $(awk '/Requests\/sec/ {print $2}' "$work/wrk.out"); p99: $(awk '$1=="99%" {print $2}' "$work/wrk.out")"
echo "batch jobs underneath: $jobs_done of $job users ($((locked_users * 4)) certificates revoked)"
echo "HTTP errors: ${errors:-none}"
echo "OCSP answers: $answered (good $((after[good] - before[good])), revoked $((after[revoked] - before[revoked])), unknown $((after[unknown] - before[unknown]))); OCSP-level errors: $ocsp_errors"
awk -v p="$presigned" -v a="$answered" 'BEGIN {printf "pre-signed from the store: %d (%.1f%%); signed under the load: %d\n", p, a ? 100 * p / a : 0, a - p}'
echo "consistency during the load: $during_checked answers checked after the store showed the revocation, $during_bad wrong"
echo "consistency after the load: $(tail -1 <<<"$full_check")"
echo "responder RssAnon (KiB) every 2 s: ${rss[*]}; peak $peak, bound $bound (${base_mib} MiB + 64 KiB x $connections connections)"
failed=0
[ -n "$errors" ] && failed=1
[ "$ocsp_errors" -ne 0 ] && { echo "OCSP-level errors during the run" >&2; failed=1; }
[ "$during_bad" -ne 0 ] && failed=1
[ "$during_checked" -eq 0 ] && { echo "no answer was checked during the load" >&2; failed=1; }
[ "$full_ok" -eq 1 ] || { echo "$full_check" >&2; failed=1; }
[ "$jobs_done" -eq 0 ] && { echo "no batch job ran during the load" >&2; failed=1; }
[ "$peak" -gt "$bound" ] && { echo "memory peaked at $peak KiB, over the bound of $bound KiB" >&2; failed=1; }
[ "$failed" -eq 0 ] && echo "soak: PASS" || echo "soak: FAIL"
exit "$failed"
