#!/usr/bin/env bash
# Before/after for the CRL writer: for each of two builds of revocore (OLD_BUILD, e.g. a worktree
# build of an earlier commit, and NEW_BUILD), alternating, ROUNDS times: 1,000,000 certificates
# (bench/ocsp_bench_data, 250,000 users), `revocore batch lock` of every user (the job and its
# CRL, timed), then `revocore crl generate` of the 1,000,000-entry CRL three times with its peak
# RssAnon and RssFile sampled every millisecond from /proc (LMDB's map and the CRL's pages are
# file-backed; RssAnon is what the CRL writer holds).
#
# Usage: bench/crl_ab.sh OLD_BUILD NEW_BUILD [ROUNDS]
#   e.g. git worktree add /tmp/old bc2e715 && cmake -S /tmp/old -B /tmp/old/build -G Ninja \
#          -DCMAKE_BUILD_TYPE=RelWithDebInfo && ninja -C /tmp/old/build revocore ocsp_bench_data
#        bench/crl_ab.sh /tmp/old/build build 2
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1
new=$2
rounds=${3:-2}
scripts/setup.sh --bench

sample() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak = {"RssAnon": 0, "RssFile": 0}
start = time.time()
while p.poll() is None:
    try:
        for line in open(f"/proc/{p.pid}/status"):
            key = line.split(":")[0]
            if key in peak:
                peak[key] = max(peak[key], int(line.split()[1]))
    except (FileNotFoundError, ProcessLookupError):
        pass
    time.sleep(0.001)
print(f"  crl generate: exit {p.returncode}, {time.time() - start:.3f} s, "
      f"RssAnon {peak['RssAnon'] / 1024:.1f} MiB, RssFile {peak['RssFile'] / 1024:.1f} MiB")
PY
}

one_build() {
  build=$1
  source bench/bench_common.sh
  bench_start crl-ab
  bench_data 250000 >/dev/null
  local revocore=$build/cli/revocore
  "$revocore" --data-dir "$work/data" crl generate >/dev/null
  local start end
  start=$(date +%s.%N)
  "$revocore" --data-dir "$work/data" --operator bench batch lock --file "$work/users.txt" \
    --reason "Key compromise" --chunk 10000 >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "  batch lock with its CRL: $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}') s"
  for _ in 1 2 3; do sample "$revocore" --data-dir "$work/data" crl generate; done
}

for i in $(seq "$rounds"); do
  for build in "$old" "$new"; do
    echo "round $i, $build:"
    (one_build "$build")
  done
done
