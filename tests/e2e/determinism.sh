#!/usr/bin/env bash
# Same inputs, config and seed: byte-identical JSON (less its "host" section) and CSV, on reruns,
# with random replacement seeded, and across builds (MMUSIM_OTHER_BIN: the plain build's mmusim
# when this is the sanitizer build). A different seed changes what random replacement does.
source "$(dirname "$0")/lib.bash"
"$MMUSIM_BIN" gen mix --mix stream:40,random:30,chase:10,zipf:20 -n 400000 --seed 5 -o "$W/t.mmt"
strip_host() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j.pop("host"); print(json.dumps(j, sort_keys=True))' "$1"; }
scenario() { # BIN OUT [ARGS...]
  local bin=$1 out=$2; shift 2
  "$bin" run -q --json "$out.json" --csv "$out.csv" --interval 50000 --interval-csv "$out.iv.csv" "$@" "$W/t.mmt" > /dev/null
}
for cfg in "" "-o cache.llc.replacement=random -o cache.l2.replacement=drrip" "-o mmu.translate=false -o cache.llc.inclusion=inclusive"; do
  # shellcheck disable=SC2086
  scenario "$MMUSIM_BIN" "$W/a" $cfg
  # shellcheck disable=SC2086
  scenario "$MMUSIM_BIN" "$W/b" $cfg
  expect_eq "rerun json [$cfg]" "$(strip_host "$W/a.json")" "$(strip_host "$W/b.json")"
  expect_eq "rerun csv [$cfg]" "$(md5sum < "$W/a.csv")" "$(md5sum < "$W/b.csv")"
  expect_eq "rerun interval [$cfg]" "$(md5sum < "$W/a.iv.csv")" "$(md5sum < "$W/b.iv.csv")"
  if [ -n "${MMUSIM_OTHER_BIN:-}" ] && [ -x "$MMUSIM_OTHER_BIN" ]; then
    # shellcheck disable=SC2086
    scenario "$MMUSIM_OTHER_BIN" "$W/c" $cfg
    expect_eq "other build json [$cfg]" "$(strip_host "$W/a.json")" "$(strip_host "$W/c.json")"
    expect_eq "other build csv [$cfg]" "$(md5sum < "$W/a.csv")" "$(md5sum < "$W/c.csv")"
  fi
done
# the seed reaches random replacement: another seed, other misses
scenario "$MMUSIM_BIN" "$W/s1" -o cache.l1d.replacement=random --seed 1
scenario "$MMUSIM_BIN" "$W/s2" -o cache.l1d.replacement=random --seed 2
if [ "$(csv_get "$W/s1.csv" cache.l1d.misses)" = "$(csv_get "$W/s2.csv" cache.l1d.misses)" ]; then
  echo "FAIL: seeds 1 and 2 gave the same random-replacement misses" >&2; FAILS=$((FAILS + 1))
else PASSES=$((PASSES + 1)); fi
finish
