#!/usr/bin/env bash
# Before/after check for a change on the OCSP hot path: two builds of revocore (OLD_BUILD, e.g. a
# build of the previous commit, and NEW_BUILD) serve the same data directory in turn, alternating
# which goes first, so that both see the same machine noise, and wrk measures GET and
# POST (pre-signed answers, the path every relying party takes). Medians of REPEAT runs per
# build, and the ratio new/old. Loopback only, bounded in time.
#
# Usage: bench/ocsp_ab.sh OLD_BUILD NEW_BUILD [USERS] [SECONDS] [REPEAT]
#   e.g. git worktree add /tmp/old HEAD~3 && (cd /tmp/old && scripts/build.sh)
#        bench/ocsp_ab.sh /tmp/old/build build 250000 8 5
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1
new=$2
users=${3:-250000}
seconds=${4:-8}
repeat=${5:-5}
connections=${CONNECTIONS:-64}
scripts/setup.sh --bench
build=$old # the data is made by the old build's tool, which both builds read
source bench/bench_common.sh
bench_start ocsp-ab
bench_data "$users"
request_b64=$(base64 -w0 "$work/request.der" | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g')
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/ocsp-request"
local f = io.open("$work/request.der", "rb"); wrk.body = f:read("*a"); f:close()
LUA

# one_run BUILD: prints "GET_RPS GET_P99_MS POST_RPS POST_P99_MS" for one serve of BUILD.
one_run() {
  local port
  port=$(free_port)
  "$1/cli/revocore" --data-dir "$work/data" serve --listen "127.0.0.1:$port" --threads 2 \
    --admin-listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
  local pid=$!
  pids+=("$pid")
  if ! wait_port "$port"; then
    cat "$work/serve.err" >&2
    return 1
  fi
  curl -s -o /dev/null "http://127.0.0.1:$port/$request_b64"  # sign and store the answer once
  sleep 0.3
  local line=""
  for lua in "" "$work/post.lua"; do
    local url="http://127.0.0.1:$port/$request_b64"
    [ -n "$lua" ] && url="http://127.0.0.1:$port/"
    local out
    out=$(timeout $((seconds + 20)) wrk -t2 -c"$connections" -d"${seconds}s" --latency \
      ${lua:+-s "$lua"} "$url" 2>&1)
    if grep -q "Non-2xx\|Socket errors" <<<"$out"; then echo "$1: $(grep -E 'Non-2xx|Socket errors' <<<"$out")" >&2; fi
    line+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
    line+="$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out") "
  done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  echo "$line"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$work/old.txt"
: >"$work/new.txt"
# Odd rounds run the old build first, even rounds the new one, so that neither always follows the
# other. wrk's figures on a shared 2-core machine move by 10% and more between runs: for a small
# change, compare instructions per answer under callgrind as well (docs/BENCHMARKS.md).
for i in $(seq "$repeat"); do
  if [ $((i % 2)) -eq 1 ]; then
    one_run "$old" >>"$work/old.txt"
    one_run "$new" >>"$work/new.txt"
  else
    one_run "$new" >>"$work/new.txt"
    one_run "$old" >>"$work/old.txt"
  fi
  echo "run $i: old $(tail -1 "$work/old.txt")| new $(tail -1 "$work/new.txt")" >&2
done
printf '%-6s %14s %12s %14s %12s\n' build "GET req/s" "GET p99 ms" "POST req/s" "POST p99 ms"
for which in old new; do
  printf '%-6s' "$which"
  for column in 1 2 3 4; do
    printf ' %14s' "$(awk -v c=$column '{print $c}' "$work/$which.txt" | median)"
  done
  echo
done
for column in 1 3; do
  o=$(awk -v c=$column '{print $c}' "$work/old.txt" | median)
  n=$(awk -v c=$column '{print $c}' "$work/new.txt" | median)
  awk -v o="$o" -v n="$n" -v c=$column 'BEGIN {printf "%s new/old: %.3f\n", (c == 1 ? "GET" : "POST"), n / o}'
done
