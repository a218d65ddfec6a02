#!/usr/bin/env bash
# topocni demo: a pod on an underlay (macvlan) network that can still reach Services and its node.
#
# Builds a small lab of throwaway network namespaces (two nodes, a gateway, an "outside" host, a
# kube-proxy-like DNAT on each node), shows what topoctl would change for a pod, runs the real CNI
# chain (Debian's macvlan + host-local, then topocni as veth-to-host), shows the result on both
# sides, proves connectivity, runs DEL and shows the node is back to where it started.
# Everything is removed on exit, also on failure or Ctrl-C. Needs root.
#
# Without TOPOCNI/TOPOCTL it first installs the dependencies and builds (the README's first command):
#   sudo scripts/demo.sh
# With them it only runs the demo:
#   TOPOCNI=./build/plugin/topocni TOPOCTL=./build/cli/topoctl sudo scripts/demo.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root: the demo creates network namespaces" >&2; exit 1; }
if [[ -z "${TOPOCNI:-}" && -z "${TOPOCTL:-}" ]]; then
  "$ROOT/scripts/lib/install-deps.sh"
  "$ROOT/scripts/lib/build.sh"
fi
TOPOCNI=$(readlink -f "${TOPOCNI:-$ROOT/build/plugin/topocni}")
TOPOCTL=$(readlink -f "${TOPOCTL:-$ROOT/build/cli/topoctl}")
# shellcheck source=../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"

[[ -x "$TOPOCNI" ]] || die "topocni not found at $TOPOCNI (build first, or set TOPOCNI)"
[[ -x "$TOPOCTL" ]] || die "topoctl not found at $TOPOCTL (build first, or set TOPOCTL)"

step() { printf '\n\033[1m### %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" | sed 's/^/  /'; }

step "Building the lab: node1, node2, gateway and an outside host on one underlay"
lab_up
use_second_plugin "$TOPOCNI"
conflist=$(conflist_write "$NS_NODE1")
conflist_write "$NS_NODE2" >/dev/null
echo "node1 $NODE1_IP, node2 $NODE2_IP, gateway $GW_IP, outside $OUTSIDE_IP"
echo "The CNI config node1's runtime uses:"
sed 's/^/  /' "$conflist"
snapshot "$NS_NODE1" >"$LAB_TMP/node1.before"

step "A pod on node2 and a second pod on node1 (Service backends)"
pod_add p3 "$NS_NODE2"
pod_add p2 "$NS_NODE1"

step "What topocni would do for pod p1 (topoctl plan: a dry run, changes nothing)"
# The plan needs the macvlan result the runtime passes as prevResult: run the first plugin alone.
p1ns=$(pod_ns p1)
ns_create "$p1ns"
p1id="p1-demo"
cni_invoke "$NS_NODE1" ADD "$p1id" "$p1ns" "$(plugin_config "$conflist" 0)" >"$LAB_TMP/p1.prev.json"
in_ns "$NS_NODE1" env "${LAB_PLUGIN_ENV[@]}" "$TOPOCTL" plan --config "$conflist" --netns "/var/run/netns/$p1ns" \
  --container-id "$p1id" --ifname eth0 --prev-result "$LAB_TMP/p1.prev.json" | sed 's/^/  /'
# Undo the lone macvlan ADD, so p1 is then created exactly as a runtime would.
cni_invoke "$NS_NODE1" DEL "$p1id" "$p1ns" "$(plugin_config "$conflist" 0)" >/dev/null
ip netns del "$p1ns"
unset 'LAB_NAMESPACES[-1]'

step "ADD pod p1 on node1: macvlan + host-local, then topocni as veth-to-host"
pod_add p1 "$NS_NODE1"
P1=${POD_IP[p1]}
host_veth=$(host_veth_of p1)

step "Node side (node1)"
show ip -n "$NS_NODE1" route show dev "$host_veth"
show ip -n "$NS_NODE1" rule show
table=$(ip -n "$NS_NODE1" rule show iif "$host_veth" | sed -nE 's/.* lookup ([^ ]+).*/\1/p' | head -n1)
[[ -n "$table" ]] && show ip -n "$NS_NODE1" route show table "$table"
show in_ns "$NS_NODE1" nft list ruleset

step "Pod side (p1)"
show ip -n "$p1ns" -br addr
show ip -n "$p1ns" route
show in_ns "$p1ns" nft list ruleset

step "Connectivity (each server replies with the source address it saw)"
scenario_services_and_servers
expect_reach "$p1ns" "$NODE1_IP" "$SERVER_PORT" "$P1" "pod -> its own node"
expect_reach "$p1ns" "$NODE2_IP" "$SERVER_PORT" "$P1" "pod -> other node"
expect_reach "$p1ns" "$OUTSIDE_IP" "$SERVER_PORT" "$P1" "pod -> beyond the gateway"
expect_reach "$p1ns" "$SVC_A" "$SVC_PORT" "$P1" "pod -> Service A (hostNetwork, same node)"
expect_reach "$p1ns" "$SVC_B" "$SVC_PORT" "$P1" "pod -> Service B (hostNetwork, other node)"
expect_reach "$p1ns" "$SVC_C" "$SVC_PORT" "$P1" "pod -> Service C (pod on other node)"
expect_reach "$p1ns" "$SVC_D" "$SVC_PORT" "$P1" "pod -> Service D (pod on same node)"
expect_reach "$NS_NODE1" "$P1" "$SERVER_PORT" "$NODE1_IP" "node -> pod (kubelet probe)"
expect_reach "$NS_NODE2" "$P1" "$SERVER_PORT" "$NODE2_IP" "other node -> pod"

step "DEL every pod, and compare node1 with its state before the first ADD"
services_flush
pod_del p1
pod_del p2
pod_del p3
snapshot "$NS_NODE1" >"$LAB_TMP/node1.after"
if snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after"; then
  echo "node1 is exactly as it was: no veth, rule, route, nft table or address allocation left."
else
  echo "node1 differs from its initial state (diff above)."
  FAIL_COUNT=$((FAIL_COUNT + 1))
fi

step "Summary"
summary && echo "Tearing the lab down." || { echo "Tearing the lab down."; exit 1; }
