#!/usr/bin/env bash
# Stand-in for topocni's "veth-to-host" chained CNI plugin, written with ip(8), sysctl(8) and
# nft(8), so the design can be validated in the lab before the real plugin exists.
#
# CNI contract: reads CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME from the environment and
# the network config (with prevResult on ADD) on stdin; it runs in the node's network namespace.
# ADD prints the prevResult unchanged; DEL removes exactly what ADD created and is idempotent.
#
# Design knobs (environment), used by check_design.sh to compare variants; defaults = the fix:
#   VTH_POD_FORWARDING  veth0 | veth0+eth0 (default) | all   which pod interfaces forward
#   VTH_POD_RP_FILTER   value for the pod's eth0 rp_filter (default 2; "keep" leaves it)
#   VTH_HOST_REDIRECTS  value for send_redirects on the host veth (default 0; "keep" leaves it)
#   VTH_HOST_NAT        masquerade | snat (default)   how the host rewrites hairpinned traffic
#   VTH_HOST_NEXTHOP    pod (default): table-T routes "via <pod IP> dev H onlink";
#                       dev: "dev H scope link" as first written (host ARPs on H for the backend)
#   VTH_POD_PROXY_ARP   1 sets proxy_arp on the pod's veth (the pod-side alternative to nexthop=pod)
set -euo pipefail

VTH_POD_FORWARDING="${VTH_POD_FORWARDING:-veth0+eth0}"
VTH_POD_RP_FILTER="${VTH_POD_RP_FILTER:-2}"
VTH_HOST_REDIRECTS="${VTH_HOST_REDIRECTS:-0}"
VTH_HOST_NAT="${VTH_HOST_NAT:-snat}"
VTH_HOST_NEXTHOP="${VTH_HOST_NEXTHOP:-pod}"
VTH_POD_PROXY_ARP="${VTH_POD_PROXY_ARP:-0}"
RULE_PREF=1000

fail() {
  # CNI error result on stdout, non-zero exit (CNI spec "Error" object).
  python3 -c 'import json,sys; print(json.dumps({"cniVersion":"0.3.1","code":100,"msg":sys.argv[1]}))' "$*"
  exit 1
}

in_pod() { nsenter --net="$CNI_NETNS" "$@"; }

# Host veth name derived from the container id: stable across ADD and DEL, at most 15 chars.
host_veth_name() { printf 'veth%s' "$(printf '%s' "$CNI_CONTAINERID" | sha256sum | cut -c1-11)"; }

# The nft table in the node holding this pod's hairpin NAT (one per pod, so DEL is trivial).
host_nft_table() { printf 'vth_%s' "$1"; }

CONF=$(cat)
conf_get() { python3 -c 'import json,sys; c=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$CONF" "$1"; }

HOST_IF=$(conf_get 'c.get("hostInterface","")')
POD_VETH=$(conf_get 'c.get("containerInterface","veth0")')
POD_IF="${CNI_IFNAME:?CNI_IFNAME not set}"
H=$(host_veth_name)
NFT_TABLE=$(host_nft_table "$H")

cmd_add() {
  [[ -n "$HOST_IF" ]] || fail "hostInterface is required"
  local pod_cidr pod_ip prefix node_ip table dst
  pod_cidr=$(conf_get '[i["address"] for i in c["prevResult"]["ips"] if ":" not in i["address"]][0]')
  pod_ip=${pod_cidr%/*}
  prefix=$(python3 -c 'import ipaddress,sys; print(ipaddress.ip_interface(sys.argv[1]).network)' "$pod_cidr")
  node_ip=$(ip -4 -o addr show dev "$HOST_IF" scope global | awk '{print $4}' | cut -d/ -f1 | head -n1)
  [[ -n "$node_ip" ]] || fail "no IPv4 address on $HOST_IF"

  # --- host side ---
  ip link add "$H" type veth peer name "$POD_VETH" netns "$CNI_NETNS"
  ip link set "$H" up
  in_pod ip link set "$POD_VETH" up
  # Routing table per pod: the ifindex of H is unique on the node for the veth's lifetime.
  table=$((10000 + $(cat "/sys/class/net/$H/ifindex")))
  sysctl -qw "net.ipv4.conf.$H.forwarding=1"
  # Replies from underlay hosts re-enter via H with sources the main table routes via the
  # underlay, so strict rp_filter would drop them; loose still rejects unroutable sources.
  sysctl -qw "net.ipv4.conf.$H.rp_filter=2"
  if [[ "$VTH_HOST_REDIRECTS" != keep ]]; then
    # Hairpinned packets leave via the interface they came in on, which makes the kernel send
    # ICMP redirects to the pod (ip_forward(): rt->dst.dev == skb->dev, shared_media=1).
    sysctl -qw "net.ipv4.conf.$H.send_redirects=$VTH_HOST_REDIRECTS"
  fi
  ip route add "$pod_ip/32" dev "$H" scope link
  # Hairpinned traffic (a Service DNATed to an underlay address) goes back into the pod, which
  # forwards it out of its macvlan. With a plain "dev H" route the host ARPs on H for the
  # *backend's* address, which nobody on that link owns: the neighbour goes FAILED and the packet
  # is dropped. Using the pod itself as next hop makes the host ARP for the pod's own IP instead.
  local -a nexthop=(dev "$H" scope link)
  [[ "$VTH_HOST_NEXTHOP" == pod ]] && nexthop=(via "$pod_ip" dev "$H" onlink)
  ip route add "$prefix" "${nexthop[@]}" table "$table"
  for dst in $(conf_get '" ".join(r["dst"] for r in c["prevResult"].get("routes", []) if ":" not in r["dst"] and not r["dst"].endswith("/0"))'); do
    ip route replace "$dst" "${nexthop[@]}" table "$table"
  done
  ip rule add iif "$H" lookup "$table" pref "$RULE_PREF"
  local nat="masquerade"
  [[ "$VTH_HOST_NAT" == snat ]] && nat="snat to $node_ip"
  nft -f - <<EOF
table ip $NFT_TABLE {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    iifname "$H" oifname "$H" ip daddr != $pod_ip $nat comment "topocni hairpin $CNI_CONTAINERID"
  }
}
EOF

  # --- pod side ---
  case "$VTH_POD_FORWARDING" in
    veth0) in_pod sysctl -qw "net.ipv4.conf.$POD_VETH.forwarding=1" ;;
    veth0+eth0)
      in_pod sysctl -qw "net.ipv4.conf.$POD_VETH.forwarding=1"
      in_pod sysctl -qw "net.ipv4.conf.$POD_IF.forwarding=1" ;;
    all) in_pod sysctl -qw net.ipv4.ip_forward=1 ;;
    *) fail "bad VTH_POD_FORWARDING=$VTH_POD_FORWARDING" ;;
  esac
  if [[ "$VTH_POD_PROXY_ARP" == 1 ]]; then
    in_pod sysctl -qw "net.ipv4.conf.$POD_VETH.proxy_arp=1"
  fi
  if [[ "$VTH_POD_RP_FILTER" != keep ]]; then
    in_pod sysctl -qw "net.ipv4.conf.$POD_IF.rp_filter=$VTH_POD_RP_FILTER"
  fi
  in_pod ip route add "$node_ip/32" dev "$POD_VETH" scope link
  in_pod ip route replace default via "$node_ip" dev "$POD_VETH"
  in_pod nft -f - <<EOF
table ip topocni {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    iifname "$POD_VETH" oifname "$POD_IF" masquerade
  }
}
EOF
  conf_get 'json.dumps(c["prevResult"])'
}

cmd_del() {
  local table
  # Rules outlive the interface they name (they become "[detached]"), so delete them first.
  while table=$(ip rule show iif "$H" pref "$RULE_PREF" | sed -nE 's/.* lookup ([^ ]+).*/\1/p' | head -n1) &&
    [[ -n "$table" ]]; do
    ip rule del iif "$H" pref "$RULE_PREF" lookup "$table"
    ip route flush table "$table" 2>/dev/null || true
  done
  nft delete table ip "$NFT_TABLE" 2>/dev/null || true
  # Deleting H deletes the pod's end and every route through either end.
  ip link del "$H" 2>/dev/null || true
  if [[ -n "${CNI_NETNS:-}" && -e "$CNI_NETNS" ]]; then
    in_pod nft delete table ip topocni 2>/dev/null || true
    in_pod ip link del "$POD_VETH" 2>/dev/null || true
  fi
}

case "${CNI_COMMAND:-}" in
  ADD) cmd_add ;;
  DEL) cmd_del ;;
  CHECK) ;;
  VERSION) echo '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0"]}' ;;
  *) fail "unknown CNI_COMMAND ${CNI_COMMAND:-}" ;;
esac
