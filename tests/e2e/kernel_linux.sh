#!/usr/bin/env bash
# [kernel] model = linux through mmusim run on a plain text trace (no OS events): each pid runs as
# one process whose touched user addresses are anonymous memory. The facade's own cases (mmap,
# munmap, segfaults, fork + COW, swap, OOM) are driven directly by tests/unit/test_kernel.c.
source "$(dirname "$0")/lib.bash"
run() { "$MMUSIM_BIN" run --quiet -o kernel.model=linux -o dram.size=256M "$@"; }

# 100 pages written once, then read again: 100 minor faults, 100 anonymous pages, and 4 page-table
# pages (root, PDPT, PD, one PT: the pages share a 2 MiB region).
python3 -c '
for r in range(2):
    for i in range(100): print("%s 0x%x 8" % ("W" if r == 0 else "R", 0x10000000 + i * 4096))' \
  > "$W/k100.txt"
run --csv "$W/k100.csv" "$W/k100.txt" > /dev/null
expect_eq "pgfault" 100 "$(csv_get "$W/k100.csv" os.vmstat.pgfault)"
expect_eq "pgmajfault" 0 "$(csv_get "$W/k100.csv" os.vmstat.pgmajfault)"
expect_eq "AnonPages kB" 400 "$(csv_get "$W/k100.csv" os.meminfo.AnonPages)"
expect_eq "PageTables kB" 16 "$(csv_get "$W/k100.csv" os.meminfo.PageTables)"
expect_eq "no segfaults" 0 "$(csv_get "$W/k100.csv" os.kernel.segfaults)"
expect_eq "no first-touch faults" 0 "$(csv_get "$W/k100.csv" os.first_touch_faults)"

# two pids: each its own process
python3 -c '
for i in range(50): print("W 0x%x 8 pid=1" % (0x10000000 + i * 4096))
for i in range(30): print("W 0x%x 8 pid=2" % (0x10000000 + i * 4096))' > "$W/k2.txt"
run --csv "$W/k2.csv" "$W/k2.txt" > /dev/null
expect_eq "two pids: pgfault" 80 "$(csv_get "$W/k2.csv" os.vmstat.pgfault)"
expect_eq "two pids: AnonPages kB" 320 "$(csv_get "$W/k2.csv" os.meminfo.AnonPages)"
expect_eq "two pids: PageTables kB" 32 "$(csv_get "$W/k2.csv" os.meminfo.PageTables)"
finish
