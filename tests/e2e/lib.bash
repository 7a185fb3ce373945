# Shared helpers for the end-to-end tests (sourced by tests/e2e/*.sh).
set -euo pipefail
: "${MMUSIM_BIN:?set by ctest}" "${MMUSIM_SRC:?set by ctest}" "${MMUSIM_WORK:?set by ctest}"
TEST_NAME=$(basename "$0" .sh)
W="$MMUSIM_WORK/$TEST_NAME"
rm -rf "$W"
mkdir -p "$W"
FAILS=0
PASSES=0

# csv_get FILE NAME: the value of NAME in a flat name,value CSV report
csv_get() {
  awk -F, -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) exit 1 }' "$1" ||
    { echo "missing $2 in $1" >&2; echo "MISSING"; }
}

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then
    PASSES=$((PASSES + 1))
  else
    echo "FAIL: $1: expected '$2', got '$3'" >&2
    FAILS=$((FAILS + 1))
  fi
}

expect_contains() {
  if grep -qF -- "$2" <<<"$3"; then
    PASSES=$((PASSES + 1))
  else
    echo "FAIL: $1: expected to contain '$2', got: $3" >&2
    FAILS=$((FAILS + 1))
  fi
}

finish() {
  echo "$TEST_NAME: $PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
