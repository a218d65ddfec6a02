#!/usr/bin/env bash
# Side by side: CNI's reference plugins (Debian's binaries in /usr/lib/cni) and topocni's built-in templates
# of the same names (specs/ptp.yaml, bridge.yaml, macvlan.yaml, host-device.yaml, vlan.yaml, and the chained
# tuning.yaml and vrf.yaml), issue 11 part 3. For each case the SAME
# network config goes to the Go binary and to topocni (its `type` picks the template, as when topocni is
# installed under the plugin's name), each in its own throwaway namespaces (node, two pods, and a peer on the
# node's underlay eth0), each with Debian's host-local and a data dir of its own. Compared, after ADD and after
# DEL: the kernel state of the node and the pods (reference_state.py: links, addresses, routes of all tables,
# rules, permanent neighbours, sysctls), and the CNI result. Connectivity is compared by its effect (who the
# peer sees connecting: a masqueraded connection shows the node's address, whether iptables or nftables did
# it). For topocni, `topoctl plan` must show `No changes.` after ADD. Bad configs: topocni answers code 7
# naming the key and leaves no state and no allocation.
#
# Differences are printed normalised ("-" the reference, "+" topocni). A difference the template documents as
# intended (its header comment and docs/templates-library.md) is listed as "expected" with its reason; any
# other fails the test. Only throwaway namespaces (trc-<pid>-*) and a mktemp dir; the EXIT trap removes them
# and ends the servers this script started, on failure too.
#
# Environment (ctest sets them): TOPOCNI, TOPOCTL; REFERENCE_CASES, a regex of the case names to run (all by default). The last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOPOCNI="${TOPOCNI:?set TOPOCNI to the topocni binary}"
TOPOCTL="${TOPOCTL:?set TOPOCTL to the topoctl binary}"
CNI_BIN="${CNI_SYSTEM_BIN:-/usr/lib/cni}"
STATE_PY="$HERE/reference_state.py"
for p in ptp bridge macvlan tuning vrf host-local; do
  [[ -x "$CNI_BIN/$p" ]] || { echo "SKIP: no $p in $CNI_BIN"; exit 0; }
done

P="trc-$$-"
WORK=$(mktemp -d /tmp/trc.XXXXXX)
NAMESPACES=()
PIDS=()
DIFFS=0
EXPECTED=0

cleanup() {
  local pid ns
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

# A TCP server that answers each connection with the address it came from (what masquerading changes).
server() {  # server NS PORT
  ip netns exec "$1" timeout 120 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
while True:
    c, peer = s.accept()
    with c:
        c.sendall(peer[0].encode())
' "$2" &
  PIDS+=("$!")
}
# connect NS IP PORT: prints the source address the server saw, or "unreachable".
connect() {
  ip netns exec "$1" timeout 5 python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2); print(s.recv(64).decode())
except OSError as e:
    print("unreachable")
' "$2" "$3"
}
wait_listen() {  # wait_listen NS PORT
  local i
  for ((i = 0; i < 50; i++)); do
    ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN && return 0
    sleep 0.05
  done
  return 1
}

# side_up SIDE [SERVERS]: the node (eth0 192.168.77.1/24 to the peer at .2, default route via the peer), two pods, and
# a server in the node (7002), the peer (7001) and pod2 (7003).
side_up() {
  local s=$1 ns
  for ns in node pod1 pod2 peer; do
    ip netns add "$P$s-$ns"
    NAMESPACES+=("$P$s-$ns")
    ip -n "$P$s-$ns" link set lo up
  done
  ip -n "$P$s-node" link add eth0 type veth peer name up0 netns "$P$s-peer"
  ip -n "$P$s-node" addr add 192.168.77.1/24 dev eth0
  ip -n "$P$s-node" link set eth0 up
  ip -n "$P$s-peer" addr add 192.168.77.2/24 dev up0
  ip -n "$P$s-peer" link set up0 up
  ip -n "$P$s-node" route add default via 192.168.77.2
  # A device for host-device to move into the pod (one end of a veth pair, as good as a NIC for this).
  ip -n "$P$s-node" link add hd0 type veth peer name hd0p
  ip -n "$P$s-node" link set hd0 up
  ip -n "$P$s-node" link set hd0p up
  # The way back to the pods' subnets when they are not masqueraded.
  ip -n "$P$s-peer" route add 10.0.0.0/8 via 192.168.77.1
  [[ -n ${2:-} ]] || return 0  # no connectivity checks, no servers (each python start costs on a slow node)
  server "$P$s-peer" 7001
  server "$P$s-node" 7002
  server "$P$s-pod2" 7003
  wait_listen "$P$s-peer" 7001 && wait_listen "$P$s-node" 7002 && wait_listen "$P$s-pod2" 7003
}
side_down() {
  local ns
  for ns in node pod1 pod2 peer; do ip netns del "$P$1-$ns" 2>/dev/null || true; done
}

# cni SIDE COMMAND CONTAINER POD CONFIG [BINARY]: runs (with $CNI_EXTRA_ENV's VAR=value words added) the reference binary (side ref) or topocni (side topo) in the
# node's namespace; stdout in $WORK/out, exit status in $RC.
cni() {
  local s=$1 cmd=$2 id=$3 pod=$4 config=$5 bin
  local type path
  type=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["type"])' "$config")
  if [[ -n ${6:-} ]]; then bin=$6 path=$CNI_BIN  # the same binary on both sides (a chain's first plugin)
  elif [[ $s == ref ]]; then bin="$CNI_BIN/$type" path=$CNI_BIN
  else bin="$TOPO_BIN/$type" path="$TOPO_BIN:$CNI_BIN"; fi
  config=${config//@DATA@/$WORK/$s-data}
  set +e
  printf '%s' "$config" | timeout 20 ip netns exec "$P$s-node" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" CNI_NETNS="/run/netns/$P$s-$pod" CNI_IFNAME=eth0 \
    CNI_PATH="$path" TOPOCNI_STATE_DIR="$WORK/$s-state" ${CNI_EXTRA_ENV:-} "$bin" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  set -e
}
# snapshot SIDE LABEL: the normalised state of the node and both pods, in $WORK/SIDE-LABEL.
snapshot() {
  local s=$1 ns
  for ns in node pod1 pod2; do
    ip netns exec "$P$s-$ns" python3 "$STATE_PY" dump | sed "s/^/$ns /"
  done >"$WORK/$s-$2"
}
allocations() { find "$WORK/$1-data" -type f ! -name 'last_reserved_ip*' ! -name lock 2>/dev/null | wc -l; }

# compare WHAT FILE_REF FILE_TOPO EXPECTED: prints the differences; those matching the regex EXPECTED (with
# its reason after a tab in $REASONS) are expected.
compare() {
  local what=$1 a=$2 b=$3 line unexpected=0
  while IFS= read -r line; do
    [[ -z $line ]] && continue
    if [[ -n $EXPECT ]] && grep -qE -- "$EXPECT" <<<"$line"; then
      EXPECTED=$((EXPECTED + 1))
      echo "     expected: $what: $line"
    else
      DIFFS=$((DIFFS + 1))
      unexpected=1
      echo "     DIFF:     $what: $line"
    fi
  done < <(python3 "$STATE_PY" diff "$a" "$b" || true)
  if ((unexpected)); then bad "$CASE: $what matches the reference"; else ok "$CASE: $what matches the reference"; fi
}

# topo_plan CONFIG_FILE ARGS...: `topoctl plan` of pod1's attachment (container c1, eth0) on topocni's node,
# with the given config and ARGS (--ipam-result FILE or --prev-result FILE); its output in $plan.
topo_plan() {
  local config=$1
  shift
  set +e
  plan=$(ip netns exec "${P}topo-node" env TOPOCNI_STATE_DIR="$WORK/topo-state" CNI_PATH="$TOPO_BIN:$CNI_BIN" "$TOPOCTL" \
    plan --no-color --config "$config" --netns "/run/netns/${P}topo-pod1" --container-id c1 --ifname eth0 "$@" 2>&1)
  set -e
}

# run_case NAME CONFIG PODS CHECKS: PODS is 1 or 2; CHECKS names the connectivity checks (below).
run_case() {
  [[ $1 =~ ${REFERENCE_CASES:-.} ]] || return 0  # a subset, for working on one plugin
  CASE=$1
  local config=$2 pods=$3 checks=$4 s i c ipam_result
  echo "--- $CASE"
  for s in ref topo; do
    side_up "$s" "$checks"
    snapshot "$s" before
    for ((i = 1; i <= pods; i++)); do
      cni "$s" ADD "c$i" "pod$i" "$config"
      cp "$WORK/out" "$WORK/$s-result$i"
      [[ $RC == 0 ]] || bad "$CASE: $s ADD c$i failed ($(head -c 300 "$WORK/out"))"
    done
    snapshot "$s" add
    : >"$WORK/$s-reach"
    for c in $checks; do
      case $c in
        pod-node) echo "pod1->node $(connect "$P$s-pod1" "$NODE_IP" 7002)" ;;
        pod-peer) echo "pod1->peer $(connect "$P$s-pod1" 192.168.77.2 7001)" ;;
        pod-pod) echo "pod1->pod2 $(connect "$P$s-pod1" "$POD2_IP" 7003)" ;;
      esac >>"$WORK/$s-reach"
    done
    if [[ $s == topo ]]; then
      # The IPAM result host-local gave pod1: its ips and the config's ipam routes.
      python3 -c '
import json, sys
r = json.load(open(sys.argv[1])); c = json.loads(sys.argv[2])
ips = [{k: v for k, v in ip.items() if k in ("address", "gateway")} for ip in r.get("ips", [])]
print(json.dumps({"cniVersion": r["cniVersion"], "ips": ips, "routes": c["ipam"].get("routes", [])}))
' "$WORK/topo-result1" "$config" >"$WORK/ipam-result"
      printf '%s' "${config//@DATA@/$WORK/topo-data}" >"$WORK/config.json"
      topo_plan "$WORK/config.json" --ipam-result "$WORK/ipam-result"
      if grep -q 'No changes.' <<<"$plan"; then ok "$CASE: topoctl plan after ADD: No changes."
      else bad "$CASE: topoctl plan after ADD: $plan"; fi
    fi
    for ((i = pods; i >= 1; i--)); do
      cni "$s" DEL "c$i" "pod$i" "$config"
      [[ $RC == 0 ]] || bad "$CASE: $s DEL c$i failed ($(head -c 300 "$WORK/out"))"
    done
    snapshot "$s" del
    echo "$(allocations "$s")" >"$WORK/$s-alloc"
  done
  EXPECT=$EXPECT_ADD
  compare "state after ADD" "$WORK/ref-add" "$WORK/topo-add"
  for ((i = 1; i <= pods; i++)); do
    python3 "$STATE_PY" result "$WORK/ref-result$i" >"$WORK/ref-r"
    python3 "$STATE_PY" result "$WORK/topo-result$i" >"$WORK/topo-r"
    EXPECT=$EXPECT_RESULT
    compare "CNI result of c$i" "$WORK/ref-r" "$WORK/topo-r"
  done
  EXPECT=$EXPECT_DEL
  compare "state after DEL" "$WORK/ref-del" "$WORK/topo-del"
  # ip_forward stays 1, as the reference leaves it: a shared sysctl is not put back (the engine journals its
  # declared value, not the one found; docs/templates-library.md).
  EXPECT='^[-+] node sysctl net\.ipv4\.(ip_forward|conf\.[a-z0-9]+\.forwarding)='
  compare "topocni's state after DEL is the state before ADD" "$WORK/topo-before" "$WORK/topo-del"
  if [[ $(cat "$WORK/topo-alloc") == 0 ]]; then ok "$CASE: no allocation left after DEL"
  else bad "$CASE: allocations left after DEL: $(cat "$WORK/topo-alloc")"; fi
  while IFS= read -r line; do
    if grep -qxF -- "$line" "$WORK/topo-reach" && ! grep -q unreachable <<<"$line"; then
      ok "$CASE: connectivity $line (both)"
    else
      bad "$CASE: connectivity: reference $line, topocni $(grep -F "${line%% *} " "$WORK/topo-reach")"
    fi
  done <"$WORK/ref-reach"
  side_down ref
  side_down topo
  rm -rf "$WORK"/ref-* "$WORK"/topo-*
}

# run_chain NAME MAIN CONFIG: a chained plugin. MAIN (a config for Debian's binary of its type, the same on both
# sides) makes pod1's eth0; then CONFIG, with MAIN's result as prevResult, goes to the reference binary or to
# topocni. Compared: the state after the chained ADD, its CNI result, and the state after its DEL (before
# MAIN's DEL); topocni's DEL must leave exactly MAIN's state. `topoctl plan` after ADD: `No changes.`.
run_chain() {
  [[ $1 =~ ${REFERENCE_CASES:-.} ]] || return 0  # a subset, for working on one plugin
  CASE=$1
  local main=$2 config=$3 s main_type plan
  main_type=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["type"])' "$main")
  echo "--- $CASE"
  for s in ref topo; do
    side_up "$s"
    cni "$s" ADD c1 pod1 "$main" "$CNI_BIN/$main_type"
    [[ $RC == 0 ]] || bad "$CASE: $s $main_type ADD failed ($(head -c 300 "$WORK/out"))"
    python3 -c '
import json, sys
c = json.loads(sys.argv[1]); c["prevResult"] = json.load(open(sys.argv[2])); print(json.dumps(c))
' "$config" "$WORK/out" >"$WORK/$s-chained.json"
    snapshot "$s" main
    if [[ $s == topo ]]; then
      python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["prevResult"]))' \
        "$WORK/topo-chained.json" >"$WORK/prev-result"
      topo_plan "$WORK/topo-chained.json" --prev-result "$WORK/prev-result"
      if grep -qE '^  ~ (link eth0 \(existing\)|sysctl) ' <<<"$plan" && grep -q '^Plan: 0 to add, [1-9][0-9]* to change, 0 to destroy' <<<"$plan"; then
        ok "$CASE: topoctl plan before ADD shows the changes ($(grep -c '^  ~ ' <<<"$plan"))"
      else bad "$CASE: topoctl plan before ADD: $plan"; fi
    fi
    cni "$s" ADD c1 pod1 "$(cat "$WORK/$s-chained.json")"
    cp "$WORK/out" "$WORK/$s-result1"
    [[ $RC == 0 ]] || bad "$CASE: $s ADD failed ($(head -c 300 "$WORK/out"))"
    snapshot "$s" add
    if [[ $s == topo ]]; then
      topo_plan "$WORK/topo-chained.json" --prev-result "$WORK/prev-result"
      if grep -q 'No changes.' <<<"$plan"; then ok "$CASE: topoctl plan after ADD: No changes."
      else bad "$CASE: topoctl plan after ADD: $plan"; fi
      cni "$s" CHECK c1 pod1 "$(cat "$WORK/$s-chained.json")"
      if [[ $RC == 0 ]]; then ok "$CASE: CHECK after ADD passes"; else bad "$CASE: CHECK after ADD: $(head -c 300 "$WORK/out")"; fi
    fi
    cni "$s" DEL c1 pod1 "$(cat "$WORK/$s-chained.json")"
    [[ $RC == 0 ]] || bad "$CASE: $s DEL failed ($(head -c 300 "$WORK/out"))"
    snapshot "$s" del
    cni "$s" DEL c1 pod1 "$main" "$CNI_BIN/$main_type"
  done
  EXPECT=$EXPECT_ADD
  compare "state after ADD" "$WORK/ref-add" "$WORK/topo-add"
  python3 "$STATE_PY" result "$WORK/ref-result1" >"$WORK/ref-r"
  python3 "$STATE_PY" result "$WORK/topo-result1" >"$WORK/topo-r"
  EXPECT=$EXPECT_RESULT
  compare "CNI result" "$WORK/ref-r" "$WORK/topo-r"
  EXPECT=$EXPECT_DEL
  compare "state after DEL" "$WORK/ref-del" "$WORK/topo-del"
  EXPECT='^$'
  compare "topocni's state after DEL is the previous plugin's" "$WORK/topo-main" "$WORK/topo-del"
  side_down ref
  side_down topo
  rm -rf "$WORK"/ref-* "$WORK"/topo-*
}

# bad_config NAME CONFIG KEY: topocni answers code 7 naming KEY and changes nothing; the reference's answer is
# printed for the record (mostly 999, or a failure deeper in).
bad_config() {
  [[ $1 =~ ${REFERENCE_CASES:-.} ]] || return 0  # a subset, for working on one plugin
  CASE=$1
  local config=$2 key=$3 code msg
  echo "--- $CASE"
  side_up topo
  snapshot topo before
  cni topo ADD c1 pod1 "$config"
  code=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("code"))' "$WORK/out" 2>/dev/null || echo none)
  msg=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("msg"))' "$WORK/out" 2>/dev/null || echo none)
  if [[ $RC != 0 && $code == 7 && $msg == *"$key"* ]]; then ok "$CASE: topocni code 7 naming '$key': $msg"
  else bad "$CASE: topocni rc $RC code $code: $msg"; fi
  snapshot topo after
  if cmp -s "$WORK/topo-before" "$WORK/topo-after"; then ok "$CASE: nothing changed"; else
    bad "$CASE: state changed"; python3 "$STATE_PY" diff "$WORK/topo-before" "$WORK/topo-after" || true; fi
  if [[ $(allocations topo) == 0 ]]; then ok "$CASE: no allocation left"; else bad "$CASE: allocation left"; fi
  side_down topo
  side_up ref
  cni ref ADD c1 pod1 "$config"
  echo "     reference: rc $RC $(head -c 200 "$WORK/out")"
  cni ref DEL c1 pod1 "$config"
  side_down ref
  rm -rf "$WORK"/ref-* "$WORK"/topo-*
}

HL='"type":"host-local","dataDir":"@DATA@"'
# topocni installed under the reference plugins' names (symlinks), as a node switching from them would run it:
# the same conflist, `type` unchanged, picks the built-in template of that name.
TOPO_BIN="$WORK/bin"
mkdir -p "$TOPO_BIN" "$WORK/templates"
"$TOPOCNI" install --cni-bin-dir "$TOPO_BIN" --names ptp,bridge,macvlan,host-device,vlan,tuning,vrf --templates-dir "$WORK/templates" >/dev/null

# --- ptp --------------------------------------------------------------------------------------------------
# Expected differences (specs/ptp.yaml's header): the pod's address is a host prefix and so has no kernel
# subnet/broadcast routes of its own; the veth was created in the node (qlen 1000) rather than in the pod.
PTP_ADD='pod1 addr eth0 10\.1\.1\.[0-9]+(/(24|32) | brd=)|pod1 route 4 table=local type=broadcast 10\.1\.1\.255 |^[-+] [a-z0-9]+ link [A-Za-z0-9]+ qlen='
NODE_IP=10.1.1.1
POD2_IP=
EXPECT_ADD=$PTP_ADD EXPECT_RESULT='result\.dns' EXPECT_DEL='^$'
# The README example.
run_case "ptp (README: ipMasq, dns)" \
  '{"cniVersion":"1.0.0","name":"mynet","type":"ptp","ipMasq":true,"ipam":{'"$HL"',"subnet":"10.1.1.0/24","routes":[{"dst":"0.0.0.0/0"}]},"dns":{"nameservers":["10.1.1.1","8.8.8.8"]}}' \
  1 "pod-node pod-peer"
EXPECT_RESULT='^$'
run_case "ptp (mtu 1400, no ipMasq, routes)" \
  '{"cniVersion":"0.4.0","name":"mynet2","type":"ptp","mtu":1400,"ipam":{'"$HL"',"subnet":"10.1.1.0/24","routes":[{"dst":"0.0.0.0/0"},{"dst":"10.200.0.0/16","gw":"10.1.1.1"}]}}' \
  1 "pod-node pod-peer"
bad_config "ptp: mtu below 68" '{"cniVersion":"1.0.0","name":"bad","type":"ptp","mtu":10,"ipam":{'"$HL"',"subnet":"10.1.1.0/24"}}' mtu

# --- bridge -----------------------------------------------------------------------------------------------
# Expected: the engine adds IPv4 addresses without a broadcast address; the bridge and its address go away
# with the last pod's DEL (the reference leaves them); veths are created in the node (qlen 1000).
BR_ADD='^[-+] [a-z0-9]+ addr [A-Za-z0-9]+ [0-9.]+ brd=|^[-+] [a-z0-9]+ link [A-Za-z0-9]+ qlen='
NODE_IP=10.10.0.1
POD2_IP=10.10.0.3
EXPECT_ADD=$BR_ADD EXPECT_RESULT='^$' EXPECT_DEL='^- node (link|addr) (mynet0|cni0) |^- node route 4 .*dev=(mynet0|cni0) |^- node sysctl .*\.(mynet0|cni0)\.'
run_case "bridge (README: isDefaultGateway, ipMasq, hairpinMode)" \
  '{"cniVersion":"0.3.1","name":"mynet","type":"bridge","bridge":"mynet0","isDefaultGateway":true,"forceAddress":false,"ipMasq":true,"hairpinMode":true,"ipam":{'"$HL"',"subnet":"10.10.0.0/16"}}' \
  2 "pod-node pod-pod pod-peer"
run_case "bridge (isGateway, mtu 1400, promiscMode, routes)" \
  '{"cniVersion":"1.0.0","name":"mynet","type":"bridge","isGateway":true,"mtu":1400,"promiscMode":true,"ipam":{'"$HL"',"subnet":"10.10.0.0/16","routes":[{"dst":"0.0.0.0/0"}]}}' \
  2 "pod-node pod-pod pod-peer"
bad_config "bridge: vlan" '{"cniVersion":"1.0.0","name":"bad","type":"bridge","vlan":100,"ipam":{'"$HL"',"subnet":"10.10.0.0/16"}}' vlan

# --- macvlan ----------------------------------------------------------------------------------------------
NODE_IP=192.168.77.1
EXPECT_ADD=$BR_ADD EXPECT_RESULT='^$' EXPECT_DEL='^$'
MV_IPAM='"subnet":"192.168.77.0/24","rangeStart":"192.168.77.100","rangeEnd":"192.168.77.120","gateway":"192.168.77.2","routes":[{"dst":"0.0.0.0/0"}]'
run_case "macvlan (README: master eth0)" \
  '{"cniVersion":"1.0.0","name":"mynet","type":"macvlan","master":"eth0","ipam":{'"$HL"','"$MV_IPAM"'}}' \
  1 "pod-peer"
run_case "macvlan (no master: the default route's; mode private, mtu 1400)" \
  '{"cniVersion":"0.4.0","name":"mynet","type":"macvlan","mode":"private","mtu":1400,"ipam":{'"$HL"','"$MV_IPAM"'}}' \
  1 "pod-peer"
bad_config "macvlan: bad mode" '{"cniVersion":"1.0.0","name":"bad","type":"macvlan","master":"eth0","mode":"bogus","ipam":{'"$HL"','"$MV_IPAM"'}}' mode

# --- host-device ------------------------------------------------------------------------------------------
# Expected: DEL puts the device back up (the reference leaves it down, and its peer without carrier).
EXPECT_ADD=$BR_ADD EXPECT_RESULT='^$' EXPECT_DEL='^[-+] node link hd0p? kind=veth '
run_case "host-device (README: device)" \
  '{"cniVersion":"1.0.0","name":"hostdev","type":"host-device","device":"hd0","ipam":{'"$HL"',"subnet":"10.30.0.0/24"}}' \
  1 ""
bad_config "host-device: hwaddr" '{"cniVersion":"1.0.0","name":"bad","type":"host-device","hwaddr":"02:00:00:00:00:01","ipam":{'"$HL"',"subnet":"10.30.0.0/24"}}' hwaddr

# --- vlan -------------------------------------------------------------------------------------------------
# This kernel may lack 802.1Q: then only the config checks run side by side, and a valid config is refused
# with code 7 (no allocation, nothing changed) where the Go binary fails creating the link.
VLAN_OK='{"cniVersion":"1.0.0","name":"vl","type":"vlan","master":"eth0","vlanId":100,"ipam":{'"$HL"',"subnet":"10.40.0.0/24"}}'
ip netns add "${P}probe"
NAMESPACES+=("${P}probe")
if ip -n "${P}probe" link add pv0 type veth peer name pv1 && ip -n "${P}probe" link add link pv0 name pv0.5 type vlan id 5 2>/dev/null; then
  EXPECT_ADD=$BR_ADD EXPECT_RESULT='^$' EXPECT_DEL='^$'
  run_case "vlan (README: master, vlanId)" "$VLAN_OK" 1 ""
else
  echo "SKIP vlan side by side: this kernel has no 802.1Q (ip link add ... type vlan fails)"
  bad_config "vlan: no 802.1Q in this kernel" "$VLAN_OK" "802.1Q"
fi
ip netns del "${P}probe" 2>/dev/null || true
bad_config "vlan: vlanId out of range" '{"cniVersion":"1.0.0","name":"bad","type":"vlan","master":"eth0","vlanId":5000,"ipam":{'"$HL"',"subnet":"10.40.0.0/24"}}' vlanId
bad_config "vlan: no master" '{"cniVersion":"1.0.0","name":"bad","type":"vlan","vlanId":5,"ipam":{'"$HL"',"subnet":"10.40.0.0/24"}}' master

# --- tuning (chained after Debian's ptp) --------------------------------------------------------------------
# Expected: DEL puts the sysctls back (the reference leaves them as ADD set them).
export REFERENCE_KNOWN_MACS=02:11:22:33:44:55
TUNE_PTP='{"cniVersion":"1.0.0","name":"tn","type":"ptp","ipam":{'"$HL"',"subnet":"10.1.1.0/24"}}'
EXPECT_ADD='^$' EXPECT_RESULT='^$' EXPECT_DEL='^[-+] pod1 sysctl net\.(core\.somaxconn|ipv4\.conf\.eth0\.(arp_filter|rp_filter))='
# The README example (sysctls, IFNAME for the pod's interface).
run_chain "tuning (README: sysctl with IFNAME)" "$TUNE_PTP" \
  '{"cniVersion":"1.0.0","name":"tn","type":"tuning","sysctl":{"net.core.somaxconn":"500","net.ipv4.conf.IFNAME.arp_filter":"1"}}'
run_chain "tuning (mtu, mac, promisc, allmulti, sysctl)" "${TUNE_PTP/1.0.0/0.4.0}" \
  '{"cniVersion":"0.4.0","name":"tn","type":"tuning","mtu":1400,"mac":"02:11:22:33:44:55","promisc":true,"allmulti":true,"sysctl":{"net.ipv4.conf.eth0.rp_filter":"2"}}'
run_chain "tuning (allmulti false, mtu only)" "$TUNE_PTP" \
  '{"cniVersion":"1.0.0","name":"tn","type":"tuning","mtu":9000,"allmulti":false}'
# Killed right after it changed the link (SIGKILL before its next kernel change): the journal already holds
# the link's origin, so DEL puts it back.
CASE="tuning: killed after changing the link"
if [[ "$CASE" =~ ${REFERENCE_CASES:-.} ]]; then
  echo "--- $CASE"
  side_up topo
  cni topo ADD c1 pod1 "$TUNE_PTP" "$CNI_BIN/ptp"
  python3 -c '
import json, sys
c = json.loads(sys.argv[1]); c["prevResult"] = json.load(open(sys.argv[2])); print(json.dumps(c))
' '{"cniVersion":"1.0.0","name":"tn","type":"tuning","mtu":1400,"mac":"02:11:22:33:44:55","allmulti":true,"sysctl":{"net.core.somaxconn":"500"}}' \
    "$WORK/out" >"$WORK/topo-chained.json"
  snapshot topo main
  CNI_EXTRA_ENV=TOPOCNI_TEST_KILL_AT=2 cni topo ADD c1 pod1 "$(cat "$WORK/topo-chained.json")"
  snapshot topo killed
  if [[ $RC != 0 ]] && grep -q 'pod1 link eth0 kind=veth mtu=1400' "$WORK/topo-killed" &&
    grep -q 'pod1 sysctl net.core.somaxconn=4096' "$WORK/topo-killed"; then
    ok "$CASE: killed between the link and the sysctl (rc $RC)"
  else bad "$CASE: not killed where expected (rc $RC)"; fi
  cni topo DEL c1 pod1 "$(cat "$WORK/topo-chained.json")"
  [[ $RC == 0 ]] || bad "$CASE: DEL failed ($(head -c 300 "$WORK/out"))"
  snapshot topo del
  EXPECT='^$'
  compare "state after DEL is the previous plugin's" "$WORK/topo-main" "$WORK/topo-del"
  cni topo DEL c1 pod1 "$TUNE_PTP" "$CNI_BIN/ptp"
  side_down topo
  rm -rf "$WORK"/topo-*
fi
TUNE_PREV='"prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"10.1.1.2/24","interface":0}]}'
bad_config "tuning: a sysctl outside net" '{"cniVersion":"1.0.0","name":"bad","type":"tuning","sysctl":{"kernel.panic":"1"},'"$TUNE_PREV"'}' sysctl
bad_config "tuning: a multicast mac" '{"cniVersion":"1.0.0","name":"bad","type":"tuning","mac":"01:00:5e:00:00:01",'"$TUNE_PREV"'}' mac
bad_config "tuning: mtu below 68" '{"cniVersion":"1.0.0","name":"bad","type":"tuning","mtu":10,'"$TUNE_PREV"'}' mtu
bad_config "tuning: no prevResult" '{"cniVersion":"1.0.0","name":"bad","type":"tuning","mtu":1400}' prevResult
unset REFERENCE_KNOWN_MACS

# --- vrf (chained after Debian's ptp) -----------------------------------------------------------------------
# This kernel may lack VRF: then only the config checks run side by side, and a valid config is refused with
# code 7 (nothing changed) where the Go binary fails creating the link.
VRF_OK='{"cniVersion":"1.0.0","name":"vr","type":"vrf","vrfname":"blue"}'
ip netns add "${P}probe"
NAMESPACES+=("${P}probe")
if ip -n "${P}probe" link add vrfprobe type vrf table 10 2>/dev/null; then
  EXPECT_ADD='^$' EXPECT_RESULT='^$' EXPECT_DEL='^$'
  run_chain "vrf (README: vrfname)" "$TUNE_PTP" "$VRF_OK"
  run_chain "vrf (vrfname, table)" "$TUNE_PTP" '{"cniVersion":"1.0.0","name":"vr","type":"vrf","vrfname":"red","table":1001}'
else
  echo "SKIP vrf side by side: this kernel has no VRF (ip link add ... type vrf fails)"
  bad_config "vrf: no VRF in this kernel" "${VRF_OK%\}},$TUNE_PREV}" "VRF"
fi
ip netns del "${P}probe" 2>/dev/null || true
bad_config "vrf: no vrfname" '{"cniVersion":"1.0.0","name":"bad","type":"vrf",'"$TUNE_PREV"'}' vrfname
bad_config "vrf: table 0" '{"cniVersion":"1.0.0","name":"bad","type":"vrf","vrfname":"blue","table":0,'"$TUNE_PREV"'}' table
bad_config "vrf: vrfname too long" '{"cniVersion":"1.0.0","name":"bad","type":"vrf","vrfname":"a-very-long-vrf-name",'"$TUNE_PREV"'}' vrfname

echo "differences: $DIFFS unexpected, $EXPECTED expected (documented)"
echo "$PASS passed, $FAIL failed"
[[ $FAIL == 0 ]]
