# shellcheck shell=bash
# topocni end-to-end lab: a small underlay network built from throwaway network namespaces.
#
#   outside (192.0.2.10) ── gw (192.0.2.1 | 10.10.20.254) ──┐
#                                                          sw (Linux bridge "br0")
#   node1 (enp5s0f0 10.10.20.1) ───────────────────────────┤
#   node2 (enp5s0f0 10.10.20.2) ───────────────────────────┘
#
# Pods are namespaces whose eth0 is a macvlan child of their node's enp5s0f0, created by the real
# Debian CNI plugins exactly as a runtime (libcni) would call them, followed by a second plugin
# (the one under test). Every node carries a kube-proxy-like "ip kubeproxy" nftables table that
# DNATs Service IPs without masquerading, so what a backend sees is what the pod sent.
#
# Nothing here touches the machine's own namespace: every link is created inside a lab namespace
# (or directly into one with "netns"), and there is no link from the lab to the host. Everything is
# removed by lab_down, which lab_up installs as the EXIT trap (also runs on failure and Ctrl-C).
#
# With LAB_IPV6=1 the lab is dual-stack: the underlay also carries fd00:10:20::/64 (nodes ::1 and
# ::2, gateway ::fe), the outside host is fd00:0:2::10 behind the gateway, kube-proxy also DNATs
# IPv6 Services (fd00:96::/112), host-local hands every pod one address of each family, and DAD
# is off in every lab namespace so addresses are usable at once. Without it nothing IPv6 is set
# up, and the lab is exactly the IPv4 one.
#
# Usage: source this file, call lab_up, then pod_add/pod_del/server_start/expect_reach/...

set -euo pipefail

# ---------------------------------------------------------------------------------------------
# Names and addresses. The prefix makes every namespace unique to this run, so concurrent runs
# (or a left-over from a killed run) never collide and teardown only removes our own objects.
LAB_PREFIX="${LAB_PREFIX:-tc$$-}"
NS_SW="${LAB_PREFIX}sw"
NS_GW="${LAB_PREFIX}gw"
NS_OUT="${LAB_PREFIX}out"
NS_NODE1="${LAB_PREFIX}node1"
NS_NODE2="${LAB_PREFIX}node2"

UNDERLAY_IF="enp5s0f0"
SUBNET="10.10.20.0/24"
NODE1_IP="10.10.20.1"
NODE2_IP="10.10.20.2"
GW_IP="10.10.20.254"
GW_OUT_IP="192.0.2.1"
OUTSIDE_IP="192.0.2.10"

LAB_IPV6="${LAB_IPV6:-0}"
SUBNET6="fd00:10:20::/64"
NODE1_IP6="fd00:10:20::1"
NODE2_IP6="fd00:10:20::2"
GW_IP6="fd00:10:20::fe"
GW_OUT_IP6="fd00:0:2::1"
OUTSIDE_IP6="fd00:0:2::10"

# host-local ranges. node1 uses the range of the reference configuration (.50-.60); node2 gets
# its own range because each node runs its own host-local with its own dataDir (in a real
# cluster a shared IPAM would keep addresses unique across nodes).
declare -A NODE_RANGE_START=(["$NS_NODE1"]=10.10.20.50 ["$NS_NODE2"]=10.10.20.61)
declare -A NODE_RANGE_END=(["$NS_NODE1"]=10.10.20.60 ["$NS_NODE2"]=10.10.20.70)
declare -A NODE_RANGE6_START=(["$NS_NODE1"]=fd00:10:20::50 ["$NS_NODE2"]=fd00:10:20::61)
declare -A NODE_RANGE6_END=(["$NS_NODE1"]=fd00:10:20::60 ["$NS_NODE2"]=fd00:10:20::70)

CNI_SYSTEM_BIN="${CNI_SYSTEM_BIN:-/usr/lib/cni}"
# Directory searched for plugins (CNI_PATH); tests may prepend a dir holding veth-to-host.
LAB_CNI_PATH="${LAB_CNI_PATH:-$CNI_SYSTEM_BIN}"
# The conflist entry of the second plugin of the chain (the plugin under test).
DEFAULT_SECOND_PLUGIN_CONF='{"name":"myptp","type":"veth-to-host","hostInterface":"enp5s0f0","containerInterface":"veth0","ipMasq":true}'
SECOND_PLUGIN_CONF="${SECOND_PLUGIN_CONF:-$DEFAULT_SECOND_PLUGIN_CONF}"
# Extra keys merged into the conflist's first entry (JSON), e.g. '{"type":"topocni","template":"macvlan"}' to
# have topocni's macvlan template make the pod's interface instead of Debian's macvlan (test_chain.sh).
FIRST_PLUGIN_EXTRA="${FIRST_PLUGIN_EXTRA:-}"
# Extra VAR=value pairs handed to every plugin invocation (plugins otherwise get a clean env).
LAB_PLUGIN_ENV=()
# Real nodes usually run with strict reverse-path filtering, and pods created by a runtime
# inherit "all"/"default" from the host (net.core.devconf_inherit_init_net=0), so pods are strict
# too unless a test asks otherwise.
LAB_POD_RP_FILTER="${LAB_POD_RP_FILTER:-1}"
# 1 = nodes drop conntrack-INVALID forwarded packets, as kube-proxy's iptables mode (KUBE-FORWARD)
# and many host firewalls do. Off by default: it breaks asymmetric paths (see check_design.sh).
LAB_NODE_DROP_INVALID="${LAB_NODE_DROP_INVALID:-0}"

SERVER_PORT=8080
SERVER_LIFETIME="${SERVER_LIFETIME:-600}" # seconds; servers also die with the lab
CLIENT_TIMEOUT="${CLIENT_TIMEOUT:-2}"     # seconds per connect and per read

LAB_TMP=""
LAB_NAMESPACES=()   # every namespace we created, removed in reverse order
LAB_PIDS=()         # background processes we started
declare -A POD_NODE=() POD_IP=() POD_IP6=() POD_ID=()
PASS_COUNT=0
FAIL_COUNT=0

log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command inside a lab namespace.
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---------------------------------------------------------------------------------------------
# Lab lifecycle

require_root_and_tools() {
  [[ $(id -u) -eq 0 ]] || die "needs root (creates network namespaces)"
  local tool
  for tool in ip nft python3 sysctl; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
  done
  [[ -x "$CNI_SYSTEM_BIN/macvlan" && -x "$CNI_SYSTEM_BIN/host-local" ]] ||
    die "Debian CNI plugins not found in $CNI_SYSTEM_BIN"
}

ns_create() {
  local ns=$1
  ip netns add "$ns"
  LAB_NAMESPACES+=("$ns")
  if [[ "$LAB_IPV6" == 1 ]]; then
    # Before any link exists, so every interface inherits it: tests must not wait for DAD.
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
    in_ns "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
  fi
  in_ns "$ns" ip link set lo up
}

# Create a veth pair whose two ends are born inside the given namespaces (never in ours).
veth_between() {
  local ns_a=$1 if_a=$2 ns_b=$3 if_b=$4
  ip -n "$ns_a" link add "$if_a" type veth peer name "$if_b" netns "$ns_b"
  ip -n "$ns_a" link set "$if_a" up
  ip -n "$ns_b" link set "$if_b" up
}

node_setup() {
  local ns=$1 ip=$2 port=$3 ip6=${4:-}
  ns_create "$ns"
  veth_between "$NS_SW" "$port" "$ns" "$UNDERLAY_IF"
  ip -n "$NS_SW" link set "$port" master br0
  ip -n "$ns" addr add "$ip/24" dev "$UNDERLAY_IF"
  ip -n "$ns" route add default via "$GW_IP"
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
  # Strict distro default (e.g. Ubuntu/RHEL ship rp_filter=1); the plugin must cope with it.
  in_ns "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=1
  in_ns "$ns" sysctl -qw net.ipv4.conf.default.rp_filter=1
  in_ns "$ns" sysctl -qw "net.ipv4.conf.$UNDERLAY_IF.rp_filter=1"
  if [[ "$LAB_IPV6" == 1 ]]; then
    ip -n "$ns" -6 addr add "$ip6/64" dev "$UNDERLAY_IF" nodad
    ip -n "$ns" -6 route add default via "$GW_IP6"
    # IPv6 forwards only when conf.all.forwarding is 1 (per-interface "forwarding" alone does not
    # make the kernel forward; see docs/templates.md): the IPv6 twin of ip_forward=1 above, which
    # dual-stack Kubernetes nodes need anyway.
    in_ns "$ns" sysctl -qw net.ipv6.conf.all.forwarding=1
  fi
  kube_proxy_setup "$ns"
  if [[ "$LAB_NODE_DROP_INVALID" == 1 ]]; then
    in_ns "$ns" nft -f - <<'EOF2'
table ip hostfw {
  chain forward {
    type filter hook forward priority filter; policy accept;
    ct state invalid counter drop
  }
}
EOF2
  fi
}

lab_up() {
  require_root_and_tools
  LAB_TMP=$(mktemp -d "/tmp/${LAB_PREFIX}XXXXXX")
  # The lab's journals stay in the lab, never in the machine's own /run/topocni (scripts may add a later
  # TOPOCNI_STATE_DIR=..., which env(1) lets win).
  LAB_PLUGIN_ENV+=("TOPOCNI_STATE_DIR=$LAB_TMP/state")
  trap lab_down EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  ns_create "$NS_SW"
  ip -n "$NS_SW" link add br0 type bridge
  ip -n "$NS_SW" link set br0 up

  ns_create "$NS_OUT"
  ns_create "$NS_GW"
  veth_between "$NS_SW" p-gw "$NS_GW" lan0
  ip -n "$NS_SW" link set p-gw master br0
  ip -n "$NS_GW" addr add "$GW_IP/24" dev lan0
  veth_between "$NS_GW" wan0 "$NS_OUT" eth0
  ip -n "$NS_GW" addr add "$GW_OUT_IP/24" dev wan0
  ip -n "$NS_OUT" addr add "$OUTSIDE_IP/24" dev eth0
  ip -n "$NS_OUT" route add default via "$GW_OUT_IP"
  in_ns "$NS_GW" sysctl -qw net.ipv4.ip_forward=1
  if [[ "$LAB_IPV6" == 1 ]]; then
    ip -n "$NS_GW" -6 addr add "$GW_IP6/64" dev lan0 nodad
    ip -n "$NS_GW" -6 addr add "$GW_OUT_IP6/64" dev wan0 nodad
    ip -n "$NS_OUT" -6 addr add "$OUTSIDE_IP6/64" dev eth0 nodad
    ip -n "$NS_OUT" -6 route add default via "$GW_OUT_IP6"
    in_ns "$NS_GW" sysctl -qw net.ipv6.conf.all.forwarding=1
  fi

  node_setup "$NS_NODE1" "$NODE1_IP" p-node1 "$NODE1_IP6"
  node_setup "$NS_NODE2" "$NODE2_IP" p-node2 "$NODE2_IP6"
  wait_dad "$NS_NODE1" "$NS_NODE2"
  log "lab up (prefix $LAB_PREFIX, tmp $LAB_TMP)"
}

# IPv6 duplicate address detection keeps link-local addresses "tentative" for about a second;
# wait it out so a snapshot taken now is not different from one taken later.
wait_dad() {
  local ns i
  for ns in "$@"; do
    for ((i = 0; i < 50; i++)); do
      [[ -z "$(ip -n "$ns" -6 addr show tentative)" ]] && break
      sleep 0.1
    done
  done
}

# Idempotent and tolerant: runs from the EXIT trap, whatever state the lab is in.
lab_down() {
  local rc=$?
  set +e
  local pid
  for pid in "${LAB_PIDS[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${LAB_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  LAB_PIDS=()
  local i ns
  for ((i = ${#LAB_NAMESPACES[@]} - 1; i >= 0; i--)); do
    ns=${LAB_NAMESPACES[i]}
    # Anything still running inside one of our namespaces was started by this run (a server or a
    # plugin interrupted by Ctrl-C): end it by pid, or it would outlive the namespace.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      kill "$pid" 2>/dev/null
    done
    ip netns del "$ns" 2>/dev/null
  done
  LAB_NAMESPACES=()
  if [[ -n "$LAB_TMP" && -d "$LAB_TMP" ]]; then
    rm -rf -- "$LAB_TMP"
  fi
  LAB_TMP=""
  return "$rc"
}

# ---------------------------------------------------------------------------------------------
# kube-proxy stand-in: DNAT only, never masquerade (the hard case for source preservation).

kube_proxy_setup() {
  local ns=$1
  in_ns "$ns" nft -f - <<'EOF'
table ip kubeproxy {
  chain services {
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.96.0.0/16 jump services
  }
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr 10.96.0.0/16 jump services
  }
}
EOF
  [[ "$LAB_IPV6" == 1 ]] || return 0
  in_ns "$ns" nft -f - <<'EOF'
table ip6 kubeproxy {
  chain services {
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip6 daddr fd00:96::/112 jump services
  }
  chain output {
    type nat hook output priority -100; policy accept;
    ip6 daddr fd00:96::/112 jump services
  }
}
EOF
}

# Program a Service on every node, as kube-proxy does once the endpoint exists.
service_add() {
  local svc_ip=$1 svc_port=$2 backend_ip=$3 backend_port=$4 ns
  for ns in "$NS_NODE1" "$NS_NODE2"; do
    if [[ "$svc_ip" == *:* ]]; then
      in_ns "$ns" nft add rule ip6 kubeproxy services \
        ip6 daddr "$svc_ip" tcp dport "$svc_port" dnat to "[$backend_ip]:$backend_port"
    else
      in_ns "$ns" nft add rule ip kubeproxy services \
        ip daddr "$svc_ip" tcp dport "$svc_port" dnat to "$backend_ip:$backend_port"
    fi
  done
}

# Remove every Service, as kube-proxy does when the endpoints go away.
services_flush() {
  local ns
  for ns in "$NS_NODE1" "$NS_NODE2"; do
    in_ns "$ns" nft flush chain ip kubeproxy services
    [[ "$LAB_IPV6" != 1 ]] || in_ns "$ns" nft flush chain ip6 kubeproxy services
  done
}

# ---------------------------------------------------------------------------------------------
# CNI: the chain macvlan(+host-local) then the second plugin, called as libcni does.

# The conflist a node's runtime would read; written once per node into the lab's temp dir.
conflist_path() { printf '%s/%s.conflist' "$LAB_TMP" "${1#"$LAB_PREFIX"}"; }

conflist_write() {
  local node=$1 path
  path=$(conflist_path "$node")
  python3 - "$path" "$LAB_TMP/ipam-${node#"$LAB_PREFIX"}" "${NODE_RANGE_START[$node]}" \
    "${NODE_RANGE_END[$node]}" "$SECOND_PLUGIN_CONF" "$LAB_IPV6" "${NODE_RANGE6_START[$node]}" \
    "${NODE_RANGE6_END[$node]}" "$FIRST_PLUGIN_EXTRA" <<'EOF'
import json, sys
path, data_dir, start, end, second, ipv6, start6, end6, first_extra = sys.argv[1:]
conflist = {
    "cniVersion": "0.3.1",
    "name": "cni0",
    "plugins": [
        {
            "type": "macvlan",
            "master": "enp5s0f0",
            "mode": "bridge",
            "ipam": {
                "type": "host-local",
                "subnet": "10.10.20.0/24",
                "rangeStart": start,
                "rangeEnd": end,
                "gateway": "10.10.20.254",
                "routes": [{"dst": "0.0.0.0/0"}],
                # Per-run state dir: host-local state never leaks into /var/lib/cni.
                "dataDir": data_dir,
            },
        },
        json.loads(second),
    ],
}
if ipv6 == "1":
    # Dual-stack host-local: one range set per family, an address from each.
    ipam = conflist["plugins"][0]["ipam"]
    del ipam["subnet"], ipam["rangeStart"], ipam["rangeEnd"], ipam["gateway"]
    ipam["ranges"] = [
        [{"subnet": "10.10.20.0/24", "rangeStart": start, "rangeEnd": end, "gateway": "10.10.20.254"}],
        [{"subnet": "fd00:10:20::/64", "rangeStart": start6, "rangeEnd": end6, "gateway": "fd00:10:20::fe"}],
    ]
    ipam["routes"] = [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]
if first_extra:
    conflist["plugins"][0].update(json.loads(first_extra))
with open(path, "w") as f:
    json.dump(conflist, f, indent=2)
    f.write("\n")
EOF
  printf '%s\n' "$path"
}

# Build the config one plugin receives, as libcni's buildOneConfig: the plugin's entry plus the
# list's "name" and "cniVersion", plus "prevResult" when there is one.
# Args: conflist index [prevResult-file]
plugin_config() {
  python3 - "$@" <<'EOF'
import json, sys
conflist = json.load(open(sys.argv[1]))
conf = dict(conflist["plugins"][int(sys.argv[2])])
conf["name"] = conflist["name"]
conf["cniVersion"] = conflist["cniVersion"]
if len(sys.argv) > 3 and sys.argv[3]:
    conf["prevResult"] = json.load(open(sys.argv[3]))
print(json.dumps(conf))
EOF
}

plugin_type() {
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["plugins"][int(sys.argv[2])]["type"])' "$1" "$2"
}

# Find a plugin binary on LAB_CNI_PATH, as libcni's FindInPath does.
plugin_path() {
  local type=$1 dir
  local IFS=:
  for dir in $LAB_CNI_PATH; do
    if [[ -x "$dir/$type" ]]; then
      printf '%s/%s\n' "$dir" "$type"
      return 0
    fi
  done
  die "plugin $type not found in $LAB_CNI_PATH"
}

# Invoke one plugin inside the node namespace. Output (result JSON or error JSON) on stdout.
# Args: node command container_id pod_ns config_json
cni_invoke() {
  local node=$1 command=$2 id=$3 pod=$4 config=$5 type bin
  type=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["type"])' "$config")
  bin=$(plugin_path "$type")
  printf '%s' "$config" | in_ns "$node" env -i PATH="$PATH" "${LAB_PLUGIN_ENV[@]}" \
    CNI_COMMAND="$command" CNI_CONTAINERID="$id" CNI_NETNS="/var/run/netns/$pod" \
    CNI_IFNAME=eth0 CNI_PATH="$LAB_CNI_PATH" "$bin"
}

# Number of plugins in a conflist.
plugin_count() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["plugins"]))' "$1"; }

# Creates pod <name>'s namespace on <node> and its container id (POD_NODE, POD_ID).
pod_start() {
  local name=$1 node=$2 pod="${LAB_PREFIX}$1"
  [[ -f "$(conflist_path "$node")" ]] || conflist_write "$node" >/dev/null
  ns_create "$pod"
  in_ns "$pod" sysctl -qw "net.ipv4.conf.all.rp_filter=$LAB_POD_RP_FILTER"
  in_ns "$pod" sysctl -qw "net.ipv4.conf.default.rp_filter=$LAB_POD_RP_FILTER"
  POD_NODE[$name]=$node
  POD_ID[$name]="${name}-$(printf '%s' "$pod" | sha256sum | cut -c1-16)"
}

# ADD through plugins <from>..<to> of the node's conflist, each with the previous result as prevResult
# (for from > 0: the result the earlier plugins left in $LAB_TMP/<name>.result.json). Returns 1 (after
# printing the plugin's error) when a plugin fails.
pod_chain() {
  local name=$1 from=$2 to=$3 node=${POD_NODE[$1]} pod="${LAB_PREFIX}$1" conflist out i prev=""
  conflist=$(conflist_path "$node")
  ((from == 0)) || prev="$LAB_TMP/$name.result.json"
  for ((i = from; i <= to; i++)); do
    if ! out=$(cni_invoke "$node" ADD "${POD_ID[$name]}" "$pod" "$(plugin_config "$conflist" "$i" "$prev")"); then
      printf '%s\n' "$out" >&2
      log "ADD of $name failed in plugin $i ($(plugin_type "$conflist" "$i"))"
      return 1
    fi
    prev="$LAB_TMP/$name.result.$i.json"
    printf '%s\n' "$out" >"$prev"
  done
  cp "$prev" "$LAB_TMP/$name.result.json"
}

# Sets POD_IP (and POD_IP6 with LAB_IPV6=1) from the pod's latest result.
pod_record_ips() {
  local name=$1 result="$LAB_TMP/$1.result.json"
  POD_IP[$name]=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["ips"][0]["address"].split("/")[0])' "$result")
  if [[ "$LAB_IPV6" == 1 ]]; then
    # ips are in the order of host-local's ranges: IPv4 first, then IPv6.
    POD_IP6[$name]=$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(next(i["address"].split("/")[0] for i in r["ips"] if ":" in i["address"]))' "$result")
  fi
}

# Create a pod namespace on a node and run ADD through the chain. Sets POD_IP[pod]. Returns 1
# (after printing the plugin's error) when a plugin fails; the namespace is still torn down.
# Args: pod_short_name node
pod_add() {
  local name=$1 node=$2
  pod_start "$name" "$node"
  pod_chain "$name" 0 $(($(plugin_count "$(conflist_path "$node")") - 1)) || return 1
  pod_record_ips "$name"
  log "pod $name on ${node#"$LAB_PREFIX"}: ${POD_IP[$name]} ${POD_IP6[$name]:+${POD_IP6[$name]} }(container id ${POD_ID[$name]})"
}

# DEL through the chain in reverse order, as libcni does. For cniVersion < 0.4.0 libcni passes
# no prevResult on DEL, so neither do we. Keeps the namespace (a runtime removes it afterwards).
pod_del() {
  local name=$1 node=${POD_NODE[$1]} pod="${LAB_PREFIX}$1" conflist i n out rc=0
  conflist=$(conflist_path "$node")
  n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["plugins"]))' "$conflist")
  for ((i = n - 1; i >= 0; i--)); do
    if ! out=$(cni_invoke "$node" DEL "${POD_ID[$name]}" "$pod" "$(plugin_config "$conflist" "$i")"); then
      printf '%s\n' "$out" >&2
      log "DEL of $name failed in plugin $i ($(plugin_type "$conflist" "$i"))"
      rc=1
    fi
  done
  return "$rc"
}

pod_ns() { printf '%s%s\n' "$LAB_PREFIX" "$1"; }

# ---------------------------------------------------------------------------------------------
# topoctl plan of a pod, run inside its node as an operator on that node would.

# The plans of every topocni entry of pod NAME's conflist, colour codes stripped in case topoctl colours them.
# Further arguments go to topoctl (--ipam-result for an entry that delegates IPAM).
pod_plan() {
  local name=$1
  shift
  ip netns exec "${POD_NODE[$name]}" env "${LAB_PLUGIN_ENV[@]}" CNI_PATH="$LAB_CNI_PATH" "$TOPOCTL" plan \
    --config "$(conflist_path "${POD_NODE[$name]}")" --netns "/var/run/netns/$(pod_ns "$name")" \
    --container-id "${POD_ID[$name]}" --ifname eth0 "$@" 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g'
}

# The change lines of plan output: "+ ...", "- ...", "~ ...".
plan_changes() { grep -E '^ *[-+~] ' <<<"$1" || true; }

# True when plan output OUT holds no change and says "No changes." WANT times (one per entry; default 1);
# otherwise prints it.
plan_shows_no_changes() {
  local out=$1 want=${2:-1}
  if [[ -z "$(plan_changes "$out")" && "$(grep -cx 'No changes\.' <<<"$out")" == "$want" ]]; then return 0; fi
  printf '%s\n' "$out" | sed 's/^/    | /' >&2
  return 1
}

# True when plan output OUT holds exactly one change, "+ route ADDR dev DEV" (topoctl writes a host route as
# ip-route(8) does, with or without "/32"), and the whole line ALSO; otherwise prints it.
plan_shows_only_route_create() {
  local out=$1 addr=$2 dev=$3 also=$4 changes
  changes=$(plan_changes "$out")
  if [[ "$(wc -l <<<"$changes")" -eq 1 ]] && grep -qE "^ *\+ route ${addr//./\\.}(/32)? dev $dev( |$)" <<<"$changes" &&
    grep -qx -- "$also" <<<"$out"; then
    return 0
  fi
  printf '%s\n' "$out" | sed 's/^/    | /' >&2
  return 1
}

# ---------------------------------------------------------------------------------------------
# Traffic: a TCP server that answers with the peer address it saw, and a client check.

# Args: ns [port]. Listens on all addresses of the namespace; exits after SERVER_LIFETIME.
server_start() {
  local ns=$1 port=${2:-$SERVER_PORT} i
  # "ip netns exec" directly (not the in_ns function), so $! is the process itself: ip execs
  # timeout, and timeout passes our SIGTERM on to python.
  ip netns exec "$ns" timeout "$SERVER_LIFETIME" python3 -c '
import socket, sys
if sys.argv[2] == "1":
    # One socket for both families; IPv4 peers show up as ::ffff:a.b.c.d and are printed plain.
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("::", int(sys.argv[1])))
else:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(sys.argv[1])))
srv.listen(64)
while True:
    conn, peer = srv.accept()
    with conn:
        conn.settimeout(2)
        host = peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]
        try:
            conn.recv(64)
            conn.sendall(("%s:%d\n" % (host, peer[1])).encode())
        except OSError:
            pass
' "$port" "$LAB_IPV6" &
  LAB_PIDS+=("$!")
  # Wait until it listens, so the first check cannot race the bind.
  for ((i = 0; i < 50; i++)); do
    if in_ns "$ns" ss -Hltn "sport = :$port" | grep LISTEN >/dev/null; then return 0; fi
    sleep 0.1
  done
  die "server in $ns did not start"
}

record() {
  local ok=$1; shift
  if [[ $ok == 1 ]]; then
    PASS_COUNT=$((PASS_COUNT + 1))
    printf 'PASS  %s\n' "$*"
  else
    FAIL_COUNT=$((FAIL_COUNT + 1))
    printf 'FAIL  %s\n' "$*"
  fi
}

# Connect from ns to ip:port, print PASS/FAIL. With expected_peer_ip, also require that the
# server saw that source address (source preservation). Always returns 0; see summary().
# Args: ns ip port [expected_peer_ip [label]]
expect_reach() {
  local ns=$1 ip=$2 port=$3 expect=${4:-} label=${5:-} seen
  local what="${label:+$label: }${ns#"$LAB_PREFIX"} -> $ip:$port"
  seen=$(in_ns "$ns" python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    s.settimeout(float(sys.argv[3]))
    s.sendall(b"hi\n")
    print(s.recv(64).decode().strip().rsplit(":", 1)[0])
except OSError as e:
    print("error: %s" % e)
' "$ip" "$port" "$CLIENT_TIMEOUT" 2>&1) || true
  if [[ -z "$seen" || "$seen" == error* ]]; then
    record 0 "$what (${seen:-no answer})"
  elif [[ -n "$expect" && "$seen" != "$expect" ]]; then
    record 0 "$what (server saw $seen, expected $expect)"
  else
    record 1 "$what${expect:+ (server saw $seen)}"
  fi
  return 0
}

# A generic check: label, then a command; PASS if the command succeeds.
expect_ok() {
  local label=$1; shift
  if "$@"; then record 1 "$label"; else record 0 "$label"; fi
  return 0
}

# Print the summary line and return non-zero if anything failed.
summary() {
  printf '%d passed, %d failed\n' "$PASS_COUNT" "$FAIL_COUNT"
  [[ $FAIL_COUNT -eq 0 ]]
}

# ---------------------------------------------------------------------------------------------
# Snapshot of a node, normalised for comparison (outcome 5: before ADD == after DEL).

snapshot() {
  local ns=$1 dev key
  {
    echo "## links"
    # Link counters and operational noise are not state we own; strip what varies by timing.
    ip -n "$ns" -d link show | sed -E 's/ (qlen|gso_max_[a-z]+|gro_max_[a-z]+|tso_max_[a-z]+) [0-9]+//g'
    echo "## addresses"
    ip -n "$ns" addr show | sed -E 's/ valid_lft [^ ]+ preferred_lft [^ ]+//; /^ +valid_lft/d'
    echo "## routes"
    ip -n "$ns" route show table all
    ip -n "$ns" -6 route show table all
    echo "## rules"
    ip -n "$ns" rule show
    ip -n "$ns" -6 rule show
    echo "## nftables"
    # nft counters (e.g. a host firewall's) count traffic, not configuration.
    in_ns "$ns" nft list ruleset | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'
    echo "## sysctls"
    for key in ip_forward conf.all.forwarding conf.default.forwarding conf.all.rp_filter \
      conf.default.rp_filter conf.all.proxy_arp conf.all.send_redirects conf.all.accept_redirects \
      conf.all.arp_ignore conf.all.arp_announce conf.all.route_localnet; do
      printf 'net.ipv4.%s = %s\n' "$key" "$(in_ns "$ns" sysctl -n "net.ipv4.$key")"
    done
    if [[ "$LAB_IPV6" == 1 ]]; then
      for dev in all default $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
        for key in forwarding accept_ra accept_dad accept_redirects autoconf; do
          printf 'net.ipv6.conf.%s.%s = %s\n' "$dev" "$key" \
            "$(in_ns "$ns" sysctl -n "net.ipv6.conf.$dev.$key")"
        done
      done
    fi
    for dev in $(ip -n "$ns" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1); do
      for key in forwarding rp_filter proxy_arp send_redirects accept_redirects arp_ignore; do
        printf 'net.ipv4.conf.%s.%s = %s\n' "$dev" "$key" \
          "$(in_ns "$ns" sysctl -n "net.ipv4.conf.$dev.$key")"
      done
    done
    echo "## host-local allocations"
    # Allocation files are named by IP; last_reserved_ip.* and lock legitimately persist.
    local dir="$LAB_TMP/ipam-${ns#"$LAB_PREFIX"}"
    if [[ -d "$dir" ]]; then
      find "$dir" -type f ! -name 'last_reserved_ip*' ! -name lock -printf '%P\n' | sort
    fi
  }
}

# Compare two snapshot files; prints a diff when they differ.
snapshots_equal() {
  diff -u "$1" "$2" >&2
}

# A CNI bin dir holding NAME (default "veth-to-host") -> the given executable; puts it first on
# LAB_CNI_PATH, so it is found before Debian's plugins. Args: exe [name]
use_second_plugin() {
  local exe=$1 name=${2:-veth-to-host} dir
  [[ -x "$exe" ]] || die "second plugin not executable: $exe"
  dir="$LAB_TMP/cni-bin"
  mkdir -p "$dir"
  ln -sf "$(readlink -f "$exe")" "$dir/$name"
  LAB_CNI_PATH="$dir:$CNI_SYSTEM_BIN"
}

# $TOPOCNI installed under NAME (a template's name, or any name with "template" in the config), reading
# templates from the source tree when TOPO_SOURCE_DIR is set (ctest sets it), else the compiled-in copies.
# Args: name
install_topocni_as() {
  use_second_plugin "$TOPOCNI" "$1"
  if [[ -n "${TOPO_SOURCE_DIR:-}" ]]; then LAB_PLUGIN_ENV+=("TOPOCNI_TEMPLATE_PATH=$TOPO_SOURCE_DIR/specs"); fi
}

# ---------------------------------------------------------------------------------------------
# The standard scenario shared by check_design.sh, test_veth_to_host.sh and the demo: pods p1, p2
# on node1 and p3 on node2 (already added), four Services and a server everywhere.

SVC_A=10.96.0.10 # -> hostNetwork server on node1
SVC_B=10.96.0.11 # -> hostNetwork server on node2
SVC_C=10.96.0.12 # -> pod p3 on node2
SVC_D=10.96.0.13 # -> pod p2 on node1
SVC_PORT=80

# The scenario's pods through the node's chain: p1 and p2 on node1, p3 on node2, one PASS/FAIL line each.
# Nothing else can be checked without the pods: a failed ADD ends the test (the EXIT trap tears down).
scenario_add_pods() {
  echo "== ADD"
  local name node
  for name in p1 p2 p3; do
    node=$NS_NODE1
    [[ $name == p3 ]] && node=$NS_NODE2
    if pod_add "$name" "$node"; then
      record 1 "ADD $name on ${node#"$LAB_PREFIX"} (${POD_IP[$name]})"
    else
      record 0 "ADD $name on ${node#"$LAB_PREFIX"}"
      summary || exit 1
    fi
  done
}

scenario_services_and_servers() {
  service_add "$SVC_A" "$SVC_PORT" "$NODE1_IP" "$SERVER_PORT"
  service_add "$SVC_B" "$SVC_PORT" "$NODE2_IP" "$SERVER_PORT"
  service_add "$SVC_C" "$SVC_PORT" "${POD_IP[p3]}" "$SERVER_PORT"
  service_add "$SVC_D" "$SVC_PORT" "${POD_IP[p2]}" "$SERVER_PORT"
  local ns
  for ns in "$NS_NODE1" "$NS_NODE2" "$NS_GW" "$NS_OUT" "$(pod_ns p1)" "$(pod_ns p2)" "$(pod_ns p3)"; do
    server_start "$ns"
  done
}

# Outcomes 1-4. Every check names the expected source the server must see (outcome 4 for
# Services; for direct paths it proves nothing rewrote the pod's address on the way).
scenario_check_outcomes() {
  # With "6": the IPv6 addresses of the same paths (LAB_IPV6=1): POD_IP6, NODE1_IP6, SVC6_A, ...
  local v=${1:-} tag="" head=""
  [[ -z "$v" ]] || { tag="v6 "; head="IPv6 "; }
  local -n ips="POD_IP$v"
  local p1=${ips[p1]} p2=${ips[p2]} p3=${ips[p3]} p1ns p3ns
  local node1="NODE1_IP$v" node2="NODE2_IP$v" gw="GW_IP$v" out="OUTSIDE_IP$v"
  node1=${!node1} node2=${!node2} gw=${!gw} out=${!out}
  local a="SVC${v}_A" b="SVC${v}_B" c="SVC${v}_C" d="SVC${v}_D"
  a=${!a} b=${!b} c=${!c} d=${!d}
  p1ns=$(pod_ns p1)
  p3ns=$(pod_ns p3)
  echo "== ${head}outcome 1: pod reaches its node, the gateway, underlay hosts and pods, and beyond"
  expect_reach "$p1ns" "$node1" "$SERVER_PORT" "$p1" "${tag}own node"
  expect_reach "$p1ns" "$gw" "$SERVER_PORT" "$p1" "${tag}gateway"
  expect_reach "$p1ns" "$node2" "$SERVER_PORT" "$p1" "${tag}other node"
  expect_reach "$p1ns" "$p2" "$SERVER_PORT" "$p1" "${tag}pod same node"
  expect_reach "$p1ns" "$p3" "$SERVER_PORT" "$p1" "${tag}pod other node"
  expect_reach "$p1ns" "$out" "$SERVER_PORT" "$p1" "${tag}beyond gateway"
  expect_reach "$p3ns" "$out" "$SERVER_PORT" "$p3" "${tag}beyond gateway"
  echo "== ${head}outcomes 2+4: Services; the backend sees the client pod's own IP"
  expect_reach "$p1ns" "$a" "$SVC_PORT" "$p1" "${tag}svc A hostNetwork same node"
  expect_reach "$p1ns" "$b" "$SVC_PORT" "$p1" "${tag}svc B hostNetwork other node"
  expect_reach "$p1ns" "$c" "$SVC_PORT" "$p1" "${tag}svc C pod other node"
  expect_reach "$p1ns" "$d" "$SVC_PORT" "$p1" "${tag}svc D pod same node"
  expect_reach "$p3ns" "$a" "$SVC_PORT" "$p3" "${tag}svc A hostNetwork other node"
  expect_reach "$p3ns" "$b" "$SVC_PORT" "$p3" "${tag}svc B hostNetwork same node"
  expect_reach "$p3ns" "$d" "$SVC_PORT" "$p3" "${tag}svc D pod other node"
  echo "== ${head}outcome 3: the node (kubelet probes) and other nodes reach the pod"
  expect_reach "$NS_NODE1" "$p1" "$SERVER_PORT" "$node1" "${tag}kubelet probe"
  expect_reach "$NS_NODE2" "$p1" "$SERVER_PORT" "$node2" "${tag}other node"
  expect_reach "$NS_NODE2" "$p3" "$SERVER_PORT" "$node2" "${tag}kubelet probe"
  expect_reach "$NS_GW" "$p1" "$SERVER_PORT" "$gw" "${tag}gateway"
}

# The host end of a pod's veth, found from the pod side (veth0@ifN: N is the peer's ifindex), so
# tests do not depend on how the plugin names it.
host_veth_of() {
  local name=$1 veth=${2:-veth0} peer
  peer=$(ip -n "$(pod_ns "$name")" -o link show "$veth" | sed -nE 's/^[0-9]+: [^@]+@if([0-9]+):.*/\1/p')
  [[ -n "$peer" ]] || return 1
  ip -n "${POD_NODE[$name]}" -o link show | awk -F': ' -v idx="$peer" '$1 == idx {sub(/@.*/, "", $2); print $2}'
}

# ---------------------------------------------------------------------------------------------
# Helpers for the template library tests (test_sbr.sh, test_route_override.sh,
# test_underlay_service.sh).

# Point a node's conflist at another second plugin. pod_add/pod_del read the node's conflist when
# they run, so a test can put pods with different second plugins side by side on one node (same
# host-local range: their addresses differ but never collide). Args: node second_plugin_conf_json
conflist_switch() {
  local node=$1
  SECOND_PLUGIN_CONF=$2
  rm -f "$(conflist_path "$node")"
  conflist_write "$node" >/dev/null
}

# pod_add in two halves, to look at the pod between the earlier plugins and the last one (the plugin
# under test): pod_add_but_last NAME NODE runs every plugin but the last; pod_add_last NAME runs the
# last with the earlier result as prevResult. Both return 1 when a plugin fails. Sets POD_IP.
pod_add_but_last() {
  local name=$1 node=$2
  pod_start "$name" "$node"
  pod_chain "$name" 0 $(($(plugin_count "$(conflist_path "$node")") - 2)) || return 1
  pod_record_ips "$name"
}

pod_add_last() {
  local name=$1 last
  last=$(($(plugin_count "$(conflist_path "${POD_NODE[$name]}")") - 1))
  pod_chain "$name" "$last" "$last" || return 1
  log "pod $name on ${POD_NODE[$name]#"$LAB_PREFIX"}: ${POD_IP[$name]} (container id ${POD_ID[$name]})"
}

# DEL of the last plugin of the chain only (as libcni would call it first), without prevResult
# (cniVersion 0.3.1). The earlier plugins' interfaces stay, so a test can see what DEL put back.
pod_del_last() {
  local name=$1 node=${POD_NODE[$1]} pod="${LAB_PREFIX}$1" conflist out n
  conflist=$(conflist_path "$node")
  n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["plugins"]))' "$conflist")
  if ! out=$(cni_invoke "$node" DEL "${POD_ID[$name]}" "$pod" "$(plugin_config "$conflist" $((n - 1)))"); then
    printf '%s\n' "$out" >&2
    return 1
  fi
}

# A pod's policy routing, normalised so two pods can be compared: its own addresses become POD_IP /
# POD_IP6, link-local addresses LLADDR, protocols are dropped (topocni marks its routes and rules with
# protocol 157 where the kernel and other plugins use theirs), lines are sorted (table dump order follows
# table ids). Table numbers and priorities stay: they must match.
# Args: pod_short_name
pod_routing_normalised() {
  local name=$1 ns ip ip6
  ns=$(pod_ns "$name")
  ip=${POD_IP[$name]}
  ip6=${POD_IP6[$name]:-}
  {
    echo "## rules"
    ip -n "$ns" -4 rule show
    ip -n "$ns" -6 rule show | sed 's/^/v6 /'
    echo "## routes"
    ip -n "$ns" -4 route show table all | sort
    ip -n "$ns" -6 route show table all | sed 's/^/v6 /' | sort
  } | {
    local expr=(-e "s/ proto [a-z0-9]+//g" -e "s/\b${ip//./\\.}\b/POD_IP/g" -e 's/fe80::[0-9a-f:]+( |$)/LLADDR\1/g')
    [[ -z "$ip6" ]] || expr+=(-e "s/(^| )${ip6}( |\/|$)/\1POD_IP6\2/g")
    sed -E "${expr[@]}"
  }
}

# Connect from a namespace to ip:port with the socket bound to src first (src "" = unbound); prints
# the peer address the server saw, or "error: ...". Args: ns src ip port
connect_from() {
  in_ns "$1" python3 -c '
import socket, sys
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(float(sys.argv[4]))
    if sys.argv[1]:
        s.bind((sys.argv[1], 0))
    s.connect((sys.argv[2], int(sys.argv[3])))
    s.sendall(b"hi\n")
    print(s.recv(64).decode().strip().rsplit(":", 1)[0])
except OSError as e:
    print("error: %s" % e)
' "$2" "$3" "$4" "$CLIENT_TIMEOUT" 2>&1 || true
}
