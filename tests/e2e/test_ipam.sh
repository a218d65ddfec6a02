#!/usr/bin/env bash
# End-to-end test of IPAM delegation and the declared result (issue 11 parts 1 and 2) with Debian's real
# host-local and static IPAM plugins: topocni as a main plugin (tests/e2e/templates/ipam-veth.yaml) gets the
# pod's address from the IPAM plugin, puts it on a veth into the pod and answers the result the template
# declares. Checks: ADD's result and the address in the pod; host-local's data dir holds the allocation and
# DEL releases it (also with the journal gone); a failed ADD (an existing link in the pod) and a refused
# config leave no allocation; an IPAM error (exhausted range, bad ipam config) comes back with the IPAM
# plugin's own code and msg; CHECK runs IPAM CHECK; `static` hands out its addresses, routes and dns.
# host-local is run both ways: in topocni's process (the default; a bad config is then code 7 naming the key)
# and as Debian's binary (`"builtinHostLocal": false`). The built-in also speaks 1.1.0: STATUS and GC.
#
# Only throwaway namespaces (tipam-<pid>-*), a mktemp dir for host-local's dataDir and topocni's state; all
# removed by the EXIT trap, on failure too. Every plugin run is bounded by `timeout`.
#
# Environment (ctest sets them): TOPOCNI. The last line is "N passed, M failed"; exit status non-zero on a failure.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOPOCNI="${TOPOCNI:?set TOPOCNI to the topocni binary}"
CNI_BIN="${CNI_SYSTEM_BIN:-/usr/lib/cni}"
[[ -x "$CNI_BIN/host-local" && -x "$CNI_BIN/static" ]] || { echo "SKIP: no host-local/static in $CNI_BIN"; exit 0; }

P="tipam-$$-"
NODE="${P}node"
WORK=$(mktemp -d /tmp/tipam.XXXXXX)

cleanup() {
  for ns in node pod1 pod2 pod3 pod4; do ip netns del "${P}$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck source=checks.sh
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"

for ns in node pod1 pod2 pod3 pod4; do ip netns add "${P}$ns"; done
DATA="$WORK/ipam"
STATE="$WORK/state"
EXTRA_ENV=()  # VAR=value pairs for the next plugin runs (fault injection)
# A template that fails to render after IPAM ADD: it wants a second address host-local does not give.
mkdir -p "$WORK/templates"
cat >"$WORK/templates/ipam-two.yaml" <<'YAML'
ipam: true
host:
  links:
    - {name: "vt${ cni.attachment | hash(11) }", peer: {name: "${ cni.ifname }", scope: container}}
container:
  addresses:
    - {dev: "${ cni.ifname }", address: "${ ipam.ips[1].address }"}
YAML

# A host-local network of two addresses, so that exhausting it takes two pods. $1: "builtin" (topocni
# allocates in-process, the default) or "binary" (`"builtinHostLocal": false`: Debian's host-local is run).
hostlocal_config() {
  local exec=""
  [[ $1 == binary ]] && exec='"builtinHostLocal":false,'
  cat <<JSON
{"cniVersion":"1.0.0","name":"tipam","type":"topocni","template":"ipam-veth",$exec
 "ipam":{"type":"host-local","dataDir":"$DATA",
         "ranges":[[{"subnet":"10.99.0.0/24","rangeStart":"10.99.0.10","rangeEnd":"10.99.0.11","gateway":"10.99.0.1"}]],
         "routes":[{"dst":"10.98.0.0/16"}]}}
JSON
}

# plugin COMMAND CONTAINER POD IFNAME CONFIG [BINARY]: runs it in the node's namespace as a runtime would;
# stdout in $OUT, exit status in $RC.
plugin() {
  local cmd=$1 id=$2 pod=$3 ifname=$4 config=$5 bin=${6:-$TOPOCNI}
  set +e
  OUT=$(printf '%s' "$config" | timeout 20 ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" CNI_NETNS="/run/netns/${P}$pod" CNI_IFNAME="$ifname" \
    CNI_PATH="$CNI_BIN" TOPOCNI_STATE_DIR="$STATE" TOPOCNI_TEMPLATE_PATH="$WORK/templates:$HERE/templates" \
    "${EXTRA_ENV[@]}" "$bin" 2>"$WORK/stderr")
  RC=$?
  set -e
}
jq_() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))" "$OUT" "$1"; }
# The addresses host-local holds for container $1: its files are named by address and start with the
# container id and a CRLF.
allocated() {
  local f
  for f in "$DATA"/tipam/*; do
    [[ -f $f && $(basename "$f") != last_reserved_ip* && $(basename "$f") != lock ]] || continue
    [[ $(head -n1 "$f" | tr -d '\r') == "$1" ]] && basename "$f"
  done
  return 0
}
with_prev() { python3 -c "import json,sys; c=json.loads(sys.argv[1]); c['prevResult']=json.loads(sys.argv[2]); print(json.dumps(c))" "$1" "$2"; }

host_local_suite() {
MODE=$1
DATA="$WORK/ipam-$MODE"
HOSTLOCAL=$(hostlocal_config "$MODE")
# --- ADD: the address from host-local, on the pod's interface, in the declared result ----------------------
plugin ADD c1 pod1 eth0 "$HOSTLOCAL"
check "$MODE: ADD c1 succeeds (rc $RC: $OUT)" test "$RC" = 0
ADD_RESULT=$OUT
check "$MODE: result: cniVersion 1.0.0" test "$(jq_ 'd["cniVersion"]')" = 1.0.0
check "$MODE: result: ips[0] is host-local's first address" test "$(jq_ 'd["ips"][0]["address"]')" = 10.99.0.10/24
check "$MODE: result: ips[0].gateway" test "$(jq_ 'd["ips"][0]["gateway"]')" = 10.99.0.1
check "$MODE: result: ips[0].interface points at eth0" test "$(jq_ 'd["interfaces"][d["ips"][0]["interface"]]["name"]')" = eth0
check "$MODE: result: eth0's sandbox is CNI_NETNS" test "$(jq_ 'd["interfaces"][1]["sandbox"]')" = "/run/netns/${P}pod1"
check "$MODE: result: eth0's MAC is the kernel's" \
  test "$(jq_ 'd["interfaces"][1]["mac"]')" = "$(ip -n "${P}pod1" -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')"
check "$MODE: result: the host veth has no sandbox" test "$(jq_ '"sandbox" in d["interfaces"][0]')" = False
check "$MODE: result: host-local's route" test "$(jq_ 'd["routes"][0]["dst"]')" = 10.98.0.0/16
check "$MODE: the pod has the address" ip -n "${P}pod1" -o addr show dev eth0 to 10.99.0.10/24
check "$MODE: host-local's data dir holds 10.99.0.10 for c1" test "$(allocated c1)" = 10.99.0.10

# --- CHECK: IPAM CHECK, then the template against the kernel -------------------------------------------------
plugin CHECK c1 pod1 eth0 "$(with_prev "$HOSTLOCAL" "$ADD_RESULT")"
check "$MODE: CHECK c1 passes (rc $RC: $OUT)" test "$RC" = 0
# A result claiming another address: host-local's CHECK passes (it checks that the container has an
# allocation, not which), the template rendered with it differs from the pod: 103.
FORGED=$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); r['ips'][0]['address']='10.99.0.11/24'; print(json.dumps(r))" "$ADD_RESULT")
plugin CHECK c1 pod1 eth0 "$(with_prev "$HOSTLOCAL" "$FORGED")"
check "$MODE: CHECK with another address in prevResult: drift, 103 ($OUT)" test "$(jq_ 'd["code"]')" = 103
# A container host-local has no allocation for: its CHECK fails, and its own code and msg come back.
plugin CHECK c9 pod1 eth0 "$(with_prev "$HOSTLOCAL" "$ADD_RESULT")"
TOPO_ERR=$OUT
plugin CHECK c9 pod1 eth0 "$(with_prev "$HOSTLOCAL" "$ADD_RESULT")" "$CNI_BIN/host-local"
check "$MODE: CHECK of a container without allocation: host-local's own code and msg ($TOPO_ERR)" python3 -c "
import json,sys; t=json.loads(sys.argv[1]); h=json.loads(sys.argv[2])
sys.exit(0 if (t['code'], t['msg']) == (h['code'], h['msg']) else 1)" "$TOPO_ERR" "$OUT"

# --- a failed ADD leaves no allocation ---------------------------------------------------------------------
ip -n "${P}pod2" link add eth0 type veth peer name other0  # not topocni's: the ADD must refuse it
plugin ADD c2 pod2 eth0 "$HOSTLOCAL"
check "$MODE: ADD over a foreign eth0 fails with 101 (rc $RC: $OUT)" test "$(jq_ 'd["code"]')" = 101
check "$MODE: the failed ADD left no allocation" test -z "$(allocated c2)"
check "$MODE: the failed ADD left no link on the node (c1's veth only)" test "$(ip -n "$NODE" -o link show type veth | wc -l)" = 1
ip -n "${P}pod2" link del eth0
# A render error after IPAM ADD (code 100), and a kernel failure (102) rolled back: no allocation either.
TWO=$(python3 -c "import json,sys; c=json.loads(sys.argv[1]); c['template']='ipam-two'; print(json.dumps(c))" "$HOSTLOCAL")
plugin ADD c2 pod2 eth0 "$TWO"
check "$MODE: a render error after IPAM ADD: 100 ($OUT)" test "$(jq_ 'd["code"]')" = 100
check "$MODE: the render error left no allocation" test -z "$(allocated c2)"
EXTRA_ENV=(TOPOCNI_TEST_FAIL_AT=2)
plugin ADD c2 pod2 eth0 "$HOSTLOCAL"
EXTRA_ENV=()
check "$MODE: an injected kernel failure: 102 ($OUT)" test "$(jq_ 'd["code"]')" = 102
check "$MODE: the rolled-back ADD left no allocation" test -z "$(allocated c2)"
check "$MODE: the rolled-back ADD left nothing in pod2" test -z "$(ip -n "${P}pod2" -o link show type veth)"
check "$MODE: the rolled-back ADD left nothing on the node (c1's veth only)" test "$(ip -n "$NODE" -o link show type veth | wc -l)" = 1

# --- an IPAM error comes back with the IPAM plugin's code and msg ------------------------------------------
plugin ADD c3 pod3 eth0 "$HOSTLOCAL"
check "$MODE: ADD c3 takes the last address (rc $RC)" test "$(jq_ 'd["ips"][0]["address"]')" = 10.99.0.11/24
check "$MODE: host-local's data dir holds 10.99.0.11 for c3 (the failed ADDs released it)" test "$(allocated c3)" = 10.99.0.11
plugin ADD c4 pod4 eth0 "$HOSTLOCAL"
TOPO_ERR=$OUT
# What host-local itself answers to the same input (it allocates nothing: the range is full).
plugin ADD c4 pod4 eth0 "$HOSTLOCAL" "$CNI_BIN/host-local"
check "$MODE: exhausted range: host-local's own code and msg ($TOPO_ERR)" python3 -c "
import json,sys; t=json.loads(sys.argv[1]); h=json.loads(sys.argv[2])
sys.exit(0 if (t['code'], t['msg']) == (h['code'], h['msg']) and t['code'] != 0 else 1)" "$TOPO_ERR" "$OUT"
check "$MODE: exhausted range: nothing created in pod4" test -z "$(ip -n "${P}pod4" -o link show type veth)"
BADCONF=$(python3 -c "import json,sys; c=json.loads(sys.argv[1]); c['ipam']['ranges']=[[{'subnet':'not-a-subnet'}]]; print(json.dumps(c))" "$HOSTLOCAL")
plugin ADD c4 pod4 eth0 "$BADCONF"
TOPO_ERR=$OUT
plugin ADD c4 pod4 eth0 "$BADCONF" "$CNI_BIN/host-local"
if [[ $MODE == binary ]]; then
  check "$MODE: bad ipam config: host-local's own code and msg ($TOPO_ERR)" python3 -c "
import json,sys; t=json.loads(sys.argv[1]); h=json.loads(sys.argv[2])
sys.exit(0 if (t['code'], t['msg']) == (h['code'], h['msg']) else 1)" "$TOPO_ERR" "$OUT"
else
  # The built-in refuses what host-local refuses, with the config's code and the key (host-local: 999).
  check "$MODE: bad ipam config: code 7 naming the key, where host-local refuses too ($TOPO_ERR)" python3 -c "
import json,sys; t=json.loads(sys.argv[1]); h=json.loads(sys.argv[2])
sys.exit(0 if t['code'] == 7 and 'ipam.ranges[0][0].subnet' in t['msg'] and h['code'] != 0 else 1)" "$TOPO_ERR" "$OUT"
fi
check "$MODE: the bad config allocated nothing" test -z "$(allocated c4)"

# --- refused before any IPAM run: code 7 naming ipam.type --------------------------------------------------
for ipam in '{"type":"../host-local"}' '{"type":"/usr/lib/cni/host-local"}' '{"dataDir":"x"}' '"host-local"' '{"type":"no-such-ipam"}'; do
  CONF=$(python3 -c "import json,sys; c=json.loads(sys.argv[1]); c['ipam']=json.loads(sys.argv[2]); print(json.dumps(c))" "$HOSTLOCAL" "$ipam")
  plugin ADD c4 pod4 eth0 "$CONF"
  check "$MODE: ipam $ipam: code 7 naming ipam.type ($OUT)" python3 -c "
import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if e['code']==7 and 'ipam.type' in e['msg'] else 1)" "$OUT"
done
NOIPAM=$(python3 -c "import json,sys; c=json.loads(sys.argv[1]); del c['ipam']; print(json.dumps(c))" "$HOSTLOCAL")
plugin ADD c4 pod4 eth0 "$NOIPAM"
check "$MODE: no ipam key: code 7 naming ipam.type ($OUT)" python3 -c "
import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if e['code']==7 and 'ipam.type' in e['msg'] else 1)" "$OUT"
check "$MODE: refused configs left nothing in pod4" test -z "$(ip -n "${P}pod4" -o link show type veth)"
# The runtime's DEL after such a refused ADD: nothing was allocated, nothing to release, and it succeeds.
BADTYPE=$(python3 -c "import json,sys; c=json.loads(sys.argv[1]); c['ipam']={'type':'../host-local'}; print(json.dumps(c))" "$HOSTLOCAL")
plugin DEL c4 pod4 eth0 "$BADTYPE"
check "$MODE: DEL with an unusable ipam.type succeeds (rc $RC: $OUT)" test "$RC" = 0

# --- DEL releases; DEL again is fine; DEL without the journal releases too ---------------------------------
plugin DEL c1 pod1 eth0 "$HOSTLOCAL"
check "$MODE: DEL c1 succeeds (rc $RC: $OUT)" test "$RC" = 0
check "$MODE: DEL c1 released 10.99.0.10" test -z "$(allocated c1)" -a ! -e "$DATA/tipam/10.99.0.10"
check "$MODE: DEL c1 removed the pod's eth0" test -z "$(ip -n "${P}pod1" -o link show eth0 2>/dev/null)"
plugin DEL c1 pod1 eth0 "$HOSTLOCAL"
check "$MODE: a second DEL c1 succeeds (rc $RC: $OUT)" test "$RC" = 0
rm -f "$STATE"/tipam/*c3*
plugin DEL c3 pod3 eth0 "$HOSTLOCAL"
check "$MODE: DEL c3 without its journal succeeds (rc $RC: $OUT)" test "$RC" = 0
check "$MODE: DEL c3 without its journal released 10.99.0.11" test -z "$(allocated c3)" -a ! -e "$DATA/tipam/10.99.0.11"
check "$MODE: DEL c3 without its journal removed the pod's eth0" test -z "$(ip -n "${P}pod3" -o link show eth0 2>/dev/null)"
check "$MODE: no topocni link left on the node" test -z "$(ip -n "$NODE" -o link show type veth)"
}
# Both ways of running host-local, one after the other on the same pods: in topocni's process (the default)
# and Debian's binary.
host_local_suite builtin
host_local_suite binary

# --- static, in every CNI version it speaks: addresses, routes and dns as static gives them -----------------
static_config() {
  cat <<JSON
{"cniVersion":"$v","name":"tstatic","type":"topocni","template":"ipam-veth",
 "ipam":{"type":"static","addresses":[{"address":"10.97.0.5/24","gateway":"10.97.0.1"}],
         "routes":[{"dst":"0.0.0.0/0","gw":"10.97.0.1"}],
         "dns":{"nameservers":["10.97.0.53"],"domain":"example.test","search":["example.test"]}}}
JSON
}
for v in 0.3.0 0.3.1 0.4.0 1.0.0; do
  STATIC=$(static_config)
  plugin ADD s1 pod4 eth1 "$STATIC"
  check "static $v: ADD (rc $RC: $OUT)" test "$RC" = 0
  S_RESULT=$OUT
  check "static $v: cniVersion" test "$(jq_ 'd["cniVersion"]')" = "$v"
  check "static $v: address" test "$(jq_ 'd["ips"][0]["address"]')" = 10.97.0.5/24
  if [[ $v == 0.* ]]; then
    check "static $v: ips[0].version" test "$(jq_ 'd["ips"][0]["version"]')" = 4
  else
    check "static $v: no ips[0].version" test "$(jq_ '"version" in d["ips"][0]')" = False
  fi
  check "static $v: route" test "$(jq_ 'd["routes"][0]["gw"]')" = 10.97.0.1
  check "static $v: dns" test "$(jq_ 'd["dns"]["nameservers"][0]')" = 10.97.0.53
  check "static $v: the pod has the address" ip -n "${P}pod4" -o addr show dev eth1 to 10.97.0.5/24
  if [[ $v != 0.3.* ]]; then  # CHECK is 0.4.0's
    plugin CHECK s1 pod4 eth1 "$(with_prev "$STATIC" "$S_RESULT")"
    check "static $v: CHECK (rc $RC: $OUT)" test "$RC" = 0
  fi
  plugin DEL s1 pod4 eth1 "$STATIC"
  check "static $v: DEL (rc $RC: $OUT)" test "$RC" = 0
  check "static $v: the pod's eth1 is gone" test -z "$(ip -n "${P}pod4" -o link show eth1 2>/dev/null)"
done

# Debian 12's static speaks up to 1.0.0: its refusal of 1.1.0 is passed through (its code 1 and msg), and
# nothing stays in the pod.
v=1.1.0
STATIC=$(static_config)
plugin ADD s1 pod4 eth1 "$STATIC"
check "static 1.1.0: static's own 'incompatible CNI versions' (code 1) comes back ($OUT)" python3 -c "
import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if e['code']==1 and e['msg']=='incompatible CNI versions' else 1)" "$OUT"
check "static 1.1.0: nothing created in pod4" test -z "$(ip -n "${P}pod4" -o link show type veth)"
check "static 1.1.0: nothing created on the node" test -z "$(ip -n "$NODE" -o link show type veth)"

# --- CNI 1.1 STATUS and GC are passed on to the IPAM plugin ------------------------------------------------
# Debian 12's IPAM plugins speak up to 1.0.0, so a stand-in that logs what it is asked plays one that speaks 1.1.0.
mkdir -p "$WORK/bin"
cat >"$WORK/bin/log-ipam" <<SH
#!/bin/sh
echo "\$CNI_COMMAND \$CNI_CONTAINERID \$(cat | tr -d '\n')" >>"$WORK/log-ipam.log"
[ "\$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.1.0","ips":[{"address":"10.96.0.7/24"}]}'
exit 0
SH
chmod +x "$WORK/bin/log-ipam"
LOGCONF='{"cniVersion":"1.1.0","name":"tlog","type":"topocni","template":"ipam-veth","ipam":{"type":"log-ipam"}}'
CNI_BIN_SAVED=$CNI_BIN
CNI_BIN="$WORK/bin:$CNI_BIN"
plugin ADD g1 pod4 eth2 "$LOGCONF"
check "1.1.0 ADD with a 1.1.0 IPAM plugin (rc $RC: $OUT)" test "$(jq_ 'd["ips"][0]["address"]')" = 10.96.0.7/24
plugin STATUS "" pod4 "" "$LOGCONF"
check "STATUS passed on to the IPAM plugin (rc $RC)" grep -q '^STATUS ' "$WORK/log-ipam.log"
GCCONF=$(python3 -c "import json,sys; c=json.loads(sys.argv[1]); c['cni.dev/valid-attachments']=[]; print(json.dumps(c))" "$LOGCONF")
plugin GC "" pod4 "" "$GCCONF"
check "GC succeeds (rc $RC: $OUT)" test "$RC" = 0
check "GC removed g1's interface" test -z "$(ip -n "${P}pod4" -o link show eth2 2>/dev/null)"
check "GC passed on to the IPAM plugin with the valid attachments" grep -q '^GC .*cni.dev/valid-attachments' "$WORK/log-ipam.log"
CNI_BIN=$CNI_BIN_SAVED

# --- the built-in host-local speaks 1.1.0 (Debian's binary refuses it): STATUS, and GC releasing addresses ---
DATA="$WORK/ipam-gc"
GC11=$(hostlocal_config builtin | python3 -c "import json,sys; c=json.load(sys.stdin); c['cniVersion']='1.1.0'; print(json.dumps(c))")
plugin ADD g2 pod4 eth3 "$GC11"
check "built-in host-local, 1.1.0: ADD (rc $RC: $OUT)" test "$(jq_ 'd["ips"][0]["address"]')" = 10.99.0.10/24
check "built-in host-local, 1.1.0: g2 holds 10.99.0.10" test "$(allocated g2)" = 10.99.0.10
plugin STATUS "" pod4 "" "$GC11"
check "built-in host-local, 1.1.0: STATUS (rc $RC: $OUT)" test "$RC" = 0
GC11=$(python3 -c "import json,sys; c=json.loads(sys.argv[1]); c['cni.dev/valid-attachments']=[]; print(json.dumps(c))" "$GC11")
plugin GC "" pod4 "" "$GC11"
check "built-in host-local, 1.1.0: GC (rc $RC: $OUT)" test "$RC" = 0
check "built-in host-local, 1.1.0: GC removed g2's interface" test -z "$(ip -n "${P}pod4" -o link show eth3 2>/dev/null)"
check "built-in host-local, 1.1.0: GC released g2's address" test -z "$(allocated g2)" -a ! -e "$DATA/tipam/10.99.0.10"

echo "$PASS passed, $FAIL failed"
[[ $FAIL == 0 ]]
