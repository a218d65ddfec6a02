#!/usr/bin/env bash
# Killed at any point of ADD (SIGKILL before each kernel change, via TOPOCNI_TEST_KILL_AT=N): the journal is
# whole and private, a following DEL restores node and pod exactly, and an ADD of a new pod works.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=conformance_helpers.sh
source "$HERE/conformance_helpers.sh"

conformance_up
first_plugin_add p1
first_plugin_add p2
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
snapshot "$(pod_ns p1)" >"$LAB_TMP/p1.before"
CONFIG1=$(topo_config p1)
CONFIG2=$(topo_config p2)
JOURNAL="$STATE_DIR/cni0/${POD_ID[p1]}-eth0@veth-to-host.json"

kills=0
for ((n = 1; n <= 60; n++)); do
  rc=0
  topo_call p1 ADD "$CONFIG1" TOPOCNI_TEST_KILL_AT=$n >/dev/null || rc=$?
  if ((rc == 0)); then break; fi
  kills=$((kills + 1))
  what="killed before step $n"
  ((rc == 137)) || record 0 "$what: exit status $rc, expected 137 (SIGKILL)"
  mode=$(stat -c %a "$JOURNAL" 2>/dev/null || echo none)
  if [[ $mode == 600 ]] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$JOURNAL"; then
    record 1 "$what: journal whole, mode 600"
  else
    record 0 "$what: journal mode $mode or not valid JSON"
  fi
  expect_ok "$what: DEL succeeds" topo_call p1 DEL "$CONFIG1"
  snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
  snapshot "$(pod_ns p1)" >"$LAB_TMP/p1.after"
  expect_same "$what: node as before after DEL" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
  expect_same "$what: pod as before after DEL" "$LAB_TMP/p1.before" "$LAB_TMP/p1.after"
  if topo_call p2 ADD "$CONFIG2" >/dev/null && topo_call p2 DEL "$CONFIG2"; then
    record 1 "$what: ADD and DEL of a new pod work"
  else
    record 0 "$what: ADD/DEL of a new pod failed: $(cat "$LAB_TMP/stderr")"
  fi
done
if ((kills >= 8)); then record 1 "ADD killed at each of its $kills step boundaries"; else
  record 0 "only $kills kill points: TOPOCNI_TEST_KILL_AT not effective?"; fi
expect_ok "the ADD that ran to the end is removed by DEL" topo_call p1 DEL "$CONFIG1"
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
expect_same "node as before at the end" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
summary
