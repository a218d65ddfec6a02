#!/usr/bin/env bash
# Killed at a random instant (SIGKILL after a random delay, not only between kernel changes) during ADD and
# during DEL, many times over: what is left is always what the next DEL removes, leaving node and pod exactly
# as before, and a new ADD of the same pod works afterwards. Bounded in time (CRASH_SECONDS, default 60).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=conformance_helpers.sh
source "$HERE/conformance_helpers.sh"

conformance_up
first_plugin_add p1
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
snapshot "$(pod_ns p1)" >"$LAB_TMP/p1.before"
CONFIG1=$(topo_config p1)
printf '%s' "$CONFIG1" >"$LAB_TMP/p1.config"

# Runs topocni for p1 with COMMAND and SIGKILLs it after a uniformly random delay in [0, max_ms); prints
# "killed" or "finished <status>". nsenter execs the plugin, so the PID killed is the plugin's own.
kill_at_random() {
  local command=$1 max_ms=$2
  python3 - "$command" "$max_ms" "$LAB_TMP/p1.config" <<PY
import os, random, signal, subprocess, sys, time
command, max_ms, config = sys.argv[1], float(sys.argv[2]), open(sys.argv[3], 'rb').read()
env = {"PATH": os.environ["PATH"], "TOPOCNI_STATE_DIR": "$STATE_DIR", "CNI_COMMAND": command,
       "CNI_CONTAINERID": "${POD_ID[p1]}", "CNI_NETNS": "/var/run/netns/$(pod_ns p1)", "CNI_IFNAME": "eth0",
       "CNI_PATH": "$LAB_CNI_PATH"}
p = subprocess.Popen(["nsenter", "--net=/var/run/netns/$NS_NODE1", "$TOPOCNI"], env=env,
                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
p.stdin.write(config)
p.stdin.close()
if max_ms < 0:  # calibration: how long the plugin runs when nothing kills it, spawned exactly like this
    start = time.monotonic()
    rc = p.wait()
    print(f"{(time.monotonic() - start) * 1000:.1f}" if rc == 0 else "failed")
    sys.exit(0)
time.sleep(random.uniform(0, max_ms) / 1000)
try:
    os.kill(p.pid, signal.SIGKILL)
except ProcessLookupError:
    pass
rc = p.wait()
print("killed" if rc == -signal.SIGKILL else f"finished {rc}")
PY
}

# How long one ADD and one DEL run here, spawned as the kills spawn them: delays are drawn from [0, 1.2 x the
# slower of three runs), so most kills land while the plugin runs.
add_ms=0 del_ms=0
for _ in 1 2 3; do
  t=$(kill_at_random ADD -1); [[ $t == failed ]] && die "a plain ADD failed"
  add_ms=$(python3 -c "print(max($add_ms, $t))")
  t=$(kill_at_random DEL -1); [[ $t == failed ]] && die "a plain DEL failed"
  del_ms=$(python3 -c "print(max($del_ms, $t))")
done
add_ms=$(python3 -c "print(round($add_ms * 1.2, 1))"); del_ms=$(python3 -c "print(round($del_ms * 1.2, 1))")
log "kill delays: ADD within ${add_ms} ms, DEL within ${del_ms} ms"

deadline=$(( $(date +%s) + ${CRASH_SECONDS:-60} ))
add_killed=0 add_finished=0 del_killed=0 del_finished=0
iterations=0 failures=0
while (( $(date +%s) < deadline && iterations < 400 )); do
  iterations=$((iterations + 1))
  if (( iterations % 2 )); then
    phase=ADD
    outcome=$(kill_at_random ADD "$add_ms")
  else
    phase=DEL
    topo_call p1 ADD "$CONFIG1" >/dev/null || { record 0 "iteration $iterations: ADD before a killed DEL failed: $(cat "$LAB_TMP/stderr")"; failures=$((failures + 1)); }
    outcome=$(kill_at_random DEL "$del_ms")
  fi
  case "$phase $outcome" in
    "ADD killed") add_killed=$((add_killed + 1)) ;;
    "DEL killed") del_killed=$((del_killed + 1)) ;;
    ADD*) add_finished=$((add_finished + 1)) ;;
    *) del_finished=$((del_finished + 1)) ;;
  esac
  # Whatever the kill left, DEL removes it, and the node and the pod are exactly as before.
  if ! topo_call p1 DEL "$CONFIG1" >/dev/null; then
    record 0 "iteration $iterations ($phase $outcome): DEL failed: $(cat "$LAB_TMP/stderr")"; failures=$((failures + 1)); continue
  fi
  snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
  snapshot "$(pod_ns p1)" >"$LAB_TMP/p1.after"
  if ! diff -q "$LAB_TMP/node.before" "$LAB_TMP/node.after" >/dev/null || ! diff -q "$LAB_TMP/p1.before" "$LAB_TMP/p1.after" >/dev/null; then
    diff -u "$LAB_TMP/node.before" "$LAB_TMP/node.after" >&2 || true
    diff -u "$LAB_TMP/p1.before" "$LAB_TMP/p1.after" >&2 || true
    record 0 "iteration $iterations ($phase $outcome): node or pod differs after DEL"; failures=$((failures + 1)); continue
  fi
  if [[ -n "$(find "$STATE_DIR" -name '*.json' 2>/dev/null)" ]]; then
    record 0 "iteration $iterations ($phase $outcome): a journal is left after DEL"; failures=$((failures + 1)); continue
  fi
  # Nothing blocks the next ADD of the same pod (checked on every fifth iteration: an ADD and a DEL more).
  if (( iterations % 5 == 0 )); then
    if ! topo_call p1 ADD "$CONFIG1" >/dev/null || ! topo_call p1 DEL "$CONFIG1" >/dev/null; then
      record 0 "iteration $iterations ($phase $outcome): a new ADD/DEL failed: $(cat "$LAB_TMP/stderr")"; failures=$((failures + 1))
    fi
  fi
done
log "$iterations iterations: ADD killed $add_killed, ADD finished first $add_finished, DEL killed $del_killed, DEL finished first $del_finished"
killed=$((add_killed + del_killed))
if (( iterations >= 10 && killed >= iterations / 4 )); then
  record 1 "$iterations random kills tried ($killed hit a running plugin), $failures failures"
else
  record 0 "too few kills hit a running plugin: $killed of $iterations"
fi
(( failures == 0 )) && record 1 "every kill left only what DEL removes, and the next ADD worked"
summary
