#!/usr/bin/env bash
# mmusim mrc, exact mode: analytic traces, equality with fully associative LRU caches simulated by
# mmusim run, the CSV layout, options, errors and determinism.
source "$(dirname "$0")/lib.bash"
mrc() { "$MMUSIM_BIN" mrc --quiet "$@"; }
# csv_mr FILE CURVE ENTRIES [COLUMN]: a column (default miss_ratio) of one row of an mrc CSV
csv_mr() {
  awk -F, -v c="$2" -v e="$3" -v col="${4:-4}" '$1 == c && $3 == e { print $col; found = 1 }
    END { if (!found) print "MISSING" }' "$1"
}
# expect_py WHAT PYTHON-ARGS...: a python check that prints nothing and exits 0 when it holds
expect_py() {
  local what=$1; shift
  local out
  if out=$(python3 "$@" 2>&1); then PASSES=$((PASSES + 1)); else
    echo "FAIL: $what: $out" >&2; FAILS=$((FAILS + 1)); fi
}

# 1. A cyclic scan over K = 256 lines, 20 rounds: every size below K misses everything, from K on
#    only the K cold misses remain. Each line read with one 8-byte access at its start.
python3 -c '
for r in range(20):
    for i in range(256): print("R 0x%x 8" % (0x10000000 + 64 * i))' > "$W/cyc.txt"
mrc --csv "$W/cyc.csv" "$W/cyc.txt" > "$W/cyc.out"
expect_eq "cyclic below K" 1.000000000 "$(csv_mr "$W/cyc.csv" cache 128)"
expect_eq "cyclic just below K" 1.000000000 "$(csv_mr "$W/cyc.csv" cache 235)"
expect_eq "cyclic at K" 0.050000000 "$(csv_mr "$W/cyc.csv" cache 256)"
expect_eq "cyclic misses at K" 256 "$(csv_mr "$W/cyc.csv" cache 256 5)"
expect_eq "cyclic references" 5120 "$(csv_mr "$W/cyc.csv" cache 1 6)"
# the same scan in 4K pages: 4 pages, touched 64 times each in a row per round
expect_eq "cyclic 4K pages, 1 entry" "$(python3 -c 'print("%.9f" % (80 / 5120))')" "$(csv_mr "$W/cyc.csv" tlb4k 1)"
expect_eq "cyclic 4K pages, 4 entries" "$(python3 -c 'print("%.9f" % (4 / 5120))')" "$(csv_mr "$W/cyc.csv" tlb4k 4)"
expect_eq "cyclic 2M page" "$(python3 -c 'print("%.9f" % (1 / 5120))')" "$(csv_mr "$W/cyc.csv" tlb2m 1)"

# 2. A stream never reuses a line: every size misses everything.
python3 -c '
for a in range(0, 1 << 20, 64): print("W 0x%x 4" % (0x20000000 + a))' > "$W/stream.txt"
mrc --csv "$W/stream.csv" "$W/stream.txt" > /dev/null
expect_eq "stream: only one size listed" 1 "$(awk -F, '$1 == "cache"' "$W/stream.csv" | wc -l)"
expect_eq "stream miss ratio" 1.000000000 "$(csv_mr "$W/stream.csv" cache 1)"

# 3. A straddling access: each line is a reference by default, one reference (a miss if either
#    line missed) with --count accesses.
printf 'R 0x1000003c 8\nR 0x1000003c 8\nR 0x10000040 4\n' > "$W/straddle.txt"
mrc --csv "$W/st-lines.csv" "$W/straddle.txt" > /dev/null
mrc --count accesses --csv "$W/st-acc.csv" "$W/straddle.txt" > /dev/null
expect_eq "straddle: lines are references" 5 "$(csv_mr "$W/st-lines.csv" cache 1 6)"
expect_eq "straddle: lines missing at 1 entry" 4 "$(csv_mr "$W/st-lines.csv" cache 1 5)"
expect_eq "straddle: accesses are references" 3 "$(csv_mr "$W/st-acc.csv" cache 2 6)"
expect_eq "straddle: accesses missing at 2 entries" 1 "$(csv_mr "$W/st-acc.csv" cache 2 5)"

# 4. Equal to mmusim run's fully associative LRU L1 (virtual addresses) at several sizes:
#    counting accesses as cachegrind does, data and instruction fetches, with and without clipping.
check_run() { # TRACE TYPE LEVEL CLIP RUNCONFIG...
  local t=$1 type=$2 level=$3 clip=$4; shift 4
  mrc --type "$type" --count accesses $clip --curves cache --csv "$W/x.csv" "$t" > /dev/null
  for s in 512:8 4096:64 32768:512; do
    local size=${s%:*} ways=${s#*:}
    "$MMUSIM_BIN" run --quiet "$@" -o "cache.$level.size=$size" -o "cache.$level.assoc=$ways" \
      -o "cache.$level.replacement=lru" --csv "$W/r.csv" "$t" > /dev/null
    expect_eq "$(basename "$t") $type $clip $size B fully associative" \
      "$(csv_get "$W/r.csv" "cache.$level.misses")" "$(csv_mr "$W/x.csv" cache "$ways" 5)"
  done
}
check_run "$MMUSIM_SRC/traces/samples/ls.mmt" data l1d "" -o mmu.translate=false
check_run "$MMUSIM_SRC/traces/samples/ls.mmt" ifetch l1i "" -o mmu.translate=false
check_run "$MMUSIM_SRC/tests/data/cachegrind/edges.lackey.xz" data l1d --clip -c "$MMUSIM_SRC/configs/cachegrind.ini"
check_run "$MMUSIM_SRC/tests/data/cachegrind/edges.lackey.xz" data l1d "" -o mmu.translate=false

# 5. The CSV: header, curves, sizes (powers of two included, bytes = entries x unit), miss ratios
#    falling with size, references constant per curve.
mrc --csv "$W/ls.csv" "$MMUSIM_SRC/traces/samples/ls.mmt" > "$W/ls.txt"
expect_eq "csv header" "curve,size_bytes,entries,miss_ratio,misses,references" "$(head -1 "$W/ls.csv")"
expect_py "csv layout" - "$W/ls.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
unit = {"cache": 64, "tlb4k": 4096, "tlb2m": 2 << 20, "tlb1g": 1 << 30}
assert sorted({r["curve"] for r in rows}) == sorted(unit), {r["curve"] for r in rows}
for c, u in unit.items():
    rs = [r for r in rows if r["curve"] == c]
    e = [int(r["entries"]) for r in rs]
    assert e == sorted(set(e)) and e[0] == 1, (c, e[:5])
    assert e[-1] & (e[-1] - 1) == 0, (c, e[-1])
    assert all(int(r["size_bytes"]) == int(r["entries"]) * u for r in rs), c
    mr = [float(r["miss_ratio"]) for r in rs]
    assert all(a >= b for a, b in zip(mr, mr[1:])), (c, mr)
    assert len({r["references"] for r in rs}) == 1, c
    for r in rs:
        assert abs(float(r["miss_ratio"]) * int(r["references"]) - int(r["misses"])) < 1, r
    p = 1
    while p <= e[-1]:
        assert p in e, (c, p)
        p *= 2
PY
expect_contains "text report" "tlb4k" "$(cat "$W/ls.txt")"
expect_contains "text report exact" "exact" "$(cat "$W/ls.txt")"

# 6. Determinism, stdout CSV, several traces are one stream, --points, --max, --skip
mrc --csv "$W/ls2.csv" "$MMUSIM_SRC/traces/samples/ls.mmt" > /dev/null
expect_eq "deterministic" "$(md5sum < "$W/ls.csv")" "$(md5sum < "$W/ls2.csv")"
expect_eq "csv to stdout" "$(md5sum < "$W/ls.csv")" "$(mrc --csv - "$MMUSIM_SRC/traces/samples/ls.mmt" | md5sum)"
head -2000 "$W/cyc.txt" > "$W/a.txt"; tail -n +2001 "$W/cyc.txt" > "$W/b.txt"
mrc --csv "$W/ab.csv" "$W/a.txt" "$W/b.txt" > /dev/null
expect_eq "two traces = their concatenation" "$(md5sum < "$W/cyc.csv")" "$(md5sum < "$W/ab.csv")"
mrc --points 1 --csv "$W/p1.csv" "$W/cyc.txt" > /dev/null
expect_eq "points 1: powers of two above 16" "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 32 64 128 256" \
  "$(awk -F, '$1 == "cache" { printf "%s%s", sep, $3; sep = " " }' "$W/p1.csv")"
mrc --max 1000 --csv "$W/max.csv" "$W/cyc.txt" > "$W/max.txt"
expect_eq "max: references" 1000 "$(csv_mr "$W/max.csv" cache 1 6)"
expect_contains "max: marked incomplete" "INCOMPLETE" "$(cat "$W/max.txt")"
mrc --skip 5000 --csv "$W/skip.csv" "$W/cyc.txt" > /dev/null
expect_eq "skip: references" 120 "$(csv_mr "$W/skip.csv" cache 1 6)"
mrc --type ifetch --csv "$W/if.csv" "$W/cyc.txt" > /dev/null
expect_eq "ifetch of a data-only trace: no references" 0 "$(csv_mr "$W/if.csv" cache 1 6)"

# 7. Errors: exit 2 for usage, 3 for bad traces, with messages that say what was expected.
err() { local rc=0; "$MMUSIM_BIN" mrc "$@" > /dev/null 2> "$W/err.txt" || rc=$?; echo "$rc $(cat "$W/err.txt")"; }
expect_contains "bad line" "2 mmusim mrc: --line '48': expected a power of two" "$(err --line 48 "$W/cyc.txt")"
expect_contains "bad rate" "2 mmusim mrc: --sample '2': expected a rate in (0, 1]" "$(err --sample 2 "$W/cyc.txt")"
expect_contains "bad type" "2 mmusim mrc: --type 'x': expected data, ifetch or all" "$(err --type x "$W/cyc.txt")"
expect_contains "bad curve" "2 mmusim mrc: --curves: unknown curve 'l2'" "$(err --curves cache,l2 "$W/cyc.txt")"
expect_contains "accesses need exact" "2 mmusim mrc: --count accesses needs exact mode" \
  "$(err --count accesses --sample 0.1 "$W/cyc.txt")"
expect_contains "no trace" "2 mmusim mrc: no trace given" "$(err)"
expect_contains "missing trace" "3 mmusim mrc: $W/none.txt" "$(err "$W/none.txt")"
printf 'R 0x1000 8\nQ what\n' > "$W/bad.txt"
expect_contains "bad record" "3 mmusim mrc: $W/bad.txt" "$(err "$W/bad.txt")"
expect_contains "unwritable csv" "1 mmusim mrc: $W/no/such/dir/x.csv: cannot write" \
  "$(err --csv "$W/no/such/dir/x.csv" "$W/cyc.txt")"
finish
