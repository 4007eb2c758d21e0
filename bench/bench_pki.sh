# Sourced by the benchmark scripts: make_bench_pki DIR creates DIR/pki with an EC P-256 CA
# (cRLSign) and a delegated OCSP responder it issued (id-kp-OCSPSigning), keys in mode 600.
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
