#!/usr/bin/env bash
# The optional log file (logFile / logLevel / logMaxBytes, or TOPOCNI_LOG_*): one well-formed line per
# command with the attachment, command, duration and result; VERSION only at debug; rotation to one .1 file at
# the bound; concurrent plugins never interleave lines; a log that cannot be written never fails the command.
# The plugin runs in a throwaway network namespace; its commands (a DEL with no journal, an ADD refused for
# its config) change nothing in it.
set -euo pipefail
: "${TOPOCNI:?set TOPOCNI to the plugin binary (ctest does)}"
[[ $(id -u) == 0 ]] || { echo "needs root (a network namespace)" >&2; exit 1; }

NS="tlog$$"
T=$(mktemp -d /tmp/topocni-log.XXXXXX)
cleanup() {
  local rc=$?
  ip netns del "$NS" 2>/dev/null || true
  rm -rf -- "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$NS"

PASS=0
FAIL=0
record() {
  if [[ $1 == 1 ]]; then PASS=$((PASS + 1)); printf 'PASS  %s\n' "$2"; else FAIL=$((FAIL + 1)); printf 'FAIL  %s\n' "$2"; fi
}
check() { local label=$1; shift; if "$@"; then record 1 "$label"; else record 0 "$label"; fi; }

# run COMMAND CONTAINER_ID CONFIG [VAR=value...]: the plugin's stdout; stderr in $T/stderr.
run() {
  local command=$1 id=$2 config=$3
  shift 3
  printf '%s' "$config" | ip netns exec "$NS" env -i TOPOCNI_STATE_DIR="$T/state" "$@" CNI_COMMAND="$command" \
    CNI_CONTAINERID="$id" CNI_NETNS="/var/run/netns/$NS" CNI_IFNAME=eth0 CNI_PATH=/nonexistent "$TOPOCNI" \
    2>"$T/stderr"
}
config() { # config LOGFILE [extra JSON members]
  printf '{"cniVersion":"1.0.0","name":"net1","type":"veth-to-host","hostInterface":"enp5s0f0"%s%s}' \
    "${1:+,\"logFile\":\"$1\"}" "${2:+,$2}"
}
# Every line: time, attachment, command, duration, result (ok, or error with code and message).
LINE_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z attachment="[^"]+/[^"]+/[^"]+" command=(ADD|DEL|CHECK|VERSION|GC|STATUS) duration_ms=[0-9]+\.[0-9]{3} result=(ok|error code=[0-9]+ msg=".*")$'
well_formed() { ! grep -Evq "$LINE_RE" "$1"; }

LOG="$T/cni.log"
run DEL c1 "$(config "$LOG")" >/dev/null
check "DEL with logFile: one line" [ "$(wc -l <"$LOG")" == 1 ]
check "the line is well-formed: $(cat "$LOG")" well_formed "$LOG"
check "it names the attachment, the command and ok" grep -q 'attachment="net1/c1/eth0" command=DEL .* result=ok$' "$LOG"

# An ADD refused for its config (no prevResult, no interface): the code and message are logged.
out=$(run ADD c2 "$(config "$LOG")") || true
code=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["code"])' "$out")
check "a failed ADD is logged with its CNI error code ($code)" grep -q "attachment=\"net1/c2/eth0\" command=ADD .* result=error code=$code msg=\"" "$LOG"
check "still well-formed" well_formed "$LOG"

# VERSION: not at the default level, logged at debug.
run VERSION c3 "$(config "$LOG")" >/dev/null
check "VERSION is not logged at the default level (info)" [ "$(grep -c command=VERSION "$LOG")" == 0 ]
run VERSION c3 "$(config "$LOG" '"logLevel":"debug"')" >/dev/null
check "VERSION is logged at debug" [ "$(grep -c command=VERSION "$LOG")" == 1 ]
# error: only failures.
n=$(wc -l <"$LOG")
run DEL c4 "$(config "$LOG" '"logLevel":"error"')" >/dev/null
check "logLevel error: a successful DEL is not logged" [ "$(wc -l <"$LOG")" == "$n" ]
run ADD c4 "$(config "$LOG" '"logLevel":"error"')" >/dev/null || true
check "logLevel error: a failed ADD is" [ "$(wc -l <"$LOG")" == $((n + 1)) ]

# The environment, when the config says nothing.
ENVLOG="$T/env.log"
run DEL c5 "$(config "")" TOPOCNI_LOG_FILE="$ENVLOG" >/dev/null
check "TOPOCNI_LOG_FILE: the line goes there" grep -q 'attachment="net1/c5/eth0" command=DEL' "$ENVLOG"
run DEL c6 "$(config "$LOG")" TOPOCNI_LOG_FILE="$ENVLOG" >/dev/null
check "the config's logFile wins over the environment" grep -q 'net1/c6/eth0' "$LOG"

# A log that cannot be written never fails the command: the error goes to stderr only.
out=$(run DEL c7 "$(config "$T/no/such/dir/cni.log")") && rc=0 || rc=$?
check "an unwritable log: DEL still succeeds" [ "$rc" == 0 ]
check "an unwritable log: the reason is on stderr" grep -q 'topocni: log: open' "$T/stderr"
out=$(run ADD c8 "$(config "$T/no/such/dir/cni.log")") || true
check "an unwritable log: a failed ADD still answers its own error JSON" grep -q '"code"' <<<"$out"

# Rotation at the bound: the file never passes it, one .1 file is kept, no line is cut.
ROT="$T/rot.log"
for i in $(seq 1 30); do run DEL "r$i" "$(config "$ROT" '"logMaxBytes":1000')" >/dev/null; done
size=$(stat -c %s "$ROT")
check "rotation: the log stays within 1000 bytes ($size)" [ "$size" -le 1000 ]
check "rotation: one .1 file, within 1000 bytes too" bash -c '[[ -f "$1.1" && $(stat -c %s "$1.1") -le 1000 && ! -e "$1.2" ]]' _ "$ROT"
check "rotation: both files are whole, well-formed lines" well_formed "$ROT"
check "rotation: (the .1 file too)" well_formed "$ROT.1"
check "rotation: the newest command is in the log" grep -q 'net1/r30/eth0' "$ROT"
lines=$(cat "$ROT" "$ROT.1" | wc -l)
check "rotation: the log and .1 together hold the last $lines commands in order" bash -c '
  want=$(seq $((31 - $2)) 30 | sed "s|.*|net1/r&/eth0|")
  got=$(cat "$1.1" "$1" | grep -o "net1/r[0-9]*/eth0")
  [[ "$want" == "$got" ]]' _ "$ROT" "$lines"
run DEL r31 "$(config "")" TOPOCNI_LOG_FILE="$ROT" TOPOCNI_LOG_MAX_BYTES=100 >/dev/null
check "TOPOCNI_LOG_MAX_BYTES bounds it too (one line left after rotating)" [ "$(wc -l <"$ROT")" == 1 ]

# Concurrent plugins: 4 writers x 25 commands, every line whole, none lost.
PAR="$T/par.log"
pids=()
for w in 1 2 3 4; do
  (for i in $(seq 1 25); do run DEL "w$w-$i" "$(config "$PAR")" >/dev/null; done) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
check "4 concurrent writers: 100 lines" [ "$(wc -l <"$PAR")" == 100 ]
check "4 concurrent writers: every line well-formed" well_formed "$PAR"

printf '%d passed, %d failed\n' "$PASS" "$FAIL"
((FAIL == 0))
