# Sourced by the benchmark scripts, from the repository root, after setting $build:
#   bench_start NAME       a scratch directory $work, removed at exit; every process whose pid is
#                          added to $pids is killed then
#   bench_data USERS [ROTATION]  $work/pki (make_bench_pki) and $work/data holding USERS x 4
#                          certificates, with the requests and lists of bench/ocsp_bench_data
#                          (and $work/rotation.txt, ROTATION GET paths over the whole range)
#   free_port, wait_port PORT    a free loopback port; wait until PORT accepts connections
#   make_bench_pki DIR     DIR/pki with an EC P-256 CA (cRLSign) and a delegated OCSP responder it
#                          issued (id-kp-OCSPSigning), keys in mode 600
#   start_nats_cluster     three nats-server nodes with JetStream on loopback (plain, no auth:
#                          a benchmark, not a deployment); $servers is their URLs as a TOML list

bench_start() {
  work=$(mktemp -d "/tmp/revocore-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

bench_data() {
  mkdir -p "$work/data"
  make_bench_pki "$work"
  "$build/bench/ocsp_bench_data" "$work" "$1" ${2:+"$2"}
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

make_bench_pki() {
  local pki=$1/pki
  mkdir -p "$pki"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=bench CA' \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 30 \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=bench responder' \
    -keyout "$pki/responder.key" -out "$pki/responder.csr" 2>/dev/null
  printf 'extendedKeyUsage=critical,OCSPSigning\nkeyUsage=critical,digitalSignature\n' > "$pki/ext"
  openssl x509 -req -in "$pki/responder.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -set_serial 0x7e57 -days 30 -extfile "$pki/ext" -out "$pki/responder.pem" 2>/dev/null
  chmod 600 "$pki"/*.key
}

start_nats_cluster() {
  local cluster_ports=() client_ports=() i j node routes
  for i in 1 2 3; do client_ports+=("$(free_port)"); cluster_ports+=("$(free_port)"); done
  servers=""
  for i in 0 1 2; do
    servers+="${servers:+, }\"nats://127.0.0.1:${client_ports[$i]}\""
  done
  for i in 0 1 2; do
    node=$work/n$((i + 1))
    mkdir -p "$node"
    routes=""
    for j in 0 1 2; do
      [ "$j" = "$i" ] || routes+="${routes:+, }\"nats-route://127.0.0.1:${cluster_ports[$j]}\""
    done
    cat > "$node/nats.conf" <<NATS
server_name: n$((i + 1))
listen: 127.0.0.1:${client_ports[$i]}
jetstream { store_dir: "$node/js" }
cluster { name: bench, listen: 127.0.0.1:${cluster_ports[$i]}, routes: [$routes] }
NATS
    nats-server -c "$node/nats.conf" > "$node/log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2; do wait_port "${client_ports[$i]}"; done
}
