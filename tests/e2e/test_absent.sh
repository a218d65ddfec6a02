#!/usr/bin/env bash
# `state: absent` through the plugin: a pod where a previous plugin left an address, a permanent neighbour
# entry and a policy rule; the template says none of them may exist. ADD removes them, CHECK passes, a second
# ADD changes nothing, DEL puts each back (the pod's snapshot is identical). A kill before each step of the
# ADD, then DEL, leaves the pod as it was (the foreign objects are journaled before they are removed). An
# absent item with an attribute outside its key is refused with its position, changing nothing.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

TOPOCNI="${TOPOCNI:?set TOPOCNI to the topocni binary}"
lab_up
STATE_DIR="$LAB_TMP/state"
TEMPLATES="$LAB_TMP/templates"
mkdir -p "$TEMPLATES"

cat >"$TEMPLATES/no-leftovers.yaml" <<'YAML'
description: The previous plugin's address, neighbour and rule must not exist in the pod.
container:
  addresses:
    - {dev: eth0, address: 10.1.0.5/24, state: absent}
  neighbours:
    - {dev: eth0, address: 10.1.0.1, state: absent}
  rules:
    - {priority: 100, from: 10.1.0.0/16, state: absent}
YAML
cat >"$TEMPLATES/bad-absent.yaml" <<'YAML'
container:
  neighbours:
    - {dev: eth0, address: 10.1.0.1, lladdr: "02:00:00:00:00:09", state: absent}
YAML

config() {
  printf '{"cniVersion":"1.0.0","name":"ab","type":"topocni","template":"%s","prevResult":{"cniVersion":"1.0.0","interfaces":[],"ips":[]}}' "$1"
}
call() {  # call COMMAND POD CONFIG [VAR=value...]
  local command=$1 pod=$2 cfg=$3
  shift 3
  printf '%s' "$cfg" | in_ns "$NS_NODE1" timeout 60 env -i PATH="$PATH" TOPOCNI_STATE_DIR="$STATE_DIR" \
    TOPOCNI_TEMPLATE_PATH="$TEMPLATES" CNI_COMMAND="$command" CNI_CONTAINERID=id-absent \
    CNI_NETNS="/var/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH="$LAB_CNI_PATH" "$@" "$TOPOCNI" 2>"$LAB_TMP/stderr"
}

POD="${LAB_PREFIX}p-absent"
ns_create "$POD"
ip -n "$POD" link add eth0 type veth peer name eth0p
ip -n "$POD" link set eth0 up
ip -n "$POD" link set eth0p up
ip -n "$POD" addr add 10.1.0.5/24 broadcast 10.1.0.255 dev eth0
ip -n "$POD" neigh add 10.1.0.1 lladdr 02:00:00:00:00:09 dev eth0 nud permanent
ip -n "$POD" rule add pref 100 from 10.1.0.0/16 lookup 200 proto static
wait_dad "$POD"
pod_state() { snapshot "$POD"; echo "## neighbours"; ip -n "$POD" neigh show nud permanent; }
pod_state >"$LAB_TMP/pod.before"
CFG=$(config no-leftovers)

rc=0; out=$(call ADD "$POD" "$CFG") || rc=$?
record $((rc == 0)) "ADD (rc $rc) ${out:0:200} $(head -c 300 "$LAB_TMP/stderr")"
expect_ok "the address is gone" bash -c "! ip -n '$POD' addr show dev eth0 | grep -q 10.1.0.5"
expect_ok "the neighbour is gone" bash -c "[[ -z \$(ip -n '$POD' neigh show 10.1.0.1 dev eth0) ]]"
expect_ok "the rule is gone" bash -c "! ip -n '$POD' rule show | grep -q '^100:'"
taken=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["format"], sum(len(v) for v in j["takenOver"].values()))' "$STATE_DIR/ab/id-absent-eth0@no-leftovers.json")
record $([[ "$taken" == "4 3" ]] && echo 1 || echo 0) "the journal (format 4) holds the 3 objects to put back (format, count: $taken)"
rc=0; call CHECK "$POD" "$CFG" >/dev/null || rc=$?
record $((rc == 0)) "CHECK (rc $rc) $(head -c 300 "$LAB_TMP/stderr")"
pod_state >"$LAB_TMP/pod.added"
rc=0; call ADD "$POD" "$CFG" >/dev/null || rc=$?
record $((rc == 0)) "a second ADD (rc $rc)"
pod_state >"$LAB_TMP/pod.readded"
expect_ok "the second ADD changed nothing" snapshots_equal "$LAB_TMP/pod.added" "$LAB_TMP/pod.readded"
rc=0; call DEL "$POD" "$CFG" >/dev/null || rc=$?
record $((rc == 0)) "DEL (rc $rc) $(head -c 300 "$LAB_TMP/stderr")"
pod_state >"$LAB_TMP/pod.after"
expect_ok "DEL put back the address, neighbour and rule: pod as before" \
  snapshots_equal "$LAB_TMP/pod.before" "$LAB_TMP/pod.after"

# A kill before each change of the ADD (3 deletes), then DEL: nothing foreign is lost.
killed=0
for step in 1 2 3 4; do
  rc=0; call ADD "$POD" "$CFG" TOPOCNI_TEST_KILL_AT=$step >/dev/null || rc=$?
  ((rc == 137)) && killed=$((killed + 1))
  rc=0; call DEL "$POD" "$CFG" >/dev/null || rc=$?
  pod_state >"$LAB_TMP/pod.after"
  expect_ok "kill before step $step of the ADD: DEL (rc $rc) leaves the pod as it was" \
    snapshots_equal "$LAB_TMP/pod.before" "$LAB_TMP/pod.after"
done
record $((killed == 3)) "kills landed: $killed of 4 (the ADD makes 3 changes)"

rc=0; out=$(call ADD "$POD" "$(config bad-absent)") || rc=$?
record $([[ $rc != 0 && "$out" == *"bad-absent.yaml:3:"*"lladdr"*"state: absent"* ]] && echo 1 || echo 0) \
  "an absent neighbour with an lladdr is refused at its position (rc $rc, ${out:0:240})"
pod_state >"$LAB_TMP/pod.after"
expect_ok "the refused ADD changed nothing" snapshots_equal "$LAB_TMP/pod.before" "$LAB_TMP/pod.after"
expect_ok "state dir holds no journal" bash -c "[[ -z \$(find '$STATE_DIR' -name '*.json' 2>/dev/null) ]]"
summary
