#!/usr/bin/env bash
# Bad input through `mmusim run`: each case ends with one line naming the file, the offset or line,
# and what was expected, and with the documented exit code (2 usage/config, 3 input data). Nothing
# crashes, hangs or silently succeeds.
source "$(dirname "$0")/lib.bash"
B="$MMUSIM_BIN"

# expect_fail NAME CODE NEEDLE -- ARGS...: the run exits CODE and its stderr contains NEEDLE
expect_fail() {
  local name=$1 code=$2 needle=$3
  shift 4
  local out rc
  set +e
  out=$(timeout 60 "$B" "$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  expect_eq "$name: exit code" "$code" "$rc"
  expect_contains "$name: message" "$needle" "$out"
  expect_eq "$name: one line" 1 "$(printf '%s\n' "$out" | grep -c .)"
}

"$B" gen stream -n 300000 -o "$W/s.mmt" -c zstd
"$B" gen stream -n 300000 -o "$W/g.mmt" -c gzip
size=$(stat -c %s "$W/s.mmt")

# native: truncated, a payload byte flipped (zstd and gzip chunks), bad magic, unsupported version,
# a checksum that does not match an intact payload
head -c 20000 "$W/s.mmt" > "$W/trunc.mmt"
expect_fail "native truncated" 3 "trunc.mmt: chunk 0 at offset 142: truncated payload" -- run -q "$W/trunc.mmt"
head -c $((size - 10)) "$W/s.mmt" > "$W/trunc-trailer.mmt"
expect_fail "native truncated trailer" 3 "trunc-trailer.mmt" -- run -q "$W/trunc-trailer.mmt"
python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
d = bytearray(open(w + "/s.mmt", "rb").read())
f = bytearray(d); f[5000] ^= 0xff; open(w + "/flip.mmt", "wb").write(f)
g = bytearray(open(w + "/g.mmt", "rb").read()); g[6000] ^= 0x01; open(w + "/flipg.mmt", "wb").write(g)
m = bytearray(d); m[0:8] = b"MMUTRACX"; open(w + "/magic.mmt", "wb").write(m)
v = bytearray(d); v[8] = 9; open(w + "/version.mmt", "wb").write(v)
c = bytearray(d)
off = 24 + int.from_bytes(d[12:16], "little")        # first chunk header
c[off + 40] ^= 0xff                                    # its payload checksum
open(w + "/cksum.mmt", "wb").write(c)
PY
expect_fail "native flipped zstd payload" 3 "flip.mmt: chunk 0 at offset 142" -- run -q "$W/flip.mmt"
expect_fail "native flipped gzip payload" 3 "flipg.mmt: chunk 0 at offset" -- run -q "$W/flipg.mmt"
expect_fail "native bad magic" 3 "magic.mmt" -- run -q "$W/magic.mmt"
expect_fail "native bad magic (forced)" 3 "magic.mmt: offset 0" -- run -q --format native "$W/magic.mmt"
expect_fail "native unsupported version" 3 "unsupported native trace version 9" -- run -q "$W/version.mmt"
expect_fail "native checksum" 3 "checksum" -- run -q "$W/cksum.mmt"

# compressed streams cut short
seq 1 100000 | sed 's/^/R 0x1000 /' > "$W/t.txt"
gzip -c "$W/t.txt" > "$W/full.gz" && head -c 3000 "$W/full.gz" > "$W/t.txt.gz"
xz -c "$W/t.txt" > "$W/full.xz" && head -c 300 "$W/full.xz" > "$W/t.txt.xz"
zstd -q -c "$W/t.txt" > "$W/full.zst" && head -c 300 "$W/full.zst" > "$W/t.txt.zst"
expect_fail "truncated gzip" 3 "t.txt.gz: offset 3000: truncated gzip stream" -- run -q "$W/t.txt.gz"
expect_fail "truncated xz" 3 "t.txt.xz: offset 300: truncated xz stream" -- run -q "$W/t.txt.xz"
expect_fail "truncated zstd" 3 "t.txt.zst: offset 300: truncated zstd stream" -- run -q "$W/t.txt.zst"

# impossible records and garbage lines
printf 'R 0x1000 8\nR 0x1000 0\n' > "$W/size0.txt"
expect_fail "size 0" 3 "size0.txt: line 2: expected an access size of 1..4096 bytes, got '0'" -- run -q "$W/size0.txt"
printf 'R 0x1000 8\nW 0x1000 8192\n' > "$W/big.txt"
expect_fail "size > 4 KiB" 3 "big.txt: line 2: expected an access size of 1..4096 bytes" -- run -q "$W/big.txt"
printf 'R 0x1000 8\nQ 0x1000 8\n' > "$W/type.txt"
expect_fail "unknown type" 3 "type.txt: line 2: expected an access type" -- run -q "$W/type.txt"
printf 'R 0x1000 8\nR 0x1000 8 cpu=7\n' > "$W/cpu.txt"
expect_fail "cpu beyond the machine" 3 "cpu 7, but the machine has 1 cpu" -- run -q "$W/cpu.txt"
printf 'I  04001290,3\n L 1ffefffd40,8\nthis is not lackey\n' > "$W/garbage.lackey"
expect_fail "lackey garbage line" 3 "garbage.lackey: line 3" -- run -q --format lackey "$W/garbage.lackey"
printf '0 7ffd1000 8\n9 7ffd1000\n' > "$W/bad.din"
expect_fail "din bad label" 3 "bad.din: line 2" -- run -q --format din "$W/bad.din"
head -c 100 /dev/zero > "$W/odd.champsim"
expect_fail "champsim not a multiple of 64" 3 "odd.champsim" -- run -q --format champsim "$W/odd.champsim"

# --keep-going skips bad records, counts them, and says so in the report
printf 'R 0x1000 8\nQ 0x1000 8\nR 0x2000 8\nhello\nR 0x3000 8\n' > "$W/kg.txt"
set +e
"$B" run -q --keep-going --json "$W/kg.json" "$W/kg.txt" > "$W/kg.out" 2>&1; rc=$?
set -e
expect_eq "keep-going exit" 0 "$rc"
expect_eq "keep-going bad records" 2 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["traces"][0]["bad_records"])' "$W/kg.json")"
expect_eq "keep-going accesses" 3 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"]["sim"]["accesses"])' "$W/kg.json")"

# configs: wrong types and impossible geometry (exit 2, file:line, key and rule)
printf '[cache.l1d]\nassoc = eight\n' > "$W/type.ini"
expect_fail "config wrong type" 2 "type.ini:2: [cache.l1d] assoc = 'eight': expected a non-negative whole number" -- run -c "$W/type.ini" "$W/t.txt"
printf '[cache.l2]\nsize = 1M\nassoc = 12\n' > "$W/geom.ini"
expect_fail "config set count" 2 "geom.ini:2: [cache.l2] size = 1M" -- run -c "$W/geom.ini" "$W/t.txt"
expect_fail "config missing file" 2 "nothere.ini: cannot open config file" -- run -c "$W/nothere.ini" "$W/t.txt"
expect_fail "usage: unknown option" 2 "unknown option '--frobnicate'" -- run --frobnicate "$W/t.txt"
expect_fail "usage: bad number" 2 "--max 'ten'" -- run --max ten "$W/t.txt"
# a machine that cannot fit in this host's memory is refused up front, with the figure
expect_fail "config too large for the host" 2 "GiB of host memory for their tag stores" -- run -o cache.llc.size=1T "$W/t.txt"
finish
