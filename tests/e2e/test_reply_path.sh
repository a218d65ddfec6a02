#!/usr/bin/env bash
# End-to-end test of the reply-path pattern (tests/e2e/templates/reply-path.yaml; docs/templates.md, "Filter
# and mark rules"): a NodePort-like DNAT on node1 to a pod on the underlay, and a client on the underlay.
#
#   client (10.10.20.100) ── br0 ── node1 (10.10.20.1, DNAT :30080/:30081/:30082 -> pods p1/p2/p3 :8080)
#                                      └─ veth ─ p1, p2, p3 (macvlan eth0 on the underlay, veth0 to the node)
#
# p1 runs the template with its mark rules: the connection is marked as it arrives over veth0, its replies
# get the mark and a policy rule routes them over veth0 back to node1, where conntrack undoes the DNAT: the
# client's connection to 10.10.20.1:30080 succeeds. p1 has the lab's strict reverse-path filter (the mark
# rules make the veth the route back to the client). p2 runs the same template without the mark rules (the
# negative control), and p3 with them; both with rp_filter 0, so that without marks the SYN still reaches the
# server and only the reply's path differs: p2's replies leave on eth0 from the pod's own address and the
# client's connection to :30081 fails, p3's come back through the node (:30082). Packets are counted with
# the test's own nft counters, in the pods and in the client. DEL restores the node and each pod exactly as
# they were before topocni's ADD.
#
# Environment (ctest sets them): TOPOCNI, TOPOCTL (optional). Exit status is non-zero when any check fails;
# the last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

TOPOCNI="${TOPOCNI:?set TOPOCNI to the topocni binary}"
[[ -x "$TOPOCNI" ]] || die "TOPOCNI not executable: $TOPOCNI"

NS_CLIENT="${LAB_PREFIX}client"
CLIENT_IP=10.10.20.100
STEERED='{"name":"rp","type":"reply-path","hostInterface":"enp5s0f0"}'
UNSTEERED='{"name":"rp","type":"reply-path","hostInterface":"enp5s0f0","steerReplies":false}'
PORT_P1=30080
PORT_P2=30081
PORT_P3=30082

client_up() {
  ns_create "$NS_CLIENT"
  veth_between "$NS_SW" p-client "$NS_CLIENT" eth0
  ip -n "$NS_SW" link set p-client master br0
  ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev eth0
}

# The node's NodePort stand-in (kube-proxy without masquerade): the test's own table, removed before the
# final snapshot.
nodeport_up() {
  in_ns "$NS_NODE1" nft -f - <<NFT
table ip e2e_nodeport {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $NODE1_IP tcp dport $PORT_P1 dnat to ${POD_IP[p1]}:$SERVER_PORT
    ip daddr $NODE1_IP tcp dport $PORT_P2 dnat to ${POD_IP[p2]}:$SERVER_PORT
    ip daddr $NODE1_IP tcp dport $PORT_P3 dnat to ${POD_IP[p3]}:$SERVER_PORT
  }
}
NFT
}

# Counters of the test's own: in a pod, the server's packets leaving by veth0 and by eth0; in the client, the
# packets that came from the node's port and from the pod's own address.
PROBE=e2e_reply_probe
pod_probe_arm() { # name
  in_ns "$(pod_ns "$1")" nft -f - <<NFT
table ip $PROBE {
  chain out {
    type filter hook postrouting priority 300; policy accept;
    oifname "veth0" ip saddr ${POD_IP[$1]} tcp sport $SERVER_PORT counter comment "veth0"
    oifname "eth0" ip saddr ${POD_IP[$1]} tcp sport $SERVER_PORT counter comment "eth0"
  }
}
NFT
}
client_probe_arm() { # name port
  in_ns "$NS_CLIENT" nft -f - <<NFT
table ip $PROBE {
  chain in {
    type filter hook prerouting priority -300; policy accept;
    ip saddr $NODE1_IP tcp sport $2 counter comment "node"
    ip saddr ${POD_IP[$1]} tcp sport $SERVER_PORT counter comment "pod"
  }
}
NFT
}
# The packets of the counter with comment $2 in namespace $1.
probe_count() {
  in_ns "$1" nft list table ip "$PROBE" | sed -nE "s/.* counter packets ([0-9]+) .*comment \"$2\".*/\1/p"
}
probe_disarm() { in_ns "$1" nft delete table ip "$PROBE" 2>/dev/null || true; }

# ADD of pod $1 with the conflist entry $2, snapshotting the pod between the earlier plugins and topocni.
pod_up() {
  local name=$1 conf=$2
  conflist_switch "$NS_NODE1" "$conf"
  pod_add_but_last "$name" "$NS_NODE1" || return 1
  wait_dad "$(pod_ns "$name")"
  snapshot "$(pod_ns "$name")" >"$LAB_TMP/$name.before"
  pod_add_last "$name"
}

# The client connects to node1:port; prints what the server saw (or "error: ...") and leaves the counters.
CONNECT_OUT=""
connect_through_node() { # name port
  local name=$1 port=$2
  pod_probe_arm "$name"
  client_probe_arm "$name" "$port"
  CONNECT_OUT=$(connect_from "$NS_CLIENT" "" "$NODE1_IP" "$port")
  VETH=$(probe_count "$(pod_ns "$name")" veth0)
  ETH=$(probe_count "$(pod_ns "$name")" eth0)
  FROM_NODE=$(probe_count "$NS_CLIENT" node)
  FROM_POD=$(probe_count "$NS_CLIENT" pod)
  echo "    | $name: client saw '${CONNECT_OUT}'; pod sent $VETH on veth0, $ETH on eth0; client got $FROM_NODE from $NODE1_IP:$port, $FROM_POD from ${POD_IP[$name]}"
  probe_disarm "$(pod_ns "$name")"
  probe_disarm "$NS_CLIENT"
}

main() {
  lab_up
  client_up
  use_second_plugin "$TOPOCNI" reply-path
  LAB_PLUGIN_ENV+=("TOPOCNI_TEMPLATE_PATH=$HERE/templates")
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.before"

  echo "== ADD: p1 and p3 with the mark rules, p2 without (negative control)"
  if pod_up p1 "$STEERED"; then record 1 "ADD p1 (${POD_IP[p1]}), steered"; else record 0 "ADD p1"; summary || exit 1; fi
  LAB_POD_RP_FILTER=0
  if pod_up p2 "$UNSTEERED"; then record 1 "ADD p2 (${POD_IP[p2]}), not steered, rp_filter 0"; else record 0 "ADD p2"; summary || exit 1; fi
  if pod_up p3 "$STEERED"; then record 1 "ADD p3 (${POD_IP[p3]}), steered, rp_filter 0"; else record 0 "ADD p3"; summary || exit 1; fi
  nodeport_up
  server_start "$(pod_ns p1)"
  server_start "$(pod_ns p2)"
  server_start "$(pod_ns p3)"

  echo "== what nft shows in p1 (topocni's rules) and p2 (none)"
  local ruleset
  ruleset=$(in_ns "$(pod_ns p1)" nft list table inet topocni)
  printf '%s\n' "$ruleset" | sed 's/^/    | /'
  expect_ok "p1: iifname \"veth0\" ct state new ct mark set ... in a prerouting chain" \
    grep -q 'iifname "veth0" ct state new ct mark set 0x00000010 comment' <<<"$ruleset"
  expect_ok "p1: ct mark & 0x000000ff == 0x00000010 meta mark set ct mark in a type route output chain" \
    bash -c "grep -q 'type route hook output priority mangle' <<<'$ruleset' &&
             grep -q '^[[:space:]]*meta nfproto ipv4 ct mark & 0x000000ff == 0x00000010 meta mark set ct mark comment' <<<'$ruleset'"
  expect_ok "p2: no topocni table (no rule to make)" \
    bash -c "! ip netns exec '$(pod_ns p2)' nft list table inet topocni >/dev/null 2>&1"
  if [[ -x "${TOPOCTL:-}" ]]; then
    # The node's conflist holds p3's entry now (the last ADD): a second ADD of p3 would change nothing, its
    # filter and mark rules included (each decoded from the kernel equals the rendered one).
    local plan
    plan=$(ip netns exec "$NS_NODE1" env "${LAB_PLUGIN_ENV[@]}" "$TOPOCTL" plan --config "$(conflist_path "$NS_NODE1")" \
      --netns "/var/run/netns/$(pod_ns p3)" --container-id "${POD_ID[p3]}" --ifname eth0 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g') || true
    grep -qx 'No changes\.' <<<"$plan" || printf '%s\n' "$plan" | sed 's/^/    | /'
    expect_ok "topoctl plan of p3 (its conflist entry) prints \"No changes.\"" grep -qx 'No changes\.' <<<"$plan"
  else
    record 0 "topoctl plan (TOPOCTL not set or not executable: ${TOPOCTL:-unset})"
  fi

  echo "== the client connects to the node's NodePort"
  connect_through_node p1 "$PORT_P1"
  expect_ok "p1 (steered): the connection to $NODE1_IP:$PORT_P1 works, the server saw the client $CLIENT_IP" \
    test "$CONNECT_OUT" == "$CLIENT_IP"
  expect_ok "p1: the replies left over veth0 (>= 2), none on eth0" test "${VETH:-0}" -ge 2 -a "${ETH:-1}" -eq 0
  expect_ok "p1: the client got them from $NODE1_IP:$PORT_P1 (>= 2), none from the pod's own address" \
    test "${FROM_NODE:-0}" -ge 2 -a "${FROM_POD:-1}" -eq 0

  connect_through_node p2 "$PORT_P2"
  expect_ok "p2 (no mark rules): the connection to $NODE1_IP:$PORT_P2 fails" test "${CONNECT_OUT#error}" != "$CONNECT_OUT"
  expect_ok "p2: the replies left on eth0 (>= 1), none over veth0" test "${ETH:-0}" -ge 1 -a "${VETH:-1}" -eq 0
  expect_ok "p2: the client got them from the pod's own address (>= 1), none from $NODE1_IP:$PORT_P2" \
    test "${FROM_POD:-0}" -ge 1 -a "${FROM_NODE:-1}" -eq 0

  connect_through_node p3 "$PORT_P3"
  expect_ok "p3 (steered, rp_filter 0 as p2): the connection to $NODE1_IP:$PORT_P3 works" test "$CONNECT_OUT" == "$CLIENT_IP"
  expect_ok "p3: the replies left over veth0 (>= 2), none on eth0" test "${VETH:-0}" -ge 2 -a "${ETH:-1}" -eq 0
  expect_ok "p3: the client got them from $NODE1_IP:$PORT_P3 (>= 2), none from the pod's own address" \
    test "${FROM_NODE:-0}" -ge 2 -a "${FROM_POD:-1}" -eq 0

  echo "== DEL restores each pod and the node exactly"
  local name
  for name in p1 p2 p3; do
    if [[ $name == p2 ]]; then conflist_switch "$NS_NODE1" "$UNSTEERED"; else conflist_switch "$NS_NODE1" "$STEERED"; fi
    expect_ok "DEL $name (topocni)" pod_del_last "$name"
    snapshot "$(pod_ns "$name")" >"$LAB_TMP/$name.after"
    expect_ok "$name snapshot after DEL == before topocni's ADD" snapshots_equal "$LAB_TMP/$name.before" "$LAB_TMP/$name.after"
    expect_ok "DEL $name (the whole chain)" pod_del "$name"
  done
  in_ns "$NS_NODE1" nft delete table ip e2e_nodeport
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.after"
  expect_ok "node1 snapshot after DEL == before ADD" snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after"
  expect_ok "no journal left" bash -c "[[ -z \"\$(find '$LAB_TMP/state' -type f -name '*.json')\" ]]"

  summary
}

main "$@"
