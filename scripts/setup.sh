#!/usr/bin/env bash
# Installs the Debian 12 packages revocore needs, only those missing. Idempotent and quick when
# everything is there (one dpkg-query per package, no apt-get call).
# With --bench, also the benchmark peers (wrk, nginx); not by default, because installing nginx
# on Debian starts a service on port 80. With --fuzz, clang and libFuzzer (scripts/fuzz.sh).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  openssl libssl-dev
  libboost1.81-dev libboost-json1.81-dev
  liblmdb-dev lmdb-utils
  libfmt-dev libspdlog-dev libtomlplusplus-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  gnutls-bin curl clang-format
  libp11-kit-dev softhsm2 opensc
  nats-server libnats-dev
  chromium chromium-driver python3-selenium libnss3-tools
)
if [ "${1:-}" = "--bench" ]; then
  packages+=(wrk nginx-light python3 time)
fi
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  as_root=(sudo)
fi
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
