#!/usr/bin/env bash
# Replication through NATS JetStream (docs/REPLICATION.md), on loopback: three nats-server nodes
# (R3 stream, file storage), a writer with USERS x 4 certificates (bench/ocsp_bench_data; 250,000
# users = 1,000,000 certificates by default) and two replicas, all on this machine.
# Measures, in one run:
#   - the writer's first snapshot of every certificate (from its log);
#   - a fresh replica becoming complete: from start to answering (it listens once caught up);
#   - replica lag while a batch job locks every user (all certificates revoked, chunk CHUNK):
#     revocore_replica_lag_seconds and _lag_sequences sampled every 100 ms on both replicas,
#     p50/p99 and the job's rate;
#   - OCSP GET requests per second on a replica and on the writer (wrk, SECONDS each, medians of
#     REPEAT runs), the same pre-signed request.
# Every process listens on 127.0.0.1 and is stopped at the end; bounded in time.
#
# Usage: bench/replication_bench.sh [USERS] [CHUNK] [SECONDS] [REPEAT]   (build first)
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-250000}
chunk=${2:-10000}
seconds=${3:-5}
repeat=${4:-3}
build=${REVOCORE_BUILD_DIR:-build}
scripts/setup.sh --bench
source bench/bench_common.sh
revocore=$build/cli/revocore
bench_start replication-bench
bench_data "$users"

# --- the NATS cluster
start_nats_cluster

# --- the writer, publishing
openssl genpkey -algorithm ed25519 -out "$work/data/feed.key" 2>/dev/null
chmod 600 "$work/data/feed.key"
openssl pkey -in "$work/data/feed.key" -pubout -out "$work/feed.pub"
cat >> "$work/data/revocore.toml" <<TOML

[replication]
servers = [$servers]
signing_key = "feed.key"
stream_replicas = 3
TOML
wport=$(free_port)
start=$(date +%s.%N)
"$revocore" --data-dir "$work/data" serve --listen "127.0.0.1:$wport" > "$work/writer.out" 2> "$work/writer.err" &
pids+=($!)
wait_port "$wport"
for _ in $(seq 1200); do grep -q "event=snapshot_published" "$work/writer.err" && break; sleep 0.1; done
snapshot_line=$(grep "event=snapshot_published" "$work/writer.err" | head -1)
echo "writer snapshot: $snapshot_line"

# --- replicas: each from an empty data directory
make_replica() {
  local dir=$work/$1
  mkdir -p "$dir"
  "$revocore" config default > "$dir/revocore.toml"
  cat >> "$dir/revocore.toml" <<TOML

[[issuer]]
name = "bench-ca"
certificate = "$work/pki/ca.pem"
ocsp_certificate = "$work/pki/responder.pem"
ocsp_private_key = "$work/pki/responder.key"

[replica]
servers = [$servers]
verify_key = "$work/feed.pub"
max_staleness_seconds = 30
TOML
  "$revocore" --data-dir "$dir" init > /dev/null
}
start_replica() {  # NAME PORT: starts it, waits until it answers; prints the seconds it took
  local begin
  begin=$(date +%s.%N)
  "$revocore" --data-dir "$work/$1" serve --listen "127.0.0.1:$2" > "$work/$1.out" 2> "$work/$1.err" &
  echo $! > "$work/$1.pid" # called in $(...): the caller adds it to $pids
  for _ in $(seq 1200); do (exec 3<>/dev/tcp/127.0.0.1/"$2") 2>/dev/null && break; sleep 0.05; done
  awk -v a="$begin" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}'
}
make_replica replica-a
make_replica replica-b
aport=$(free_port)
bport=$(free_port)
fresh_a=$(start_replica replica-a "$aport")
fresh_b=$(start_replica replica-b "$bport")
pids+=("$(cat "$work/replica-a.pid")" "$(cat "$work/replica-b.pid")")
echo "fresh replica complete (listening): A $fresh_a s, B $fresh_b s"

# --- lag while a batch job revokes every certificate
sample() {  # PORT: "lag_seconds lag_sequences"
  curl -s "http://127.0.0.1:$1/metrics" |
    awk '/^revocore_replica_lag_seconds / {s=$2} /^revocore_replica_lag_sequences / {q=$2} END {print s, q}'
}
metric() {  # PORT NAME
  curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n {print $2}'
}
# End to end, commit to visible: the writer's committed journal sequence J at time t0 (its
# acknowledged plus unpublished sequences, less the registrations, which do not move here), then
# the time until both replicas have applied J. One probe after another while the job runs.
probe() {
  local t0 acknowledged unpublished j t1
  t0=$(date +%s.%N)
  acknowledged=$(metric "$wport" revocore_feed_acknowledged_journal_sequence)
  unpublished=$(metric "$wport" revocore_feed_unpublished_sequences)
  j=$((acknowledged + unpublished))
  for port in "$aport" "$bport"; do
    for _ in $(seq 3000); do
      [ "$(metric "$port" revocore_replica_journal_sequence)" -ge "$j" ] 2>/dev/null && break
      sleep 0.005
    done
  done
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}'
}
: > "$work/lag.txt"
: > "$work/probe.txt"
(
  while [ ! -f "$work/job.done" ]; do
    echo "$(sample "$aport") $(sample "$bport")" >> "$work/lag.txt"
    sleep 0.1
  done
) &
sampler=$!
(
  while [ ! -f "$work/job.done" ]; do probe >> "$work/probe.txt"; done
) &
prober=$!
job_start=$(date +%s.%N)
"$revocore" --data-dir "$work/data" --operator bench batch lock --file "$work/users.txt" \
  --reason "Key compromise" --chunk "$chunk" > "$work/job.out" 2> "$work/job.err"
job_end=$(date +%s.%N)
# Until both replicas have applied the writer's whole journal (after a heartbeat that says so).
sleep 1.2
for _ in $(seq 1200); do
  a=$(sample "$aport" | awk '{print $2}')
  b=$(sample "$bport" | awk '{print $2}')
  [ "${a%.*}" = 0 ] && [ "${b%.*}" = 0 ] && break
  sleep 0.1
done
caught_up=$(date +%s.%N)
touch "$work/job.done"
wait "$sampler" "$prober" 2>/dev/null || true
changed=$(sed -n 's/.* \([0-9]*\) certificates changed.*/\1/p' "$work/job.out")
job_seconds=$(awk -v a="$job_start" -v b="$job_end" 'BEGIN {printf "%.2f", b - a}')
tail_seconds=$(awk -v a="$job_end" -v b="$caught_up" 'BEGIN {printf "%.2f", b - a}')
percentiles() {  # UNIT: p50 p99 max of the numbers on standard input
  sort -g | awk -v unit="$1" '
    {v[NR] = $1}
    END {
      if (NR == 0) { print "no samples"; exit }
      p50 = int(NR * 0.50) + 1; if (p50 > NR) p50 = NR
      p99 = int(NR * 0.99) + 1; if (p99 > NR) p99 = NR
      printf "p50 %s p99 %s max %s%s (%d samples)", v[p50], v[p99], v[NR], unit, NR
    }'
}
column() { awk -v c="$1" '$c != "" {print $c}' "$work/lag.txt"; }
echo "batch lock: $changed certificates in $job_seconds s" \
  "($(awk -v c="$changed" -v s="$job_seconds" 'BEGIN {printf "%.0f", c / s}')/s);" \
  "both replicas caught up within $tail_seconds s after it ended (checked from the first" \
  "heartbeat 1.2 s after)"
echo "commit to visible on both replicas, during the job: $(percentiles " s" < "$work/probe.txt")"
echo "replica A lag seconds: $(column 1 | percentiles ""); sequences: $(column 2 | percentiles "")"
echo "replica B lag seconds: $(column 3 | percentiles ""); sequences: $(column 4 | percentiles "")"

# --- OCSP on a replica against the writer, the same pre-signed GET
request_b64=$(base64 -w0 "$work/request.der" | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g')
rps() {  # PORT: median requests/s of REPEAT wrk runs
  curl -s -o /dev/null "http://127.0.0.1:$1/$request_b64"
  sleep 0.3
  for _ in $(seq "$repeat"); do
    timeout $((seconds + 20)) wrk -t2 -c64 -d"${seconds}s" "http://127.0.0.1:$1/$request_b64" 2>&1 |
      awk '/Requests\/sec/ {print $2}'
  done | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}
writer_rps=$(rps "$wport")
replica_rps=$(rps "$aport")
echo "OCSP GET requests/s (wrk -t2 -c64, ${seconds}s, median of $repeat): writer $writer_rps," \
  "replica $replica_rps ($(awk -v r="$replica_rps" -v w="$writer_rps" 'BEGIN {printf "%.2f", r / w}'))"
