#!/usr/bin/env bash
# cachegrind_exact: mmusim with configs/cachegrind.ini must give exactly cachegrind's counts on
# the lackey traces in tests/data/cachegrind/ (made by tools/cachegrind-reference.sh), for every
# program and geometry there. Each NAME.GEOM.expected holds cachegrind's counts and, on its
# "# geometry:" line, the --I1/--D1/--LL it was run with.
# Needs MMUSIM_BIN (the mmusim binary), MMUSIM_SRC (the source tree), MMUSIM_WORK (scratch).
set -euo pipefail

: "${MMUSIM_BIN:?set MMUSIM_BIN to the mmusim binary}"
MMUSIM_SRC=${MMUSIM_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MMUSIM_WORK=${MMUSIM_WORK:-${TMPDIR:-/tmp}/mmusim-e2e}
mkdir -p "$MMUSIM_WORK"
DATA=$MMUSIM_SRC/tests/data/cachegrind
CSV=$MMUSIM_WORK/cachegrind_exact.csv

# cachegrind's name, then mmusim's flat-CSV statistic.
PAIRS=(
    Ir:cache.l1i.accesses     I1mr:cache.l1i.misses
    Dr:cache.l1d.reads        D1mr:cache.l1d.read_misses
    Dw:cache.l1d.writes       D1mw:cache.l1d.write_misses
    ILmr:cache.llc.ifetch_misses
    DLmr:cache.llc.read_misses
    DLmw:cache.llc.write_misses
)

# geometry_opts "--I1=S,A,L --D1=S,A,L --LL=S,A,L": the matching -o overrides.
geometry_opts() {
    local g cache size assoc line
    for g in $1; do
        case ${g%%=*} in
            --I1) cache=l1i ;;
            --D1) cache=l1d ;;
            --LL) cache=llc ;;
            *) echo "bad geometry item '$g'" >&2; return 1 ;;
        esac
        IFS=, read -r size assoc line <<<"${g#*=}"
        printf -- '-o\ncache.%s.size=%s\n-o\ncache.%s.assoc=%s\n-o\ncache.%s.line=%s\n' \
            "$cache" "$size" "$cache" "$assoc" "$cache" "$line"
    done
}

failures=()
checked=0
shopt -s nullglob
expected_files=("$DATA"/*.expected)
[ ${#expected_files[@]} -gt 0 ] || { echo "no .expected files in $DATA" >&2; exit 1; }

for exp in "${expected_files[@]}"; do
    base=$(basename "$exp" .expected)        # NAME.GEOM
    name=${base%.*}
    geom=${base##*.}
    trace=("$DATA/$name".lackey.*)
    [ ${#trace[@]} -eq 1 ] || { failures+=("$base: no single trace $name.lackey.*"); continue; }
    g=$(sed -n 's/^# geometry: //p' "$exp")
    mapfile -t opts < <(geometry_opts "$g")
    echo "== $name, geometry $geom ($g)"
    rm -f "$CSV"
    if ! "$MMUSIM_BIN" run --quiet -c "$MMUSIM_SRC/configs/cachegrind.ini" "${opts[@]}" \
            --csv "$CSV" "${trace[0]}"; then
        failures+=("$base: mmusim run failed")
        continue
    fi
    for pair in "${PAIRS[@]}"; do
        key=${pair%%:*}
        stat=${pair#*:}
        want=$(sed -n "s/^$key=//p" "$exp")
        got=$(awk -F, -v k="$stat" '$1 == k { print $2; exit }' "$CSV" | tr -d ' \r')
        checked=$((checked + 1))
        if [ "$want" = "$got" ]; then
            printf '   %-5s %-28s %12s  ok\n' "$key" "$stat" "$want"
        else
            printf '   %-5s %-28s %12s  MISMATCH: mmusim %s\n' "$key" "$stat" "$want" "${got:-<missing>}"
            failures+=("$base: $key ($stat) cachegrind $want, mmusim ${got:-<missing>}")
        fi
    done
done

echo
if [ ${#failures[@]} -gt 0 ]; then
    printf 'FAIL %s\n' "${failures[@]}"
    echo "cachegrind_exact: ${#failures[@]} failure(s) in $checked comparisons"
    exit 1
fi
echo "cachegrind_exact: all $checked comparisons match cachegrind"
