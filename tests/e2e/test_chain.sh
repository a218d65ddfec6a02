#!/usr/bin/env bash
# Two topocni templates in one conflist (issue 11): topocni's `macvlan` template (with host-local) makes the
# pod's interface, then topocni's `veth-to-host` adds the path to the node, both with the same CNI_NETWORK,
# CNI_CONTAINERID and CNI_IFNAME. Each is its own attachment (journal, lock, marks: topo/journal.h), and
# veth-to-host's default route takes over the one the macvlan template made (lifecycle/claims.h).
#
# The seed scenario of test_veth_to_host.sh through this chain, called as libcni calls it (lib.sh): every
# outcome it checks, topoctl plan per entry, CHECK of both entries, then:
#   - DEL of veth-to-host alone puts the pod back as the macvlan template left it (its default route too);
#   - a kill before each kernel change of veth-to-host's ADD, then DEL of the chain: node as before, the
#     pod's interface gone, no journal of the pod, the address released;
#   - DEL out of order (macvlan first): the same;
#   - GC of each entry with the scenario's pods as valid attachments keeps their four... six journals and
#     removes a stale pod's two;
#   - DEL of the chain: nodes exactly as before, state dir empty; a repeated DEL changes nothing.
#
# CHAIN_FIRST=name runs the first entry as {"type": "macvlan"} with topocni installed under that name (in the
# lab's plugin dir, before Debian's), instead of {"type": "topocni", "template": "macvlan"}.
# Environment (ctest sets them): TOPOCNI, TOPOCTL, TOPO_SOURCE_DIR. Last line: "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
: "${TOPOCNI:?set TOPOCNI to the topocni binary}"
: "${TOPOCTL:?set TOPOCTL to the topoctl binary}"
CHAIN_FIRST=${CHAIN_FIRST:-template}
if [[ "$CHAIN_FIRST" == name ]]; then
  FIRST_PLUGIN_EXTRA='{"mode":"bridge"}'
else
  FIRST_PLUGIN_EXTRA='{"type":"topocni","template":"macvlan"}'
fi

STATE_DIR=""

# One entry's config (conflist index i), as libcni builds it, with cniVersion replaced (CHECK and GC need newer
# ones than the seed conflist's 0.3.1) and extra keys merged. Args: node index version [prevResult-file [extra-json]]
entry_config() {
  local node=$1 i=$2 version=$3 prev=${4:-} extra=${5:-}
  python3 - "$(plugin_config "$(conflist_path "$node")" "$i" "$prev")" "$version" "$extra" <<'EOF'
import json, sys
c = json.loads(sys.argv[1]); c["cniVersion"] = sys.argv[2]
c.update(json.loads(sys.argv[3] or "{}"))
print(json.dumps(c))
EOF
}

# Runs one CNI command of entry i for a pod; stdout the plugin's answer; its status. Args: name command i config
entry_call() {
  local name=$1 command=$2 config=$4
  cni_invoke "${POD_NODE[$name]}" "$command" "${POD_ID[$name]}" "$(pod_ns "$name")" "$config" 2>"$LAB_TMP/stderr"
}

journals_of() { find "$STATE_DIR" -name "${POD_ID[$1]}-eth0*.json" -printf '%f\n' 2>/dev/null | sort | tr '\n' ' '; }

# topoctl plan of both entries for a pod, in its node: the macvlan entry reads its IPAM addresses from what
# its ADD printed (IPAM results are not journaled); veth-to-host's prevResult comes from its journal.
chain_plan() { pod_plan "$1" --ipam-result "$LAB_TMP/$1.result.0.json" --no-color; }
plans_empty() { plan_shows_no_changes "$(chain_plan "$1")" 2; }
# Exactly one change in both plans, "+ route <addr>/32 dev <dev>"; the other entry's says "No changes.".
plans_only_create() { plan_shows_only_route_create "$(chain_plan "$1")" "$2" "$3" 'No changes.'; }

ipam_released() { ! grep -rqs -- "${POD_ID[$1]}" "$LAB_TMP/ipam-${POD_NODE[$1]#"$LAB_PREFIX"}" --exclude='last_reserved_ip*'; }
pod_has_only_lo() { [[ "$(ip -n "$(pod_ns "$1")" -o link show | grep -cv ': lo:')" == 0 ]]; }
no_journal_of() { [[ -z "$(journals_of "$1")" ]]; }
state_dir_empty() {
  local left
  # The node-wide lock file and the empty .tables and .locks directories are meant to stay.
  left=$(find "$STATE_DIR" -mindepth 1 ! -name .lock ! -path "$STATE_DIR/.tables" ! -path "$STATE_DIR/.locks" -printf '%P ')
  [[ -z "$left" ]] || { echo "    | left: $left" >&2; return 1; }
}

check_identity() {
  local name=$1 id=${POD_ID[$1]} host_veth alias
  expect_ok "$name: one journal per entry ($(journals_of "$name"))" \
    [ "$(journals_of "$name")" = "$id-eth0@macvlan.json $id-eth0@veth-to-host.json " ]
  alias=$(ip -n "$(pod_ns "$name")" -d link show eth0 | sed -nE 's/^ +alias (.*)$/\1/p')
  expect_ok "$name: eth0 is the macvlan entry's (alias '$alias')" [ "$alias" = "topocni:cni0/$id/eth0/macvlan" ]
  host_veth=$(host_veth_of "$name") || true
  alias=$(ip -n "${POD_NODE[$name]}" -d link show "$host_veth" 2>/dev/null | sed -nE 's/^ +alias (.*)$/\1/p')
  expect_ok "$name: $host_veth is veth-to-host's (alias '$alias')" [ "$alias" = "topocni:cni0/$id/eth0/veth-to-host" ]
  # The flagship's names do not depend on the chain: veth + 11 hex digits of cni.attachment, the pod interface.
  expect_ok "$name: the host veth is named by the pod interface as veth-to-host alone names it" \
    [ "$host_veth" = "$(flagship_veth_name "$name")" ]
  expect_ok "$name: veth-to-host took over the macvlan entry's default route" \
    bash -c '[[ "$(ip -n "$1" route show default)" == "default via '"$NODE1_IP"' dev veth0 proto 157 "* ||
             "$(ip -n "$1" route show default)" == "default via '"$NODE2_IP"' dev veth0 proto 157 "* ]]' _ "$(pod_ns "$name")"
}

# The host veth veth-to-host names for the pod alone (the seed scenario): "veth" + the first 11 hex digits of
# FNV-1a 64 of cni.attachment, "<network>/<container id>/<ifname>" (docs/templates.md, hash()), computed here.
flagship_veth_name() {
  python3 -c '
import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode():
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
print("veth" + ("%016x" % h)[:11])' "cni0/${POD_ID[$1]}/eth0"
}

main() {
  lab_up
  STATE_DIR="$LAB_TMP/state"
  install_topocni_as veth-to-host
  use_second_plugin "$TOPOCNI" topocni
  [[ "$CHAIN_FIRST" != name ]] || use_second_plugin "$TOPOCNI" macvlan
  log "chain: $(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])))' "$FIRST_PLUGIN_EXTRA") then veth-to-host"
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.before"
  snapshot "$NS_NODE2" >"$LAB_TMP/node2.before"

  scenario_add_pods
  echo "== two attachments per pod interface"
  for name in p1 p3; do check_identity "$name"; done
  scenario_services_and_servers

  echo "== topoctl plan of both entries against the live pod"
  expect_ok "plan after ADD: \"No changes.\" for both entries" plans_empty p1
  local p1=${POD_IP[p1]} host_veth
  host_veth=$(host_veth_of p1)
  ip -n "$NS_NODE1" route del "$p1/32" dev "$host_veth"
  expect_ok "plan after deleting 'route $p1/32 dev $host_veth': exactly that route as +" \
    plans_only_create p1 "$p1" "$host_veth"
  ip -n "$NS_NODE1" route add "$p1/32" dev "$host_veth" scope link proto 157
  expect_ok "plan after restoring it: \"No changes.\"" plans_empty p1

  echo "== CHECK of both entries (cniVersion 1.0.0, prevResult = the chain's result)"
  local rc
  for i in 0 1; do
    rc=0
    out=$(entry_call p1 CHECK $i "$(entry_config "$NS_NODE1" $i 1.0.0 "$LAB_TMP/p1.result.json")") || rc=$?
    expect_ok "CHECK of entry $i passes (rc $rc ${out:0:160} $(head -c 200 "$LAB_TMP/stderr"))" [ "$rc" = 0 ]
  done

  scenario_check_outcomes

  echo "== DEL of veth-to-host alone puts the pod back as the macvlan template left it"
  pod_add_but_last p4 "$NS_NODE1" || die "ADD of p4's first entry failed"
  wait_dad "$(pod_ns p4)"  # eth0's link-local address leaves "tentative" by itself, whatever DEL does
  snapshot "$(pod_ns p4)" >"$LAB_TMP/p4.first"
  expect_ok "ADD of p4's veth-to-host" pod_add_last p4
  expect_ok "DEL of p4's veth-to-host" pod_del_last p4
  snapshot "$(pod_ns p4)" >"$LAB_TMP/p4.after"
  expect_ok "pod p4 as after the macvlan entry's ADD (its default route back, with its mark)" \
    snapshots_equal "$LAB_TMP/p4.first" "$LAB_TMP/p4.after"
  rc=0
  out=$(entry_call p4 CHECK 0 "$(entry_config "$NS_NODE1" 0 1.0.0 "$LAB_TMP/p4.result.0.json")") || rc=$?
  expect_ok "CHECK of p4's macvlan entry passes again (rc $rc ${out:0:160})" [ "$rc" = 0 ]
  expect_ok "DEL of the rest of p4's chain" pod_del p4
  expect_ok "p4: no interface, no journal, address released" \
    bash -c "$(declare -f pod_has_only_lo no_journal_of journals_of ipam_released pod_ns); $(declare -p POD_ID POD_NODE LAB_PREFIX LAB_TMP STATE_DIR); pod_has_only_lo p4 && no_journal_of p4 && ipam_released p4"

  echo "== a kill before each kernel change of veth-to-host's ADD, then DEL of the chain"
  services_flush
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.mid"
  local n kills=0 name
  for ((n = 1; n <= 60; n++)); do
    name="c$n"
    pod_add_but_last "$name" "$NS_NODE1" || die "ADD of $name's first entry failed"
    rc=0
    LAB_PLUGIN_ENV+=("TOPOCNI_TEST_KILL_AT=$n")
    entry_call "$name" ADD 1 "$(plugin_config "$(conflist_path "$NS_NODE1")" 1 "$LAB_TMP/$name.result.json")" \
      >/dev/null || rc=$?
    unset 'LAB_PLUGIN_ENV[${#LAB_PLUGIN_ENV[@]}-1]'
    if ((rc == 0)); then
      expect_ok "the ADD that ran to the end (no kill before change $n) is removed by DEL" pod_del "$name"
      break
    fi
    kills=$((kills + 1))
    ((rc == 137)) || record 0 "killed before change $n: exit status $rc, expected 137"
    expect_ok "killed before change $n: DEL of the chain succeeds" pod_del "$name"
    snapshot "$NS_NODE1" >"$LAB_TMP/node1.now"
    expect_ok "killed before change $n: node as before, pod interface gone, no journal, address released" \
      bash -c 'diff -u "$1" "$2" >&2 && [[ "$(ip -n "$3" -o link show | grep -cv ": lo:")" == 0 ]] &&
               [[ -z "$(find "$4" -name "$5-eth0*.json")" ]] && ! grep -rqs -- "$5" "$6" --exclude="last_reserved_ip*"' _ \
      "$LAB_TMP/node1.mid" "$LAB_TMP/node1.now" "$(pod_ns "$name")" "$STATE_DIR" "${POD_ID[$name]}" "$LAB_TMP/ipam-node1"
    ip netns del "$(pod_ns "$name")"
  done
  if ((kills >= 8)); then record 1 "veth-to-host's ADD killed at each of its $kills change boundaries"; else
    record 0 "only $kills kill points: TOPOCNI_TEST_KILL_AT not effective?"; fi

  echo "== DEL out of order: the macvlan entry first"
  pod_add p5 "$NS_NODE1" || die "ADD of p5 failed"
  rc=0
  out=$(entry_call p5 DEL 0 "$(plugin_config "$(conflist_path "$NS_NODE1")" 0)") || rc=$?
  expect_ok "DEL of p5's macvlan entry first (rc $rc ${out:0:160})" [ "$rc" = 0 ]
  expect_ok "p5: veth-to-host's journal is still there" [ "$(journals_of p5)" = "${POD_ID[p5]}-eth0@veth-to-host.json " ]
  expect_ok "DEL of p5's veth-to-host then" pod_del_last p5
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.now"
  expect_ok "p5: node as before, pod interface gone, no journal" \
    bash -c 'diff -u "$1" "$2" >&2 && [[ "$(ip -n "$3" -o link show | grep -cv ": lo:")" == 0 ]] && [[ -z "$(find "$4" -name "$5-eth0*.json")" ]]' _ \
    "$LAB_TMP/node1.mid" "$LAB_TMP/node1.now" "$(pod_ns p5)" "$STATE_DIR" "${POD_ID[p5]}"

  echo "== GC of each entry keeps every journal of a valid attachment"
  pod_add p6 "$NS_NODE1" || die "ADD of p6 failed"
  local valid
  valid=$(python3 -c 'import json,sys; print(json.dumps({"cni.dev/valid-attachments": [{"containerID": c, "ifname": "eth0"} for c in sys.argv[1:]]}))' \
    "${POD_ID[p1]}" "${POD_ID[p2]}" "${POD_ID[p3]}")
  # libcni runs GC for every entry, in the list's order. The macvlan entry passes GC on to its IPAM plugin
  # (SPEC 1.1); Debian's host-local (1.1.1) predates GC and answers code 4, which topocni passes on after its
  # own part is done.
  rc=0
  out=$(entry_call p6 GC 0 "$(entry_config "$NS_NODE1" 0 1.1.0 "" "$valid")") || rc=$?
  expect_ok "GC of the macvlan entry: its attachments done, then host-local's answer (rc $rc ${out:0:120})" \
    bash -c '[[ $1 == 0 || $2 == *"unknown CNI_COMMAND: GC"* ]]' _ "$rc" "$out"
  expect_ok "it removed p6's macvlan attachment only" \
    bash -c 'grep -qx "topocni: GC removed cni0/$1/eth0/macvlan" "$2" && [[ $(grep -c "GC removed" "$2") == 1 ]]' _ "${POD_ID[p6]}" "$LAB_TMP/stderr"
  expect_ok "p6's eth0 went with it (veth0 stays, veth-to-host's)" \
    bash -c '! ip -n "$1" link show eth0 >/dev/null 2>&1 && ip -n "$1" link show veth0 >/dev/null' _ "$(pod_ns p6)"
  rc=0
  out=$(entry_call p6 GC 1 "$(entry_config "$NS_NODE1" 1 1.1.0 "" "$valid")") || rc=$?
  expect_ok "GC of the veth-to-host entry (rc $rc ${out:0:160})" [ "$rc" = 0 ]
  expect_ok "it removed p6's veth-to-host attachment only" \
    bash -c 'grep -qx "topocni: GC removed cni0/$1/eth0/veth-to-host" "$2" && [[ $(grep -c "GC removed" "$2") == 1 ]]' _ "${POD_ID[p6]}" "$LAB_TMP/stderr"
  expect_ok "no journal of p6 left, and no interface" bash -c '[[ -z $1 ]]' _ "$(journals_of p6)"
  expect_ok "p6 has no interface left" pod_has_only_lo p6
  # host-local cannot GC: the runtime's DEL of the pod releases the address (topocni finds nothing left).
  expect_ok "DEL of p6 after GC" pod_del p6
  expect_ok "p6's address released" ipam_released p6
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.now"
  expect_ok "node1 as before p6" snapshots_equal "$LAB_TMP/node1.mid" "$LAB_TMP/node1.now"
  for name in p1 p2 p3; do
    expect_ok "$name's two journals kept" [ "$(journals_of "$name" | wc -w)" = 2 ]
  done

  echo "== outcome 5: DEL returns the nodes to their exact initial state"
  for name in p3 p2 p1; do
    expect_ok "DEL $name" pod_del "$name"
    expect_ok "host-local released ${POD_IP[$name]} of $name" ipam_released "$name"
    expect_ok "$name's interface is gone with the macvlan entry's DEL" pod_has_only_lo "$name"
  done
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.after"
  snapshot "$NS_NODE2" >"$LAB_TMP/node2.after"
  expect_ok "node1 snapshot after last DEL == before first ADD" snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after"
  expect_ok "node2 snapshot after DEL == before ADD" snapshots_equal "$LAB_TMP/node2.before" "$LAB_TMP/node2.after"
  expect_ok "the state dir holds nothing" state_dir_empty
  expect_ok "DEL p1 again is a no-op" pod_del p1
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.after2"
  expect_ok "node1 unchanged by the repeated DEL" snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after2"
  expect_ok "the state dir still holds nothing" state_dir_empty
  summary
}

main "$@"
