#!/usr/bin/env bash
# mmusim run --symbols: a small program with two hot functions and a large .bss array, captured
# under valgrind (non-PIE and PIE builds); the misses land on the array and the walking
# function, and the buckets add up to the run's totals.
source "$(dirname "$0")/lib.bash"
B="$MMUSIM_BIN"
command -v gcc > /dev/null && command -v valgrind > /dev/null || { echo "symbols: needs gcc and valgrind; skipped"; exit 0; }

cat > "$W/hot.c" <<'C'
#include <stdio.h>
#define N (4u << 20)
unsigned char big_array[N];          /* .bss: 4 MiB, walked a line at a time */
static volatile unsigned long sink;

__attribute__((noinline)) void walk_big(void)
{
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < N; i += 64)
            big_array[i]++;
}

__attribute__((noinline)) unsigned long spin(unsigned n)
{
    unsigned long x = 1;
    for (unsigned i = 0; i < n; i++)
        x = x * 6364136223846793005ul + i;
    return x;
}

int main(void)
{
    walk_big();
    sink = spin(20000);
    printf("%lu\n", sink & 1);
    return 0;
}
C
gcc -O1 -no-pie -fno-inline -o "$W/hot" "$W/hot.c"
gcc -O1 -fpie -pie -fno-inline -o "$W/hot-pie" "$W/hot.c"

check() { # NAME TRACE [run options]
  local name=$1 trace=$2
  shift 2
  "$B" run -q --symbols --top 5 -o mmu.translate=false --json "$W/$name.json" "$@" "$trace" > "$W/$name.txt"
  local j="$W/$name.json"
  expect_eq "$name: array has the most L1 misses" big_array \
    "$(jq -r '.symbols.buckets[0].symbol' "$j")"
  expect_eq "$name: array's misses are its lines (2 x 64Ki, all cold or evicted)" 131072 \
    "$(jq -r '.symbols.buckets[] | select(.symbol == "big_array") | .l1_misses' "$j")"
  expect_eq "$name: walk_big fetches the most instructions of the program's functions" walk_big \
    "$(jq -r '[.symbols.buckets[] | select(.kind == "function" and (.image | endswith("/'"$(basename "$trace" .mmt)"'")))] | max_by(.accesses) | .symbol' "$j")"
  expect_eq "$name: spin is attributed" yes \
    "$(jq -r 'if any(.symbols.buckets[]; .symbol == "spin" and .accesses > 100000) then "yes" else "no" end' "$j")"
  expect_eq "$name: accesses add up" "$(jq '.stats.sim.accesses' "$j")" \
    "$(jq '[.symbols.buckets[].accesses] | add' "$j")"
  expect_eq "$name: totals agree" "$(jq '.stats.sim.accesses' "$j")" "$(jq '.symbols.totals.accesses' "$j")"
  expect_eq "$name: L1 misses add up" "$(jq '.stats.cache.l1i.misses + .stats.cache.l1d.misses' "$j")" \
    "$(jq '[.symbols.buckets[].l1_misses] | add' "$j")"
  expect_eq "$name: LLC misses add up" "$(jq '.stats.cache.llc.misses' "$j")" \
    "$(jq '[.symbols.buckets[].llc_misses] | add' "$j")"
  expect_contains "$name: text table" "big_array" "$(cat "$W/$name.txt")"
}

"$B" capture -q -o "$W/hot.mmt" -- "$W/hot" > /dev/null
check nopie "$W/hot.mmt"
expect_eq "nopie: ET_EXEC bias" "ET_EXEC" "$(jq -r '.symbols.images[0].bias_source' "$W/nopie.json")"
"$B" capture -q -o "$W/hot-pie.mmt" -- "$W/hot-pie" > /dev/null
check pie "$W/hot-pie.mmt"
expect_eq "pie: valgrind's PIE base" "0x108000" "$(jq -r '.symbols.images[0].bias' "$W/pie.json")"
check pie-base "$W/hot-pie.mmt" --elf "$W/hot-pie" --elf-base 0x108000
# the dynamic loader placed by its entry point
expect_contains "interpreter found" "first ifetch = entry" "$(jq -r '.symbols.images[].bias_source' "$W/pie.json")"

# TLB walks are attributed with translation on, and add up to the walker's count
"$B" run -q --symbols --json "$W/tlb.json" "$W/hot.mmt" > /dev/null
expect_eq "walks add up" "$(jq '.stats.walker.walks' "$W/tlb.json")" "$(jq '.symbols.totals.tlb_walks' "$W/tlb.json")"
expect_eq "array has walks" yes \
  "$(jq -r 'if any(.symbols.buckets[]; .symbol == "big_array" and .tlb_walks >= 1024) then "yes" else "no" end' "$W/tlb.json")"
# warmup: only measured accesses are attributed
"$B" run -q --symbols --warmup 1000 --json "$W/warm.json" "$W/hot.mmt" > /dev/null
expect_eq "warmup: accesses add up" "$(jq '.stats.sim.accesses' "$W/warm.json")" "$(jq '.symbols.totals.accesses' "$W/warm.json")"
# without --symbols: no symbols key
"$B" run -q --json "$W/plain.json" "$W/hot.mmt" > /dev/null
expect_eq "no symbols key without --symbols" null "$(jq -r '.symbols' "$W/plain.json")"
# a bad --elf is a usage error
set +e
"$B" run -q --symbols --elf "$W/hot.c" "$W/hot.mmt" > /dev/null 2> "$W/bad.err"
rc=$?
set -e
expect_eq "bad --elf exit code" 2 "$rc"
expect_contains "bad --elf message" "not an ELF file" "$(cat "$W/bad.err")"
finish
