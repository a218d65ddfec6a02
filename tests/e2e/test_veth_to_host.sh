#!/usr/bin/env bash
# End-to-end test of topocni as the "veth-to-host" plugin, chained after Debian's macvlan +
# host-local exactly as a runtime would call them, in a lab of throwaway namespaces (lib.sh).
#
# Checks outcomes 1-5 of the design (docs in check_design.sh), and topoctl plan against the live
# pod: "No changes." right after ADD, and exactly one "+" for a route deleted by hand.
#
# Environment (ctest sets the first three):
#   TOPOCNI          the topocni plugin binary (invoked under the name veth-to-host)
#   TOPOCTL          the topoctl binary
#   TOPO_SOURCE_DIR  source tree (unused for now; lib.sh is found next to this script)
#   SECOND_PLUGIN    "manual" runs the same test with the ip/nft stand-in (manual_veth_to_host.sh),
#                    to prove the test itself; topoctl plan checks are then skipped.
# Exit status is non-zero when any check fails; the last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

SECOND_PLUGIN="${SECOND_PLUGIN:-topocni}"
if [[ "$SECOND_PLUGIN" == manual ]]; then
  PLUGIN_EXE="$HERE/manual_veth_to_host.sh"
else
  PLUGIN_EXE="${TOPOCNI:?set TOPOCNI to the topocni binary (or SECOND_PLUGIN=manual)}"
fi
[[ -x "$PLUGIN_EXE" ]] || die "plugin not executable: $PLUGIN_EXE"

plan_is_empty() { plan_shows_no_changes "$(pod_plan "$1")"; }
# The plan holds exactly one change, a "+" of a route to the given host address via the given device.
plan_is_only_create() {
  plan_shows_only_route_create "$(pod_plan "$1")" "$2" "$3" 'Plan: 1 to add, 0 to change, 0 to destroy.'
}

check_plans() {
  local p1=${POD_IP[p1]} host_veth
  echo "== topoctl plan against the live pod"
  if [[ "$SECOND_PLUGIN" == manual ]]; then
    echo "SKIP  plan checks (the stand-in plugin keeps no journal; they need topocni)"
    return 0
  fi
  if [[ ! -x "${TOPOCTL:-}" ]]; then
    record 0 "topoctl plan (TOPOCTL not set or not executable: ${TOPOCTL:-unset})"
    return 0
  fi
  expect_ok "plan after ADD prints \"No changes.\"" plan_is_empty p1
  # Remove one route the plugin owns, behind its back: the node's /32 route to the pod.
  host_veth=$(host_veth_of p1) || true
  if [[ -z "$host_veth" ]]; then
    record 0 "plan after deleting a route (host end of p1's veth0 not found)"
    return 0
  fi
  ip -n "$NS_NODE1" route del "$p1/32" dev "$host_veth"
  expect_ok "plan after deleting 'route $p1/32 dev $host_veth' shows exactly that route as +" \
    plan_is_only_create p1 "$p1" "$host_veth"
  # Put it back as the plugin made it, so the rest of the test sees the intended state.
  ip -n "$NS_NODE1" route add "$p1/32" dev "$host_veth" scope link
  expect_ok "plan after restoring the route prints \"No changes.\"" plan_is_empty p1
}

# Outcome 5: the host-local allocation of a pod is gone after DEL.
ipam_released() {
  local name=$1 dir
  dir="$LAB_TMP/ipam-${POD_NODE[$name]#"$LAB_PREFIX"}"
  ! grep -rqs -- "${POD_ID[$name]}" "$dir" --exclude='last_reserved_ip*'
}

no_leftover_on_node() {
  local node=$1 out
  out=$(snapshot "$node")
  # No veth, no policy rule other than the kernel's three, no nft table but kube-proxy's.
  ! grep -qE '^[0-9]+: veth' <<<"$out" &&
    [[ "$(ip -n "$node" rule show | wc -l)" -eq 3 ]] &&
    [[ -z "$(in_ns "$node" nft list tables | grep -vxE 'table ip (kubeproxy|hostfw)')" ]]
}

main() {
  lab_up
  use_second_plugin "$PLUGIN_EXE"
  log "second plugin: $SECOND_PLUGIN ($PLUGIN_EXE)"

  snapshot "$NS_NODE1" >"$LAB_TMP/node1.before"
  snapshot "$NS_NODE2" >"$LAB_TMP/node2.before"

  scenario_add_pods

  scenario_services_and_servers
  check_plans
  scenario_check_outcomes

  echo "== outcome 5: DEL returns the nodes to their exact initial state"
  services_flush
  for name in p3 p2 p1; do
    expect_ok "DEL $name" pod_del "$name"
    expect_ok "host-local released ${POD_IP[$name]} of $name" ipam_released "$name"
  done
  expect_ok "node1: no veth, policy rule or nft table left" no_leftover_on_node "$NS_NODE1"
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.after"
  snapshot "$NS_NODE2" >"$LAB_TMP/node2.after"
  expect_ok "node1 snapshot after last DEL == before first ADD" \
    snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after"
  expect_ok "node2 snapshot after DEL == before ADD" \
    snapshots_equal "$LAB_TMP/node2.before" "$LAB_TMP/node2.after"
  # A second DEL must succeed and change nothing (runtimes retry DEL; CNI spec).
  expect_ok "DEL p1 again is a no-op" pod_del p1
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.after2"
  expect_ok "node1 unchanged by the repeated DEL" \
    snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after2"

  summary
}

main "$@"
