#!/usr/bin/env bash
# SIGINT and SIGTERM: the run stops at a record boundary, writes every requested report marked
# complete=false with the records consumed, exits 4, and leaves no temporary files behind.
source "$(dirname "$0")/lib.bash"
"$MMUSIM_BIN" gen mix --mix stream:50:64M,random:30:1G,hot:20:256K -n 30000000 -o "$W/big.mmt"
total=30000000
for sig in INT TERM; do
  set +e
  "$MMUSIM_BIN" run -q --json "$W/$sig.json" --csv "$W/$sig.csv" --interval 100000 \
    --interval-csv "$W/$sig.iv.csv" "$W/big.mmt" > "$W/$sig.txt" 2> "$W/$sig.err" &
  pid=$!
  sleep 0.7
  kill -s "$sig" "$pid"
  wait "$pid"; rc=$?
  set -e
  expect_eq "$sig exit code" 4 "$rc"
  expect_contains "$sig message" "interrupted after" "$(cat "$W/$sig.err")"
  python3 - "$W/$sig.json" "$total" <<'PY' && PASSES=$((PASSES + 1)) || { echo "FAIL: $sig json" >&2; FAILS=$((FAILS + 1)); }
import json, sys
j = json.load(open(sys.argv[1]))
total = int(sys.argv[2])
assert j["complete"] is False and j["end"] == "interrupted", (j["complete"], j["end"])
r = j["run"]["records"]
assert 0 < r < total, r
assert j["stats"]["sim"]["accesses"] == r == j["traces"][0]["records"], (j["stats"]["sim"]["accesses"], r)
PY
  expect_eq "$sig csv complete" false "$(csv_get "$W/$sig.csv" complete)"
  expect_contains "$sig text report" "INCOMPLETE" "$(head -1 "$W/$sig.txt")"
  # the interval series holds every full interval before the stop, then the partial one
  rows=$(($(wc -l < "$W/$sig.iv.csv") - 1))
  recs=$(csv_get "$W/$sig.csv" run.records)
  expect_eq "$sig interval rows" $(( (recs + 99999) / 100000 )) "$rows"
  expect_eq "$sig no temporary files" 0 "$(find "$W" -name '*.tmp.*' | wc -l)"
done
finish
