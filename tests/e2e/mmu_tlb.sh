#!/usr/bin/env bash
# TLBs through mmusim run on text traces with known answers: cyclic page sets against a fully
# associative LRU dTLB, 2 MiB against 4 KiB pages on a stream, PCIDs across context switches
# (a pid change on a cpu is a switch), and the reports' TLB rows.
source "$(dirname "$0")/lib.bash"
run() { "$MMUSIM_BIN" run --quiet "$@"; }
# a 16-entry fully associative dTLB for 4 KiB pages and nothing else
SMALL=(-o tlb.l1d.entries_4k=16 -o tlb.l1d.assoc_4k=16 -o tlb.l1d.entries_2m=0
       -o tlb.l1d.entries_1g=0 -o tlb.stlb.entries_4k=0 -o tlb.stlb.entries_1g=0)

# 1. P pages cycled 101 times, the first round as warmup: P = 17 misses every time, P = 16 never.
for p in 17 16; do
  python3 -c "
for r in range(101):
    for i in range($p): print('R 0x%x 8' % (0x10000000 + i * 4096 + 8 * (r % 512)))" > "$W/cyc$p.txt"
  run "${SMALL[@]}" --warmup "$p" --csv "$W/cyc$p.csv" "$W/cyc$p.txt" > /dev/null
  expect_eq "cyclic $p accesses" $((100 * p)) "$(csv_get "$W/cyc$p.csv" tlb.l1d.accesses)"
  expect_eq "cyclic $p misses" $([ "$p" = 17 ] && echo $((100 * p)) || echo 0) \
    "$(csv_get "$W/cyc$p.csv" tlb.l1d.misses)"
done

# 2. One read per 4 KiB over 64 MiB: 16384 dTLB misses with 4 KiB pages, 32 with 2 MiB pages.
python3 -c '
for a in range(0, 64 << 20, 4096): print("R 0x%x 8" % (0x40000000 + a))' > "$W/stream.txt"
run --csv "$W/s4k.csv" "$W/stream.txt" > /dev/null
run -o mmu.first_touch_page=2M --csv "$W/s2m.csv" "$W/stream.txt" > /dev/null
m4k=$(csv_get "$W/s4k.csv" tlb.l1d.misses)
m2m=$(csv_get "$W/s2m.csv" tlb.l1d.misses)
expect_eq "4K stream misses" 16384 "$m4k"
expect_eq "2M stream misses" 32 "$m2m"
expect_eq "2M misses are 2M" 32 "$(csv_get "$W/s2m.csv" tlb.l1d.misses_2m)"
expect_eq "512x fewer" 512 $((m4k / m2m))
expect_eq "2M faults" 32 "$(csv_get "$W/s2m.csv" os.first_touch_faults)"
run -o mmu.first_touch_page=1G --csv "$W/s1g.csv" "$W/stream.txt" > /dev/null
expect_eq "1G faults" 1 "$(csv_get "$W/s1g.csv" os.first_touch_faults)"
expect_eq "1G misses" 1 "$(csv_get "$W/s1g.csv" tlb.l1d.misses)"

# 3. Two processes alternate 10 times each on the same 8 pages: with PCIDs only their first
#    touches miss; without, every switch flushes the dTLB.
python3 -c '
for r in range(20):
    for i in range(8): print("R 0x%x 8 pid=%d" % (0x10000000 + i * 4096, 1 + r % 2))' > "$W/pids.txt"
run --csv "$W/pcid.csv" "$W/pids.txt" > /dev/null
run -o tlb.pcid=false --csv "$W/nopcid.csv" "$W/pids.txt" > /dev/null
expect_eq "switches" 20 "$(csv_get "$W/pcid.csv" tlb.context_switches)"
expect_eq "pcid misses" 16 "$(csv_get "$W/pcid.csv" tlb.l1d.misses)"
expect_eq "no-pcid misses" 160 "$(csv_get "$W/nopcid.csv" tlb.l1d.misses)"
expect_eq "no-pcid flushes" 20 "$(csv_get "$W/nopcid.csv" tlb.flushes)"
expect_eq "address spaces" 2 "$(csv_get "$W/pcid.csv" os.address_spaces)"

# 4. Reports: the TLB and page-walk-cache levels are table rows; the JSON nests them.
out=$(run "$W/pids.txt")
expect_contains "text row tlb.l1d" "tlb.l1d" "$out"
expect_contains "text row tlb.stlb" "tlb.stlb" "$out"
expect_contains "text row pwc.pde" "pwc.pde" "$out"
run --json "$W/r.json" "$W/pids.txt" > /dev/null
python3 - "$W/r.json" <<'PY' || { echo "FAIL: json tlb layout" >&2; FAILS=$((FAILS + 1)); }
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
assert s["tlb"]["l1d"]["accesses"] == 160, s["tlb"]["l1d"]
assert s["tlb"]["l1d"]["misses"] == 16
assert "walk_latency" in s["walker"] and "mean" in s["walker"]["walk_latency"]
assert s["pwc"]["pde"]["accesses"] >= 1
PY
PASSES=$((PASSES + 1))

# 5. Bad TLB geometry: exit 2, the file line and the rule.
printf '[tlb.stlb]\nassoc_4k = 16\n' > "$W/bad.ini"
set +e
msg=$("$MMUSIM_BIN" run -c "$W/bad.ini" "$W/pids.txt" 2>&1 >/dev/null); code=$?
set -e
expect_eq "bad geometry exit" 2 "$code"
expect_contains "bad geometry message" "not a power of two" "$msg"
finish
