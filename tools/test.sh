#!/usr/bin/env bash
# Builds mmusim three times and runs every test through ctest in each:
#  1. optimised (gcc): Check unit tests, end-to-end tests, the same end-to-end tests with every
#     mmusim run under valgrind memcheck, and the fuzz corpora replayed once;
#  2. AddressSanitizer + UndefinedBehaviorSanitizer (gcc): unit, end-to-end, fuzz corpora;
#  3. libFuzzer (clang, with ASan + UBSan): each fuzz target for a short fixed budget.
# Exits non-zero on any failure. Installs missing packages first.
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
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMUSIM_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$jobs"
(cd build-fuzz && ctest --output-on-failure -j"$jobs") || status=1
if [ "$status" -ne 0 ]; then echo "mmusim tests: FAILED" >&2; fi
exit "$status"
