#!/usr/bin/env bash
# Validate the veth-to-host design (outcomes 1-5) with the ip/nft stand-in plugin, before the real
# plugin exists. Two pods on node1 (p1, p2), one on node2 (p3).
#
# The stand-in's VTH_* knobs (see manual_veth_to_host.sh) are passed through, so a variant of the
# design can be tried, e.g. the design exactly as first written:
#   VTH_POD_FORWARDING=veth0 VTH_POD_RP_FILTER=keep VTH_HOST_REDIRECTS=keep VTH_HOST_NAT=masquerade \
#     bash tests/e2e/check_design.sh
# CHECK_DESIGN_KEEP=<file> keeps the lab up while <file> exists (for tcpdump/conntrack/nstat).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

for var in VTH_POD_FORWARDING VTH_POD_RP_FILTER VTH_HOST_REDIRECTS VTH_HOST_NAT VTH_HOST_NEXTHOP \
  VTH_POD_PROXY_ARP; do
  if [[ -n "${!var:-}" ]]; then LAB_PLUGIN_ENV+=("$var=${!var}"); fi
done

lab_up
use_second_plugin "$HERE/manual_veth_to_host.sh"
log "stand-in knobs: ${LAB_PLUGIN_ENV[*]:-(defaults)}"

snapshot "$NS_NODE1" >"$LAB_TMP/node1.before"
snapshot "$NS_NODE2" >"$LAB_TMP/node2.before"

pod_add p1 "$NS_NODE1"
pod_add p2 "$NS_NODE1"
pod_add p3 "$NS_NODE2"

scenario_services_and_servers
scenario_check_outcomes
P1NS=$(pod_ns p1)

if [[ -n "${CHECK_DESIGN_KEEP:-}" ]]; then
  # Investigation hook: the lab stays up while the named file exists (at most 10 minutes).
  printf '%s\n' "$LAB_PREFIX" >"$CHECK_DESIGN_KEEP"
  log "lab kept while $CHECK_DESIGN_KEEP exists"
  for ((i = 0; i < 600; i++)); do [[ -e "$CHECK_DESIGN_KEEP" ]] || break; sleep 1; done
fi

# Kernel counters that explain failures (informational): strict rp_filter drops, packets not
# forwarded because the input interface has forwarding=0 (IpInAddrErrors), ICMP redirects sent.
for ns in "$NS_NODE1" "$P1NS"; do
  printf 'counters %s: %s\n' "${ns#"$LAB_PREFIX"}" "$(in_ns "$ns" nstat -az TcpExtIPReversePathFilter \
    IpInAddrErrors IcmpOutRedirects IcmpInRedirects | awk '!/^#/ {printf "%s=%s ", $1, $2}')"
done

echo "== outcome 5: DEL leaves the node as it was"
services_flush
pod_del p1
pod_del p2
pod_del p3
snapshot "$NS_NODE1" >"$LAB_TMP/node1.after"
snapshot "$NS_NODE2" >"$LAB_TMP/node2.after"
expect_ok "node1 snapshot after DEL == before ADD" snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after"
expect_ok "node2 snapshot after DEL == before ADD" snapshots_equal "$LAB_TMP/node2.before" "$LAB_TMP/node2.after"
summary
