#!/usr/bin/env bash
# Every machine description in configs/ loads and runs: `--print-config -c FILE` validates it
# (exit 0), a run on the bundled sample trace completes, and the effective config in the CSV
# report equals every key the file sets (sizes compared in bytes), so a file the simulator reads
# differently from what it says, or refuses, fails here. A few keys per machine file are also
# pinned, so an accidental edit of a figure is noticed.
source "$(dirname "$0")/lib.bash"
TRACE="$MMUSIM_SRC/traces/samples/ls.mmt"

# compare_keys INI CSV: one line per key the INI sets, "ok KEY" or "FAIL KEY: file X, effective Y"
compare_keys() {
  python3 - "$1" "$2" <<'PY'
import csv, re, sys
ini, rep = sys.argv[1], sys.argv[2]
eff = {}
with open(rep, newline="") as f:
    for row in csv.reader(f):
        if len(row) >= 2 and row[0].startswith("config."):
            eff[row[0][len("config."):]] = row[1]
def norm(v):
    v = v.strip().strip('"')
    m = re.fullmatch(r"(\d+)\s*([KMGT]?)", v, re.I)
    if m:
        return int(m.group(1)) << (10 * " KMGT".index(m.group(2).upper() or " "))
    return v.lower()
section = None
for line in open(ini):
    line = line.split(";", 1)[0].split("#", 1)[0].strip()
    if not line:
        continue
    if line.startswith("["):
        section = line.strip("[]").strip()
        continue
    key, _, val = (s.strip() for s in line.partition("="))
    if section is None:  # top level: include = other.ini
        continue
    name = section + "." + key
    got = eff.get(name)
    if got is None:
        print("FAIL %s: set in the file, missing from the report" % name)
    elif norm(got) != norm(val):
        print("FAIL %s: file %s, effective %s" % (name, val, got))
    else:
        print("ok " + name)
PY
}

n=0
for ini in "$MMUSIM_SRC"/configs/*.ini; do
  name=$(basename "$ini" .ini)
  n=$((n + 1))
  rc=0
  "$MMUSIM_BIN" run --print-config -c "$ini" > "$W/$name.print" 2> "$W/$name.err" || rc=$?
  expect_eq "$name: --print-config exit" 0 "$rc"
  [ "$rc" = 0 ] || { cat "$W/$name.err" >&2; continue; }
  rc=0
  "$MMUSIM_BIN" run --quiet -c "$ini" --csv "$W/$name.csv" "$TRACE" > /dev/null 2> "$W/$name.err" || rc=$?
  expect_eq "$name: run exit" 0 "$rc"
  [ "$rc" = 0 ] || { cat "$W/$name.err" >&2; continue; }
  expect_eq "$name: complete" true "$(csv_get "$W/$name.csv" complete)"
  out=$(compare_keys "$ini" "$W/$name.csv")
  checked=$(grep -c '^ok ' <<<"$out" || true)
  if grep '^FAIL' <<<"$out" | sed "s/^FAIL /FAIL: $name: /" >&2; then
    FAILS=$((FAILS + $(grep -c '^FAIL' <<<"$out")))
  fi
  PASSES=$((PASSES + checked))
done
# default.ini, cachegrind.ini and the five machine files at least
[ "$n" -ge 7 ] && PASSES=$((PASSES + 1)) || { echo "FAIL: only $n configs found" >&2; FAILS=$((FAILS + 1)); }

# Pinned figures of the machine files (the effective values, as the CSV prints them).
pin() { # pin FILE KEY VALUE
  [ -f "$W/$1.csv" ] || { echo "FAIL: $1: no report" >&2; FAILS=$((FAILS + 1)); return; }
  expect_eq "$1: $2" "$3" "$(csv_get "$W/$1.csv" "config.$2")"
}
pin skylake-sp cache.llc.size 1408K
pin skylake-sp cache.llc.assoc 11
pin skylake-sp tlb.stlb.entries_4k 1536
pin skylake-sp dram.latency 152
pin icelake-sp cache.l1d.size 48K
pin icelake-sp cache.l2.assoc 20
pin icelake-sp cache.llc.size 1536K
pin icelake-sp tlb.stlb.entries_1g 1024
pin sapphire-rapids cache.l2.size 2M
pin sapphire-rapids cache.llc.assoc 15
pin sapphire-rapids tlb.l1d.entries_4k 96
pin sapphire-rapids dram.banks 32
pin zen3-milan cache.llc.size 32M
pin zen3-milan cache.llc.inclusion exclusive
pin zen3-milan tlb.l1d.shared 4k+2m+1g
pin zen3-milan core.frequency_mhz 2450
pin zen4-genoa cache.l2.size 1M
pin zen4-genoa tlb.l1d.assoc_4k 72
pin zen4-genoa tlb.stlb.entries_4k 3072
pin zen4-genoa cache.llc.inclusion exclusive
finish
