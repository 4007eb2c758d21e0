#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer) in
# build-fuzz/ and runs each for SECONDS (default 60), starting from fuzz/corpus/<target>/.
# New inputs go to build-fuzz/corpus-<target>/, crashes to build-fuzz/crashes/; a crash found is
# a bug: fix it, and add the input to fuzz/corpus/<target>/ as a regression test.
# Exits non-zero when any target crashed, hit a sanitizer report (UBSan does not recover: every
# report stops the target), found a differential mismatch or a broken limit (both abort), or did
# not run; the input that did it is saved under build-fuzz/crashes/.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
case $seconds in
  '' | *[!0-9]*)
    echo "fuzz.sh: SECONDS must be a number, not '$seconds' (usage: scripts/fuzz.sh [SECONDS] [TARGET...])" >&2
    exit 2
    ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ocsp_request get_path manifest config http_framing conditional_request feed_message)
scripts/setup.sh --fuzz
if [ ! -f build-fuzz/build.ninja ]; then
  CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DREVOCORE_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
fi
cmake --build build-fuzz --target $(printf 'fuzz_%s ' "${targets[@]}")
mkdir -p build-fuzz/crashes
failed=()
printf '%-14s %8s %12s %10s\n' target seconds inputs crashes
for target in "${targets[@]}"; do
  corpus=build-fuzz/corpus-$target
  rm -f build-fuzz/crashes/"$target"-*  # count this run's findings only
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  log=build-fuzz/fuzz-$target.log
  status=0
  build-fuzz/fuzz/fuzz_"$target" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=build-fuzz/crashes/"$target"- "$corpus" > "$log" 2>&1 || status=$?
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  crashes=$(ls build-fuzz/crashes/ | grep -c "^$target-" || true)
  printf '%-14s %8s %12s %10s\n' "$target" "$seconds" "${runs:-?}" "$crashes"
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ] || [ -z "$runs" ]; then
    echo "fuzz_$target FAILED (status $status, $crashes saved inputs in build-fuzz/crashes/); see $log" >&2
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
