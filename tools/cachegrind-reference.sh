#!/usr/bin/env bash
# cachegrind-reference.sh: regenerate the cachegrind reference data in tests/data/cachegrind/.
#
# For each program below it
#   1. records a lackey trace (valgrind --tool=lackey --trace-mem=yes), twice, and fails unless
#      the two traces are identical (the ==PID== lines aside);
#   2. keeps it xz-compressed as NAME.lackey.xz (the ==PID== lines left in: readers skip them);
#   3. runs valgrind --tool=cachegrind --cache-sim=yes on the same program, with the same
#      arguments, environment and working directory, for each geometry, and writes
#      cachegrind's summary counts to NAME.GEOM.expected;
#   4. checks that tools/cg_reference.py, run on the trace, reproduces every count exactly.
#
# Usage: tools/cachegrind-reference.sh [NAME...]     (default: all programs)
# Needs valgrind (3.19 was used), gcc with static glibc (libc6-dev), xz, python3.
# Work files go to $CGREF_WORK (default /tmp/mmusim-cgref), which is wiped first. Its path is
# part of the programs' argv, so changing it changes the traces (consistently).
#
# Determinism: valgrind lays out the client's address space itself (no ASLR), so the stack, heap
# and library addresses depend only on the executable, its arguments and its environment. Both
# tools are run with env -i and a fixed small environment. Two details matter:
#  * Debian's /usr/bin/valgrind is a sh wrapper that adds LD_LIBRARY_PATH, GLIBCXX_FORCE_NEW,
#    GLIBCPP_FORCE_NEW and PWD to the client's environment; we run valgrind.bin directly.
#  * The 16 AT_RANDOM bytes sit on the stack right after the last environment string. ld.so
#    scans LD_PRELOAD (which valgrind sets) with a word-at-a-time strcspn that looks up the bytes
#    past the NUL in a table, so if LD_PRELOAD were last, one load address would follow the
#    random bytes and change from run to run. We pass an empty LD_PRELOAD first (valgrind
#    fills in that slot) and a dummy CGREF_PAD last.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$SRC/tests/data/cachegrind
WORK=${CGREF_WORK:-/tmp/mmusim-cgref}

VG=${VALGRIND:-$(command -v valgrind)}
if [ -x "$VG.bin" ]; then VG=$VG.bin; fi

# Geometries: NAME and cachegrind's --I1/--D1/--LL values (size,assoc,line in bytes).
GEOMS=(big small)
declare -A GEOM=(
    [big]="--I1=32768,8,64 --D1=32768,8,64 --LL=8388608,16,64"
    [small]="--I1=4096,2,64 --D1=4096,4,32 --LL=65536,8,64"
)

# Programs: NAME and the command line (run with $WORK as the working directory).
PROGS=(true sort matmul edges)
declare -A PROG=(
    [true]="/usr/bin/true"
    [sort]="/usr/bin/sort -n $WORK/sort.in"
    [matmul]="$WORK/matmul"
    [edges]="$WORK/edges"
)

ENVIRON=(LD_PRELOAD= PATH=/usr/bin:/bin LC_ALL=C CGREF_PAD=1)

# run_vg TOOL-ARGS... -- PROGRAM-ARGS...: one valgrind run in the fixed environment.
run_vg() {
    local args=()
    while [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift
    (cd "$WORK" && env -i "${ENVIRON[@]}" "$VG" "${args[@]}" "$@" </dev/null >/dev/null)
}

prepare() {
    rm -rf "$WORK"
    mkdir -p "$WORK"
    # 300 numbers in a scrambled order for sort -n.
    awk 'BEGIN { for (i = 1; i <= 300; i++) print (i * 7919) % 1000 }' >"$WORK/sort.in"
    for p in matmul edges; do
        gcc -O1 -static -o "$WORK/$p" "$OUT/src/$p.c"
    done
}

capture() {
    local name=$1 cmd
    read -r -a cmd <<<"${PROG[$name]}"
    echo "== $name: ${PROG[$name]}"
    run_vg --tool=lackey --trace-mem=yes --log-file="$WORK/$name.lk1" -- "${cmd[@]}"
    run_vg --tool=lackey --trace-mem=yes --log-file="$WORK/$name.lk2" -- "${cmd[@]}"
    if ! cmp -s <(grep -v '^==' "$WORK/$name.lk1") <(grep -v '^==' "$WORK/$name.lk2"); then
        echo "$name: two lackey runs gave different traces" >&2
        exit 1
    fi
    echo "   trace: $(grep -vc '^==' "$WORK/$name.lk1") records, identical in two runs"
    xz -9 -T1 -c "$WORK/$name.lk1" >"$OUT/$name.lackey.xz"

    local g geom vgver summary
    vgver=$("$VG" --version)
    for g in "${GEOMS[@]}"; do
        read -r -a geom <<<"${GEOM[$g]}"
        run_vg --tool=cachegrind --cache-sim=yes --branch-sim=no "${geom[@]}" \
            --cachegrind-out-file="$WORK/$name.$g.cg" --log-file="$WORK/$name.$g.log" \
            -- "${cmd[@]}"
        {
            echo "# $vgver --tool=cachegrind --cache-sim=yes --branch-sim=no"
            echo "# program: ${PROG[$name]}"
            echo "# geometry: ${GEOM[$g]}"
            # The counts are the summary: line, named by the events: line before it.
            awk '/^events:/ { n = split($0, ev, " ") }
                 /^summary:/ { for (i = 2; i <= n; i++) print ev[i] "=" $i }' \
                "$WORK/$name.$g.cg"
        } >"$OUT/$name.$g.expected"
        summary=$(grep -v '^#' "$OUT/$name.$g.expected" | tr '\n' ' ')
        echo "   $g: $summary"
    done
}

verify() {
    local name=$1 g geom want got
    for g in "${GEOMS[@]}"; do
        read -r -a geom <<<"${GEOM[$g]}"
        want=$(grep -v '^#' "$OUT/$name.$g.expected")
        got=$(python3 "$SRC/tools/cg_reference.py" "${geom[@]}" "$OUT/$name.lackey.xz")
        if [ "$want" != "$got" ]; then
            echo "$name/$g: cg_reference.py disagrees with cachegrind:" >&2
            diff <(echo "$want") <(echo "$got") >&2 || true
            exit 1
        fi
        echo "   $g: cg_reference.py agrees"
    done
}

main() {
    local names=("$@")
    [ ${#names[@]} -gt 0 ] || names=("${PROGS[@]}")
    for n in "${names[@]}"; do
        [ -n "${PROG[$n]+x}" ] || { echo "unknown program $n (have: ${PROGS[*]})" >&2; exit 2; }
    done
    mkdir -p "$OUT"
    prepare
    for n in "${names[@]}"; do
        capture "$n"
        verify "$n"
    done
}

main "$@"
