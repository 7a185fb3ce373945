#!/usr/bin/env bash
# Runs the README's walk-through exactly as written (the block between the walkthrough markers),
# in a scratch copy of the tree's layout, and checks what it promises: the trace, the curve, the
# images and the sweep's CSV.
source "$(dirname "$0")/lib.bash"
# the layout the README assumes: build/mmusim, tools/, configs/ under the current folder
mkdir -p "$W/build"
ln -s "$MMUSIM_BIN" "$W/build/mmusim"
ln -s "$MMUSIM_SRC/tools" "$W/tools"
ln -s "$MMUSIM_SRC/configs" "$W/configs"
awk '/<!-- walkthrough:begin -->/ { on = 1; next } /<!-- walkthrough:end -->/ { on = 0 }
     on && !/^```/' "$MMUSIM_SRC/README.md" > "$W/walkthrough.sh"
expect_eq "walk-through found" yes "$([ "$(grep -c . "$W/walkthrough.sh")" -ge 8 ] && echo yes || echo no)"
(cd "$W" && bash -euo pipefail walkthrough.sh > walkthrough.out 2>&1) || {
  echo "FAIL: the walk-through failed:" >&2; tail -20 "$W/walkthrough.out" >&2; exit 1; }
expect_eq "sort worked" "1 2 3" "$(head -3 "$W/sorted.txt" | tr '\n' ' ' | sed 's/ $//')"
expect_contains "info shows the capture" "cmdline: sort -n numbers.txt" "$(cat "$W/walkthrough.out")"
expect_eq "curve has rows" yes "$([ "$(wc -l < "$W/sort-mrc.csv")" -gt 20 ] && echo yes || echo no)"
expect_eq "png written" "89504e47" "$(head -c 4 "$W/sort-mrc.png" | od -An -tx1 | tr -d ' \n')"
expect_contains "svg written" "<svg" "$(head -c 2000 "$W/sort-mrc.svg")"
expect_eq "sweep rows" 3 "$(wc -l < "$W/machines/results.csv")"
expect_eq "sweep png" "89504e47" "$(head -c 4 "$W/machines.png" | od -An -tx1 | tr -d ' \n')"
finish
