#!/usr/bin/env bash
# Conditional GET of a CRL (RFC 9110 13.2): 304 answers per second from `revocore serve` against
# nginx answering 304 for the same file (open_file_cache on, as a CDN origin would run it), both
# with 2 workers, keep-alive, wrk -t2 on 127.0.0.1, each client sending the ETag its server gave.
# Alternating which goes first, REPEAT rounds of SECONDS each; medians and the ratio.
#
# Usage: bench/crl_http_bench.sh [USERS] [SECONDS] [REPEAT]     (default 25000 5 3)
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-25000}
seconds=${2:-5}
repeat=${3:-3}
connections=${CONNECTIONS:-64}
scripts/setup.sh --bench
scripts/build.sh >/dev/null
build=build
source bench/bench_common.sh
bench_start crl-http
bench_data "$users"
"$build/cli/revocore" --data-dir "$work/data" crl generate --issuer bench-ca >/dev/null
crl="$work/data/crl/bench-ca.crl"
echo "CRL: $(stat -c %s "$crl") bytes, $((users * 4 / 10)) entries"

# wrk_304 URL ETAG: prints requests/s, and fails unless every answer was a 304.
wrk_304() {
  cat >"$work/etag.lua" <<LUA
wrk.headers["If-None-Match"] = '$2'
local others = 0
response = function(status, headers, body) if status ~= 304 then others = others + 1 end end
done = function(summary, latency, requests) if others > 0 then io.stderr:write("non-304: " .. others .. "\n") end end
LUA
  local out
  out=$(timeout $((seconds + 20)) wrk -t2 -c"$connections" -d"${seconds}s" -s "$work/etag.lua" "$1" 2>&1)
  if grep -q "non-304\|Socket errors\|Non-2xx" <<<"$out" && ! grep -q "Non-2xx or 3xx responses: 0" <<<"$out"; then
    grep -E "non-304|Socket errors" <<<"$out" >&2 || true
  fi
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}

# measure_304 PID PORT: once the server PID listens on PORT, the 304 rate for the ETag it gives
# (checked to be a 304 first); then stops it.
measure_304() {
  local pid=$1 port=$2
  pids+=("$pid")
  wait_port "$port"
  local url="http://127.0.0.1:$port/crl/bench-ca.crl"
  local etag
  etag=$(etag_of "$url")
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$url")" = 304 ]
  wrk_304 "$url" "$etag"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

etag_of() { curl -sS -D - -o /dev/null "$1" | awk 'tolower($1)=="etag:" {sub(/\r$/,""); print $2}'; }

revocore_run() {
  local port
  port=$(free_port)
  "$build/cli/revocore" --data-dir "$work/data" serve --listen "127.0.0.1:$port" --threads 2 \
    --admin-listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
  measure_304 $! "$port"
}

nginx_run() {
  local port
  port=$(free_port)
  mkdir -p "$work/nginx"
  # As root, nginx's workers would run as nobody, who cannot read the scratch directory.
  local user=""
  [ "$(id -u)" = 0 ] && user="user root;"
  cat >"$work/nginx/nginx.conf" <<CONF
$user
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 60s;
  etag on;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  types { application/pkix-crl crl; }
  server { listen 127.0.0.1:$port; root $work/data; keepalive_requests 1000000; }
}
CONF
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  measure_304 $! "$port"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$work/revocore.txt"
: >"$work/nginx.txt"
for i in $(seq "$repeat"); do
  if [ $((i % 2)) -eq 1 ]; then
    revocore_run >>"$work/revocore.txt"
    nginx_run >>"$work/nginx.txt"
  else
    nginx_run >>"$work/nginx.txt"
    revocore_run >>"$work/revocore.txt"
  fi
  echo "round $i: revocore $(tail -1 "$work/revocore.txt") nginx $(tail -1 "$work/nginx.txt") 304/s" >&2
done
r=$(median <"$work/revocore.txt")
n=$(median <"$work/nginx.txt")
printf 'median 304/s: revocore %s, nginx %s, ratio revocore/nginx %.2f\n' "$r" "$n" \
  "$(awk -v a="$r" -v b="$n" 'BEGIN {print a / b}')"
