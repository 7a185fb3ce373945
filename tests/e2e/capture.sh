#!/usr/bin/env bash
# mmusim capture on real programs: accesses and memory system calls in one native trace with its
# metadata; forks and exits recorded; paths and arguments with spaces and quotes pass untouched.
source "$(dirname "$0")/lib.bash"
B="$MMUSIM_BIN"
info_count() { awk -v k="  $2:" 'index($0, k) == 1 { print $2; f = 1 } END { if (!f) print 0 }' "$1"; }
meta() { awk -v k="  $2: " 'index($0, k) == 1 { print substr($0, length(k) + 1) }' "$1"; }

# ls: a dynamically linked program
"$B" capture -q -o "$W/ls.mmt" -- ls /usr > /dev/null
"$B" info "$W/ls.mmt" > "$W/ls.info"
expect_eq "ls mmaps recorded" yes "$([ "$(info_count "$W/ls.info" mmap)" -ge 5 ] && echo yes || echo no)"
expect_eq "ls brk recorded" yes "$([ "$(info_count "$W/ls.info" brk)" -ge 1 ] && echo yes || echo no)"
expect_eq "ls one exit" 1 "$(info_count "$W/ls.info" exit)"
expect_eq "ls ifetches" yes "$([ "$(info_count "$W/ls.info" ifetch)" -ge 100000 ] && echo yes || echo no)"
expect_eq "ls one pid" 1 "$(awk '/^pids:/ { print $2 }' "$W/ls.info")"
expect_eq "ls cmdline" "ls /usr" "$(meta "$W/ls.info" cmdline)"
expect_eq "ls executable" "$(readlink -f "$(command -v ls)")" "$(meta "$W/ls.info" executable)"
expect_eq "ls build-id" "$(readelf -n "$(readlink -f "$(command -v ls)")" | awk '/Build ID/ { print $3 }')" "$(meta "$W/ls.info" build_id)"
expect_contains "ls maps libc" "libc.so.6" "$(grep '  file\.' "$W/ls.info")"
expect_eq "ls exit status" 0 "$(meta "$W/ls.info" exit_status)"
"$B" run -q --csv "$W/ls.csv" "$W/ls.mmt" > /dev/null
expect_eq "ls trace simulates" true "$(csv_get "$W/ls.csv" complete)"
expect_eq "ls os events" "$(( $(info_count "$W/ls.info" mmap) + $(info_count "$W/ls.info" munmap) + $(info_count "$W/ls.info" brk) + $(info_count "$W/ls.info" mprotect) + $(info_count "$W/ls.info" madvise) + $(info_count "$W/ls.info" exit) ))" "$(csv_get "$W/ls.csv" sim.os_events)"

# sort with input, python3 -c, a fork, a non-zero exit, spaces and quotes in paths and arguments
printf '3\n1\n2\n' > "$W/in put.txt"
"$B" capture -q -o "$W/sort out.mmt" -- sort -n "$W/in put.txt" > "$W/sorted.txt"
expect_eq "sort ran on the file with a space" "1 2 3" "$(tr '\n' ' ' < "$W/sorted.txt" | sed 's/ $//')"
"$B" info "$W/sort out.mmt" > "$W/sort.info"
expect_contains "sort cmdline quoted" "'$W/in put.txt'" "$(meta "$W/sort.info" cmdline)"
"$B" capture -q -o "$W/py.mmt" -- python3 -c 'import sys; x = [i * i for i in range(1000)]; print("it'"'"'s", len(x))' > "$W/py.out"
expect_eq "python ran" "it's 1000" "$(cat "$W/py.out")"
"$B" info "$W/py.mmt" > "$W/py.info"
expect_eq "python mmaps" yes "$([ "$(info_count "$W/py.info" mmap)" -ge 10 ] && echo yes || echo no)"
"$B" capture -q -o "$W/fork.mmt" -- sh -c 'ls / > /dev/null; exit 3'
"$B" info "$W/fork.mmt" > "$W/fork.info"
expect_eq "fork recorded" 1 "$(info_count "$W/fork.info" fork)"
expect_eq "exit status recorded" 3 "$(meta "$W/fork.info" exit_status)"

# errors: no program, a program that does not exist, valgrind missing
set +e
"$B" capture -q -o "$W/x.mmt" -- /no/such/program 2> "$W/e1"; rc1=$?
"$B" capture -q --valgrind /no/such/valgrind -o "$W/x.mmt" -- ls 2> "$W/e2"; rc2=$?
set -e
expect_eq "missing program exit" 2 "$rc1"
expect_contains "missing program message" "program not found" "$(cat "$W/e1")"
expect_eq "missing valgrind exit" 1 "$rc2"
expect_contains "missing valgrind message" "cannot run /no/such/valgrind" "$(cat "$W/e2")"
expect_eq "nothing left behind" 0 "$(find "$W" -name '*.capture.*' -o -name '*.tmp.*' | wc -l)"
finish
