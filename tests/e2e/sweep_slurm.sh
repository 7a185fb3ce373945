#!/usr/bin/env bash
# tools/sweep --slurm on a real one-node SLURM cluster that this test starts on localhost: its own
# munge key and munged, a minimal slurm.conf (the node is this machine, as `slurmd -C` reports
# it), slurmctld and slurmd, all under a scratch folder and on free ports; stopped at the end.
# The 4-run sweep of sweep_local.sh runs as an array job and must give the local sweep's CSV (less
# the host columns); a resubmission sends only the run that is missing. Needs root (as CI is) and
# Debian's slurm-wlm and munge (tools/setup.sh installs them; this test runs it when they are
# missing). If SLURM cannot start here, the test says why and FAILS: it never passes silently.
source "$(dirname "$0")/lib.bash"
PATH=$PATH:/usr/sbin:/sbin
SWEEP=("$MMUSIM_SRC/tools/sweep")
T=

fail_setup() {
  echo "FAIL: SLURM cannot run here: $*" >&2
  FAILS=$((FAILS + 1))
  finish || exit 1
}
show_logs() { for f in "$T"/log/*.log; do echo "--- $f (last lines)"; tail -n 8 "$f"; done 2>/dev/null; }

# the daemons this test starts, by their pid files; the logs are kept in $W/slurm-logs
stop_daemons() {
  [ -n "$T" ] || return 0
  if [ -s "$T/slurmctld.pid" ]; then timeout 5 scancel --quiet --user="$(id -un)" 2>/dev/null || true; fi
  for pidf in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munged.pid"; do
    [ -s "$pidf" ] || continue
    pid=$(cat "$pidf")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  cp -r "$T/log" "$W/slurm-logs" 2>/dev/null || true
  rm -rf "$T"
}
trap stop_daemons EXIT

# one SLURM test at a time on this machine (plain, memcheck and sanitizer builds, other clones)
exec 9> /tmp/mmusim-slurm-test.lock
flock -w 900 9 || fail_setup "another SLURM test held /tmp/mmusim-slurm-test.lock for 15 minutes"

[ "$(id -u)" -eq 0 ] || fail_setup "this test starts munged, slurmctld and slurmd as root; run it as root (CI does)"
if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null; then
  bash "$MMUSIM_SRC/tools/setup.sh" >&2 || fail_setup "tools/setup.sh could not install slurm-wlm and munge"
fi
for c in munged mungekey slurmctld slurmd sbatch squeue sinfo scancel; do
  command -v "$c" > /dev/null || fail_setup "'$c' is missing (Debian packages slurm-wlm and munge)"
done

# everything under one short folder: a unix socket path has at most 107 bytes, slurm.conf no spaces
T=$(mktemp -d /tmp/mmusim-slurm.XXXXXX)
chmod 755 "$T"
mkdir -p "$T/state" "$T/spool" "$T/log" "$T/munge"
chmod 700 "$T/munge"
mungekey --create --keyfile="$T/munge/munge.key" || fail_setup "mungekey could not create a key"
munged --socket="$T/munge.socket" --key-file="$T/munge/munge.key" --pid-file="$T/munged.pid" \
  --seed-file="$T/munge/seed" --log-file="$T/log/munged.log" ||
  fail_setup "munged did not start: $(tail -n 3 "$T/log/munged.log" 2>/dev/null)"

hw=$(slurmd -C | sed -n '1s/^NodeName=[^ ]* //p')
case "$hw" in *CPUs=*RealMemory=*) ;; *) fail_setup "slurmd -C did not describe this machine: '$hw'" ;; esac
read -r ctld_port node_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
cat > "$T/slurm.conf" <<EOF
ClusterName=mmusimtest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$node_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge.socket
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$T/slurm.conf"
slurmctld -i -f "$SLURM_CONF" || fail_setup "slurmctld did not start: $(show_logs)"
slurmd -f "$SLURM_CONF" -N localhost || fail_setup "slurmd did not start: $(show_logs)"
state=
for _ in $(seq 60); do
  state=$(sinfo --noheader --nodes=localhost --format=%t 2>/dev/null || true)
  case "$state" in idle) break ;; inval* | drain* | fail*) sleep 1; break ;; esac
  sleep 0.5
done
[ "$state" = idle ] || fail_setup "node 'localhost' is '${state:-unknown}', not idle: $(show_logs)"
PASSES=$((PASSES + 1))

# the sweep of sweep_local.sh: 2 configs x 2 traces, paths with spaces and quotes
small=200000 big=1000000
if [ -n "${MMUSIM_REAL_BIN:-}" ]; then small=20000 big=200000; fi # under valgrind: ~50x slower
D="$W/dir with 'single' and \"double\" quotes"
mkdir -p "$D"
"$MMUSIM_BIN" gen random -n "$small" -o "$D/small.mmt"
"$MMUSIM_BIN" gen random -n "$big" -f 1G --seed 2 -o "$D/big \"one\".mmt"
printf '[cache.l1d]\nsize = 16K\n' > "$D/l1d 16K.ini"
printf '[cache.l1d]\nsize = 64K\nlatency = 5\n' > "$D/l1d-64K.ini"
cat > "$D/s.sweep" <<'EOF'
[sweep]
configs = "l1d 16K.ini" l1d-64K.ini
traces = small.mmt 'big "one".mmt'
vary = cache.l1d.assoc: 4
args = --warmup 1000
EOF
sweep() { "${SWEEP[@]}" "$1" "$D/s.sweep" --mmusim "$MMUSIM_BIN" "${@:2}"; }
strip_host() { python3 -c 'import csv,sys
for r in csv.reader(open(sys.argv[1])): print(r[:-2])' "$1"; }
O="$W/slurm out"

sweep run --output "$W/local" --jobs 2 2> "$W/local.err"
set +e
timeout 90 "${SWEEP[@]}" run "$D/s.sweep" --mmusim "$MMUSIM_BIN" --output "$O" \
  --slurm --partition debug --time 5 --mem 500 2> "$W/slurm.err"
rc=$?
set -e
expect_eq "slurm sweep exit" 0 "$rc"
[ "$rc" -eq 0 ] || { cat "$W/slurm.err" >&2; show_logs >&2; }
expect_contains "submitted" "submitted job" "$(cat "$W/slurm.err")"
expect_contains "progress" "4 of 4 runs done" "$(cat "$W/slurm.err")"
expect_contains "array of 4 tasks" "#SBATCH --array=0-3" "$(cat "$O/sweep.sbatch")"
expect_eq "slurm CSV equals local CSV" "$(strip_host "$W/local/results.csv")" "$(strip_host "$O/results.csv")"
expect_eq "CSV rows" 5 "$(wc -l < "$O/results.csv")"
expect_eq "same run folders" "$(ls "$W/local/runs")" "$(ls "$O/runs")"
for i in 0 1 2 3; do
  expect_contains "task $i log" "complete" "$(cat "$O/slurm/task-$i.log" 2>/dev/null)"
done

# resubmission after losing one result: only that run goes to SLURM
mapfile -t ids < <(sweep list --output "$O" | cut -f2)
rm "$O/runs/${ids[2]}/result.csv"
set +e
timeout 90 "${SWEEP[@]}" run "$D/s.sweep" --mmusim "$MMUSIM_BIN" --output "$O" --slurm 2> "$W/slurm2.err"
rc=$?
set -e
expect_eq "resubmission exit" 0 "$rc"
expect_contains "resubmission sends one task" "1 array tasks (3 of 4 runs already complete)" "$(cat "$W/slurm2.err")"
expect_eq "resubmitted array" "#SBATCH --array=2" "$(grep '^#SBATCH --array' "$O/sweep.sbatch")"
expect_eq "resubmitted CSV equals local CSV" "$(strip_host "$W/local/results.csv")" "$(strip_host "$O/results.csv")"
sweep run --output "$O" --slurm 2> "$W/slurm3.err"
expect_contains "complete sweep submits nothing" "all 4 runs already complete; nothing to submit" "$(cat "$W/slurm3.err")"

# a task whose run fails (bad trace data): reported with its task log and the run's log, exit 1
printf 'R 0x1000 8\nbogus\n' > "$D/bad.txt"
printf '[sweep]\ntraces = small.mmt bad.txt\n' > "$D/fail.sweep"
set +e
msg=$(timeout 90 "${SWEEP[@]}" run "$D/fail.sweep" --mmusim "$MMUSIM_BIN" --output "$W/fail out" --slurm 2>&1)
rc=$?
set -e
expect_eq "failed task exit" 1 "$rc"
expect_contains "failed task named" "run 1 (" "$msg"
expect_contains "failed task log" "task log: $W/fail out/slurm/task-1.log" "$msg"
expect_contains "failed run's message" "expected an access type" "$msg"
expect_eq "failed sweep collects the rest" 2 "$(wc -l < "$W/fail out/results.csv")"
finish
