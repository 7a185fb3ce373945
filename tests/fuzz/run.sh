#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed budget: first over the crash regressions (each must pass),
# then fuzzing from the committed seeds into a scratch corpus. A crash leaves its input in the
# scratch folder (crash-*) and fails the test; copy it into tests/fuzz/regressions/TARGET/.
set -euo pipefail
bin=$1 work=$2 seeds=$3 regress=$4 seconds=$5
rm -rf "$work"
mkdir -p "$work/corpus"
if compgen -G "$regress/*" > /dev/null; then
  "$bin" -runs=0 "$regress"/*
fi
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds" 2>&1 | tail -n 15
