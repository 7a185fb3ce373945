#!/usr/bin/env bash
# Builds mmusim twice (optimised, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# every test (Check unit tests and end-to-end tests) through ctest in both. Exits non-zero on any
# failure. Installs missing packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
jobs=$(nproc)
status=0
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs") || status=1
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DMMUSIM_SANITIZE=ON >/dev/null
cmake --build build-sanitize -j"$jobs"
(cd build-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs") || status=1
if [ "$status" -ne 0 ]; then echo "mmusim tests: FAILED" >&2; fi
exit "$status"
