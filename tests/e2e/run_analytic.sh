#!/usr/bin/env bash
# mmusim run on traces whose cache outcomes are known analytically (text-format traces written
# here, caches on virtual addresses).
source "$(dirname "$0")/lib.bash"
run() { "$MMUSIM_BIN" run --quiet -o mmu.translate=false "$@"; }

# 1. A stream of 8-byte reads over N bytes: exactly N/64 compulsory misses in L1D, L2 and LLC.
python3 -c '
for a in range(0, 1 << 20, 8): print("R 0x%x 8" % (0x10000000 + a))' > "$W/stream.txt"
run --csv "$W/stream.csv" "$W/stream.txt" > /dev/null
expect_eq "stream accesses" 131072 "$(csv_get "$W/stream.csv" cache.l1d.accesses)"
expect_eq "stream l1d misses" 16384 "$(csv_get "$W/stream.csv" cache.l1d.misses)"
expect_eq "stream l2 misses" 16384 "$(csv_get "$W/stream.csv" cache.l2.misses)"
expect_eq "stream llc misses" 16384 "$(csv_get "$W/stream.csv" cache.llc.misses)"
expect_eq "stream ifetches" 0 "$(csv_get "$W/stream.csv" cache.l1i.accesses)"

# 2. A 16 KiB working set read twice: after a warmup of the first pass, no misses at all.
python3 -c '
for p in range(2):
    for a in range(0, 16384, 64): print("W 0x%x 4" % (0x20000000 + a))' > "$W/ws.txt"
run --warmup 256 --csv "$W/ws.csv" "$W/ws.txt" > /dev/null
expect_eq "ws measured accesses" 256 "$(csv_get "$W/ws.csv" cache.l1d.accesses)"
expect_eq "ws misses after warmup" 0 "$(csv_get "$W/ws.csv" cache.l1d.misses)"
expect_eq "ws writes" 256 "$(csv_get "$W/ws.csv" cache.l1d.writes)"

# 3. assoc+1 lines cycling through one set of an 8-way L1D (64 sets: stride 4 KiB):
#    LRU misses every time; random replacement does not.
python3 -c '
for r in range(1000):
    for w in range(9): print("R 0x%x 8" % (0x40000000 + w * 4096))' > "$W/cyc.txt"
run -o cache.l2.enabled=false -o cache.llc.enabled=false --csv "$W/lru.csv" "$W/cyc.txt" > /dev/null
expect_eq "cyclic LRU misses" 9000 "$(csv_get "$W/lru.csv" cache.l1d.misses)"
run -o cache.l2.enabled=false -o cache.llc.enabled=false -o cache.l1d.replacement=random \
    --csv "$W/rnd.csv" "$W/cyc.txt" > /dev/null
rnd=$(csv_get "$W/rnd.csv" cache.l1d.misses)
if [ "$rnd" -ge 9000 ] || [ "$rnd" -lt 9 ]; then
  echo "FAIL: random replacement misses $rnd, expected fewer than 9000" >&2; FAILS=$((FAILS + 1))
else PASSES=$((PASSES + 1)); fi

# 4. A straddling access counts once, a miss if either line missed.
printf 'R 0x1000003c 8\nR 0x1000003c 8\n' > "$W/straddle.txt"
run --csv "$W/straddle.csv" "$W/straddle.txt" > /dev/null
expect_eq "straddle accesses" 2 "$(csv_get "$W/straddle.csv" cache.l1d.accesses)"
expect_eq "straddle misses" 1 "$(csv_get "$W/straddle.csv" cache.l1d.misses)"

# 5. With translation on, the same stream maps first-touch frames: N/4096 faults, and the data
#    misses plus the page-table lines the walker loads through the L1D: the 256 PTEs fill 32 lines
#    of one PT, plus one line each of the PD, PDPT and PML4 (35 misses at every level). Walks: one
#    that faults and its retry per page; the fault drops the PDE-cache entry (SDM 4.10.4.1), so
#    the retries walk all 4 levels: 1 + 255 (PDE-cache hits) + 256 x 4 = 1280 loads, and each
#    retry sets the new PTE's Accessed bit (a write of its line).
"$MMUSIM_BIN" run --quiet --csv "$W/tr.csv" "$W/stream.txt" > /dev/null
expect_eq "first-touch faults" 256 "$(csv_get "$W/tr.csv" os.first_touch_faults)"
expect_eq "translated stream misses" 16419 "$(csv_get "$W/tr.csv" cache.l1d.misses)"
expect_eq "translated stream llc misses" 16419 "$(csv_get "$W/tr.csv" cache.llc.misses)"
expect_eq "translated stream walks" 512 "$(csv_get "$W/tr.csv" walker.walks)"
expect_eq "translated stream walk loads" 1280 "$(csv_get "$W/tr.csv" walker.memory_refs)"
expect_eq "translated stream A updates" 256 "$(csv_get "$W/tr.csv" walker.ad_updates)"
expect_eq "translated stream l1d accesses" $((131072 + 1280 + 256)) \
  "$(csv_get "$W/tr.csv" cache.l1d.accesses)"
# 6. The core model: 1000 reads of one line, 2 instructions each, caches on virtual addresses.
#    The first misses everywhere: 4 + 14 + 50 + 200 cycles, 264 beyond the L1 hit; the rest hit.
#    cycles = 2000 x cpi 0.5 + 264 x (1 - overlap).
python3 -c '
for i in range(1000): print("R 0x5000 8 gap=2")' > "$W/core.txt"
run --csv "$W/core.csv" "$W/core.txt" > /dev/null
expect_eq "core stall cycles" 264 "$(csv_get "$W/core.csv" cpu.stall_cycles)"
expect_eq "core cycles" 1264 "$(csv_get "$W/core.csv" cpu.cycles)"
run -o core.overlap=0.5 -o core.cpi=1 --csv "$W/core2.csv" "$W/core.txt" > /dev/null
expect_eq "core cycles with overlap" 2132 "$(csv_get "$W/core2.csv" cpu.cycles)"
# 9. Coherence: cpu0 reads a line three times, cpu1 writes it once (after cpu0's first read, by
#    time). The write removes cpu0's L1D and L2 copies (2 invalidations); cpu0's next read misses
#    its own caches and takes cpu1's dirty copy (1 cache-to-cache transfer, cpu1's copy made
#    clean); its third read hits. Without coherence cpu0 keeps its stale copy: one miss.
printf 'R 0x7000 8 gap=1\nR 0x7000 8 gap=1\nR 0x7000 8 gap=1\n' > "$W/coh0.txt"
printf 'W 0x7000 8 gap=1\n' > "$W/coh1.txt"
run -o system.cpus=2 --csv "$W/coh.csv" "$W/coh0.txt" "$W/coh1.txt" > /dev/null
expect_eq "coherence invalidations" 2 "$(csv_get "$W/coh.csv" coherence.invalidations)"
expect_eq "coherence c2c" 1 "$(csv_get "$W/coh.csv" coherence.c2c_transfers)"
expect_eq "cpu0 misses again after the write" 2 "$(csv_get "$W/coh.csv" cache.cpu0.l1d.misses)"
run -o system.cpus=2 -o system.coherence=false --csv "$W/nocoh.csv" "$W/coh0.txt" "$W/coh1.txt" > /dev/null
expect_eq "no coherence: one miss" 1 "$(csv_get "$W/nocoh.csv" cache.cpu0.l1d.misses)"

# 8. The row-buffer DRAM model behind the LLC: a stream over 64 KiB (1024 lines, all LLC misses)
#    with 8 KiB rows and the column bits lowest (row,rank,bank,channel,column): the 128 lines of a
#    row follow each other, and the 8 rows fall in 8 different (channel, bank) pairs: 8 row misses
#    on precharged banks and 1016 row hits. Latency of a hit: 80 + 19 x 2500/1333 = 80 + 36.
python3 -c '
for a in range(0, 65536, 8): print("R 0x%x 8" % a)' > "$W/dram.txt"
run -o dram.model=rowbuffer --csv "$W/dram.csv" "$W/dram.txt" > /dev/null
expect_eq "dram reads" 1024 "$(csv_get "$W/dram.csv" dram.reads)"
expect_eq "dram row hits" 1016 "$(csv_get "$W/dram.csv" dram.row_hits)"
expect_eq "dram row misses" 8 "$(csv_get "$W/dram.csv" dram.row_misses)"
expect_eq "dram row conflicts" 0 "$(csv_get "$W/dram.csv" dram.row_conflicts)"
expect_eq "dram cycles" $((1016 * 116 + 8 * 151)) "$(csv_get "$W/dram.csv" dram.cycles)"
run -o dram.model=rowbuffer -o dram.page_policy=closed --csv "$W/dramc.csv" "$W/dram.txt" > /dev/null
expect_eq "closed page: every read activates" 1024 "$(csv_get "$W/dramc.csv" dram.row_misses)"

# 7. Two traces on two cpus, interleaved by simulated time (ties to the lower cpu). cpu0 streams
#    (every access misses everywhere: 0.5 + 264 cycles), cpu1 re-reads one line (0.5 cycles once
#    its first read has missed like cpu0's): cpu1 runs 529 records for each of cpu0's, so of
#    2000 measured accesses cpu0 makes 5 (at cpu times 0, 264.5, 529, 793.5, 1058) and cpu1 1995.
python3 -c '
for i in range(1000): print("R 0x%x 8 gap=1" % (0x10000000 + 64 * i))' > "$W/mc0.txt"
python3 -c '
for i in range(100000): print("R 0x20000000 8 gap=1")' > "$W/mc1.txt"
run -o system.cpus=2 --max 2000 --csv "$W/mc.csv" "$W/mc0.txt" "$W/mc1.txt" > /dev/null
expect_eq "cpu0 accesses" 5 "$(csv_get "$W/mc.csv" cache.cpu0.l1d.accesses)"
expect_eq "cpu1 accesses" 1995 "$(csv_get "$W/mc.csv" cache.cpu1.l1d.accesses)"
expect_eq "cpu0 private misses" 5 "$(csv_get "$W/mc.csv" cache.cpu0.l1d.misses)"
expect_eq "cpu1 one miss" 1 "$(csv_get "$W/mc.csv" cache.cpu1.l1d.misses)"
expect_eq "shared llc sees both" 6 "$(csv_get "$W/mc.csv" cache.llc.accesses)"
expect_eq "cpu1 instructions" 1995 "$(csv_get "$W/mc.csv" cpu.cpu1.instructions)"
set +e
msg=$("$MMUSIM_BIN" run -q "$W/mc0.txt" "$W/mc1.txt" 2>&1 >/dev/null); rc=$?
set -e
expect_eq "more traces than cpus exit" 2 "$rc"
expect_contains "more traces than cpus message" "2 traces, but the machine has 1 cpu(s)" "$msg"
finish
