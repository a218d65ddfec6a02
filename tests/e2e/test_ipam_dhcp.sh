#!/usr/bin/env bash
# The dhcp IPAM plugin behind topocni's macvlan template (issue 11 part 1), against Debian's real dhcp plugin
# and its daemon, with busybox's udhcpd as the LAN's DHCP server. dhcp works through the pod's interface (its
# daemon sends DHCP out of CNI_IFNAME in the pod), so topocni applies the template twice around it: links
# first, then the addresses and routes of the lease.
#
# Lab (throwaway namespaces tdhcp-<pid>-*): a node whose eth0 is one end of a veth pair, the other end in a
# "lan" namespace holding the DHCP server (10.70.0.1/24, leases .100-.150, router 10.70.0.1). The dhcp daemon
# runs in the node on a socket in a mktemp dir (`daemonSocketPath`), so nothing touches /run/cni. Checks:
# - ADD gets a lease: the result's address, gateway and default route, the same on the pod's eth0; the pod
#   reaches a TCP listener on the LAN; Debian's macvlan with the same config answers a result of the same
#   shape (a normalised comparison);
# - DEL releases the lease (the daemon says so) and leaves the pod and the state dir empty;
# - an unreachable daemon fails the ADD with the dhcp plugin's own error and leaves nothing in the pod;
# - a kill at each step of the ADD (before each kernel change), then DEL: the pod is empty, no journal stays,
#   and every lease acquired was released.
#
# The daemon, the DHCP server and the TCP listener are ended by their PIDs in the EXIT trap, with the
# namespaces and the temp dir, on failure too. Every plugin run is bounded by `timeout`.
#
# Environment (ctest sets them): TOPOCNI. The last line is "N passed, M failed"; exit status non-zero on a failure.
set -euo pipefail
TOPOCNI="${TOPOCNI:?set TOPOCNI to the topocni binary}"
CNI_BIN="${CNI_SYSTEM_BIN:-/usr/lib/cni}"
[[ -x "$CNI_BIN/dhcp" && -x "$CNI_BIN/macvlan" ]] || { echo "SKIP: no dhcp/macvlan plugin in $CNI_BIN"; exit 0; }
command -v busybox >/dev/null || { echo "SKIP: no busybox (udhcpd)"; exit 0; }

P="tdhcp-$$-"
NODE="${P}node"
LAN="${P}lan"
WORK=$(mktemp -d /tmp/tdhcp.XXXXXX)
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in node lan pod1 pod2 pod3 podk; do ip netns del "${P}$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

for ns in node lan pod1 pod2 pod3 podk; do ip netns add "${P}$ns"; done
ip -n "$NODE" link add eth0 type veth peer name eth0p
ip -n "$NODE" link set eth0p netns "$LAN"
ip -n "$NODE" link set eth0 up
ip -n "$LAN" addr add 10.70.0.1/24 dev eth0p
ip -n "$LAN" link set eth0p up
ip -n "$LAN" link set lo up

cat >"$WORK/udhcpd.conf" <<CONF
start 10.70.0.100
end 10.70.0.150
interface eth0p
lease_file $WORK/leases
pidfile $WORK/udhcpd.pid
option subnet 255.255.255.0
option router 10.70.0.1
option lease 600
CONF
touch "$WORK/leases"
# -a 100: the server ARP-probes an address before offering it; 2 s by default.
ip netns exec "$LAN" busybox udhcpd -f -a 100 "$WORK/udhcpd.conf" >"$WORK/udhcpd.log" 2>&1 &
PIDS+=($!)
SOCK="$WORK/dhcp.sock"
ip netns exec "$NODE" "$CNI_BIN/dhcp" daemon -socketpath "$SOCK" >"$WORK/daemon.log" 2>&1 &
PIDS+=($!)
ip netns exec "$LAN" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.70.0.1", 8080)); s.listen(16)
while True:
    c, _ = s.accept(); c.close()
' &
PIDS+=($!)
for _ in $(seq 50); do [[ -S $SOCK ]] && break; sleep 0.1; done
[[ -S $SOCK ]] || { echo "FAIL the dhcp daemon did not start: $(cat "$WORK/daemon.log")"; exit 1; }

# topocni installed under the reference plugin's name, as a node switching from it runs it.
mkdir -p "$WORK/bin" "$WORK/templates"
"$TOPOCNI" install --cni-bin-dir "$WORK/bin" --names macvlan --templates-dir "$WORK/templates" >/dev/null
STATE="$WORK/state"
CONF='{"cniVersion":"1.0.0","name":"dhnet","type":"macvlan","master":"eth0","mode":"bridge","ipam":{"type":"dhcp","daemonSocketPath":"'"$SOCK"'"}}'
EXTRA_ENV=()

# plugin BIN COMMAND CONTAINER POD [CONFIG]: runs one call in the node; sets OUT and RC.
plugin() {
  local bin=$1 cmd=$2 cid=$3 pod=$4 conf=${5:-$CONF}
  RC=0
  OUT=$(printf '%s' "$conf" | ip netns exec "$NODE" timeout 60 env -i PATH="$PATH" CNI_COMMAND="$cmd" \
    CNI_CONTAINERID="$cid" CNI_NETNS="/run/netns/${P}$pod" CNI_IFNAME=eth0 CNI_PATH="$WORK/bin:$CNI_BIN" \
    TOPOCNI_STATE_DIR="$STATE" "${EXTRA_ENV[@]}" "$bin" 2>"$WORK/stderr") || RC=$?
}
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$OUT" "$1" 2>/dev/null; }
journals() { find "$STATE" -name '*.json' 2>/dev/null | wc -l; }
leases() { grep -c "$1/dhnet/eth0: $2" "$WORK/daemon.log" || true; }
pod_links() { ip -n "${P}$1" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' '; }
reach() {  # reach POD: a TCP connection from the pod to the LAN's listener
  ip netns exec "${P}$1" python3 -c '
import socket; s = socket.create_connection(("10.70.0.1", 8080), timeout=3); s.close()' 2>/dev/null
}

echo "== ADD with a lease"
plugin "$WORK/bin/macvlan" ADD d1 pod1
check "ADD succeeds (rc $RC: $OUT $(cat "$WORK/stderr"))" test "$RC" = 0
ADDR=$(field 'd["ips"][0]["address"]')
check "the result's address is the server's ($ADDR)" python3 -c '
import ipaddress, sys; a = ipaddress.ip_interface(sys.argv[1])
assert a.network == ipaddress.ip_network("10.70.0.0/24") and 100 <= int(a.ip) % 256 <= 150' "$ADDR"
check "the result's gateway is the server's router option" test "$(field 'd["ips"][0]["gateway"]')" = 10.70.0.1
check "the result's routes are the lease's default route" \
  test "$(field 'd["routes"]')" = "[{'dst': '0.0.0.0/0', 'gw': '10.70.0.1'}]"
check "the pod's eth0 holds the leased address" grep -q "inet $ADDR " <(ip -n "${P}pod1" addr show eth0)
check "the pod's default route is via the router" grep -q "^default via 10.70.0.1 dev eth0" <(ip -n "${P}pod1" route)
check "the pod reaches a TCP listener on the LAN" reach pod1
check "the daemon acquired the lease for this attachment" test "$(leases d1 'lease acquired')" = 1
TOPO_RESULT=$OUT

echo "== the same config through Debian's macvlan"
plugin "$CNI_BIN/macvlan" ADD g1 pod2
check "Debian's macvlan ADD succeeds (rc $RC)" test "$RC" = 0
normal() {  # the result without what differs by nature: the leased address's host part, the MAC, the sandbox
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
for i in d.get("interfaces", []): i["mac"] = "MAC"; i["sandbox"] = "SANDBOX"
for ip in d.get("ips", []): ip["address"] = ip["address"].rsplit(".", 1)[0] + ".X/" + ip["address"].split("/")[1]
print(json.dumps(d, sort_keys=True))' "$1"
}
check "the two results have the same shape ($(normal "$TOPO_RESULT") vs $(normal "$OUT"))" \
  test "$(normal "$TOPO_RESULT")" = "$(normal "$OUT")"
plugin "$CNI_BIN/macvlan" DEL g1 pod2
check "Debian's macvlan DEL succeeds" test "$RC" = 0

echo "== DEL releases the lease"
plugin "$WORK/bin/macvlan" DEL d1 pod1
check "DEL succeeds (rc $RC: $OUT)" test "$RC" = 0
check "the pod has only lo left ($(pod_links pod1))" test "$(pod_links pod1)" = "lo "
check "the daemon released the lease" test "$(leases d1 'releasing lease')" = 1
check "no journal is left" test "$(journals)" = 0
plugin "$WORK/bin/macvlan" DEL d1 pod1
check "a repeated DEL succeeds" test "$RC" = 0

echo "== an unreachable daemon"
BAD=${CONF/$SOCK/$WORK/no-such.sock}
plugin "$WORK/bin/macvlan" ADD d3 pod3 "$BAD"
check "ADD fails with the dhcp plugin's error (rc $RC: $OUT)" \
  test "$RC" != 0 -a "$(field 'd["code"]')" != 0 -a -n "$(field 'd["msg"]')"
check "the failed ADD left nothing in the pod ($(pod_links pod3))" test "$(pod_links pod3)" = "lo "
check "the failed ADD left no journal" test "$(journals)" = 0

echo "== a kill before each kernel change of the ADD, then DEL"
for k in 1 2 3 4 5 6; do
  EXTRA_ENV=(TOPOCNI_TEST_KILL_AT=$k)
  plugin "$WORK/bin/macvlan" ADD "k$k" podk
  EXTRA_ENV=()
  killed=$RC
  plugin "$WORK/bin/macvlan" DEL "k$k" podk
  check "kill at $k (ADD rc $killed), DEL rc $RC: the pod is empty ($(pod_links podk)), no journal" \
    test "$RC" = 0 -a "$(pod_links podk)" = "lo " -a "$(journals)" = 0
  check "kill at $k: every lease acquired was released" test "$(leases "k$k" 'lease acquired')" = "$(leases "k$k" 'releasing lease')"
done
check "the node's eth0 is as it was" test "$(ip -n "$NODE" -o link show | wc -l)" = 2

echo "$PASS passed, $FAIL failed"
((FAIL == 0))
