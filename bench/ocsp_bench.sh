#!/usr/bin/env bash
# OCSP throughput and latency, everything on loopback and bounded in time:
#   revocore serve  holding USERS x 4 certificates (default 1,000,000), GET and POST;
#   nginx           serving the same response bytes as a static file (GET);
#   openssl ocsp    -index on the same certificates (GET and POST). It closes every connection
#                   and listens on every interface (it gets nothing but loopback traffic here),
#                   and wrk cannot drive it (see bench/http_load.cpp), so it is measured with
#                   http_load, one connection per request, and so is revocore for the ratio;
#   nonce requests  signed per request by revocore, against `openssl speed` for the same key.
# wrk drives each for SECONDS with CONNECTIONS connections, REPEAT times; medians are reported.
#
# Usage: bench/ocsp_bench.sh [USERS] [SECONDS] [REPEAT]     (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-250000}
seconds=${2:-8}
repeat=${3:-3}
connections=${CONNECTIONS:-64}
build=${REVOCORE_BUILD_DIR:-build}
scripts/setup.sh --bench
source bench/bench_common.sh
revocore=$build/cli/revocore
bench_start ocsp-bench
bench_data "$users"
mkdir -p "$work/www"

request_b64=$(base64 -w0 "$work/request.der" | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g')
post_lua() {  # $1: request file
  cat > "$work/post-$(basename "$1").lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/ocsp-request"
local f = io.open("$1", "rb"); wrk.body = f:read("*a"); f:close()
LUA
  echo "$work/post-$(basename "$1").lua"
}

# run_wrk NAME URL [LUA]: REPEAT runs; prints "NAME rps p99" as medians.
declare -A rps p99 requests
run_wrk() {
  local name=$1 url=$2 lua=${3:-}
  local all_rps=() all_p99=()
  requests[$name]=0
  for _ in $(seq "$repeat"); do
    local out
    out=$(timeout $((seconds + 20)) wrk -t2 -c"$connections" -d"${seconds}s" --latency ${lua:+-s "$lua"} "$url" 2>&1)
    local count
    count=$(awk '/requests in/ {print $1}' <<<"$out")
    requests[$name]=$(( ${requests[$name]} + ${count:-0} ))
    if grep -q "Non-2xx\|Socket errors" <<<"$out"; then echo "$name: $(grep -E 'Non-2xx|Socket errors' <<<"$out")" >&2; fi
    all_rps+=("$(awk '/Requests\/sec/ {print $2}' <<<"$out")")
    all_p99+=("$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")")
  done
  rps[$name]=$(printf '%s\n' "${all_rps[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  p99[$name]=$(printf '%s\n' "${all_p99[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-28s %12s req/s   p99 %8s ms   (runs: %s)\n' "$name" "${rps[$name]}" "${p99[$name]}" "${all_rps[*]}"
}

# --- revocore
port=$(free_port)
"$revocore" --data-dir "$work/data" serve --listen "127.0.0.1:$port" --threads 2 >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
wait_port "$port"
# Sign and store the benchmarked response once, as the RFC 9919 model does ahead of time.
curl -s -o "$work/www/response.der" "http://127.0.0.1:$port/$request_b64"
sleep 0.3
curl -s -o /dev/null "http://127.0.0.1:$port/$request_b64"
run_wrk "revocore GET" "http://127.0.0.1:$port/$request_b64"
run_wrk "revocore POST" "http://127.0.0.1:$port/" "$(post_lua "$work/request.der")"
# CPU time the responder itself spends on nonce requests (utime + stime, /proc/PID/stat fields
# 14 and 15): wrk runs on the same two cores, so signatures per CPU-second is the fair comparison
# with what `openssl speed` signs per core.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
before=$(cpu_ticks "${pids[-1]}")
run_wrk "revocore POST nonce (signs)" "http://127.0.0.1:$port/" "$(post_lua "$work/request-nonce.der")"
nonce_cpu_seconds=$(awk -v a="$before" -v b="$(cpu_ticks "${pids[-1]}")" -v hz="$(getconf CLK_TCK)" 'BEGIN {print (b - a) / hz}')
presigned=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^revocore_ocsp_presigned_total/ {print $2}')
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# --- nginx, the same bytes as a static file
nport=$(free_port)
cat > "$work/nginx.conf" <<NGINX
user root;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx.err;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nport;
    root $work/www;
    location / { default_type application/ocsp-response; rewrite ^ /response.der break; }
  }
}
NGINX
nginx -c "$work/nginx.conf" &
pids+=($!)
wait_port "$nport"
run_wrk "nginx static GET" "http://127.0.0.1:$nport/$request_b64"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# --- one connection per request (http_load): openssl ocsp -index, and revocore the same way
raw_request() {  # $1 GET|POST, $2 output file
  if [ "$1" = GET ]; then
    printf 'GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$request_b64" > "$2"
  else
    printf 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: %d\r\nConnection: close\r\n\r\n' \
      "$(stat -c %s "$work/request.der")" > "$2"
    cat "$work/request.der" >> "$2"
  fi
}
raw_request GET "$work/raw-get"
raw_request POST "$work/raw-post"
run_load() {  # NAME PORT RAW_FILE
  local name=$1 all_rps=() all_p99=()
  for _ in $(seq "$repeat"); do
    local out
    out=$(timeout $((seconds + 20)) "$build/bench/http_load" "$2" "$3" "$seconds" 2)
    all_rps+=("$(awk '{print $2}' <<<"$out")")
    all_p99+=("$(awk '{print $6}' <<<"$out")")
    grep -q "errors 0" <<<"$out" || echo "$name: $out" >&2
  done
  rps[$name]=$(printf '%s\n' "${all_rps[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  p99[$name]=$(printf '%s\n' "${all_p99[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-28s %12s req/s   p99 %8s ms   (runs: %s)\n' "$name" "${rps[$name]}" "${p99[$name]}" "${all_rps[*]}"
}
oport=$(free_port)
openssl ocsp -index "$work/index.txt" -port "$oport" -CA "$work/pki/ca.pem" \
  -rsigner "$work/pki/responder.pem" -rkey "$work/pki/responder.key" -nmin 60 \
  >"$work/openssl.out" 2>&1 &
pids+=($!)
# Not wait_port: a connection closed without a request sends `openssl ocsp` (OpenSSL 3.0) into a
# busy loop on EOF, and it never accepts again. Wait for its banner instead.
for _ in $(seq 100); do grep -q "waiting for OCSP client" "$work/openssl.out" && break; sleep 0.1; done
run_load "openssl ocsp POST (conn/req)" "$oport" "$work/raw-post"
run_load "openssl ocsp GET (conn/req)" "$oport" "$work/raw-get"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
port=$(free_port)
"$revocore" --data-dir "$work/data" serve --listen "127.0.0.1:$port" --threads 2 >"$work/serve2.out" 2>"$work/serve2.err" &
pids+=($!)
wait_port "$port"
run_load "revocore POST (conn/req)" "$port" "$work/raw-post"
run_load "revocore GET (conn/req)" "$port" "$work/raw-get"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# --- what two cores can sign with this key type
speed=$(openssl speed -seconds 5 -multi 2 ecdsap256 2>/dev/null | awk '/256 bits ecdsa/ {print $(NF-1)}' | tail -1)

echo
echo "certificates: $((users * 4)); wrk -t2 -c$connections -d${seconds}s, median of $repeat"
awk -v a="${rps[revocore GET]}" -v b="${rps[nginx static GET]}" 'BEGIN {printf "revocore GET / nginx static GET: %.2f\n", a/b}'
awk -v a="${rps[revocore GET]}" -v b="${rps[openssl ocsp GET (conn/req)]}" 'BEGIN {printf "revocore GET keep-alive / openssl ocsp GET: %.1f\n", a/b}'
awk -v a="${rps[revocore POST (conn/req)]}" -v b="${rps[openssl ocsp POST (conn/req)]}" 'BEGIN {printf "revocore / openssl ocsp, both one connection per request, POST: %.2f\n", a/b}'
awk -v a="${rps[revocore GET (conn/req)]}" -v b="${rps[openssl ocsp GET (conn/req)]}" 'BEGIN {printf "revocore / openssl ocsp, both one connection per request, GET: %.2f\n", a/b}'
echo "p99 ms: revocore GET ${p99[revocore GET]}, nginx ${p99[nginx static GET]}"
echo "nonce: ${rps[revocore POST nonce (signs)]} signatures/s; openssl speed ecdsap256 sign on 2 cores: $speed/s"
awk -v a="${rps[revocore POST nonce (signs)]}" -v b="$speed" 'BEGIN {printf "nonce signing / openssl speed: %.2f\n", a/b}'
awk -v n="${requests[revocore POST nonce (signs)]}" -v cpu="$nonce_cpu_seconds" -v b="$speed" \
  'BEGIN {printf "nonce: %d signed answers in %.1f s of responder CPU: %.0f per CPU-second; openssl speed per core %.0f; ratio %.2f\n", n, cpu, n/cpu, b/2, (n/cpu)/(b/2)}'
echo "responses served pre-signed: $presigned"
