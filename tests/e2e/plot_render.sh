#!/usr/bin/env bash
# tools/plot renders every kind of plot, from outputs of mmusim itself, as valid non-empty PNG
# (signature, size, more than one colour) and SVG (XML with an <svg> root, the asked size, drawn
# paths, the legend); the latency histogram buckets in mmusim run --json that the plots read.
source "$(dirname "$0")/lib.bash"
PLOT="$MMUSIM_SRC/tools/plot"
T="$MMUSIM_SRC/traces/samples/ls.mmt"

# check_image FILE WIDTH HEIGHT [TEXT]: a valid image of that size (TEXT: a legend text in an SVG)
check_image() {
  local out
  if out=$(python3 - "$@" <<'PY' 2>&1
import struct, sys, zlib
import xml.etree.ElementTree as ET
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = sys.argv[4] if len(sys.argv) > 4 else None
data = open(path, "rb").read()
if path.endswith(".png"):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "no PNG signature"
    assert data[12:16] == b"IHDR", "no IHDR chunk first"
    pw, ph = struct.unpack(">II", data[16:24])
    assert (pw, ph) == (w, h), "PNG is %dx%d, expected %dx%d" % (pw, ph, w, h)
    # collect the IDAT chunks, inflate: the pixels must not all be one colour
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    pixels = zlib.decompress(idat)
    assert len(pixels) >= w * h, "pixel data too short: %d bytes" % len(pixels)
    assert len(set(pixels)) > 8, "a blank image (%d distinct bytes)" % len(set(pixels))
else:
    root = ET.fromstring(data)
    assert root.tag.split("}")[-1] == "svg", "root element %s, not svg" % root.tag
    vb = root.get("viewBox")
    assert vb and [float(x) for x in vb.split()] == [0, 0, w, h], "viewBox %s, expected 0 0 %d %d" % (vb, w, h)
    paths = [e for e in root.iter() if e.tag.split("}")[-1] == "path"]
    assert len(paths) > 5, "only %d paths drawn" % len(paths)
    if text:
        alltext = " ".join("".join(e.itertext()) for e in root.iter() if e.tag.split("}")[-1] == "text")
        assert text in alltext, "no %r among the SVG texts" % text
PY
  ); then PASSES=$((PASSES + 1)); else echo "FAIL: $1: $out" >&2; FAILS=$((FAILS + 1)); fi
}

# render WHAT KIND ARGS...: runs tools/plot into $W/WHAT.png and $W/WHAT.svg (640x400)
render() {
  local what=$1 kind=$2; shift 2
  if "$PLOT" "$kind" --size 640x400 -o "$W/$what.png" -o "$W/$what.svg" "$@" > "$W/$what.log" 2>&1; then
    PASSES=$((PASSES + 1))
  else
    echo "FAIL: tools/plot $kind $*: $(cat "$W/$what.log")" >&2; FAILS=$((FAILS + 1))
  fi
}

# the samples: mmusim's own outputs
"$MMUSIM_BIN" mrc --quiet --csv "$W/data.csv" "$T" > /dev/null
"$MMUSIM_BIN" mrc --quiet --type all --sample 0.01 --csv "$W/all.csv" "$T" > /dev/null
"$MMUSIM_BIN" run --quiet --json "$W/a.json" --csv "$W/a.csv" "$T" > /dev/null
"$MMUSIM_BIN" run --quiet --json "$W/b.json" --csv "$W/b.csv" -o dram.model=rowbuffer -o cache.l1d.size=8K "$T" > /dev/null
"$MMUSIM_BIN" run --quiet --csv "$W/c.csv" -o cache.l1d.size=64K "$T" > /dev/null
"$MMUSIM_BIN" run --quiet --interval 50000 --interval-csv "$W/iv.csv" "$T" > /dev/null

# 1. The histogram buckets in the JSON report: ascending, disjoint, counts adding up.
if out=$(python3 - "$W/a.json" <<'PY' 2>&1
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
for name in ("latency", "ifetch_latency"):
    h = s[name]
    b = h["buckets"]
    assert b and sum(n for _, _, n in b) == h["count"], (name, "bucket counts do not add up")
    assert all(lo <= hi for lo, hi, _ in b) and all(n > 0 for _, _, n in b), name
    assert all(b[i][1] < b[i + 1][0] for i in range(len(b) - 1)), (name, "buckets overlap")
    assert b[0][0] <= h["min"] and b[-1][1] >= h["max"] >= b[-1][0], (name, b[0], b[-1], h["min"], h["max"])
PY
); then PASSES=$((PASSES + 1)); else echo "FAIL: json buckets: $out" >&2; FAILS=$((FAILS + 1)); fi

# 2. Every kind, PNG and SVG.
render mrc mrc "$W/data.csv" "$W/all.csv" --label data --label "all, sampled" --title "ls: LRU miss ratio"
render mrc1 mrc "$W/data.csv" --curve cache
render hist hist "$W/a.json" "$W/b.json" --label base --label rowbuffer
render histlog hist "$W/a.json" --hist latency --logy
render cdf cdf "$W/a.json" "$W/b.json" --hist latency --label base --label rowbuffer
render interval interval "$W/iv.csv"
render interval2 interval "$W/iv.csv" --columns cache.l1d.misses,cache.l2.misses/cache.l2.accesses
render sweep sweep "$W/a.csv" "$W/b.csv" "$W/c.csv" --label base --label "8K L1D" --label "64K L1D"
render sweepl sweep "$W/a.json" "$W/b.json" --stat cache.l1d.miss_rate,cache.l2.miss_rate --lines
for what in mrc mrc1 hist histlog cdf interval interval2 sweep sweepl; do
  check_image "$W/$what.png" 640 400
done
check_image "$W/mrc.svg" 640 400 "all, sampled tlb4k"
check_image "$W/mrc1.svg" 640 400 "data"
check_image "$W/hist.svg" 640 400 "rowbuffer ifetch_latency"
check_image "$W/histlog.svg" 640 400 "a latency"
check_image "$W/cdf.svg" 640 400 "base (p50"
check_image "$W/interval.svg" 640 400 "cache.l1d miss rate"
check_image "$W/interval2.svg" 640 400 "cache.l2 miss rate"
check_image "$W/interval2.svg" 640 400 "cache.l1d.misses"
check_image "$W/sweep.svg" 640 400 "64K L1D"
check_image "$W/sweepl.svg" 640 400 "cache.l2.miss_rate"

# 3. Errors name the file and what was expected; no image is left behind.
err() { local rc=0; "$PLOT" "$@" > /dev/null 2> "$W/err.txt" || rc=$?; echo "$rc $(cat "$W/err.txt")"; }
expect_contains "not an mrc csv" "1 tools/plot mrc: $W/a.csv: expected the columns curve,size_bytes,entries,miss_ratio" \
  "$(err mrc "$W/a.csv" -o "$W/bad.png")"
expect_contains "unknown curve" "none of the curves l2" "$(err mrc "$W/data.csv" --curve l2 -o "$W/bad.png")"
expect_contains "not json" "1 tools/plot hist: $W/a.csv: not JSON" "$(err hist "$W/a.csv" -o "$W/bad.png")"
expect_contains "no such histogram" "no histogram nope" "$(err cdf "$W/a.json" --hist nope -o "$W/bad.png")"
expect_contains "missing file" "1 tools/plot sweep: $W/none.csv: cannot read" "$(err sweep "$W/none.csv" -o "$W/bad.png")"
expect_contains "no such column" "no column cache.l9.misses" "$(err interval "$W/iv.csv" --columns cache.l9.misses -o "$W/bad.png")"
expect_contains "bad extension" "1 tools/plot mrc: $W/x.pdf: expected a .png or .svg output name" \
  "$(err mrc "$W/data.csv" -o "$W/x.pdf")"
expect_eq "no image left by failures" "" "$(ls "$W" | grep -E '^(bad|x)\.' || true)"
finish
