#!/usr/bin/env bash
# `podman network reload` of a container on topocni's chain, 20 times in a row (podman_lib.sh sets podman up in
# node1 of the lab; host-local's range in its `ranges` form, which podman needs to re-request the address). Reload tears the container's network down and sets it up again with the interface name and
# MAC podman recorded from the first ADD result; checkpoint/restore uses the same code.
#
# Regression: topocni's ADD result used to list the pod's veth0 with a `sandbox`. Podman then recorded two
# container interfaces for the network and re-ADDed with CNI_IFNAME=veth0 whenever Go's map order put veth0
# first (about one reload in five); macvlan created a second veth0, topocni refused (101) and the container was
# left without network. Checked two ways: deterministically, libcni's cached result lists exactly one
# interface in the sandbox, eth0; and by running the 20 reloads (each followed by traffic and a look at both
# sides), which the old result failed with a probability of about 1 - 0.8^20 = 99%.
#
# Environment (ctest sets them): TOPOCNI, the plugin; TOPO_SOURCE_DIR, the source tree.
# PM_CNI_VERSION: the conflist's cniVersion (default 1.0.0). PM_RELOADS: how many reloads (default 20).
# Skips (exit 0, "SKIP: reason") when this machine cannot run a container. The last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=podman_lib.sh
source "$HERE/podman_lib.sh"
TOPOCNI=$(readlink -f "${TOPOCNI:?set TOPOCNI to the topocni binary}")
RELOADS=${PM_RELOADS:-20}
START=$SECONDS

# The interfaces of libcni's cached ADD result that have a sandbox (podman's container interfaces).
cached_sandbox_interfaces() {
  local id=$1 file
  file="/var/lib/cni/results/$PM_NETWORK-$id-eth0"
  [[ -f "$file" ]] || { echo "no cached result at $file"; return 0; }
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["result"]
print(" ".join(i["name"] for i in r.get("interfaces", []) if i.get("sandbox")))' "$file"
}

# One host-side veth of ours on the node (besides the lab's underlay, itself a veth), and exactly eth0 and
# veth0 (plus lo) in the container.
links_as_expected() {
  local ctr=$1 host pod
  host=$(ip -n "$NS_NODE1" -o link show type veth | grep -vc ": $UNDERLAY_IF@" || true)
  pod=$(pm exec "$ctr" ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort | tr '\n' ' ')
  if [[ "$host" == 1 && "$pod" == "eth0 lo veth0 " ]]; then return 0; fi
  echo "    node veths: $host, container links: $pod" >&2
  return 1
}

main() {
  lab_up
  podman_probe
  podman_setup "${PM_CNI_VERSION:-1.0.0}" ranges
  server_start "$NS_NODE1"
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.before"

  if quiet pm_run r1; then record 1 "podman run r1 ($(pm_ip r1))"; else record 0 "podman run r1"; summary || exit 1; fi
  local id ip
  id=$(pm inspect --format '{{.Id}}' r1)
  ip=$(pm_ip r1)
  local seen
  seen=$(cached_sandbox_interfaces "$id")
  if [[ "$seen" == eth0 ]]; then
    record 1 "the ADD result's only interface in the sandbox is eth0"
  else
    record 0 "the ADD result's interfaces in the sandbox: '$seen' (expected eth0 alone)"
  fi

  echo "== $RELOADS x podman network reload"
  local i ok=0 bad=0 out
  for ((i = 1; i <= RELOADS; i++)); do
    if ! out=$(pm network reload r1 2>&1); then
      bad=$((bad + 1))
      record 0 "reload $i: $(tail -2 <<<"$out" | tr '\n' ' ')"
      continue
    fi
    if [[ "$(pm_ip r1)" == "$ip" && "$(pm_connect r1 "$NODE1_IP" "$SERVER_PORT")" == "$ip" ]] && links_as_expected r1; then
      ok=$((ok + 1))
    else
      bad=$((bad + 1))
      record 0 "reload $i: the container lost its network or its address (now '$(pm_ip r1)', was $ip)"
    fi
  done
  if ((bad == 0)); then
    record 1 "$ok of $RELOADS reloads kept the container's network (same address, reaches its node)"
  else
    record 0 "$bad of $RELOADS reloads broke the container's network"
  fi
  seen=$(cached_sandbox_interfaces "$id")
  if [[ "$seen" == eth0 ]]; then record 1 "after the reloads, still eth0 alone in the sandbox"; else record 0 "after the reloads: '$seen'"; fi

  expect_ok "podman rm -f r1" quiet pm rm -f -t 0 r1
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.after"
  if snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after"; then
    record 1 "node1 exactly as before"
  else
    record 0 "node1 differs (diff above)"
  fi
  local left
  left=$(pm_state_leftovers)
  if [[ -z "$left" ]]; then record 1 "topocni's state dir holds nothing"; else record 0 "state dir holds: $(tr '\n' ' ' <<<"$left")"; fi
  log "took $((SECONDS - START)) s"
  summary
}

main "$@"
