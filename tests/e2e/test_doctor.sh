#!/usr/bin/env bash
# End-to-end test of `topoctl doctor`: one throwaway namespace per finding, each healthy but for exactly that
# problem, with doctor run inside it (ip netns exec) against CNI config, bin and state dirs of the test's own.
# Each case asserts the exit status (0 healthy, 2 problems, 1 error) and, from --json, the exact set of
# problem check ids, that every problem has a found text and a fix, and a distinguishing piece of the found text.
# Several cases then run the fix doctor printed and assert the namespace is healthy afterwards. A last section
# checks the conntrack-invalid finding's premise on this kernel (be_liberal does not rescue an asymmetric path).
# Nothing reads or changes the machine's own namespace; everything is removed on exit, also on failure.
#
# Environment (ctest sets it): TOPOCTL, the topoctl binary; TOPOCNI, the plugin (its case is skipped without it).
# Exit status is non-zero when any check fails; the last line is "N passed, M failed".
set -euo pipefail
TOPOCTL=$(readlink -f "${TOPOCTL:?set TOPOCTL to the topoctl binary}")

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (creates network namespaces)"; exit 0; }
for tool in ip nft iptables python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: missing tool $tool (scripts/lib/install-deps.sh installs it)"; exit 1; }
done

PREFIX="tdoc$$-"
TMP=$(mktemp -d "/tmp/${PREFIX}XXXXXX")
NAMESPACES=()
PIDS=()  # background processes this script started
cleanup() {
  local rc=$? ns pid
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf -- "$TMP"
  return "$rc"
}
trap cleanup EXIT

export TOPOCNI_TEMPLATE_PATH="$TMP/no-templates"  # built-in templates only
export NO_COLOR=1
unset TOPOCNI_STATE_DIR

PASS=0
FAIL=0
record() {
  local ok=$1; shift
  if [[ $ok == 1 ]]; then PASS=$((PASS + 1)); echo "PASS  $*"; else FAIL=$((FAIL + 1)); echo "FAIL  $*"; fi
}

# ---------------------------------------------------------------------------------------------------------
# A healthy node: an underlay interface up0 (a veth into a namespace of its own, 10.10.20.1/24) that forwards,
# a conflist chaining veth-to-host (ipMasq on) after macvlan, the plugin in the bin dir, no journals.

CONFLIST_OK='{"cniVersion":"1.0.0","name":"cni0","plugins":[
  {"type":"macvlan","master":"up0","ipam":{"type":"host-local","subnet":"10.10.20.0/24"}},
  {"type":"veth-to-host","hostInterface":"up0","ipMasq":true}]}'

# ns_add NAME: a namespace with lo up, its full name in NEW_NS. Not echoed for $(...): the subshell would lose
# the NAMESPACES entry the cleanup needs.
ns_add() {
  NEW_NS="${PREFIX}$1"
  ip netns add "$NEW_NS"
  NAMESPACES+=("$NEW_NS")
  ip -n "$NEW_NS" link set lo up
}

# healthy CASE: a node namespace and dirs $TMP/CASE/{conf,bin,state}, all healthy; sets NS and DIR.
healthy() {
  local c=$1
  ns_add "$c"
  NS=$NEW_NS
  DIR="$TMP/$c"
  mkdir -p "$DIR/conf" "$DIR/bin" "$DIR/state"
  printf '%s\n' "$CONFLIST_OK" >"$DIR/conf/10-cni0.conflist"
  # doctor checks that the runtime would find an executable of each name; what it is does not matter here.
  printf '#!/bin/sh\nexit 0\n' >"$DIR/bin/topocni"
  chmod 0755 "$DIR/bin/topocni"
  ln -s topocni "$DIR/bin/veth-to-host"
  local peer
  ns_add "$c-lan"
  peer=$NEW_NS
  ip -n "$NS" link add up0 type veth peer name lan0 netns "$peer"
  ip -n "$NS" link set up0 up
  ip -n "$NS" addr add 10.10.20.1/24 dev up0
  ip netns exec "$NS" sysctl -qw net.ipv4.conf.up0.forwarding=1
}

# doctor ARGS...: runs doctor --json in $NS with $DIR's dirs; the JSON in $DIR/out.json, the status in RC.
doctor() {
  RC=0
  ip netns exec "$NS" "$TOPOCTL" doctor --json --cni-conf-dir "$DIR/conf" --cni-bin-dir "$DIR/bin" \
    --state-dir "$DIR/state" "$@" >"$DIR/out.json" 2>"$DIR/err.txt" || RC=$?
}

# expect LABEL STATUS IDS [TEXT]: RC is STATUS, the problem findings' check ids are exactly IDS (comma list,
# "" for none), there is no error finding, every finding has all fields (a fix exactly when it is a problem),
# and, when given, TEXT occurs in some problem's found text.
expect() {
  local label=$1 status=$2 ids=$3 text=${4:-} why
  if [[ $RC != "$status" ]]; then
    record 0 "$label: exit $RC, expected $status"
    sed 's/^/    | /' "$DIR/err.txt" "$DIR/out.json" | head -40
    return
  fi
  if why=$(python3 - "$DIR/out.json" "$ids" "$text" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1]))
want = set(filter(None, sys.argv[2].split(",")))
problems = [f for f in findings if f["status"] == "problem"]
got = {f["check"] for f in problems}
errors = [f for f in findings if f["status"] == "error"]
if got != want: sys.exit(f"problem checks {sorted(got)}, expected {sorted(want)}")
if errors: sys.exit(f"errors: {errors}")
for f in findings:
    if set(f) != {"check", "status", "subject", "checked", "found", "fix"}: sys.exit(f"fields of {f}")
    if not f["checked"] or not f["found"]: sys.exit(f"empty checked/found: {f}")
    if (f["status"] == "problem") != (f["fix"] is not None): sys.exit(f"fix vs status: {f}")
if sys.argv[3] and not any(sys.argv[3] in f["found"] for f in problems):
    sys.exit(f"no problem's found text holds {sys.argv[3]!r}: {[f['found'] for f in problems]}")
PY
  ); then
    record 1 "$label"
  else
    record 0 "$label: $why"
  fi
}

# fixes CHECK: the fix commands of the problems of that check, one per line.
fixes() {
  python3 -c 'import json,sys; [print(f["fix"]) for f in json.load(open(sys.argv[1])) if f["status"]=="problem" and f["check"]==sys.argv[2]]' \
    "$DIR/out.json" "$1"
}

# A topology with a veth into a second namespace, its rp_filter, a route and a rule: what a topocni
# attachment leaves on a node, journaled, for the rp_filter and leftover cases.
cat >"$TMP/doclab.yaml" <<'YAML'
name: doclab
description: A veth to a second namespace with a route and a rule on it (topoctl doctor's tests).
parameters:
  rpFilter: {type: int, default: 2, min: 0, max: 2}
host:
  links:
    - {name: dochv0, peer: {name: docpv0, scope: container}}
  sysctls:
    - {name: net.ipv4.conf.dochv0.rp_filter, value: "${ params.rpFilter }"}
  routes:
    - {dst: 10.99.0.0/24, dev: dochv0, table: 4242, scope: link}
  rules:
    - {priority: 4242, iif: dochv0, table: 4242}
YAML
apply_doclab() {  # apply_doclab RPFILTER: the topology "lab" in $NS, its container scope a new namespace $PEER
  ns_add "$1-peer"
  PEER=$NEW_NS
  TOPOCNI_STATE_DIR="$DIR/state" ip netns exec "$NS" "$TOPOCTL" apply -f "$TMP/doclab.yaml" --name lab \
    --netns "/run/netns/$PEER" --set "rpFilter=$2" >"$DIR/apply.txt" 2>&1 || { cat "$DIR/apply.txt"; return 1; }
}

# ---------------------------------------------------------------------------------------------------------
echo "== healthy"
healthy ok
doctor
expect "healthy node: exit 0, no problem" 0 ""
RC=0
ip netns exec "$NS" "$TOPOCTL" doctor --cni-conf-dir "$DIR/conf" --cni-bin-dir "$DIR/bin" --state-dir "$DIR/state" \
  >"$DIR/text.txt" 2>&1 || RC=$?
if [[ $RC == 0 ]] && grep -qE '^[0-9]+ checks: [0-9]+ ok, 0 problems, 0 errors\.$' "$DIR/text.txt" &&
  grep -q '^ok       ipv4-forwarding: up0$' "$DIR/text.txt"; then
  record 1 "healthy node: text output"
else
  record 0 "healthy node: text output (exit $RC)"; sed 's/^/    | /' "$DIR/text.txt"
fi

healthy attached
ip netns exec "$NS" sysctl -qw net.ipv4.conf.all.rp_filter=1
apply_doclab attached 2
doctor
expect "journaled topology, rp_filter loose: exit 0, its link/route/rule not leftovers" 0 ""

# Rules that must not count as conntrack-INVALID drops: the xt conntrack match with another state (nft's JSON
# would show it exactly like an INVALID one), INVALID drops on input/output only, native near misses.
healthy nearmiss
ip netns exec "$NS" iptables -A FORWARD -m conntrack --ctstate NEW -j DROP
ip netns exec "$NS" iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
ip netns exec "$NS" nft -f - <<'NFT'
table inet hostfw {
  chain fw_forward {
    type filter hook forward priority filter; policy accept;
    ct state established,related accept
    ct state invalid accept
    ct state != invalid counter drop
  }
  chain fw_output {
    type filter hook output priority filter; policy accept;
    ct state invalid drop
  }
}
NFT
doctor
expect "near misses (other states, input/output chains, accept): exit 0" 0 ""

echo "== forwarding"
healthy fwd4
ip netns exec "$NS" sysctl -qw net.ipv4.conf.up0.forwarding=0
doctor
expect "IPv4 forwarding off on the conflist's hostInterface" 2 ipv4-forwarding "0: the kernel forwards"
[[ $(fixes ipv4-forwarding) == "sysctl -w net.ipv4.conf.up0.forwarding=1"* ]] && record 1 "fix names the sysctl" ||
  record 0 "fix names the sysctl: $(fixes ipv4-forwarding)"
doctor --interface lo
expect "--interface replaces the conflist's: lo does not forward, up0 not looked at" 2 ipv4-forwarding "arriving on lo"

healthy fwd6
ip -n "$NS" addr add fd00:10:20::1/64 dev up0 nodad
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.forwarding=0
doctor
expect "dual-stack underlay, net.ipv6.conf.all.forwarding=0" 2 ipv6-forwarding "IPv6 forwards only with"
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.forwarding=1
doctor
expect "dual-stack underlay, all.forwarding=1: healthy" 0 ""

healthy gone
ip -n "$NS" link del up0
doctor
expect "hostInterface missing from the namespace" 2 ipv4-forwarding "does not exist"

echo "== rp_filter"
healthy rpf
ip netns exec "$NS" sysctl -qw net.ipv4.conf.all.rp_filter=1
apply_doclab rpf 1
doctor
expect "topocni's veth with strict rp_filter (all=1, dochv0=1)" 2 rp-filter "effective 1"

echo "== conntrack INVALID drops"
healthy ctipt
ip netns exec "$NS" iptables -N KUBE-FORWARD
ip netns exec "$NS" iptables -A FORWARD -j KUBE-FORWARD
ip netns exec "$NS" iptables -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
doctor
expect "kube-proxy's iptables-nft rule (-m conntrack --ctstate INVALID -j DROP)" 2 conntrack-invalid "xt match conntrack"
[[ $(fixes conntrack-invalid) == *"tcpBeLiberal"* ]] && record 1 "fix for kube-proxy's rule names tcpBeLiberal" ||
  record 0 "fix for kube-proxy's rule: $(fixes conntrack-invalid)"

healthy ctfilter
ip netns exec "$NS" iptables -A FORWARD -i up0 -m conntrack --ctstate INVALID,NEW -j DROP
doctor
expect "a host firewall's iptables-nft rule (-m conntrack --ctstate INVALID,NEW -j DROP)" 2 conntrack-invalid \
  "ip filter FORWARD handle"
ip netns exec "$NS" iptables -D FORWARD -i up0 -m conntrack --ctstate INVALID,NEW -j DROP
ip netns exec "$NS" iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP
doctor
fix=$(fixes conntrack-invalid)
ip netns exec "$NS" sh -c "${fix%%#*}"
doctor
expect "after the fix (${fix%%#*}): exit 0" 0 ""

healthy ctnft
ip netns exec "$NS" nft -f - <<'NFT'
table ip hostfw {
  chain fw_forward {
    type filter hook forward priority filter; policy accept;
    iifname "up0" ct state invalid counter drop
  }
}
NFT
ip netns exec "$NS" sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=1
doctor
expect "native ct state invalid drop, with be_liberal=1" 2 conntrack-invalid "nf_conntrack_tcp_be_liberal=1"
fix=$(fixes conntrack-invalid)
ip netns exec "$NS" sh -c "${fix%%#*}"
doctor
expect "after the fix ($fix): exit 0" 0 ""

echo "== kube-proxy masquerade vs ipMasq"
NO_MASQ='{"cniVersion":"1.0.0","name":"cni0","plugins":[
  {"type":"macvlan","master":"up0","ipam":{"type":"host-local","subnet":"10.10.20.0/24"}},
  {"type":"veth-to-host","hostInterface":"up0"}]}'
healthy masq
printf '%s\n' "$NO_MASQ" >"$DIR/conf/10-cni0.conflist"
doctor
expect "veth-to-host without ipMasq, no kube-proxy (no DNAT to send back): healthy" 0 ""

healthy masqsvc
printf '%s\n' "$NO_MASQ" >"$DIR/conf/10-cni0.conflist"
ip netns exec "$NS" iptables -t nat -N KUBE-SERVICES
ip netns exec "$NS" iptables -t nat -A PREROUTING -j KUBE-SERVICES
doctor
expect "without ipMasq, kube-proxy iptables mode without a masquerade rule" 2 kube-proxy-masquerade \
  "ipMasq false (template default false); kube-proxy iptables mode, masquerade rule absent: Service traffic"

healthy masqipt
printf '%s\n' "$NO_MASQ" >"$DIR/conf/10-cni0.conflist"
ip netns exec "$NS" iptables -t nat -N KUBE-SERVICES
ip netns exec "$NS" iptables -t nat -A PREROUTING -j KUBE-SERVICES
ip netns exec "$NS" iptables -t nat -N KUBE-POSTROUTING
ip netns exec "$NS" iptables -t nat -A POSTROUTING -j KUBE-POSTROUTING
ip netns exec "$NS" iptables -t nat -A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully
doctor
expect "without ipMasq, kube-proxy iptables mode with KUBE-POSTROUTING masquerade" 2 kube-proxy-masquerade \
  "kube-proxy iptables mode, masquerade rule ip nat KUBE-POSTROUTING handle"

healthy masqnft
printf '%s\n' "$NO_MASQ" >"$DIR/conf/10-cni0.conflist"
ip netns exec "$NS" nft -f - <<'NFT'
table ip kube-proxy {
  chain masquerading {
    meta mark & 0x4000 == 0 return
    meta mark set meta mark ^ 0x4000
    masquerade fully-random
  }
  chain nat-postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    jump masquerading
  }
}
NFT
doctor
expect "without ipMasq, kube-proxy nftables mode" 2 kube-proxy-masquerade "kube-proxy nftables mode, masquerade rule ip kube-proxy masquerading"

echo "== CNI files"
healthy bin
rm "$DIR/bin/veth-to-host"
doctor
expect "the conflist's type missing from the bin dirs" 2 cni-plugin-binary "no executable veth-to-host"
fix=$(fixes cni-plugin-binary)
sh -c "${fix%%#*}"
doctor
expect "after the fix ($fix): exit 0" 0 ""

healthy order
printf '%s\n' '{"cniVersion":"1.0.0","name":"cni0","plugins":[
  {"type":"veth-to-host","hostInterface":"up0","ipMasq":true},
  {"type":"macvlan","master":"up0","ipam":{"type":"host-local","subnet":"10.10.20.0/24"}}]}' >"$DIR/conf/10-cni0.conflist"
doctor
expect "topocni's entry first in its conflist" 2 cni-chain-order "first in its plugins list"

echo "== leftovers"
healthy stale
apply_doclab stale 2
ip netns del "$PEER"  # the pod's namespace goes without a DEL: its veth goes with it
for _ in $(seq 50); do ip -n "$NS" link show dochv0 >/dev/null 2>&1 || break; sleep 0.1; done
doctor
expect "a journal whose host veth is gone" 2 stale-journal "its host link dochv0 no longer exists"
fix=$(fixes stale-journal)
TOPOCNI_STATE_DIR="$DIR/state" ip netns exec "$NS" sh -c "${fix/#topoctl /$TOPOCTL }" >/dev/null
doctor
expect "after the fix ($fix): exit 0" 0 ""

# The same for a CNI attachment made by the real plugin (ctest sets TOPOCNI): the fix is the DEL it missed.
if [[ -n "${TOPOCNI:-}" ]]; then
  healthy stalecni
  ln -sf "$(readlink -f "$TOPOCNI")" "$DIR/bin/topocni"  # the real plugin; veth-to-host links to it
  ns_add stalecni-pod
  POD=$NEW_NS
  ip -n "$POD" link add eth0 type veth peer name eth0p  # the pod's main interface, as macvlan would leave it
  ip -n "$POD" addr add 10.10.20.50/24 dev eth0
  ip -n "$POD" link set eth0 up
  ip -n "$POD" route add default via 10.10.20.254
  printf '%s' '{"cniVersion":"1.0.0","name":"cni0","type":"veth-to-host","hostInterface":"up0","ipMasq":true,
    "prevResult":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/'"$POD"'"}],
    "ips":[{"address":"10.10.20.50/24","gateway":"10.10.20.254","interface":0}],"routes":[{"dst":"0.0.0.0/0"}]}}' |
    TOPOCNI_STATE_DIR="$DIR/state" CNI_COMMAND=ADD CNI_CONTAINERID=ctr1 CNI_IFNAME=eth0 CNI_NETNS="/run/netns/$POD" \
      CNI_PATH="$DIR/bin" ip netns exec "$NS" "$DIR/bin/veth-to-host" >"$DIR/add.json"
  doctor
  expect "a live CNI attachment (veth-to-host ADD): healthy" 0 ""
  ip netns del "$POD"
  for _ in $(seq 50); do [[ $(ip -n "$NS" -o link show 2>/dev/null | grep -c 'alias topocni:' || true) == 0 ]] && break; sleep 0.1; done
  doctor
  expect "the pod's namespace gone without DEL" 2 stale-journal "no longer exists"
  fix=$(fixes stale-journal)
  echo "      fix: $fix"
  ip netns exec "$NS" sh -c "$fix"
  doctor
  expect "after the fix (the DEL it missed): exit 0" 0 ""
  left=$(find "$DIR/state" -name '*.json' | wc -l)
  [[ $left == 0 ]] && record 1 "no journal left after the DEL" || record 0 "$left journal(s) left after the DEL"
else
  echo "SKIP  stale CNI attachment: TOPOCNI (the plugin binary) is not set"
fi

healthy orphan
apply_doclab orphan 2
find "$DIR/state" -name '*.json' -delete  # the journal is lost; the objects stay
doctor
expect "marked link, route and rule with no journal" 2 unjournaled-link,unjournaled-route,unjournaled-rule \
  "carries alias topocni:topoctl/lab/-"
while read -r fix; do ip netns exec "$NS" sh -c "$fix"; done < <(fixes unjournaled-rule; fixes unjournaled-route; fixes unjournaled-link)
doctor
expect "after the fixes (ip rule/route/link del): exit 0" 0 ""

# The conntrack-invalid check's premise, on this kernel: on an asymmetric path (client -> router -> server, the
# server's replies straight to the client) a router that drops ct state invalid breaks TCP whatever
# nf_conntrack_tcp_be_liberal says, and works without the rule. Bounded: 3 s per connection attempt.
echo "== premise: INVALID drop on an asymmetric path, be_liberal 0 and 1"
ns_add asym-c; C=$NEW_NS
ns_add asym-r; R=$NEW_NS
ns_add asym-s; S=$NEW_NS
for n in "$C" "$R" "$S"; do ip netns exec "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0; done
ip -n "$C" link add eth0 type veth peer name rc netns "$R"
ip -n "$S" link add eth0 type veth peer name rs netns "$R"
ip -n "$C" link add eth1 type veth peer name eth1 netns "$S"
for l in eth0 eth1; do ip -n "$C" link set "$l" up; ip -n "$S" link set "$l" up; done
ip -n "$R" link set rc up
ip -n "$R" link set rs up
ip -n "$C" addr add 10.0.1.2/24 dev eth0
ip -n "$R" addr add 10.0.1.1/24 dev rc
ip -n "$S" addr add 10.0.2.2/24 dev eth0
ip -n "$R" addr add 10.0.2.1/24 dev rs
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ip -n "$C" route add 10.0.2.2 via 10.0.1.1 dev eth0  # there through the router
ip -n "$S" route add 10.0.1.2/32 dev eth1             # back directly
ip netns exec "$R" nft add table inet fw
ip netns exec "$R" nft add chain inet fw f '{ type filter hook forward priority 0; }'
ip netns exec "$R" nft add rule inet fw f ct state invalid counter drop
ip netns exec "$S" timeout 60 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("10.0.2.2", 8080)); s.listen(8)
s.settimeout(50)
while True:
    c, _ = s.accept(); c.settimeout(3)
    try: c.sendall(b"pong:" + c.recv(100))
    except Exception: pass
    c.close()' &
SERVER=$!
PIDS+=("$SERVER")
sleep 0.5
tcp_ok() {  # a request/response over TCP from C to S within 3 s
  ip netns exec "$C" timeout 10 python3 -c '
import socket
s = socket.create_connection(("10.0.2.2", 8080), timeout=3); s.settimeout(3); s.sendall(b"ping"); assert s.recv(100) == b"pong:ping"' \
    2>/dev/null
}
for liberal in 0 1; do
  ip netns exec "$R" sysctl -qw "net.netfilter.nf_conntrack_tcp_be_liberal=$liberal"
  tcp_ok && record 0 "asymmetric TCP through an INVALID drop worked with be_liberal=$liberal" ||
    record 1 "asymmetric TCP through an INVALID drop fails with be_liberal=$liberal"
done
ip netns exec "$R" nft flush chain inet fw f
tcp_ok && record 1 "asymmetric TCP works without the rule" || record 0 "asymmetric TCP fails even without the rule"
kill "$SERVER" 2>/dev/null || true
wait "$SERVER" 2>/dev/null || true

echo "== errors"
healthy err
: >"$TMP/not-a-netns"
doctor --netns "$TMP/not-a-netns"
[[ $RC == 1 ]] && grep -q '^topoctl: ' "$DIR/err.txt" && record 1 "--netns that is not a namespace: exit 1" ||
  record 0 "--netns that is not a namespace: exit $RC ($(cat "$DIR/err.txt"))"
doctor --netns "/run/netns/${PREFIX}fwd4"
expect "--netns selects another namespace (fwd4's problem, seen from ok's)" 2 ipv4-forwarding "0: the kernel forwards"

echo
echo "$PASS passed, $FAIL failed"
[[ $FAIL == 0 ]]
