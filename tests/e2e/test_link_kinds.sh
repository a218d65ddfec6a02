#!/usr/bin/env bash
# Link kinds through the plugin, as a user writes them: a pod-macvlan template (the pod's own interface on the
# node's uplink, its MTU read from the node with host_link, an assert that the uplink is up) and a node-bridge
# template (a bridge on the node with a veth port into the pod, hairpin on). Each ADD gives the pod its path
# (to the LAN gateway, to the node), CHECK passes (the kernel matches the journal), DEL returns node and pod to their
# exact snapshots. A kill at every step of a bridge ADD leaves only what DEL removes (a bridge caught under
# its creation name included), and a new ADD works. The template's own refusal is code 7 naming its
# position, and a link kind the kernel lacks is named as such; neither changes anything.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=conformance_helpers.sh
source "$HERE/conformance_helpers.sh"

lab_up
STATE_DIR="$LAB_TMP/state"
TEMPLATES="$LAB_TMP/templates"
mkdir -p "$TEMPLATES"
# The node's underlay has a smaller MTU than the default: the pod's interface must follow it.
ip -n "$NS_NODE1" link set "$UNDERLAY_IF" mtu 1450

cat >"$TEMPLATES/pod-macvlan.yaml" <<'YAML'
description: The pod's own interface on the node's uplink, as CNI's macvlan plugin makes it.
parameters:
  uplink: {type: ifname, required: true}
  address: {type: cidr, required: true}
  gateway: {type: ip, required: true}
assert:
  - that: "${ host_link(params.uplink).up }"
    message: "the uplink ${ params.uplink } is down"
container:
  links:
    - name: eth0
      kind: macvlan
      parent: {name: "${ params.uplink }", scope: host}
      mode: bridge
      mtu: "${ host_link(params.uplink).mtu }"
  addresses:
    - {dev: eth0, address: "${ params.address }"}
  routes:
    - {dst: default, via: "${ params.gateway }", dev: eth0}
YAML

cat >"$TEMPLATES/node-bridge.yaml" <<'YAML'
description: A bridge on the node for this pod, with a veth port into it.
parameters:
  bridge: {type: ifname, required: true}
  nodeAddress: {type: cidr, required: true}
  podAddress: {type: cidr, required: true}
host:
  links:
    - {name: "${ params.bridge }", kind: bridge, mtu: 1400}
    - {name: "${ 'vb' + (cni.containerId | hash(8)) }", peer: {name: eth1, scope: container}, master: "${ params.bridge }", hairpin: true, mtu: 1400}
  addresses:
    - {dev: "${ params.bridge }", address: "${ params.nodeAddress }"}
container:
  addresses:
    - {dev: eth1, address: "${ params.podAddress }"}
YAML

cat >"$TEMPLATES/pod-hostdev.yaml" <<'YAML'
description: A node device moved into the pod, as CNI's host-device plugin does, with an address on it.
parameters:
  device: {type: ifname, required: true}
  address: {type: cidr, required: true}
container:
  links:
    - {name: net1, kind: host-device, device: "${ params.device }", mtu: 1300}
  addresses:
    - {dev: net1, address: "${ params.address }"}
YAML

cat >"$TEMPLATES/pod-vlan.yaml" <<'YAML'
container:
  links:
    - {name: eth0.10, kind: vlan, parent: {name: enp5s0f0, scope: host}, id: 10}
YAML

# topocni is chained (a main-plugin mode is issue 11): an empty prevResult stands for a first plugin that
# made nothing.
config() {  # config TEMPLATE 'json object of parameters'
  python3 -c 'import json,sys; c={"cniVersion":"1.0.0","name":"lk","type":"topocni","template":sys.argv[1],
    "prevResult":{"cniVersion":"1.0.0","interfaces":[],"ips":[]}}; c.update(json.loads(sys.argv[2])); print(json.dumps(c))' "$1" "$2"
}
call() {  # call COMMAND ID POD CONFIG [VAR=value...]
  local command=$1 id=$2 pod=$3 cfg=$4
  shift 4
  printf '%s' "$cfg" | in_ns "$NS_NODE1" timeout 60 env -i PATH="$PATH" TOPOCNI_STATE_DIR="$STATE_DIR" \
    TOPOCNI_TEMPLATE_PATH="$TEMPLATES" CNI_COMMAND="$command" CNI_CONTAINERID="$id" \
    CNI_NETNS="/var/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH="$LAB_CNI_PATH" "$@" "$TOPOCNI" 2>"$LAB_TMP/stderr"
}
# Reachable: a TCP connect to a closed port is answered (refused) rather than timing out or unroutable.
ping_ok() {
  in_ns "$1" python3 -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), timeout=3).close()
except ConnectionRefusedError:
    pass
' "$2" 2>/dev/null
}

# The whole life of one attachment: ADD, paths, CHECK, DEL, snapshots back.
life() {  # life LABEL TEMPLATE PARAMS CHECKS...
  local label=$1 tmpl=$2 params=$3 pod out rc
  shift 3
  pod="${LAB_PREFIX}p-$tmpl"
  ns_create "$pod"
  snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
  snapshot "$pod" >"$LAB_TMP/pod.before"
  local cfg
  cfg=$(config "$tmpl" "$params")
  rc=0; out=$(call ADD "id-$tmpl" "$pod" "$cfg") || rc=$?
  record $((rc == 0)) "$label: ADD (rc $rc) ${out:0:200} $(head -c 300 "$LAB_TMP/stderr")"
  local check
  for check in "$@"; do expect_ok "$label: $check" bash -c "$check" -- "$pod"; done
  rc=0; call CHECK "id-$tmpl" "$pod" "$(cfg_with_prev "$cfg" "$out")" >/dev/null || rc=$?
  record $((rc == 0)) "$label: CHECK (rc $rc)"
  rc=0; call DEL "id-$tmpl" "$pod" "$cfg" >/dev/null || rc=$?
  record $((rc == 0)) "$label: DEL (rc $rc)"
  snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
  snapshot "$pod" >"$LAB_TMP/pod.after"
  expect_ok "$label: node as before" snapshots_equal "$LAB_TMP/node.before" "$LAB_TMP/node.after"
  expect_ok "$label: pod as before" snapshots_equal "$LAB_TMP/pod.before" "$LAB_TMP/pod.after"
  ip netns del "$pod"
}
cfg_with_prev() { python3 -c 'import json,sys; c=json.loads(sys.argv[1]); c["prevResult"]=json.loads(sys.argv[2]); print(json.dumps(c))' "$1" "$2"; }

export -f ping_ok in_ns
export NS_NODE1 UNDERLAY_IF GW_IP

life "pod macvlan" pod-macvlan '{"uplink":"enp5s0f0","address":"10.10.20.80/24","gateway":"10.10.20.254"}' \
  'ip -n "$1" -d link show eth0 | grep -q "macvlan mode bridge"' \
  'ip -n "$1" link show eth0 | grep -q "mtu 1450"' \
  'ping_ok "$1" "$GW_IP"' \
  'ip -n "$1" -d link show eth0 | grep -q "alias topocni:lk/id-pod-macvlan/eth0"'

life "node bridge" node-bridge '{"bridge":"br-lk","nodeAddress":"10.99.0.1/24","podAddress":"10.99.0.2/24"}' \
  'ip -n "$NS_NODE1" -d link show br-lk | grep -q "mtu 1400"' \
  'ip -n "$NS_NODE1" -d link show master br-lk | grep -q "hairpin on"' \
  'ping_ok "$1" 10.99.0.1'

# host-device: a spare device of the node (a veth end whose peer stays on the node, so the pod reaches the node
# through it), with an alias and an MTU of its own and up: all of it must come back on DEL.
# A device coming back to the node gets its IPv6 settings from the namespace's defaults: without DAD there,
# its link-local address is not "tentative" for a moment after DEL, which the snapshots would see.
in_ns "$NS_NODE1" sysctl -qw net.ipv6.conf.default.accept_dad=0
ip -n "$NS_NODE1" link add spare0 type veth peer name spare0-peer
ip -n "$NS_NODE1" link set spare0 mtu 1400 alias "rack spare" up
ip -n "$NS_NODE1" link set spare0-peer up
ip -n "$NS_NODE1" addr add 10.98.0.1/24 dev spare0-peer
wait_dad "$NS_NODE1"
life "host-device" pod-hostdev '{"device":"spare0","address":"10.98.0.2/24"}' \
  '! ip -n "$NS_NODE1" link show spare0 2>/dev/null' \
  'ip -n "$1" link show net1 | grep -q "mtu 1300"' \
  'ip -n "$1" link show net1 | grep -q "alias topocni:lk/id-pod-hostdev/eth0"' \
  'ping_ok "$1" 10.98.0.1'
expect_ok "host-device: back on the node with its alias, MTU and up state" \
  bash -c 'l=$(ip -n "$NS_NODE1" link show spare0) && [[ $l == *",UP"*"mtu 1400"* && $l == *"alias rack spare"* ]]'

# A kill before each step of a host-device ADD (the move, the configuration, the address): DEL puts the device
# back as it was.
pod="${LAB_PREFIX}p-hdkill"
ns_create "$pod"
cfg=$(config pod-hostdev '{"device":"spare0","address":"10.98.0.2/24"}')
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
for step in 1 2 3; do
  rc=0; call ADD id-hdkill "$pod" "$cfg" TOPOCNI_TEST_KILL_AT=$step >/dev/null || rc=$?
  rc=0; call DEL id-hdkill "$pod" "$cfg" >/dev/null || rc=$?
  snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
  expect_ok "kill before step $step of a host-device ADD: DEL (rc $rc) puts the device back as it was" \
    snapshots_equal "$LAB_TMP/node.before" "$LAB_TMP/node.after"
done
# Two pods cannot have one device; the node's uplink (its default route) is refused; neither changes anything.
call ADD id-hdkill "$pod" "$cfg" >/dev/null
pod2="${LAB_PREFIX}p-hd2"
ns_create "$pod2"
rc=0; out=$(call ADD id-hd2 "$pod2" "$cfg") || rc=$?
record $([[ $rc != 0 && "$out" == *"the node has no interface 'spare0'"* ]] && echo 1 || echo 0) \
  "host-device: a second pod asking for the same device is refused (rc $rc, ${out:0:200})"
rc=0; out=$(call ADD id-hd2 "$pod2" "$(config pod-hostdev '{"device":"enp5s0f0","address":"10.98.0.3/24"}')") || rc=$?
record $([[ $rc != 0 && "$out" == *"default IPv4 route"* ]] && echo 1 || echo 0) \
  "host-device: the node's uplink is refused (rc $rc, ${out:0:200})"
expect_ok "host-device: the refused pod has nothing" bash -c "[[ \$(ip -n '$pod2' -o link show | wc -l) == 1 ]]"
call DEL id-hd2 "$pod2" "$cfg" >/dev/null || true
call DEL id-hdkill "$pod" "$cfg" >/dev/null
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
expect_ok "host-device: node as before after both" snapshots_equal "$LAB_TMP/node.before" "$LAB_TMP/node.after"
ip netns del "$pod2"
ip netns del "$pod"

# A kill before each step of the bridge ADD; then DEL, which must leave the node as it was, then a new ADD.
pod="${LAB_PREFIX}p-kill"
ns_create "$pod"
cfg=$(config node-bridge '{"bridge":"br-lk","nodeAddress":"10.99.0.1/24","podAddress":"10.99.0.2/24"}')
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
killed=0
for step in 1 2 3 4 5 6; do
  rc=0; call ADD id-kill "$pod" "$cfg" TOPOCNI_TEST_KILL_AT=$step >/dev/null || rc=$?
  ((rc == 137)) && killed=$((killed + 1))
  rc=0; call DEL id-kill "$pod" "$cfg" >/dev/null || rc=$?
  snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
  expect_ok "kill before step $step of a bridge ADD: DEL (rc $rc) leaves the node as it was" \
    snapshots_equal "$LAB_TMP/node.before" "$LAB_TMP/node.after"
done
record $((killed >= 4)) "kills landed: $killed of 6 (the ADD makes 4 changes: bridge, veth, two addresses; kills past the last change cannot land)"
rc=0; call ADD id-kill "$pod" "$cfg" >/dev/null || rc=$?
record $((rc == 0)) "a new ADD after the kills works (rc $rc)"
call DEL id-kill "$pod" "$cfg" >/dev/null || true

# The template's own refusal: the uplink down.
ip -n "$NS_NODE1" link set "$UNDERLAY_IF" down
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
rc=0; out=$(call ADD id-assert "$pod" "$(config pod-macvlan '{"uplink":"enp5s0f0","address":"10.10.20.81/24","gateway":"10.10.20.254"}')") || rc=$?
record $([[ $rc != 0 && "$(json_get "$out" 'j["code"]')" == 7 && "$out" == *"pod-macvlan.yaml:7:5: assert[0]: the uplink enp5s0f0 is down"* ]] && echo 1 || echo 0) \
  "assert: code 7 with the template's message and position (${out:0:200})"
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
expect_ok "assert: node unchanged" snapshots_equal "$LAB_TMP/node.before" "$LAB_TMP/node.after"
ip -n "$NS_NODE1" link set "$UNDERLAY_IF" up
wait_dad "$NS_NODE1"
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"

# A kind the kernel lacks.
rc=0; out=$(call ADD id-vlan "$pod" "$(config pod-vlan '{}')") || rc=$?
if [[ $rc == 0 ]]; then
  echo "SKIP  this kernel has vlan: the missing-kind error cannot be shown here"
  call DEL id-vlan "$pod" "$(config pod-vlan '{}')" >/dev/null || true
else
  record $([[ "$out" == *"this kernel lacks the vlan link kind"* ]] && echo 1 || echo 0) "a kind the kernel lacks is named (${out:0:200})"
fi
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
expect_ok "missing kind: node unchanged" snapshots_equal "$LAB_TMP/node.before" "$LAB_TMP/node.after"
expect_ok "state dir empty" bash -c "[[ -z \$(find '$STATE_DIR' -name '*.json' 2>/dev/null) ]]"
summary
