#!/usr/bin/env bash
# mmusim mrc with SHARDS sampling against the exact curves: mean absolute error (MAE) of the miss
# ratio at most 0.02.
#
# The MAE is taken over the CSV's own sizes (every size up to 16, then 8 per power of two, up to
# the exact curve's reach: a log scale, so small caches weigh as much as big ones), or, for plain
# SHARDS (--exact-below 0), over 100 sizes evenly spaced up to the reach as in the SHARDS paper:
# plain SHARDS cannot tell sizes below about 1/R entries apart, which the log scale is full of.
#
# The bundled traces are small (1,000 to 3,000 distinct data lines): at R = 0.01 plain SHARDS
# tracks 10 to 30 of them, which is not a meaningful sample, and the default exact small stack
# (4096 entries) holds them whole. So they check the default mode, and generated traces with
# millions of distinct lines check the sampling itself: `mmusim gen mix` (the benchmark's mix) and
# `mmusim gen zipf`.
source "$(dirname "$0")/lib.bash"
mrc() { "$MMUSIM_BIN" mrc --quiet "$@"; }

# mae EXACT.csv SAMPLED.csv CURVE log|linear LIMIT: checks and prints the MAE
mae() {
  local out
  if out=$(python3 - "$@" <<'PY'
import bisect, csv, sys
exact, sampled, curve, scale, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
def load(path):
    rows = [r for r in csv.DictReader(open(path)) if r["curve"] == curve]
    return [int(r["entries"]) for r in rows], [float(r["miss_ratio"]) for r in rows]
def at(xs, ys, c):  # the curve at size c: its value at the largest listed size <= c
    return ys[max(bisect.bisect_right(xs, c) - 1, 0)]
xe, ye = load(exact)
xs, ys = load(sampled)
sizes = xe if scale == "log" else sorted({max(1, round(xe[-1] * i / 100)) for i in range(1, 101)})
err = [abs(at(xs, ys, c) - at(xe, ye, c)) for c in sizes]
m = sum(err) / len(err)
print("%s %s MAE %.4f (max %.4f over %d sizes)" % (curve, scale, m, max(err), len(sizes)))
sys.exit(0 if m <= limit else 1)
PY
  ); then
    PASSES=$((PASSES + 1)); echo "  $(basename "$2") $out"
  else
    echo "FAIL: $(basename "$2") $out" >&2; FAILS=$((FAILS + 1))
  fi
}

# 1. The bundled traces, default sampling (R = 0.01 with the exact small stack), data and all.
for t in "$MMUSIM_SRC/traces/samples/ls.mmt" "$MMUSIM_SRC"/tests/data/cachegrind/*.lackey.xz; do
  n=$(basename "$t"); n=${n%%.*}
  for type in data all; do
    mrc --type "$type" --curves cache,4k --csv "$W/$n-$type-exact.csv" "$t" > /dev/null
    mrc --type "$type" --curves cache,4k --sample 0.01 --csv "$W/$n-$type-r01.csv" "$t" > /dev/null
    mae "$W/$n-$type-exact.csv" "$W/$n-$type-r01.csv" cache log 0.02
    mae "$W/$n-$type-exact.csv" "$W/$n-$type-r01.csv" tlb4k log 0.02
  done
  # for the record (not a check): plain SHARDS on a trace this small
  mrc --curves cache --sample 0.01 --exact-below 0 --csv "$W/$n-plain.csv" "$t" > /dev/null
  echo "  (plain SHARDS at 0.01 on $n, for information: $(python3 - "$W/$n-data-exact.csv" "$W/$n-plain.csv" <<'PY'
import bisect, csv, sys
def load(p):
    r = [x for x in csv.DictReader(open(p)) if x["curve"] == "cache"]
    return [int(x["entries"]) for x in r], [float(x["miss_ratio"]) for x in r]
(xe, ye), (xs, ys) = load(sys.argv[1]), load(sys.argv[2])
at = lambda xs, ys, c: ys[max(bisect.bisect_right(xs, c) - 1, 0)]
print("log-scale MAE %.4f" % (sum(abs(at(xs, ys, c) - y) for c, y in zip(xe, ye)) / len(xe)))
PY
  ))"
done

# 2. Generated traces with millions of distinct lines.
"$MMUSIM_BIN" gen mix -n 3M --mix stream:50:64M,random:30:1G,hot:20:256K -o "$W/mix.mmt" > /dev/null
"$MMUSIM_BIN" gen zipf -n 2M -f 1G -o "$W/zipf.mmt" > /dev/null
for n in mix zipf; do
  t="$W/$n.mmt"
  mrc --curves cache,4k --csv "$W/$n-exact.csv" "$t" > /dev/null
  mrc --curves cache,4k --sample 0.01 --csv "$W/$n-r01.csv" "$t" > /dev/null
  mrc --curves cache,4k --sample 0.01 --exact-below 0 --csv "$W/$n-plain.csv" "$t" > /dev/null
  mrc --curves cache,4k --smax 4096 --csv "$W/$n-smax.csv" "$t" > "$W/$n-smax.txt"
  for c in cache tlb4k; do
    mae "$W/$n-exact.csv" "$W/$n-r01.csv" $c log 0.02
    mae "$W/$n-exact.csv" "$W/$n-plain.csv" $c linear 0.02
    mae "$W/$n-exact.csv" "$W/$n-smax.csv" $c log 0.02
  done
  # fixed size: at most smax keys tracked per curve, the rate lowered from 1 to get there
  expect_eq "$n smax: tracked keys" "ok ok" "$(awk '$1 == "cache" || $1 == "tlb4k" {
      printf "%s%s", sep, ($5 <= 4096 && $7 < 1 ? "ok" : "bad: " $0); sep = " " }' "$W/$n-smax.txt")"
done

# 3. Sampling is deterministic (a hash of the address, no random numbers).
mrc --curves cache --sample 0.01 --csv "$W/again.csv" "$W/mix.mmt" > /dev/null
expect_eq "sampling deterministic" "$(grep '^cache,' "$W/mix-r01.csv" | md5sum)" "$(grep '^cache,' "$W/again.csv" | md5sum)"
finish
