# Pass/fail bookkeeping shared by the end-to-end scripts that count their checks: source it, then call ok,
# bad or check for each one; the script ends with `echo "$PASS passed, $FAIL failed"` and `((FAIL == 0))`.
# shellcheck shell=bash
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
check() {  # check DESCRIPTION COMMAND...: ok when COMMAND succeeds, bad otherwise
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
