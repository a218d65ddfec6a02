#!/usr/bin/env bash
# The measurement behind `topoctl doctor`'s kube-proxy-masquerade finding (docs/topoctl.md#doctor): in the
# e2e lab, a veth-to-host pod with ipMasq false reaches a Service backed by its own node's host network, but
# not one backed by the other node's, with no masquerade on the node and with one masquerading every DNATed
# connection (`ct status dnat masquerade`, a stand-in for kube-proxy's masquerade-all). Not part of the suite
# (a manual_* script): run it with TOPOCNI=build/plugin/topocni bash tests/e2e/manual_doctor_masquerade.sh.
# Expected: svc A PASS, svc B FAIL twice.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
SECOND_PLUGIN_CONF='{"name":"myptp","type":"veth-to-host","hostInterface":"enp5s0f0","containerInterface":"veth0","ipMasq":false}'
lab_up
install_topocni_as veth-to-host
pod_add p1 "$NS_NODE1"
service_add "$SVC_A" "$SVC_PORT" "$NODE1_IP" "$SERVER_PORT"
service_add "$SVC_B" "$SVC_PORT" "$NODE2_IP" "$SERVER_PORT"
server_start "$NS_NODE1"
server_start "$NS_NODE2"
echo "-- ipMasq false, no masquerade on node1"
expect_reach "$(pod_ns p1)" "$SVC_A" "$SVC_PORT" "" "svc A (node1 host network)"
expect_reach "$(pod_ns p1)" "$SVC_B" "$SVC_PORT" "" "svc B (node2 host network)"
in_ns "$NS_NODE1" nft -f - <<'NFT'
table ip kpm {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    ct status dnat masquerade
  }
}
NFT
echo "-- ipMasq false, every DNATed connection masqueraded on node1"
expect_reach "$(pod_ns p1)" "$SVC_B" "$SVC_PORT" "" "svc B (node2 host network)"
summary || true
