#!/usr/bin/env bash
# tools/sweep, local mode: a 4-run sweep (2 configs x 2 traces, one varied key, extra args) in a
# folder whose name has spaces and quotes; interrupted once after its first run (SIGTERM), resumed
# (the complete run is skipped, untouched), its CSV equal to an uninterrupted sweep's and each row
# equal to a direct `mmusim run`; collect, list, failed runs and sweep-file errors.
source "$(dirname "$0")/lib.bash"
SWEEP=("$MMUSIM_SRC/tools/sweep")
small=200000 big=1000000
if [ -n "${MMUSIM_REAL_BIN:-}" ]; then small=20000 big=200000; fi # under valgrind: ~50x slower
D="$W/dir with 'single' and \"double\" quotes"
mkdir -p "$D"
"$MMUSIM_BIN" gen random -n "$small" -o "$D/small.mmt"
"$MMUSIM_BIN" gen random -n "$big" -f 1G --seed 2 -o "$D/big \"one\".mmt"
printf '[cache.l1d]\nsize = 16K\n' > "$D/l1d 16K.ini"
printf '[cache.l1d]\nsize = 64K\nlatency = 5\n' > "$D/l1d-64K.ini"
cat > "$D/s.sweep" <<'EOF'
# two configs x two traces, one varied key with one value, a warmup for every run
[sweep]
configs = "l1d 16K.ini" l1d-64K.ini
traces = small.mmt
         'big "one".mmt'
vary = cache.l1d.assoc: 4
args = --warmup 1000
EOF
sweep() { "${SWEEP[@]}" "$1" "$D/s.sweep" --mmusim "$MMUSIM_BIN" "${@:2}"; }
strip_host() { python3 -c 'import csv,sys
for r in csv.reader(open(sys.argv[1])): print(r[:-2])' "$1"; }

mapfile -t ids < <(sweep list --output "$W/a" | cut -f2)
expect_eq "4 runs listed" 4 "${#ids[@]}"
expect_eq "runs pending" 4 "$(sweep list --output "$W/a" | grep -c $'\tpending\t')"

# ids: kept when the sweep's folder moves, changed when a config's content changes
cp -r "$D" "$W/moved"
expect_eq "ids kept when moved" "${ids[*]}" "$("${SWEEP[@]}" list "$W/moved/s.sweep" --mmusim "$MMUSIM_BIN" | cut -f2 | paste -sd' ')"
printf 'latency = 6\n' >> "$W/moved/l1d-64K.ini"
mapfile -t moved < <("${SWEEP[@]}" list "$W/moved/s.sweep" --mmusim "$MMUSIM_BIN" | cut -f2)
expect_eq "ids of an edited config change" "${ids[0]} ${ids[1]} changed changed" \
  "${moved[0]} ${moved[1]} $([ "${moved[2]}" != "${ids[2]}" ] && echo changed) $([ "${moved[3]}" != "${ids[3]}" ] && echo changed)"

# interrupt after the first run (small trace), while the second (big trace) runs
set +e
"${SWEEP[@]}" run "$D/s.sweep" --mmusim "$MMUSIM_BIN" --output "$W/a" --jobs 1 2> "$W/a1.err" &
pid=$!
for _ in $(seq 3000); do [ -e "$W/a/runs/${ids[1]}/run.json" ] && break; sleep 0.02; done
msg=$(sweep run --output "$W/a" 2>&1); rc2=$?
kill -TERM "$pid"
wait "$pid"; rc=$?
set -e
expect_eq "interrupted sweep exit" 4 "$rc"
expect_eq "second sweep on the same output refused" 2 "$rc2"
expect_contains "second sweep message" "another tools/sweep run is using $W/a" "$msg"
expect_contains "interrupted message" "interrupted: 1 of 4 runs complete" "$(cat "$W/a1.err")"
expect_eq "first run complete" true "$(csv_get "$W/a/runs/${ids[0]}/result.csv" complete)"
second=$(csv_get "$W/a/runs/${ids[1]}/result.csv" complete 2>/dev/null)
if [ "$second" != true ]; then PASSES=$((PASSES + 1)); else echo "FAIL: second run not cut short" >&2; FAILS=$((FAILS + 1)); fi
expect_eq "no third run started" false "$([ -e "$W/a/runs/${ids[2]}" ] && echo true || echo false)"
stamp=$(stat -c '%i %y' "$W/a/runs/${ids[0]}/result.csv")

# resume: the complete run is skipped and left as it was, the rest run
sweep run --output "$W/a" --jobs 2 2> "$W/a2.err"
expect_contains "resume skips the complete run" "1 already complete, 3 to run" "$(cat "$W/a2.err")"
expect_contains "resume progress" "4 of 4 runs done" "$(cat "$W/a2.err")"
expect_eq "complete run untouched" "$stamp" "$(stat -c '%i %y' "$W/a/runs/${ids[0]}/result.csv")"
for i in 0 1 2 3; do
  expect_eq "run $i complete" true "$(csv_get "$W/a/runs/${ids[$i]}/result.csv" complete)"
  for f in result.json report.txt run.json; do
    expect_eq "run $i has $f" true "$([ -s "$W/a/runs/${ids[$i]}/$f" ] && echo true || echo false)"
  done
done
sweep run --output "$W/a" 2> "$W/a3.err"
expect_contains "all complete: nothing runs" "4 already complete, 0 to run" "$(cat "$W/a3.err")"

# the same sweep uninterrupted: the same CSV (less the host columns)
sweep run --output "$W/b" 2> /dev/null
expect_eq "resumed CSV equals uninterrupted CSV" "$(strip_host "$W/b/results.csv")" "$(strip_host "$W/a/results.csv")"
expect_eq "CSV rows" 5 "$(wc -l < "$W/a/results.csv")"
expect_eq "CSV leading columns" "run,config,trace,seed,cache.l1d.assoc,mmusim,complete" \
  "$(head -1 "$W/a/results.csv" | cut -d, -f1-7)"
expect_eq "CSV trailing columns" "host.wall_seconds,host.peak_rss_kib" "$(head -1 "$W/a/results.csv" | awk -F, '{ print $(NF - 1) "," $NF }')"

# each row equals a direct mmusim run with the same inputs
i=0
for cfg in "l1d 16K.ini" l1d-64K.ini; do
  for trace in small.mmt 'big "one".mmt'; do
    "$MMUSIM_BIN" run -q -c "$D/$cfg" -o cache.l1d.assoc=4 --seed 1 --warmup 1000 --csv "$W/direct-$i.csv" "$D/$trace" > /dev/null
    out=$(python3 - "$W/a/results.csv" "$i" "$W/direct-$i.csv" "$cfg" "$trace" "${ids[$i]}" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
row = rows[int(sys.argv[2])]
direct = {r[0]: r[1] for r in list(csv.reader(open(sys.argv[3])))[1:]}
assert (row["config"], row["trace"], row["run"], row["seed"], row["cache.l1d.assoc"]) == \
       (sys.argv[4], sys.argv[5], sys.argv[6], "1", "4"), row
bad = [(k, v, row.get(k)) for k, v in direct.items() if row.get(k) != v]
assert not bad, bad[:5]
assert int(direct["cache.l1d.accesses"]) > 0
print("same %d fields" % len(direct))
PY
)
    expect_contains "row $i equals direct run ($cfg, $trace)" "same" "$out"
    i=$((i + 1))
  done
done
expect_eq "configs differ in misses" false \
  "$([ "$(csv_get "$W/direct-0.csv" cache.l1d.misses)" = "$(csv_get "$W/direct-2.csv" cache.l1d.misses)" ] && echo true || echo false)"

# task (what a SLURM array task runs): a complete run is left alone; a changed sweep is refused
expect_contains "task on a complete run" "run 1 (${ids[1]}) already complete" "$(sweep task 1 --output "$W/a")"
mkdir -p "$W/a/slurm"
printf '0\t%s\n1\t000000000000\n' "${ids[0]}" > "$W/a/slurm/ids"
set +e
msg=$(sweep task 1 --output "$W/a" --check-ids 2>&1); rc=$?
set -e
expect_eq "task with a changed id exit" 2 "$rc"
expect_contains "task with a changed id message" "run 1 is now ${ids[1]}, not 000000000000" "$msg"

# collect rewrites the same CSV; with a run missing it says so and exits 1
cp "$W/a/results.csv" "$W/a.csv"
sweep collect --output "$W/a" 2> /dev/null
expect_eq "collect rewrites the same CSV" "$(cat "$W/a.csv")" "$(cat "$W/a/results.csv")"
rm "$W/a/runs/${ids[3]}/result.csv"
set +e
msg=$(sweep collect --output "$W/a" 2>&1); rc=$?
set -e
expect_eq "collect with a missing run exits" 1 "$rc"
expect_contains "collect names the missing run" "1 of 4 runs have no complete result yet: 3" "$msg"
expect_eq "collect with a missing run: rows" 4 "$(wc -l < "$W/a/results.csv")"

# a run that fails (bad trace data): reported with its log, the others collected, exit 1
printf 'R 0x1000 8\nbogus\n' > "$D/bad.txt"
printf '[sweep]\ntraces = small.mmt bad.txt\noutput = "failing out"\n' > "$D/fail.sweep"
set +e
msg=$("${SWEEP[@]}" run "$D/fail.sweep" --mmusim "$MMUSIM_BIN" 2>&1); rc=$?
set -e
expect_eq "failed run exit" 1 "$rc"
expect_contains "failed run message" "run 1 (" "$msg"
expect_contains "failed run exit code" "failed: mmusim exit 3" "$msg"
expect_contains "failed run log tail" "expected an access type" "$msg"
expect_eq "failed sweep still collects the rest" 2 "$(wc -l < "$D/failing out/results.csv")"

# a run cut short by --max in args is final (end,max): the next run skips it
printf '[sweep]\ntraces = small.mmt\nargs = --max 1000\n' > "$D/max.sweep"
"${SWEEP[@]}" run "$D/max.sweep" --mmusim "$MMUSIM_BIN" 2> /dev/null
msg=$("${SWEEP[@]}" run "$D/max.sweep" --mmusim "$MMUSIM_BIN" 2>&1)
expect_contains "--max run is final" "1 already complete, 0 to run" "$msg"
expect_eq "--max run collected" "false,max,1000" "$(cut -d, -f6,7,11 "$D/max.out/results.csv" | tail -1)"

# sweep file errors name the file and line; nothing runs
cp "$D/small.mmt" "$W/small.mmt"
bad() { # WHAT EXPECTED-MESSAGE FILE-CONTENT
  printf '%s' "$3" > "$W/bad.sweep"
  set +e
  msg=$("${SWEEP[@]}" run "$W/bad.sweep" --mmusim "$MMUSIM_BIN" 2>&1); rc=$?
  set -e
  expect_eq "$1 exit" 2 "$rc"
  expect_contains "$1 message" "$2" "$msg"
}
bad "unknown key" "bad.sweep:2: unknown key 'trace' (did you mean 'traces'?)" $'[sweep]\ntrace = a.mmt\n'
bad "missing trace" "bad.sweep:3: traces: 'nope.mmt' not found" $'[sweep]\n# c\ntraces = nope.mmt\n'
bad "unbalanced quote" "bad.sweep:2: traces: No closing quotation" $'[sweep]\ntraces = "a b.mmt\n'
bad "bad vary" "bad.sweep:3: vary: expected 'section.key: VALUE VALUE...'" \
  $'[sweep]\ntraces = small.mmt\nvary = cache.l1d.size 32K\n'
bad "own option in args" "bad.sweep:3: args: '--csv' is set by the sweep itself" \
  $'[sweep]\ntraces = small.mmt\nargs = --csv x.csv\n'
bad "mmusim rejects a value" "bad.sweep:3: mmusim rejects the run with the default config, cache.l1d.size=48K" \
  $'[sweep]\ntraces = small.mmt\nvary = cache.l1d.size: 32K 48K\n'
expect_eq "rejected sweep ran nothing" false "$([ -e "$W/bad.out" ] && echo true || echo false)"
finish
