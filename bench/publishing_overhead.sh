#!/usr/bin/env bash
# Does publishing to replicas slow the writer? (issue 14: "the 1,000,000-certificate batch order
# and the batch lock benchmark stay within 10% of today in the same run with publishing on").
# USERS x 4 certificates (250,000 users = 1,000,000 by default). Each run starts from the same
# copy of the data, with `revocore serve` running on it, and times one job:
#   lock  - `revocore batch lock` of every user in chunks of 10,000 (the batch lock benchmark),
#   order - the same in one chunk: one batch order of every certificate in one transaction;
# each with publishing off (serve without [replication]) and on (serve publishing to a
# three-node JetStream cluster on loopback, R3, file storage; its first snapshot is taken before
# the job starts). Alternating off/on, REPEAT times; medians and the on/off ratio. Each line
# printed: kind, publishing, the job's seconds, CPU seconds of serve and of the NATS servers
# during it.
# Loopback only; every process is stopped at the end.
#
# With PIN=1 the job runs on CPU 0 and everything else (serve, its publisher, the NATS servers)
# on CPU 1: a writer with a core to spare and NATS sharing it, the nearest this 2-core machine
# comes to NATS on machines of its own.
#
# Usage: [PIN=1] bench/publishing_overhead.sh [USERS] [REPEAT]   (build first)
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-250000}
repeat=${2:-3}
build=${REVOCORE_BUILD_DIR:-build}
scripts/setup.sh --bench
source bench/bench_common.sh
revocore=$build/cli/revocore
bench_start publishing-overhead
bench_data "$users"
"$revocore" --data-dir "$work/data" crl generate > /dev/null # the base CRL before the lock
start_nats_cluster
job_cpu=() other_cpu=()
if [ "${PIN:-0}" = 1 ]; then
  job_cpu=(taskset -c 0)
  other_cpu=(taskset -c 1)
  for pid in "${pids[@]}"; do taskset -a -cp 1 "$pid" > /dev/null; done
fi
openssl genpkey -algorithm ed25519 -out "$work/data/feed.key" 2> /dev/null
chmod 600 "$work/data/feed.key"
mv "$work/data" "$work/pristine"

: > "$work/results.txt"
one_run() { # KIND MODE ROUND: appends "KIND MODE seconds serve-CPU NATS-CPU" to results.txt
  local kind=$1 mode=$2 run=$3$1 chunk=10000 port serve_pid begin end
  [ "$kind" = order ] && chunk=$users
  rm -rf "$work/data"
  cp -a "$work/pristine" "$work/data"
  if [ "$mode" = on ]; then
    # A stream of its own per run: each copy of the data starts a new feed.
    cat >> "$work/data/revocore.toml" << TOML

[replication]
servers = [$servers]
stream = "OVERHEAD$run"
subject = "overhead$run"
signing_key = "feed.key"
stream_replicas = 3
TOML
  fi
  port=$(free_port)
  "${other_cpu[@]}" "$revocore" --data-dir "$work/data" serve --listen "127.0.0.1:$port" \
    > "$work/serve.out" 2> "$work/serve.err" &
  serve_pid=$!
  pids+=("$serve_pid")
  wait_port "$port"
  if [ "$mode" = on ]; then
    for _ in $(seq 1200); do grep -q "event=snapshot_published" "$work/serve.err" && break; sleep 0.1; done
    grep -q "event=snapshot_published" "$work/serve.err" || { echo "no snapshot published:" >&2; tail -5 "$work/serve.err" >&2; exit 1; }
  fi
  sync
  local serve_cpu nats_cpu
  serve_cpu=$(cpu_seconds "$serve_pid")
  nats_cpu=$(cpu_seconds $(pgrep -f "nats-server -c $work/"))
  begin=$(date +%s.%N)
  "${job_cpu[@]}" "$revocore" --data-dir "$work/data" --operator bench batch lock \
    --file "$work/users.txt" --reason "Key compromise" --chunk "$chunk" \
    > "$work/job.out" 2> "$work/job.err"
  end=$(date +%s.%N)
  grep -q "certificates changed" "$work/job.out" || { cat "$work/job.err" >&2; exit 1; }
  # CPU seconds the writer's serve (its publisher) and the NATS servers used during the job.
  serve_cpu=$(awk -v a="$serve_cpu" -v b="$(cpu_seconds "$serve_pid")" 'BEGIN {printf "%.2f", b - a}')
  nats_cpu=$(awk -v a="$nats_cpu" -v b="$(cpu_seconds $(pgrep -f "nats-server -c $work/"))" \
    'BEGIN {printf "%.2f", b - a}')
  kill "$serve_pid"
  wait "$serve_pid" 2> /dev/null || true
  awk -v k="$kind" -v m="$mode" -v a="$begin" -v b="$end" -v s="$serve_cpu" -v n="$nats_cpu" \
    'BEGIN {printf "%s %s %.2f %s %s\n", k, m, b - a, s, n}' | tee -a "$work/results.txt"
}
cpu_seconds() { # PID...: user + system CPU seconds of those processes so far
  local pid total=0
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}
for round in $(seq "$repeat"); do
  for kind in lock order; do
    for mode in off on; do
      one_run "$kind" "$mode" "$round"
    done
  done
done
median() { # KIND MODE [COLUMN]: the median of the job's seconds (or CPU column 4, 5)
  awk -v k="$1" -v m="$2" -v c="${3:-3}" '$1 == k && $2 == m {print $c}' "$work/results.txt" |
    sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
for kind in lock order; do
  off=$(median "$kind" off)
  on=$(median "$kind" on)
  echo "$kind: publishing off $off s, on $on s (median of $repeat; on/off" \
    "$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')); CPU with publishing on:" \
    "serve $(median "$kind" on 4) s, NATS servers $(median "$kind" on 5) s"
done
