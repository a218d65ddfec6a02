#!/usr/bin/env bash
# End-to-end test of veth-to-host for dual-stack pods: the lab of lib.sh with LAB_IPV6=1, where
# host-local gives every pod an IPv4 and an IPv6 address, and kube-proxy DNATs Services of both
# families. Checks outcomes 1-5 for IPv4 and IPv6 alike, plus the IPv6 design's own pieces (the
# link-local next hops, the ip6 policy rule, ip6 NAT).
#
# Environment (ctest sets the first three):
#   TOPOCNI          the topocni plugin binary (invoked under the name veth-to-host)
#   TOPOCTL          the topoctl binary (plan check skipped with a FAIL when missing)
#   TOPO_SOURCE_DIR  source tree (unused; lib.sh is found next to this script)
# Exit status is non-zero when any check fails; the last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export LAB_IPV6=1
# shellcheck source=lib.sh
source "$HERE/lib.sh"

PLUGIN_EXE="${TOPOCNI:?set TOPOCNI to the topocni binary}"

SVC6_A=fd00:96::a # -> hostNetwork server on node1
SVC6_B=fd00:96::b # -> hostNetwork server on node2
SVC6_C=fd00:96::c # -> pod p3 on node2
SVC6_D=fd00:96::d # -> pod p2 on node1

services6_add() {
  service_add "$SVC6_A" "$SVC_PORT" "$NODE1_IP6" "$SERVER_PORT"
  service_add "$SVC6_B" "$SVC_PORT" "$NODE2_IP6" "$SERVER_PORT"
  service_add "$SVC6_C" "$SVC_PORT" "${POD_IP6[p3]}" "$SERVER_PORT"
  service_add "$SVC6_D" "$SVC_PORT" "${POD_IP6[p2]}" "$SERVER_PORT"
}

# The pieces of the IPv6 design, read back from the kernel.
pod_has_v6_design() {
  local ns
  ns=$(pod_ns p1)
  ip -n "$ns" -6 addr show dev veth0 | grep 'inet6 fe80::2/64' >/dev/null &&
    ip -n "$ns" -6 route show default | grep 'via fe80::1 dev veth0' >/dev/null &&
    ip -n "$ns" -6 route show "$NODE1_IP6" | grep 'via fe80::1 dev veth0' >/dev/null &&
    [[ "$(in_ns "$ns" sysctl -n net.ipv6.conf.all.forwarding)" == 1 ]] &&
    in_ns "$ns" nft list ruleset | grep -E 'iifname "veth0" oifname "eth0" .*masquerade' >/dev/null
}

node_has_v6_design() {
  local hv
  hv=$(host_veth_of p1) || return 1
  ip -n "$NS_NODE1" -6 addr show dev "$hv" | grep 'inet6 fe80::1/64' >/dev/null &&
    ip -n "$NS_NODE1" -6 route show "${POD_IP6[p1]}" | grep "via fe80::2 dev $hv" >/dev/null &&
    ip -n "$NS_NODE1" -6 rule show | grep "iif $hv lookup" >/dev/null &&
    in_ns "$NS_NODE1" nft list ruleset | grep -E "snat (ip6 )?to $NODE1_IP6" >/dev/null
}

plan_is_empty() { plan_shows_no_changes "$(pod_plan "$1")"; }

ipam_released() {
  local name=$1 dir
  dir="$LAB_TMP/ipam-${POD_NODE[$name]#"$LAB_PREFIX"}"
  ! grep -rqs -- "${POD_ID[$name]}" "$dir" --exclude='last_reserved_ip*'
}

no_leftover_on_node() {
  local node=$1
  ! ip -n "$node" -o link show | grep -E '^[0-9]+: veth' >/dev/null &&
    [[ "$(ip -n "$node" rule show | wc -l)" -eq 3 ]] &&
    [[ "$(ip -n "$node" -6 rule show | wc -l)" -eq 2 ]] &&
    [[ -z "$(in_ns "$node" nft list tables | grep -vxE 'table ip6? kubeproxy')" ]]
}

main() {
  [[ -x "$PLUGIN_EXE" ]] || die "plugin not executable: $PLUGIN_EXE"
  lab_up
  use_second_plugin "$PLUGIN_EXE"

  snapshot "$NS_NODE1" >"$LAB_TMP/node1.before"
  snapshot "$NS_NODE2" >"$LAB_TMP/node2.before"

  echo "== ADD (dual-stack)"
  local name node
  for name in p1 p2 p3; do
    node=$NS_NODE1
    [[ $name == p3 ]] && node=$NS_NODE2
    if pod_add "$name" "$node" && [[ -n "${POD_IP6[$name]:-}" ]]; then
      record 1 "ADD $name on ${node#"$LAB_PREFIX"} (${POD_IP[$name]}, ${POD_IP6[$name]})"
    else
      record 0 "ADD $name on ${node#"$LAB_PREFIX"} with an IPv4 and an IPv6 address"
      summary || exit 1
    fi
  done

  echo "== the IPv6 design in the kernel"
  expect_ok "pod: fe80::2 on veth0, default and node /128 via fe80::1, all.forwarding=1, ip6 masquerade" \
    pod_has_v6_design
  expect_ok "node: fe80::1 on the veth, pod /128 via fe80::2, ip6 rule iif veth, snat to $NODE1_IP6" \
    node_has_v6_design
  if [[ -x "${TOPOCTL:-}" ]]; then
    expect_ok "topoctl plan after a dual-stack ADD prints \"No changes.\"" plan_is_empty p1
  else
    record 0 "topoctl plan (TOPOCTL not set or not executable)"
  fi

  scenario_services_and_servers
  services6_add
  scenario_check_outcomes
  scenario_check_outcomes 6

  echo "== outcome 5: DEL returns the nodes to their exact initial state (both families)"
  services_flush
  for name in p3 p2 p1; do
    expect_ok "DEL $name" pod_del "$name"
    expect_ok "host-local released ${POD_IP[$name]} and ${POD_IP6[$name]} of $name" ipam_released "$name"
  done
  expect_ok "node1: no veth, policy rule (v4 or v6) or nft table left" no_leftover_on_node "$NS_NODE1"
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.after"
  snapshot "$NS_NODE2" >"$LAB_TMP/node2.after"
  expect_ok "node1 snapshot (incl. IPv6 routes, rules, sysctls) after DEL == before ADD" \
    snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after"
  expect_ok "node2 snapshot after DEL == before ADD" \
    snapshots_equal "$LAB_TMP/node2.before" "$LAB_TMP/node2.after"
  expect_ok "DEL p1 again is a no-op" pod_del p1

  summary
}

main "$@"
