#!/usr/bin/env bash
# Every robustness check of docs/RELIABILITY.md in one command, quick parts first:
#   1. the crash-consistency, hostile-client, operator API and fault tests (also part of
#      scripts/test, here on their own, in the normal and the ASan+UBSan build), and the OCSP
#      server's tests in a ThreadSanitizer build (its worker threads share one event loop);
#   2. libFuzzer on every parser of untrusted input, FUZZ_SECONDS per target (scripts/fuzz.sh);
#   3. the soak: wrk at full rate for SOAK_SECONDS with batch jobs underneath (bench/soak.sh).
# Exits non-zero as soon as any part fails (a failing test, a fuzz crash, report or mismatch, a
# failing soak check). Loopback only, bounded in time: about 5 x FUZZ_SECONDS + SOAK_SECONDS +
# 5 minutes.
#
# Usage: scripts/reliability.sh [FUZZ_SECONDS] [SOAK_SECONDS]      (defaults: 300 and 60)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${1:-300}
soak_seconds=${2:-60}
scripts/setup.sh --bench --fuzz
scripts/build.sh
if [ ! -f build-asan/build.ninja ]; then  # the same flags as scripts/test
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
fi
cmake --build build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
pattern='CrashConsistency|OcspHostile|ApiTest|ApiWithOperatorCrl|StoreFull|Lmdb|fuzz_corpus'
echo "== quick parts (normal build)"
ctest --test-dir build -j2 -R "$pattern" --output-on-failure
echo "== quick parts (ASan + UBSan)"
ctest --test-dir build-asan -j2 -R "$pattern" --output-on-failure
echo "== OCSP server under ThreadSanitizer"
if [ ! -f build-tsan/build.ninja ]; then
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread"
fi
cmake --build build-tsan --target revocore ocsp_hostile_test ocsp_interop_test ocsp_test
for test in ocsp_test ocsp_hostile_test ocsp_interop_test; do
  TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/$test --gtest_brief=1
done
echo "== fuzzing, ${fuzz_seconds} s per target"
scripts/fuzz.sh "$fuzz_seconds"
echo "== soak, ${soak_seconds} s"
bench/soak.sh "$soak_seconds"
