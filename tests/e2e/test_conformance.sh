#!/usr/bin/env bash
# The CNI protocol as the runtime sees it, through the plugin binary: every version (VERSION, ADD result shape,
# CHECK, DEL), error JSON and codes, STATUS and GC (which keeps going past a failure).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=conformance_helpers.sh
source "$HERE/conformance_helpers.sh"

conformance_up
first_plugin_add p1
first_plugin_add p2
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
snapshot "$(pod_ns p1)" >"$LAB_TMP/p1.before"
BASE=$(topo_config p1)

# The config in version $1, its prevResult rewritten in that version's shape (as libcni converts it).
config_in() {
  python3 - "$BASE" "$1" <<'PY'
import json, sys
c = json.loads(sys.argv[1]); v = sys.argv[2]
c["cniVersion"] = v
p = c["prevResult"]; p["cniVersion"] = v
for ip in p["ips"]:
    if v.startswith("0."): ip["version"] = "6" if ":" in ip["address"] else "4"
    else: ip.pop("version", None)
print(json.dumps(c))
PY
}

# Expects an error: label, code, text the msg must contain, then the topo_call arguments.
expect_error() {
  local label=$1 code=$2 text=$3 out rc=0 got msg
  shift 3
  out=$("$@") || rc=$?
  got=$(json_get "$out" 'j["code"]')
  msg=$(json_get "$out" 'j["msg"] + " " + j.get("details", "")')
  if ((rc != 0)) && [[ "$got" == "$code" && "$msg" == *"$text"* ]] &&
    [[ -n $(json_get "$out" 'j["cniVersion"]') ]] && [[ $(wc -l <<<"$out") == 1 ]]; then
    record 1 "$label: code $code ($msg)"
  else
    record 0 "$label: rc $rc, stdout $out (want code $code mentioning '$text')"
  fi
}

echo "== VERSION"
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
  out=$(topo_call p1 VERSION "{\"cniVersion\":\"$v\"}")
  [[ $(json_get "$out" '",".join(j["supportedVersions"])') == "0.3.0,0.3.1,0.4.0,1.0.0,1.1.0" ]]
  expect_ok "VERSION asked in $v lists every supported version" [ $? = 0 ]
done

echo "== ADD / CHECK / DEL in every version"
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
  config=$(config_in "$v")
  if ! out=$(topo_call p1 ADD "$config"); then record 0 "$v: ADD failed: $out"; continue; fi
  shape=$(json_get "$out" '"%s %s %d %s %s" % (j["cniVersion"], "version" in j["ips"][0], len(j["interfaces"]), j["interfaces"][j["ips"][0]["interface"]]["name"], j["ips"][0]["gateway"])')
  want_version=False
  [[ $v == 0.* ]] && want_version=True
  # 2 interfaces: macvlan's eth0 and our host-side veth; the pod-side veth0 is not listed (a runtime would take
  # it for a second interface of the attachment, see engine/src/cni/result.cpp).
  if [[ "$shape" == "$v $want_version 2 eth0 10.10.20.254" ]]; then
    record 1 "$v: ADD result in $v (ips carry version: $want_version; interface index still eth0)"
  else
    record 0 "$v: ADD result shape '$shape', result $out"
  fi
  if [[ $v == 0.3.* ]]; then
    expect_error "$v: CHECK is not in this version" 2 CHECK topo_call p1 CHECK "$config"
  else
    expect_ok "$v: CHECK passes right after ADD" topo_call p1 CHECK "$config"
  fi
  expect_ok "$v: DEL" topo_call p1 DEL "$config"
  snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
  snapshot "$(pod_ns p1)" >"$LAB_TMP/p1.after"
  expect_same "$v: node as before" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
  expect_same "$v: pod as before" "$LAB_TMP/p1.before" "$LAB_TMP/p1.after"
done

echo "== CHECK names what differs"
config=$(config_in 1.0.0)
topo_call p1 ADD "$config" >/dev/null
ip -n "$NS_NODE1" rule del pref 1000 iif "$(ip -n "$NS_NODE1" -o link | grep -o 'veth[0-9a-f]\{11\}' | head -1)"
expect_error "CHECK after a rule was removed" 103 "rule pref 1000" topo_call p1 CHECK "$config"
topo_call p1 DEL "$config" >/dev/null

echo "== errors"
expect_error "unsupported cniVersion" 1 "0.2.0" topo_call p1 ADD "$(json_get "$config" 'json.dumps(dict(j, cniVersion="0.2.0"))')"
expect_error "undecodable JSON" 6 "decode" topo_call p1 ADD '{"cniVersion":'
expect_error "missing key" 7 "'name' is missing" topo_call p1 ADD "$(json_get "$config" 'json.dumps({k: x for k, x in j.items() if k != "name"})')"
expect_error '"ipMasq": "yes"' 7 "ipMasq" topo_call p1 ADD "$(json_get "$config" 'json.dumps(dict(j, ipMasq="yes"))')"
expect_error "ADD without prevResult" 7 "chained" topo_call p1 ADD "$(config_in 1.0.0 | python3 -c 'import json,sys; j=json.load(sys.stdin); j.pop("prevResult"); print(json.dumps(j))')"
expect_error "prevResult ip version disagreeing with its address" 7 "prevResult.ips[0].version" topo_call p1 ADD "$(json_get "$(config_in 0.4.0)" 'json.dumps(dict(j, prevResult=dict(j["prevResult"], ips=[dict(j["prevResult"]["ips"][0], version="6")])))')"
expect_error "missing host interface" 101 "enp9s9" topo_call p1 ADD "$(json_get "$config" 'json.dumps(dict(j, hostInterface="enp9s9"))')"
expect_error "interface name taken in the pod" 101 "'eth0' already exists" topo_call p1 ADD "$(json_get "$config" 'json.dumps(dict(j, containerInterface="eth0"))')"
out=$(printf '%s' "$config" | in_ns "$NS_NODE1" env -i CNI_COMMAND=ADD CNI_CONTAINERID='../x' CNI_NETNS=/x CNI_IFNAME=eth0 "$TOPOCNI" 2>/dev/null) || true
[[ $(json_get "$out" 'j["code"]') == 4 && $out == *CNI_CONTAINERID* ]]; expect_ok "bad CNI_CONTAINERID is code 4 naming it" [ $? = 0 ]
out=$(printf '%s' "$config" | in_ns "$NS_NODE1" env -i CNI_COMMAND=ADD CNI_CONTAINERID=abc CNI_IFNAME=eth0 "$TOPOCNI" 2>/dev/null) || true
[[ $(json_get "$out" 'j["code"]') == 4 && $out == *CNI_NETNS* ]]; expect_ok "missing CNI_NETNS on ADD is code 4 naming it" [ $? = 0 ]
out=$(printf '%s' "$config" | in_ns "$NS_NODE1" env -i CNI_COMMAND=ADD CNI_CONTAINERID=abc CNI_NETNS=/x CNI_IFNAME='a/b' "$TOPOCNI" 2>/dev/null) || true
[[ $(json_get "$out" 'j["code"]') == 4 && $out == *CNI_IFNAME* ]]; expect_ok "bad CNI_IFNAME is code 4 naming it" [ $? = 0 ]
out=$(printf '%s' "$config" | in_ns "$NS_NODE1" env -i "$TOPOCNI" 2>"$LAB_TMP/stderr") || true
[[ $(json_get "$out" 'j["code"]') == 4 && -s "$LAB_TMP/stderr" ]]; expect_ok "missing CNI_COMMAND: code 4 on stdout, the log on stderr" [ $? = 0 ]

echo "== a journal lock held too long is code 11 (try again later), and nothing changes"
mkdir -p "$STATE_DIR"
snapshot "$NS_NODE1" >"$LAB_TMP/node.locked.before"
flock "$STATE_DIR/.lock" sleep 3 &
locker=$!
sleep 0.3
expect_error "ADD while the lock is held past TOPOCNI_LOCK_TIMEOUT_MS" 11 "journal lock" \
  topo_call p1 ADD "$config" TOPOCNI_LOCK_TIMEOUT_MS=200
wait "$locker"
snapshot "$NS_NODE1" >"$LAB_TMP/node.locked.after"
expect_same "node unchanged by the refused ADD" "$LAB_TMP/node.locked.before" "$LAB_TMP/node.locked.after"

echo "== STATUS and GC (1.1.0)"
c11=$(config_in 1.1.0)
expect_ok "STATUS: ready" topo_call p1 STATUS "$c11"
expect_error "STATUS is not in 1.0.0" 2 STATUS topo_call p1 STATUS "$config"
: >"$LAB_TMP/not-a-dir"
expect_error "STATUS with an unwritable state directory" 50 "state directory" env STATE_DIR="$LAB_TMP/not-a-dir" \
  bash -c "$(declare -f topo_call json_get in_ns pod_ns); declare -A POD_NODE=([p1]=$NS_NODE1) POD_ID=([p1]=id-p1); LAB_PREFIX=$LAB_PREFIX LAB_TMP=$LAB_TMP LAB_CNI_PATH=$LAB_CNI_PATH TOPOCNI=$TOPOCNI topo_call p1 STATUS '$c11'"
topo_call p1 ADD "$(config_in 1.1.0)" >/dev/null
BASE=$(topo_config p2)
topo_call p2 ADD "$(config_in 1.1.0)" >/dev/null
gc=$(json_get "$c11" 'json.dumps(dict({k: x for k, x in j.items() if k != "prevResult"}, **{"cni.dev/valid-attachments": []}))')
# The first kernel change of the GC fails: GC reports it, but still removes the other attachment.
expect_error "GC with a failing step reports it" 102 "injected failure" topo_call p1 GC "$gc" TOPOCNI_TEST_FAIL_AT=1
left=$(find "$STATE_DIR/cni0" -name '*.json' | wc -l)
if [[ $left == 1 ]]; then record 1 "GC kept going: the other attachment is gone"; else record 0 "GC left $left journals"; fi
expect_ok "a second GC removes the rest" topo_call p1 GC "$gc"
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
expect_same "node as before after GC" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
summary
