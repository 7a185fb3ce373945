#!/usr/bin/env bash
# The page walker through mmusim run: loads per walk with and without page-walk caches, 4 and 5
# levels, nested walks, where the loads enter the caches, and the walk-latency histogram.
source "$(dirname "$0")/lib.bash"
run() { "$MMUSIM_BIN" run --quiet "$@"; }
# a 4-way 64-entry dTLB and no STLB: 256 pages read twice miss on the second pass too
NOSTLB=(-o tlb.stlb.entries_4k=0 -o tlb.stlb.entries_1g=0)
NOPWC=(-o pwc.pml5_entries=0 -o pwc.pml4_entries=0 -o pwc.pdpt_entries=0 -o pwc.pde_entries=0)
# (each page read at a different line offset, so the data lines spread over the L1D's sets)
python3 -c '
for r in range(2):
    for i in range(256): print("R 0x%x 8" % (0x7f0000000000 + i * 4096 + (i % 64) * 64))' > "$W/two.txt"

# 1. Without page-walk caches a walk loads one entry per level; the first pass (faults) is warmup.
run "${NOSTLB[@]}" "${NOPWC[@]}" --warmup 256 --csv "$W/l4.csv" "$W/two.txt" > /dev/null
expect_eq "4-level walks" 256 "$(csv_get "$W/l4.csv" walker.walks)"
expect_eq "4-level loads" 1024 "$(csv_get "$W/l4.csv" walker.memory_refs)"
expect_eq "4-level faults" 0 "$(csv_get "$W/l4.csv" walker.faults)"
run "${NOSTLB[@]}" "${NOPWC[@]}" -o walker.levels=5 --warmup 256 --csv "$W/l5.csv" "$W/two.txt" > /dev/null
expect_eq "5-level loads" 1280 "$(csv_get "$W/l5.csv" walker.memory_refs)"

# 2. With the PDE cache (the 256 pages share one PD entry) every walk loads only the PTE.
run "${NOSTLB[@]}" --warmup 256 --csv "$W/pwc.csv" "$W/two.txt" > /dev/null
expect_eq "PDE-cache loads" 256 "$(csv_get "$W/pwc.csv" walker.memory_refs)"
expect_eq "PDE-cache hits" 256 "$(csv_get "$W/pwc.csv" pwc.pde.hits)"
expect_eq "PDPTE cache untouched" 0 "$(csv_get "$W/pwc.csv" pwc.pdpt.accesses)"

# 3. Nested 4+4 without page-walk caches: 24 loads a walk, 4 guest and 20 host.
run "${NOSTLB[@]}" "${NOPWC[@]}" -o walker.nested=true --warmup 256 --csv "$W/n.csv" "$W/two.txt" > /dev/null
expect_eq "nested loads" $((256 * 24)) "$(csv_get "$W/n.csv" walker.memory_refs)"
expect_eq "nested guest loads" $((256 * 4)) "$(csv_get "$W/n.csv" walker.guest_refs)"
expect_eq "nested host loads" $((256 * 20)) "$(csv_get "$W/n.csv" walker.host_refs)"
expect_eq "nested host walks" $((256 * 5)) "$(csv_get "$W/n.csv" walker.host_walks)"

# 4. The loads (and A/D updates) are accesses of the L1D, or of the L2 when they enter there.
run "${NOSTLB[@]}" "${NOPWC[@]}" --csv "$W/c1.csv" "$W/two.txt" > /dev/null
refs=$(csv_get "$W/c1.csv" walker.memory_refs)
ad=$(csv_get "$W/c1.csv" walker.ad_updates)
expect_eq "A updates: one per page" 256 "$ad"
expect_eq "l1d accesses" $((512 + refs + ad)) "$(csv_get "$W/c1.csv" cache.l1d.accesses)"
expect_eq "loads by level add up" "$refs" $(( $(csv_get "$W/c1.csv" walker.loads_l1d) +
  $(csv_get "$W/c1.csv" walker.loads_l2) + $(csv_get "$W/c1.csv" walker.loads_llc) +
  $(csv_get "$W/c1.csv" walker.loads_mem) ))
run "${NOSTLB[@]}" "${NOPWC[@]}" -o walker.cache_level=l2 --csv "$W/c2.csv" "$W/two.txt" > /dev/null
expect_eq "l2 entry: l1d sees data only" 512 "$(csv_get "$W/c2.csv" cache.l1d.accesses)"
expect_eq "l2 entry: no L1D loads" 0 "$(csv_get "$W/c2.csv" walker.loads_l1d)"

# 5. Walk latency: every walk of the second pass hits the L1D (4 cycles) at each level.
run "${NOSTLB[@]}" "${NOPWC[@]}" --warmup 256 --json "$W/lat.json" "$W/two.txt" > /dev/null
python3 - "$W/lat.json" <<'PY' || { echo "FAIL: walk latency" >&2; FAILS=$((FAILS + 1)); }
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
h = s["walker"]["walk_latency"]
assert h["max"] == 16 and h["p50"] == 16, h
assert s["walker"]["refs_per_walk"]["max"] == 4
assert s["walker"]["cycles"] == 256 * 16
PY
PASSES=$((PASSES + 1))
finish
