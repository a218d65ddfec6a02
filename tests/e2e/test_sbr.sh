#!/usr/bin/env bash
# End-to-end test of specs/sbr.yaml against the reference plugin it imitates (/usr/lib/cni/sbr), side
# by side on one node of the lab (lib.sh): pod "ref" is macvlan+host-local then the real sbr, pod "topo"
# is the same chain then topocni (invoked as "sbr-topo" with "template": "sbr"). Both pods get the
# same config; their rules and routes must be equal — table numbers and rule priorities included — after
# normalising only what must differ between two pods (own addresses, link-local addresses) and the
# protocol field (see pod_routing_normalised); so must what traffic does in them. Then DEL of the last
# plugin: topocni must leave the pod exactly as the earlier plugins made it (moved routes put back); the
# reference only removes its rules (reported, not a failure).
# With LAB_IPV6=1 (test_sbr_dual_stack.sh) the pods are dual-stack: a table and a rule per address.
#
# Environment (ctest sets them): TOPOCNI (plugin binary), TOPOCTL, TOPO_SOURCE_DIR (templates are read
# from $TOPO_SOURCE_DIR/specs when set, else the compiled-in copies are used).
# Exit status is non-zero when any check fails; the last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

TOPOCNI="${TOPOCNI:?set TOPOCNI to the topocni binary}"
[[ -x "$TOPOCNI" ]] || die "TOPOCNI not executable: $TOPOCNI"
[[ -x "$CNI_SYSTEM_BIN/sbr" ]] || die "reference plugin $CNI_SYSTEM_BIN/sbr not found"

REF_CONF='{"type":"sbr"}'
TOPO_CONF='{"type":"sbr-topo","template":"sbr"}'

same() {
  local a=$1 b=$2
  if diff -u "$a" "$b" >&2; then return 0; fi
  return 1
}

section() { sed -n "/^## $2/,/^## /p" "$1" | grep -v '^## '; }

# Traffic in an sbr pod: every route of eth0 left the main table, so an unbound socket cannot route
# (ENETUNREACH in both pods), while one bound to the pod's address is routed by the interface's table.
traffic_checks() {
  local name=$1 ns ip got dst
  ns=$(pod_ns "$name")
  ip=${POD_IP[$name]}
  for dst in "$OUTSIDE_IP" "$NODE2_IP"; do
    got=$(connect_from "$ns" "$ip" "$dst" "$SERVER_PORT")
    if [[ "$got" == "$ip" ]]; then record 1 "$name: bound to $ip reaches $dst (server saw $got)"
    else record 0 "$name: bound to $ip reaches $dst ($got)"; fi
  done
  connect_from "$ns" "" "$OUTSIDE_IP" "$SERVER_PORT" >"$LAB_TMP/$name.unbound"
}

main() {
  lab_up
  install_topocni_as sbr-topo  # found before Debian's real sbr

  echo "== ADD: the earlier plugins, then sbr (reference) / sbr-topo (topocni)"
  conflist_switch "$NS_NODE1" "$REF_CONF"
  expect_ok "ADD ref: macvlan + host-local" pod_add_but_last ref "$NS_NODE1"
  wait_dad "$(pod_ns ref)"  # the link-local address' local route appears after DAD
  pod_routing_normalised ref >"$LAB_TMP/ref.before"
  expect_ok "ADD ref: reference sbr" pod_add_last ref
  conflist_switch "$NS_NODE1" "$TOPO_CONF"
  expect_ok "ADD topo: macvlan + host-local" pod_add_but_last topo "$NS_NODE1"
  wait_dad "$(pod_ns topo)"  # the link-local address' local route appears after DAD
  pod_routing_normalised topo >"$LAB_TMP/topo.before"
  expect_ok "ADD topo: topocni as sbr" pod_add_last topo
  expect_ok "the pods were identical before sbr" same "$LAB_TMP/ref.before" "$LAB_TMP/topo.before"

  pod_routing_normalised ref >"$LAB_TMP/ref.after"
  pod_routing_normalised topo >"$LAB_TMP/topo.after"
  echo "-- reference pod after sbr (normalised):"; sed 's/^/    | /' "$LAB_TMP/ref.after"

  echo "== side by side: the same rules and routes"
  section "$LAB_TMP/ref.after" rules >"$LAB_TMP/ref.rules"
  section "$LAB_TMP/topo.after" rules >"$LAB_TMP/topo.rules"
  grep -v '^v6 ' <(section "$LAB_TMP/ref.after" routes) >"$LAB_TMP/ref.r4" || true
  grep -v '^v6 ' <(section "$LAB_TMP/topo.after" routes) >"$LAB_TMP/topo.r4" || true
  grep '^v6 ' <(section "$LAB_TMP/ref.after" routes) >"$LAB_TMP/ref.r6" || true
  grep '^v6 ' <(section "$LAB_TMP/topo.after" routes) >"$LAB_TMP/topo.r6" || true
  expect_ok "ip rule (v4 + v6) equal" same "$LAB_TMP/ref.rules" "$LAB_TMP/topo.rules"
  expect_ok "ip -4 route show table all equal" same "$LAB_TMP/ref.r4" "$LAB_TMP/topo.r4"
  expect_ok "ip -6 route show table all equal" same "$LAB_TMP/ref.r6" "$LAB_TMP/topo.r6"
  expect_ok "the reference's rule is 'from POD_IP lookup 100' at 32765" \
    grep -qx '32765:	from POD_IP lookup 100' "$LAB_TMP/ref.rules"
  if [[ "$LAB_IPV6" == 1 ]]; then
    expect_ok "the reference's IPv6 rule is 'from POD_IP6 lookup 101' at 32765" \
      grep -qx 'v6 32765:	from POD_IP6 lookup 101' "$LAB_TMP/ref.rules"
  fi
  expect_ok "the main table holds no route of eth0 any more (moved)" \
    bash -c "! ip -n '$(pod_ns topo)' route show table main | grep ."

  echo "== side by side: traffic"
  local ns
  for ns in "$NS_OUT" "$NS_NODE2"; do server_start "$ns"; done
  traffic_checks ref
  traffic_checks topo
  expect_ok "an unbound connect behaves the same in both pods ($(cat "$LAB_TMP/ref.unbound"))" \
    same "$LAB_TMP/ref.unbound" "$LAB_TMP/topo.unbound"

  echo "== topoctl plan"
  if [[ -x "${TOPOCTL:-}" ]]; then
    local out
    out=$(ip netns exec "$NS_NODE1" env "${LAB_PLUGIN_ENV[@]}" "$TOPOCTL" plan --config "$(conflist_path "$NS_NODE1")" \
      --netns "/var/run/netns/$(pod_ns topo)" --container-id "${POD_ID[topo]}" --ifname eth0 2>&1 |
      sed -E 's/\x1b\[[0-9;]*m//g') || true
    if grep -qx 'No changes\.' <<<"$out"; then record 1 "plan after ADD prints \"No changes.\""
    else printf '%s\n' "$out" | sed 's/^/    | /' >&2; record 0 "plan after ADD prints \"No changes.\""; fi
  else
    record 0 "topoctl plan (TOPOCTL not set or not executable: ${TOPOCTL:-unset})"
  fi

  echo "== DEL of sbr alone (the macvlan interface stays)"
  expect_ok "DEL topo: topocni as sbr" pod_del_last topo
  pod_routing_normalised topo >"$LAB_TMP/topo.del"
  expect_ok "topo: after DEL the pod is exactly as before sbr (routes back in main)" \
    same "$LAB_TMP/topo.before" "$LAB_TMP/topo.del"
  expect_ok "DEL topo again is a no-op" pod_del_last topo
  pod_routing_normalised topo >"$LAB_TMP/topo.del2"
  expect_ok "topo: unchanged by the repeated DEL" same "$LAB_TMP/topo.before" "$LAB_TMP/topo.del2"
  conflist_switch "$NS_NODE1" "$REF_CONF"
  expect_ok "DEL ref: reference sbr" pod_del_last ref
  pod_routing_normalised ref >"$LAB_TMP/ref.del"
  section "$LAB_TMP/ref.del" rules >"$LAB_TMP/ref.del.rules"
  section "$LAB_TMP/ref.before" rules >"$LAB_TMP/ref.before.rules"
  expect_ok "ref: DEL removes the reference's rule" same "$LAB_TMP/ref.before.rules" "$LAB_TMP/ref.del.rules"
  if same "$LAB_TMP/ref.before" "$LAB_TMP/ref.del" 2>/dev/null; then
    echo "INFO  ref: the reference's DEL also put the routes back"
  else
    echo "INFO  ref: the reference's DEL leaves the moved routes in its table (documented difference):"
    diff "$LAB_TMP/ref.before" "$LAB_TMP/ref.del" | sed 's/^/    | /' || true
  fi

  echo "== DEL of the whole chain"
  expect_ok "DEL ref (whole chain)" pod_del ref
  conflist_switch "$NS_NODE1" "$TOPO_CONF"
  expect_ok "DEL topo (whole chain)" pod_del topo
  expect_ok "no journal left" bash -c "[[ -z \"\$(find '$LAB_TMP/state' -type f -name '*.json')\" ]]"

  summary
}

main "$@"
