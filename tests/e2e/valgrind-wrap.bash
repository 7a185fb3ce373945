#!/usr/bin/env bash
# Runs the real mmusim under valgrind memcheck: any memory error or leak makes it exit 99, which
# fails the end-to-end test that called it. ctest's memcheck.* tests set MMUSIM_BIN to this file.
exec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
  --errors-for-leak-kinds=definite,indirect,possible --track-fds=no "$MMUSIM_REAL_BIN" "$@"
