#!/usr/bin/env bash
# End-to-end test of specs/route-override.yaml: topocni installed under the name "route-override"
# (no "template" key: the type names the template), chained after Debian's macvlan + host-local in the
# lab of lib.sh. Each pod gets one config of the reference plugin's keys; the test checks the pod's main
# table against what the reference's documented order (flush, delete, add, flush gateway) gives, that
# traffic follows it, that a second plan is empty, and that DEL of route-override alone puts the
# previous plugin's routes back (the pod is as before, byte for byte after normalising).
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

declare -A CONF=() EXPECT=()
# Every pod: its second plugin's config, and its main table afterwards (ip -4 route show table main,
# protocols dropped, the pod's address as POD_IP, sorted).
CONF[ro1]='{"type":"route-override","delroutes":[{"dst":"0.0.0.0/0"}],"addroutes":[{"dst":"192.0.2.0/24","gw":"10.10.20.254"}]}'
EXPECT[ro1]='10.10.20.0/24 dev eth0 scope link src POD_IP
192.0.2.0/24 via 10.10.20.254 dev eth0'
# flushroutes removes the default route; addroutes gives one again, via node2 (same key: a takeover).
CONF[ro2]='{"type":"route-override","flushroutes":true,"addroutes":[{"dst":"192.0.2.0/24"},{"dst":"0.0.0.0/0","gw":"10.10.20.2"}]}'
EXPECT[ro2]='10.10.20.0/24 dev eth0 scope link src POD_IP
192.0.2.0/24 via 10.10.20.254 dev eth0
default via 10.10.20.2 dev eth0'
# flushgateway runs last: the added default route goes too, the other added route stays.
CONF[ro3]='{"type":"route-override","flushgateway":true,"addroutes":[{"dst":"0.0.0.0/0","gw":"10.10.20.2"},{"dst":"198.51.100.0/24","gw":"10.10.20.254"}]}'
EXPECT[ro3]='10.10.20.0/24 dev eth0 scope link src POD_IP
198.51.100.0/24 via 10.10.20.254 dev eth0'
# Nothing asked: nothing changes.
CONF[ro4]='{"type":"route-override"}'
EXPECT[ro4]='10.10.20.0/24 dev eth0 scope link src POD_IP
default via 10.10.20.254 dev eth0'
PODS=(ro1 ro2 ro3 ro4)

main_table() {
  local name=$1
  ip -n "$(pod_ns "$name")" -4 route show table main |
    sed -E -e 's/ proto [a-z0-9]+//g' -e "s/\b${POD_IP[$name]//./\\.}\b/POD_IP/g" -e 's/ +$//' | sort
}

main_table_is() {
  local name=$1
  if diff -u <(sort <<<"${EXPECT[$name]}") <(main_table "$name") >&2; then return 0; fi
  return 1
}

plan_is_empty() { plan_shows_no_changes "$(pod_plan "$1")"; }

reach_outside() {
  local got
  got=$(connect_from "$(pod_ns "$1")" "" "$OUTSIDE_IP" "$SERVER_PORT")
  [[ "$got" == "${POD_IP[$1]}" ]] || { echo "    | $got" >&2; return 1; }
}

no_reach_outside() { ! reach_outside "$1" 2>/dev/null; }

route_get_via() {
  ip -n "$(pod_ns "$1")" route get "$2" 2>&1 | grep " via $3 " >/dev/null
}

main() {
  lab_up
  install_topocni_as route-override
  server_start "$NS_OUT"
  local name
  for name in "${PODS[@]}"; do
    echo "== $name: ${CONF[$name]}"
    conflist_switch "$NS_NODE1" "${CONF[$name]}"
    if ! pod_add_but_last "$name" "$NS_NODE1"; then record 0 "$name: ADD macvlan + host-local"; continue; fi
    wait_dad "$(pod_ns "$name")"
    pod_routing_normalised "$name" >"$LAB_TMP/$name.before"
    if ! pod_add_last "$name"; then record 0 "$name: ADD route-override"; continue; fi
    record 1 "$name: ADD route-override"
    expect_ok "$name: main table as configured" main_table_is "$name"
    if [[ -x "${TOPOCTL:-}" ]]; then
      expect_ok "$name: topoctl plan after ADD prints \"No changes.\"" plan_is_empty "$name"
    else
      record 0 "$name: topoctl plan (TOPOCTL not set or not executable: ${TOPOCTL:-unset})"
    fi
    case $name in
      ro1)
        expect_ok "$name: reaches $OUTSIDE_IP through the added route" reach_outside "$name"
        expect_ok "$name: no default route (203.0.113.1 unreachable)" \
          bash -c "! ip -n '$(pod_ns "$name")' route get 203.0.113.1 >/dev/null 2>&1" ;;
      ro2)
        expect_ok "$name: the default route goes via node2" route_get_via "$name" 203.0.113.1 "$NODE2_IP"
        expect_ok "$name: $OUTSIDE_IP via the gateway (added route without gw)" \
          route_get_via "$name" "$OUTSIDE_IP" "$GW_IP"
        expect_ok "$name: reaches $OUTSIDE_IP" reach_outside "$name" ;;
      ro3)
        expect_ok "$name: 198.51.100.1 via the gateway" route_get_via "$name" 198.51.100.1 "$GW_IP"
        expect_ok "$name: $OUTSIDE_IP unreachable (no default route)" no_reach_outside "$name" ;;
      ro4)
        expect_ok "$name: reaches $OUTSIDE_IP" reach_outside "$name" ;;
    esac
  done

  echo "== a config as the reference's README writes it (\"flushroutes\": \"true\", a string)"
  conflist_switch "$NS_NODE1" '{"type":"route-override","flushroutes":"true"}'
  local out
  if pod_add_but_last bad "$NS_NODE1" && ! out=$(pod_add_last bad 2>&1); then
    if grep -q 'flushroutes' <<<"$out"; then record 1 "ADD fails and names config.flushroutes"
    else printf '%s\n' "$out" | sed 's/^/    | /' >&2; record 0 "ADD fails and names config.flushroutes"; fi
  else
    record 0 "ADD with flushroutes \"true\" (a string) should fail with an error naming the key"
  fi
  expect_ok "bad: the failed ADD left the pod untouched" bash -c \
    "ip -n '$(pod_ns bad)' route show table main | grep '^default via $GW_IP' >/dev/null"
  pod_del bad >/dev/null 2>&1 || true

  echo "== DEL of route-override alone puts the previous plugin's routes back"
  for name in "${PODS[@]}"; do
    conflist_switch "$NS_NODE1" "${CONF[$name]}"
    expect_ok "$name: DEL route-override" pod_del_last "$name"
    pod_routing_normalised "$name" >"$LAB_TMP/$name.del"
    expect_ok "$name: the pod is as the previous plugin left it" diff -u "$LAB_TMP/$name.before" "$LAB_TMP/$name.del"
    expect_ok "$name: DEL again is a no-op" pod_del_last "$name"
    expect_ok "$name: DEL of the whole chain" pod_del "$name"
  done
  expect_ok "no journal left" bash -c "[[ -z \"\$(find '$LAB_TMP/state' -type f -name '*.json')\" ]]"

  summary
}

main "$@"
