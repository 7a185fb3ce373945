#!/usr/bin/env bash
# Reports, run windows, config printing, determinism and error exits of mmusim run.
source "$(dirname "$0")/lib.bash"
python3 -c '
import random
r = random.Random(7)
for i in range(20000):
    t = "RWXM"[r.randrange(4)]
    print("%s 0x%x %d" % (t, 0x10000000 + r.randrange(1 << 22), 1 << r.randrange(4)))' > "$W/mix.txt"

# JSON: valid, with the documented layout, complete
"$MMUSIM_BIN" run --quiet --json "$W/a.json" --csv "$W/a.csv" "$W/mix.txt" > "$W/a.txt"
python3 - "$W/a.json" <<'PY' || { echo "FAIL: json layout" >&2; exit 1; }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["mmusim"] and j["complete"] is True, j.get("complete")
s = j["stats"]
# every access reaches an L1 once (twice when it straddles two pages), and so does every
# page-walk load and Accessed/Dirty update (they enter at the L1D)
w = s["walker"]
assert s["cache"]["l1d"]["accesses"] + s["cache"]["l1i"]["accesses"] == \
    20000 + s["mmu"]["page_splits"] + w["memory_refs"] + w["ad_updates"]
assert s["tlb"]["l1d"]["accesses"] + s["tlb"]["l1i"]["accesses"] == 20000 + s["mmu"]["page_splits"]
for k in ("mean", "p50", "p90", "p99", "p999", "max"):
    assert k in s["latency"], k
assert j["traces"][0]["format"] == "text" and len(j["traces"][0]["content_hash"]) == 32
assert j["traces"][0]["records"] == 20000
assert j["config"]["cache.l1d"]["size"] == "32K"
PY
PASSES=$((PASSES + 1))
expect_contains "text report table" "cache.l1d" "$(cat "$W/a.txt")"

# determinism: the same inputs give the same bytes (JSON without host, CSV whole)
"$MMUSIM_BIN" run --quiet --json "$W/b.json" --csv "$W/b.csv" "$W/mix.txt" > /dev/null
strip_host() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j.pop("host"); print(json.dumps(j, sort_keys=True))' "$1"; }
expect_eq "json deterministic" "$(strip_host "$W/a.json")" "$(strip_host "$W/b.json")"
expect_eq "csv deterministic" "$(md5sum < "$W/a.csv")" "$(md5sum < "$W/b.csv")"

# --max cuts the run: exactly N measured accesses, complete false
"$MMUSIM_BIN" run --quiet --max 1000 --csv "$W/max.csv" "$W/mix.txt" > /dev/null
expect_eq "max measured" 1000 "$(csv_get "$W/max.csv" sim.accesses)"
expect_eq "max incomplete" false "$(csv_get "$W/max.csv" complete)"

# --warmup + --max: 500 warm, 1000 measured
"$MMUSIM_BIN" run --quiet --warmup 500 --max 1000 --csv "$W/wm.csv" "$W/mix.txt" > /dev/null
expect_eq "warmup+max measured" 1000 "$(csv_get "$W/wm.csv" sim.accesses)"
expect_eq "warmup+max records consumed" 1500 "$(csv_get "$W/wm.csv" run.records)"

# --skip: the skipped records are not simulated
"$MMUSIM_BIN" run --quiet --skip 15000 --csv "$W/skip.csv" "$W/mix.txt" > /dev/null
expect_eq "skip leaves the rest" 5000 "$(csv_get "$W/skip.csv" sim.accesses)"

# --interval: one row per 4000 accesses (5 rows), deltas that add up to the totals
"$MMUSIM_BIN" run --quiet --interval 4000 --interval-csv "$W/iv.csv" --csv "$W/iv-total.csv" "$W/mix.txt" > /dev/null
expect_eq "interval rows" 6 "$(wc -l < "$W/iv.csv")"
col=$(head -1 "$W/iv.csv" | tr ',' '\n' | grep -nx 'cache.l1d.misses' | cut -d: -f1)
sum=$(awk -F, -v c="$col" 'NR > 1 { s += $c } END { print s }' "$W/iv.csv")
expect_eq "interval deltas sum to total" "$(csv_get "$W/iv-total.csv" cache.l1d.misses)" "$sum"

# --print-config round-trips through -c
"$MMUSIM_BIN" run --print-config -o cache.llc.size=16M > "$W/eff.ini"
"$MMUSIM_BIN" run --print-config -c "$W/eff.ini" > "$W/eff2.ini"
expect_eq "print-config round trip" "$(cat "$W/eff.ini")" "$(cat "$W/eff2.ini")"
expect_contains "override shows" "size = 16M" "$(cat "$W/eff.ini")"

# --meminfo: /proc/meminfo lines (kB) and a free-style summary from the kernel model
printf 'W 0x10000 8\nW 0x11000 8\nW 0x12000 8\nR 0x12008 8\n' > "$W/mi.txt"
"$MMUSIM_BIN" run -q -o kernel.model=linux --meminfo "$W/mi.txt" > "$W/mi.out"
expect_eq "meminfo AnonPages (3 pages)" "AnonPages: 12 kB" "$(grep '^AnonPages:' "$W/mi.out" | tr -s ' ')"
expect_contains "meminfo MemTotal" "MemTotal:" "$(cat "$W/mi.out")"
expect_contains "free summary" "buff/cache" "$(cat "$W/mi.out")"
total=$(awk '$1 == "MemTotal:" { print $2 }' "$W/mi.out")
free=$(awk '$1 == "MemFree:" { print $2 }' "$W/mi.out")
expect_eq "free line" "$total $free" "$(awk '$1 == "Mem:" { print $2, $4 }' "$W/mi.out")"
expect_contains "meminfo without the kernel model" "kernel model is off" "$("$MMUSIM_BIN" run -q --meminfo "$W/mi.txt")"

# errors: exit 2 for config, with file, line and rule
printf '[cache.l1d]\nsize = 48K\n' > "$W/bad.ini"
set +e
msg=$("$MMUSIM_BIN" run -c "$W/bad.ini" "$W/mix.txt" 2>&1 >/dev/null); code=$?
set -e
expect_eq "bad geometry exit" 2 "$code"
expect_contains "bad geometry message" "bad.ini:2: [cache.l1d] size = 48K" "$msg"
set +e
msg=$("$MMUSIM_BIN" run -o cache.l1d.asoc=4 "$W/mix.txt" 2>&1 >/dev/null); code=$?
set -e
expect_eq "unknown key exit" 2 "$code"
expect_contains "unknown key suggestion" "did you mean 'assoc'" "$msg"
set +e
"$MMUSIM_BIN" run --quiet "$W/does-not-exist" > /dev/null 2>&1; code=$?
set -e
expect_eq "missing trace exit" 3 "$code"
finish
