#!/usr/bin/env bash
# "check && ok || bad": ok always succeeds, so bad runs exactly when the check fails.
# shellcheck disable=SC2015
# End-to-end: mmusim gen, convert and info on every format and compression, their exit codes and
# messages. Needs MMUSIM_BIN, MMUSIM_SRC, MMUSIM_WORK, and only coreutils, gzip and dd besides.
set -euo pipefail

BIN=${MMUSIM_BIN:?}
SRC=${MMUSIM_SRC:?}
WORK=${MMUSIM_WORK:?}/traces_cli
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND...: the command must succeed
    local what=$1
    shift
    if "$@"; then ok; else bad "$what"; fi
}
expect_exit() { # expect_exit CODE DESCRIPTION COMMAND...
    local want=$1 what=$2
    shift 2
    local got=0
    "$@" > out.txt 2> err.txt || got=$?
    if [ "$got" = "$want" ]; then ok; else bad "$what: exit $got, expected $want ($(cat err.txt))"; fi
}
field() { # field FILE KEY: the value of "KEY: value" in an info report
    sed -n "s/^$2: //p" "$1" | head -n1
}

# --- gen: determinism, help, and the gen -> convert -> info round trip ---
"$BIN" gen --help > help.txt
for opt in --count --footprint --base --size --read-ratio --stride --zipf --mix --seed --cpus \
           --pids --gap --compress --level --output; do
    grep -q -- "$opt" help.txt && ok || bad "gen --help lacks $opt"
done
"$BIN" gen zipf -n 50000 --seed 7 -o a.mmt
"$BIN" gen zipf -n 50000 --seed 7 -o b.mmt
"$BIN" gen zipf -n 50000 --seed 8 -o c.mmt
check "same seed gives identical files" cmp -s a.mmt b.mmt
"$BIN" info a.mmt > a.info
grep -q "^  cmdline: mmusim gen zipf -n 50000 --seed 7$" a.info && ok || bad "gen cmdline metadata"
if cmp -s a.mmt c.mmt; then bad "different seeds gave identical files"; else ok; fi

for kind in stream stride random hot chase zipf; do
    "$BIN" gen "$kind" -n 12345 -f 1M --gap 2 -o "$kind.mmt"
    "$BIN" info "$kind.mmt" > "$kind.info"
    [ "$(field "$kind.info" records)" = 12345 ] && ok || bad "$kind: records"
    [ "$(field "$kind.info" instructions)" = 24690 ] && ok || bad "$kind: instructions"
    [ "$(field "$kind.info" format)" = native ] && ok || bad "$kind: format"
    grep -q "^  generator: $kind" "$kind.info" && ok || bad "$kind: generator metadata"
done

"$BIN" gen mix --mix stream:50:64M,random:30:1G,hot:20:256K -n 100000 -r 0.7 --cpus 2 --pids 2 \
    -c gzip -o mix.mmt
"$BIN" info mix.mmt > mix.info
[ "$(field mix.info records)" = 100000 ] && ok || bad "mix records"
[ "$(field mix.info "chunk compression")" = gzip ] && ok || bad "mix chunk compression"
[ "$(field mix.info cpus)" = "2 (0 1)" ] && ok || bad "mix cpus: $(field mix.info cpus)"
[ "$(field mix.info pids)" = "2 (1000 1001)" ] && ok || bad "mix pids: $(field mix.info pids)"
reads=$(sed -n 's/^  read: //p' mix.info)
[ "$reads" -gt 68000 ] && [ "$reads" -lt 72000 ] && ok || bad "mix read share $reads"

# convert native to every compression and back through info: same counts, same footprint
for c in none gzip xz zstd; do
    "$BIN" convert -c "$c" mix.mmt "mix.$c.mmt"
    "$BIN" info "mix.$c.mmt" > "mix.$c.info"
    for key in records instructions footprint "first address" "last address" cpus pids; do
        [ "$(field "mix.$c.info" "$key")" = "$(field mix.info "$key")" ] && ok ||
            bad "convert -c $c changed $key"
    done
    [ "$(field "mix.$c.info" "chunk compression")" = "$c" ] && ok || bad "convert -c $c codec"
    grep -q "^  source: mix.mmt" "mix.$c.info" && ok || bad "convert -c $c source metadata"
    grep -q "^  source_format: native" "mix.$c.info" && ok || bad "convert -c $c source format"
done

# --- importers through convert, from files and pipes ---
"$BIN" convert "$SRC/tests/data/lackey_tiny.txt.xz" lackey.mmt
"$BIN" info lackey.mmt > lackey.info
[ "$(field lackey.info records)" = 251 ] && ok || bad "lackey records"
[ "$(field lackey.info instructions)" = 162 ] && ok || bad "lackey instructions"
grep -q "^  ifetch: 162" lackey.info && ok || bad "lackey ifetch count"
grep -q "^  rmw: 24" lackey.info && ok || bad "lackey rmw count"
grep -q "^  source_format: lackey" lackey.info && ok || bad "lackey source format"
# standard input (a pipe, xz inside) to standard output
# shellcheck disable=SC2002 # a pipe on purpose: not a regular file
cat "$SRC/tests/data/lackey_tiny.txt.xz" | "$BIN" convert - - > piped.mmt
"$BIN" info piped.mmt > piped.info
[ "$(field piped.info records)" = 251 ] && ok || bad "piped convert records"
grep -q "^  source_compression: xz" piped.info && ok || bad "piped source compression"
"$BIN" info - < piped.mmt > stdin.info
[ "$(field stdin.info records)" = 251 ] && ok || bad "info from stdin"

printf '2 400100\n0 7ffd1000\n1 7ffd1008\n3 0\n4 0\n' | gzip -c > t.din.gz
"$BIN" info t.din.gz > din.info
[ "$(field din.info compression)" = gzip ] && ok || bad "din compression"
[ "$(field din.info format)" = din ] && ok || bad "din detection"
[ "$(field din.info records)" = 3 ] && ok || bad "din records"
[ "$(field din.info "records ignored (escapes, flushes)")" = 2 ] && ok || bad "din ignored"

printf 'R,0x1000,8\nW,0x1008,8\n# note\nX,0x400000,4\n' > t.csv
"$BIN" info t.csv > csv.info
[ "$(field csv.info format)" = text ] && ok || bad "csv detection"
[ "$(field csv.info records)" = 3 ] && ok || bad "csv records"
[ "$(field csv.info "footprint")" = "2 pages of 4 KiB (0.0 MiB), 2 regions of 2 MiB" ] && ok ||
    bad "csv footprint: $(field csv.info footprint)"

# a record straddling a page boundary counts both pages
printf 'R 0xffc 8\n' > straddle.txt
"$BIN" info straddle.txt > straddle.info
[ "$(field straddle.info footprint)" = "2 pages of 4 KiB (0.0 MiB), 1 regions of 2 MiB" ] && ok ||
    bad "straddle footprint: $(field straddle.info footprint)"

# --format forces: din text read as text fails with a line-numbered message
expect_exit 3 "din forced as text" "$BIN" info --format text t.din.gz
grep -q "t.din.gz: line 1: expected an access type R, W, X, I or M, got '2'" err.txt && ok ||
    bad "forced-format message: $(cat err.txt)"

# --- errors and exit codes ---
expect_exit 2 "info without a trace" "$BIN" info
expect_exit 2 "info of a missing file" "$BIN" info no-such-file
grep -q "^mmusim info: no-such-file: cannot open" err.txt && ok || bad "missing-file message"
expect_exit 2 "unknown format name" "$BIN" info --format bogus mix.mmt
expect_exit 2 "gen unknown kind" "$BIN" gen bogus -o x.mmt
grep -q "^mmusim gen: " err.txt && ok || bad "gen message prefix"
expect_exit 2 "gen unknown option" "$BIN" gen stream --bogus -o x.mmt
grep -q "^mmusim gen: unrecognized option '--bogus'" err.txt && ok || bad "option message: $(cat err.txt)"
expect_exit 2 "gen without output" "$BIN" gen stream
expect_exit 2 "gen bad size" "$BIN" gen stream --size 0 -o x.mmt
expect_exit 2 "convert unknown compression" "$BIN" convert -c lz4 mix.mmt x.mmt
expect_exit 2 "convert bad level" "$BIN" convert -c gzip -l 12 mix.mmt x.mmt
printf 'R 0x10 8\nW 0x20 0\n' > badsize.txt
expect_exit 3 "convert of a bad record" "$BIN" convert badsize.txt x.mmt
grep -q "^mmusim convert: badsize.txt: line 2: expected an access size" err.txt && ok ||
    bad "bad record message: $(cat err.txt)"
[ ! -e x.mmt ] && ok || bad "failed convert left its output"
expect_exit 0 "convert --keep-going" "$BIN" convert --keep-going badsize.txt x.mmt
grep -q "skipped 1 bad records" err.txt && ok || bad "keep-going count"

# damage: a flipped payload byte and a cut file
cp a.mmt dam.mmt
size=$(stat -c %s dam.mmt)
printf '\x00\x00\x00\x00' | dd of=dam.mmt bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_exit 3 "info of a damaged trace" "$BIN" info dam.mmt
grep -Eq "^mmusim info: dam.mmt: chunk [0-9]+ at offset [0-9]+: " err.txt && ok ||
    bad "damage message: $(cat err.txt)"
head -c $((size - 30)) a.mmt > cut.mmt
expect_exit 3 "info of a cut trace" "$BIN" info cut.mmt
grep -q "truncated" err.txt && ok || bad "cut message: $(cat err.txt)"

echo "traces_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
