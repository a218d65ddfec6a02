#!/usr/bin/env bash
# Node-wide shared objects through the plugin: a template whose `shared:` section declares a node bridge and
# its address, each pod a veth port into it, the pod's address from Debian's host-local. The first ADD
# creates the bridge, every later one uses it, the DEL of the last user removes it:
#   - two pods reach each other and the node; DEL of either leaves the other working; DEL of both leaves no
#     bridge and the node exactly as before;
#   - 20 pods added in parallel, then 10 of them deleted while 10 more are added, all in parallel: the bridge
#     is there for every pod that uses it; then all deleted in parallel: no bridge, no registration left;
#   - a template that declares the same bridge differently fails (code 101) and changes nothing;
#   - `topoctl show --shared` lists the shared objects with their users.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

lab_up
STATE_DIR="$LAB_TMP/state"
TEMPLATES="$LAB_TMP/templates"
IPAM_DIR="$LAB_TMP/ipam-shared"
mkdir -p "$TEMPLATES"

cat >"$TEMPLATES/pod-on-bridge.yaml" <<'YAML'
description: Pods on one node bridge, which every pod of the node shares; addresses from host-local.
parameters:
  bridge: {type: ifname, default: tbr0}
  gateway: {type: cidr, default: 10.77.0.1/24}
  mtu: {type: int, default: 1500}
shared:
  links:
    - {name: "${ params.bridge }", kind: bridge, mtu: "${ params.mtu }"}
  addresses:
    - {dev: "${ params.bridge }", address: "${ params.gateway }"}
host:
  links:
    - name: "${ 'vs' + (cni.containerId | hash(8)) }"
      peer: {name: "${ cni.ifname }", scope: container}
      master: "${ params.bridge }"
container:
  addresses:
    - {dev: "${ cni.ifname }", address: "${ prev.ips[0].address }"}
  routes:
    - {dst: default, via: "${ params.gateway | address }", dev: "${ cni.ifname }"}
YAML

IPAM_CONF=$(python3 -c 'import json,sys; print(json.dumps({"cniVersion":"1.0.0","name":"shared","ipam":{"type":"host-local",
  "ranges":[[{"subnet":"10.77.0.0/24","rangeStart":"10.77.0.10","gateway":"10.77.0.1"}]],"dataDir":sys.argv[1]}}))' "$IPAM_DIR")

# One CNI call in the node's namespace. call COMMAND ID PLUGIN CONFIG
call() {
  local command=$1 id=$2 plugin=$3 cfg=$4
  printf '%s' "$cfg" | in_ns "$NS_NODE1" timeout 60 env -i PATH="$PATH" TOPOCNI_STATE_DIR="$STATE_DIR" \
    TOPOCNI_TEMPLATE_PATH="$TEMPLATES" CNI_COMMAND="$command" CNI_CONTAINERID="$id" \
    CNI_NETNS="/var/run/netns/$(pod_ns "$id")" CNI_IFNAME=eth0 CNI_PATH="$LAB_CNI_PATH" "$plugin"
}
topocni_config() {  # topocni_config PREV_RESULT [extra json]
  python3 -c 'import json,sys; c={"cniVersion":"1.0.0","name":"shared","type":"topocni","template":"pod-on-bridge",
    "prevResult":json.loads(sys.argv[1])}; c.update(json.loads(sys.argv[2])); print(json.dumps(c))' "$1" "${2:-{\}}"
}

# A pod: its namespace, an address from host-local, then topocni chained after it.
pod_up() {  # pod_up ID [extra topocni config json]
  local id=$1 prev
  [[ -e "/run/netns/$(pod_ns "$id")" ]] || ns_create "$(pod_ns "$id")"
  prev=$(call ADD "$id" "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF") || { echo "host-local ADD $id failed" >&2; return 1; }
  call ADD "$id" "$TOPOCNI" "$(topocni_config "$prev" "${2:-{\}}")" >"$LAB_TMP/add-$id.out" ||
    { echo "topocni ADD $id: $(cat "$LAB_TMP/add-$id.out")" >&2; call DEL "$id" "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF" >/dev/null; return 1; }
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["address"].split("/")[0])' "$LAB_TMP/add-$id.out" >"$LAB_TMP/ip-$id"
}
pod_down() {  # pod_down ID: topocni then host-local, as a runtime's DEL of the chain (in reverse)
  local id=$1 out
  out=$(call DEL "$id" "$TOPOCNI" "$(topocni_config '{"cniVersion":"1.0.0","interfaces":[],"ips":[]}')") ||
    { echo "topocni DEL $id: $out" >&2; return 1; }
  call DEL "$id" "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF" >/dev/null || { echo "host-local DEL $id failed" >&2; return 1; }
}
pod_ip() { cat "$LAB_TMP/ip-$1"; }

# Reachable: a TCP connect to a closed port is answered (refused) rather than timing out or unroutable.
reaches() {  # reaches NS IP
  in_ns "$1" python3 -c '
import socket, sys
s = socket.socket(); s.settimeout(2)
try:
    s.connect((sys.argv[1], 9)); sys.exit(0)
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)' "$2"
}
bridge_present() { ip -n "$NS_NODE1" link show tbr0 >/dev/null 2>&1; }
bridge_absent() { ! bridge_present; }
bridge_is_shared() { [[ "$(ip -n "$NS_NODE1" -j -d link show tbr0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get("ifalias",""))')" == topocni:shared ]]; }
users_of_bridge() {
  python3 -c 'import json,sys
try: d = json.load(open(sys.argv[1]))
except FileNotFoundError: print(0); sys.exit()
print(sum(len(o["users"]) for o in d["objects"] if o["kind"] == "link" and o["object"]["name"] == "tbr0"))' "$STATE_DIR/shared.json"
}
no_registry() { [[ ! -e "$STATE_DIR/shared.json" ]]; }
ipam_empty() { [[ -z "$(find "$IPAM_DIR" -type f ! -name 'last_reserved_ip*' ! -name lock 2>/dev/null)" ]]; }
check_ok() { call CHECK "$1" "$TOPOCNI" "$(topocni_config "$(cat "$LAB_TMP/add-$1.out")")" >/dev/null; }

snapshot "$NS_NODE1" >"$LAB_TMP/node.before"

echo "== two pods on the shared bridge"
expect_ok "ADD p1 creates the bridge" pod_up p1
expect_ok "the bridge carries the shared mark (alias topocni:shared)" bridge_is_shared
expect_ok "ADD p2 uses it" pod_up p2
expect_ok "the registry lists 2 users of the bridge" test "$(users_of_bridge)" = 2
expect_ok "p1 reaches p2 ($(pod_ip p2)) over the bridge" reaches "$(pod_ns p1)" "$(pod_ip p2)"
expect_ok "p2 reaches the node (10.77.0.1)" reaches "$(pod_ns p2)" 10.77.0.1
expect_ok "CHECK p1 and p2 pass" bash -c "$(declare -f call topocni_config check_ok pod_ns in_ns); STATE_DIR=$STATE_DIR TEMPLATES=$TEMPLATES LAB_TMP=$LAB_TMP NS_NODE1=$NS_NODE1 LAB_PREFIX=$LAB_PREFIX LAB_CNI_PATH=$LAB_CNI_PATH TOPOCNI=$TOPOCNI; check_ok p1 && check_ok p2"
if [[ -x "${TOPOCTL:-}" ]]; then
  expect_ok "topoctl show --shared lists the bridge with both users" bash -c \
    "TOPOCNI_STATE_DIR='$STATE_DIR' '$TOPOCTL' show --shared | tee '$LAB_TMP/show' | grep -q 'tbr0' && grep -q 'shared/p1/eth0' '$LAB_TMP/show' && grep -q 'shared/p2/eth0' '$LAB_TMP/show'"
fi

echo "== a damaged registry: refused with code 5, nothing changed, and topoctl doctor reports it"
cp "$STATE_DIR/shared.json" "$LAB_TMP/shared.json.good"
printf '{"format": 1, "objects": [{"kind": "link"' >"$STATE_DIR/shared.json"
wait_dad "$NS_NODE1"
node_now() { ip -n "$NS_NODE1" link show; ip -n "$NS_NODE1" addr show; }
before_damage=$(node_now)
ns_create "$(pod_ns p8)"
prev8=$(call ADD p8 "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF")
out8=$(call ADD p8 "$TOPOCNI" "$(topocni_config "$prev8")" || true)
expect_ok "ADD with a damaged registry: code 5 naming the file" \
  python3 -c 'import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if e["code"]==5 and "shared.json" in e["msg"] else 1)' "$out8"
expect_ok "ADD with a damaged registry: nothing changed on the node" diff <(echo "$before_damage") <(node_now)
if [[ -x "${TOPOCTL:-}" ]]; then
  expect_ok "topoctl doctor reports the damaged registry as a problem" bash -c \
    "ip netns exec '$NS_NODE1' env TOPOCNI_STATE_DIR='$STATE_DIR' '$TOPOCTL' doctor --json | python3 -c '
import json,sys; f=[x for x in json.load(sys.stdin) if x[\"check\"]==\"shared-registry\"]
sys.exit(0 if len(f)==1 and f[0][\"status\"]==\"problem\" and \"damaged\" in f[0][\"found\"] else 1)'"
fi
cp "$LAB_TMP/shared.json.good" "$STATE_DIR/shared.json"
call DEL p8 "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF" >/dev/null
call DEL p8 "$TOPOCNI" "$(topocni_config "$prev8")" >/dev/null
if [[ -x "${TOPOCTL:-}" ]]; then
  expect_ok "topoctl doctor: the registry reads again" bash -c \
    "ip netns exec '$NS_NODE1' env TOPOCNI_STATE_DIR='$STATE_DIR' '$TOPOCTL' doctor --json | python3 -c '
import json,sys; f=[x for x in json.load(sys.stdin) if x[\"check\"]==\"shared-registry\"]
sys.exit(0 if len(f)==1 and f[0][\"status\"]==\"ok\" and f[0][\"found\"].startswith(\"2 shared object(s), 4 registration(s)\") else 1)'"
fi

echo "== a template that declares the same bridge differently"
wait_dad "$NS_NODE1"  # the pods' new host ends: their link-local addresses stop being "tentative"
before_conflict=$(ip -n "$NS_NODE1" link show; ip -n "$NS_NODE1" addr show)
ns_create "$(pod_ns p9)"
prev9=$(call ADD p9 "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF")
out9=$(call ADD p9 "$TOPOCNI" "$(topocni_config "$prev9" '{"mtu": 1400}')" || true)
expect_ok "ADD fails with code 101 naming the bridge" \
  python3 -c 'import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if e["code"]==101 and "declared differently" in e["msg"] and "tbr0" in e["msg"] else 1)' "$out9"
call DEL p9 "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF" >/dev/null
call DEL p9 "$TOPOCNI" "$(topocni_config "$prev9")" >/dev/null
after_conflict=$(ip -n "$NS_NODE1" link show; ip -n "$NS_NODE1" addr show)
expect_ok "nothing changed on the node" diff <(echo "$before_conflict") <(echo "$after_conflict")
expect_ok "still 2 users" test "$(users_of_bridge)" = 2

echo "== DEL of either leaves the other working; DEL of both leaves no bridge"
expect_ok "DEL p1" pod_down p1
expect_ok "the bridge stays for p2" bridge_present
expect_ok "p2 still reaches the node" reaches "$(pod_ns p2)" 10.77.0.1
expect_ok "DEL p2" pod_down p2
expect_ok "the bridge is gone with its last user" bridge_absent
expect_ok "no registration left" no_registry
snapshot "$NS_NODE1" >"$LAB_TMP/node.after2"
expect_ok "node snapshot after DEL == before ADD" snapshots_equal "$LAB_TMP/node.before" "$LAB_TMP/node.after2"

echo "== a kill at each step of an ADD, and a failed ADD: the next DEL settles the registration"
# kill_steps ID: a kill before each step of ADD ID (its address from host-local, kept across the tries); after
# each, DEL; prints how many kills landed.
kill_steps() {
  local id=$1 prev landed=0 step rc
  ns_create "$(pod_ns "$id")"
  prev=$(call ADD "$id" "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF")
  for step in 1 2 3 4 5 6; do
    rc=0; call ADD "$id" "$TOPOCNI" "$(topocni_config "$prev")" TOPOCNI_TEST_KILL_AT=$step >/dev/null 2>&1 || rc=$?
    ((rc == 137)) && landed=$((landed + 1))
    call DEL "$id" "$TOPOCNI" "$(topocni_config "$prev")" >/dev/null || { echo "DEL after kill at $step failed" >&2; return 1; }
    [[ "$2" == first ]] && { bridge_absent && no_registry || { echo "kill at $step: bridge or registration left" >&2; return 1; }; }
    [[ "$2" == second ]] && { bridge_present && test "$(users_of_bridge)" = 1 && reaches "$(pod_ns p1)" 10.77.0.1 ||
      { echo "kill at $step: the first pod's bridge is not intact" >&2; return 1; }; }
  done
  call DEL "$id" "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF" >/dev/null
  echo "$landed" >"$LAB_TMP/landed-$id"
}
call() {  # with extra VAR=value for the plugin: call COMMAND ID PLUGIN CONFIG [VAR=value...]
  local command=$1 id=$2 plugin=$3 cfg=$4
  shift 4
  printf '%s' "$cfg" | in_ns "$NS_NODE1" timeout 60 env -i PATH="$PATH" TOPOCNI_STATE_DIR="$STATE_DIR" \
    TOPOCNI_TEMPLATE_PATH="$TEMPLATES" CNI_COMMAND="$command" CNI_CONTAINERID="$id" \
    CNI_NETNS="/var/run/netns/$(pod_ns "$id")" CNI_IFNAME=eth0 CNI_PATH="$LAB_CNI_PATH" "$@" "$plugin"
}
expect_ok "kill at each step of the first user's ADD; each DEL leaves no bridge and no registration" kill_steps k1 first
expect_ok "kills landed in the first user's ADD: $(cat "$LAB_TMP/landed-k1" 2>/dev/null || echo 0) (5 changes: bridge, its address, veth, pod address, route)" \
  test "$(cat "$LAB_TMP/landed-k1" 2>/dev/null || echo 0)" -ge 5
expect_ok "ADD p1 again" pod_up p1
expect_ok "kill at each step of a second user's ADD; each DEL leaves the bridge, 1 user, and p1 working" kill_steps k2 second
expect_ok "kills landed in the second user's ADD: $(cat "$LAB_TMP/landed-k2" 2>/dev/null || echo 0)" \
  test "$(cat "$LAB_TMP/landed-k2" 2>/dev/null || echo 0)" -ge 3
expect_ok "DEL p1" pod_down p1
failed_first_add() {  # the third step (the veth) refused: the rollback removes the bridge and the registration
  local prev out rc=0
  ns_create "$(pod_ns f1)"
  prev=$(call ADD f1 "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF")
  out=$(call ADD f1 "$TOPOCNI" "$(topocni_config "$prev")" TOPOCNI_TEST_FAIL_AT=3) || rc=$?
  call DEL f1 "$CNI_SYSTEM_BIN/host-local" "$IPAM_CONF" >/dev/null
  ((rc != 0)) && bridge_absent && no_registry && test -z "$(find "$STATE_DIR" -name '*.json')" ||
    { echo "rc $rc: $out" >&2; return 1; }
}
expect_ok "a first ADD that fails at its third step leaves no bridge, registration or journal" failed_first_add
snapshot "$NS_NODE1" >"$LAB_TMP/node.after3"
expect_ok "node snapshot == before ADD" snapshots_equal "$LAB_TMP/node.before" "$LAB_TMP/node.after3"

echo "== 20 pods in parallel, then 10 deleted while 10 more are added, then all deleted in parallel"
parallel() {  # parallel FUNCTION IDS...: runs each in the background, fails if any failed
  local fn=$1 pid rc=0
  shift
  local pids=()
  for id in "$@"; do "$fn" "$id" & pids+=("$!"); done
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  return "$rc"
}
# Namespaces first (ns_create records them for cleanup, which a background shell could not).
for i in $(seq 1 30); do ns_create "$(pod_ns "q$i")"; done
ns_create() { :; }  # made above
start=$(date +%s%N)
expect_ok "20 parallel ADDs succeed" parallel pod_up $(seq -f 'q%g' 1 20)
expect_ok "the registry lists 20 users" test "$(users_of_bridge)" = 20
expect_ok "10 parallel DELs and 10 parallel ADDs at once succeed" \
  bash -c "$(declare -f)
  $(declare -p STATE_DIR TEMPLATES LAB_TMP NS_NODE1 LAB_PREFIX LAB_CNI_PATH TOPOCNI CNI_SYSTEM_BIN IPAM_CONF);
  pids=(); for i in \$(seq 1 10); do pod_down q\$i & pids+=(\$!); pod_up q\$((i + 20)) & pids+=(\$!); done
  rc=0; for p in \"\${pids[@]}\"; do wait \$p || rc=1; done; exit \$rc"
expect_ok "the registry lists 20 users" test "$(users_of_bridge)" = 20
every_pod_reaches_node() {
  local i
  for i in $(seq 11 30); do reaches "$(pod_ns "q$i")" 10.77.0.1 || { echo "q$i cannot reach the node" >&2; return 1; }; done
}
expect_ok "each of the 20 pods in use reaches the node" every_pod_reaches_node
expect_ok "q11 reaches q30 over the bridge" reaches "$(pod_ns q11)" "$(pod_ip q30)"
expect_ok "20 parallel DELs succeed" parallel pod_down $(seq -f 'q%g' 11 30)
echo "    (ADD/DEL rounds took $(( ($(date +%s%N) - start) / 1000000 )) ms)"
expect_ok "the bridge is gone" bridge_absent
expect_ok "no registration left" no_registry
expect_ok "host-local holds no address" ipam_empty
expect_ok "no journal left" test -z "$(find "$STATE_DIR" -name '*.json' 2>/dev/null)"
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
expect_ok "node snapshot after DEL == before ADD" snapshots_equal "$LAB_TMP/node.before" "$LAB_TMP/node.after"

summary
