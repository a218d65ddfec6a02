#!/usr/bin/env bash
# End-to-end test of specs/underlay-service.yaml: topocni installed as "underlay-service", chained after
# Debian's macvlan + host-local in the lab of lib.sh (pods p1, p2 on node1, p3 on node2, the four Services
# of the standard scenario). Checks the same outcome list as veth-to-host (scenario_check_outcomes: the
# pod reaches its node, the underlay, the outside and the Services with its own address seen by every
# backend; nodes and the gateway reach the pod), plus what this template adds: traffic to the outside
# leaves the pod directly on the underlay (route, veth counters, and the node forwards nothing), node->pod
# traffic is symmetric over the veth, an empty second plan, and DEL returns both nodes to their exact
# initial state.
#
# Environment (ctest sets them): TOPOCNI, TOPOCTL, TOPO_SOURCE_DIR (templates are read from
# $TOPO_SOURCE_DIR/specs when set, else the compiled-in copies are used).
# Exit status is non-zero when any check fails; the last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

TOPOCNI="${TOPOCNI:?set TOPOCNI to the topocni binary}"
[[ -x "$TOPOCNI" ]] || die "TOPOCNI not executable: $TOPOCNI"

SECOND_PLUGIN_CONF='{"name":"us","type":"underlay-service","hostInterface":"enp5s0f0","serviceCIDRs":["10.96.0.0/16"],"clusterCIDRs":["10.244.0.0/16"],"extraCIDRs":["169.254.20.10/32"]}'

plan_is_empty() { plan_shows_no_changes "$(pod_plan "$1")"; }

route_dev() { ip -n "$(pod_ns "$1")" route get "$2" | sed -nE 's/.* dev ([^ ]+).*/\1/p' | head -1; }
route_dev_is() { [[ "$(route_dev "$1" "$2")" == "$3" ]]; }

# IP datagrams a namespace forwarded (Ip: ForwDatagrams in its /proc/net/snmp, which is per namespace).
forwarded() {
  in_ns "$1" awk '/^Ip:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 } else print $col["ForwDatagrams"] }' /proc/net/snmp
}

# Packets a link sent / received, in the namespace given.
tx_packets() { ip -n "$1" -s -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["packets"])'; }
rx_packets() { ip -n "$1" -s -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'; }

# The test's own nft counter of IPv4 packets for the outside address on one interface of a namespace. Link
# counters alone cannot say "no packet for the outside crossed the veth": a veth that came up a moment ago
# still sends its IPv6 router solicitations and MLD reports, and those cross it whatever the routes are.
PROBE_TABLE=e2e_outside_probe
probe_arm() { # ns hook oifname|iifname dev
  in_ns "$1" nft -f - <<NFT
table ip $PROBE_TABLE {
  chain count { type filter hook $2 priority -300; $3 "$4" ip daddr $OUTSIDE_IP counter; }
}
NFT
}
probe_packets() { in_ns "$1" nft list table ip "$PROBE_TABLE" | sed -nE 's/.* counter packets ([0-9]+) .*/\1/p'; }
probe_disarm() { in_ns "$1" nft delete table ip "$PROBE_TABLE" 2>/dev/null || true; }

# A connection to the outside: the outside sees the pod's address, and not one packet for it crosses the veth
# (neither end counts one) and the node forwards none (its forwarding counter does not move; the parent's
# link counters would count the macvlan child's own packets, so they prove nothing).
outside_direct() {
  local name=$1 ns node host_veth n0 got pod_count node_count rc=0
  ns=$(pod_ns "$name")
  node=${POD_NODE[$name]}
  host_veth=$(host_veth_of "$name") || return 1
  probe_arm "$ns" postrouting oifname veth0 && probe_arm "$node" prerouting iifname "$host_veth" || rc=1
  n0=$(forwarded "$node")
  if ((rc == 0)); then
    got=$(connect_from "$ns" "" "$OUTSIDE_IP" "$SERVER_PORT")
    pod_count=$(probe_packets "$ns")
    node_count=$(probe_packets "$node")
    if [[ "$got" != "${POD_IP[$name]}" ]]; then
      echo "    | outside saw: $got" >&2; rc=1
    elif [[ "$pod_count" != 0 || "$node_count" != 0 ]]; then
      echo "    | packets for $OUTSIDE_IP crossed the veth: pod sent ${pod_count:-?}, node received ${node_count:-?}" >&2; rc=1
    elif [[ "$(forwarded "$node")" != "$n0" ]]; then
      echo "    | the node forwarded packets" >&2; rc=1
    fi
  fi
  probe_disarm "$ns"
  probe_disarm "$node"
  return "$rc"
}

# The node's probe to the pod goes over the veth and the pod's answer comes back over it.
node_probe_symmetric() {
  local name=$1 ns host_veth t0 r0 got
  ns=$(pod_ns "$name")
  host_veth=$(host_veth_of "$name") || return 1
  t0=$(tx_packets "${POD_NODE[$name]}" "$host_veth")
  r0=$(rx_packets "${POD_NODE[$name]}" "$host_veth")
  got=$(connect_from "${POD_NODE[$name]}" "" "${POD_IP[$name]}" "$SERVER_PORT")
  [[ "$got" == "$NODE1_IP" ]] || { echo "    | pod saw: $got" >&2; return 1; }
  (($(tx_packets "${POD_NODE[$name]}" "$host_veth") - t0 >= 3 && $(rx_packets "${POD_NODE[$name]}" "$host_veth") - r0 >= 3))
}

main() {
  lab_up
  install_topocni_as underlay-service
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.before"
  snapshot "$NS_NODE2" >"$LAB_TMP/node2.before"

  scenario_add_pods
  scenario_services_and_servers

  echo "== the pod's routes: default on the underlay, configured CIDRs and the node over the veth"
  expect_ok "p1: default route unchanged (via $GW_IP dev eth0)" \
    bash -c "ip -n '$(pod_ns p1)' route show default | grep '^default via $GW_IP dev eth0' >/dev/null"
  expect_ok "p1: $OUTSIDE_IP routed via eth0" route_dev_is p1 "$OUTSIDE_IP" eth0
  expect_ok "p1: Service 10.96.0.10 routed via veth0" route_dev_is p1 "$SVC_A" veth0
  expect_ok "p1: cluster CIDR 10.244.1.1 routed via veth0" route_dev_is p1 10.244.1.1 veth0
  expect_ok "p1: extra CIDR 169.254.20.10 routed via veth0" route_dev_is p1 169.254.20.10 veth0
  expect_ok "p1: its node $NODE1_IP routed via veth0" route_dev_is p1 "$NODE1_IP" veth0
  expect_ok "p1: the other node $NODE2_IP routed via eth0" route_dev_is p1 "$NODE2_IP" eth0
  if [[ -x "${TOPOCTL:-}" ]]; then
    expect_ok "topoctl plan after ADD prints \"No changes.\"" plan_is_empty p1
  else
    record 0 "topoctl plan (TOPOCTL not set or not executable: ${TOPOCTL:-unset})"
  fi

  scenario_check_outcomes

  echo "== the outside is reached directly on the underlay; the node's probe is symmetric over the veth"
  expect_ok "p1 -> $OUTSIDE_IP: outside sees ${POD_IP[p1]}, no packet on the veth, the node forwards none" \
    outside_direct p1
  expect_ok "p3 -> $OUTSIDE_IP: outside sees ${POD_IP[p3]}, no packet on the veth, the node forwards none" \
    outside_direct p3
  expect_ok "node1 -> p1: request and reply both cross the veth" node_probe_symmetric p1

  echo "== DEL returns the nodes to their exact initial state"
  services_flush
  for name in p3 p2 p1; do
    expect_ok "DEL $name" pod_del "$name"
  done
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.after"
  snapshot "$NS_NODE2" >"$LAB_TMP/node2.after"
  expect_ok "node1 snapshot after DEL == before ADD" snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after"
  expect_ok "node2 snapshot after DEL == before ADD" snapshots_equal "$LAB_TMP/node2.before" "$LAB_TMP/node2.after"
  expect_ok "no journal left" bash -c "[[ -z \"\$(find '$LAB_TMP/state' -type f -name '*.json')\" ]]"

  summary
}

main "$@"
