#!/usr/bin/env bash
# topocni under a real container runtime: Debian's podman 4.3 with its CNI backend runs busybox containers on
# the article's conflist (macvlan + host-local, then topocni as veth-to-host) in node1 of the lab (lib.sh: an
# underlay LAN with a gateway and kube-proxy-like DNAT). Podman's setup is described in podman_lib.sh.
#
# Checks: a container reaches its node, a Service IP backed by a host-network server and the gateway, each
# server seeing the container's own address; the node reaches the container. Then each way a container goes
# away leaves node1 exactly as before (links, addresses, routes, rules, nftables, sysctls, host-local
# allocations) and topocni's state dir empty: `podman rm -f`, `podman kill -s KILL` then `rm` (the network is
# torn down by the cleanup process conmon starts), a restart (DEL then ADD; the container is reached again
# after it), and 10 containers started and removed in parallel.
# The first ADD runs into an empty state dir and the last DEL leaves it with no per-network directory.
#
# podman network reload is tested by test_podman_reload.sh (20 reloads take their own time budget).
#
# Environment (ctest sets them): TOPOCNI, the plugin; TOPO_SOURCE_DIR, the source tree (templates).
# PM_CNI_VERSION: the conflist's cniVersion (default 0.3.1, the article's).
# Skips (exit 0, "SKIP: reason") when this machine cannot run a container. The last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=podman_lib.sh
source "$HERE/podman_lib.sh"
TOPOCNI=$(readlink -f "${TOPOCNI:?set TOPOCNI to the topocni binary}")
START=$SECONDS

# node1 as it was before any container, compared after each way of removing them.
expect_node_as_before() {
  local label=$1 left
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.after"
  if snapshots_equal "$LAB_TMP/node1.before" "$LAB_TMP/node1.after"; then
    record 1 "$label: node1 exactly as before"
  else
    record 0 "$label: node1 differs (diff above)"
  fi
  left=$(pm_state_leftovers)
  if [[ -z "$left" ]]; then record 1 "$label: topocni's state dir holds nothing"; else record 0 "$label: state dir holds: $(tr '\n' ' ' <<<"$left")"; fi
}

journal_gone_within() {
  local i
  for ((i = 0; i < $1 * 5; i++)); do
    [[ -z "$(pm_state_leftovers)" ]] && return 0
    sleep 0.2
  done
  return 1
}

main() {
  lab_up
  podman_probe
  podman_setup "${PM_CNI_VERSION:-0.3.1}"
  server_start "$NS_NODE1"
  server_start "$NS_GW"
  service_add "$SVC_A" "$SVC_PORT" "$NODE1_IP" "$SERVER_PORT"
  # After the servers and the Service: they are the lab's, not the container's, and stay to the end.
  snapshot "$NS_NODE1" >"$LAB_TMP/node1.before"

  echo "== a container on the article's conflist (cniVersion ${PM_CNI_VERSION:-0.3.1})"
  if pm_run c1 >/dev/null; then
    record 1 "podman run c1 ($(pm_ip c1))"
  else
    record 0 "podman run c1"
    summary || exit 1
  fi
  # The plugin got podman's [engine] env: its journal is in the lab's state dir, not the machine's /run/topocni.
  expect_ok "topocni journaled c1 in the lab's state dir" grep -q "^$PM_NETWORK/$(pm inspect --format '{{.Id}}' c1)-eth0@veth-to-host.json\$" \
    <(pm_state_leftovers)
  pm_expect_reach c1 "$NODE1_IP" "$SERVER_PORT" "own node"
  pm_expect_reach c1 "$SVC_A" "$SVC_PORT" "Service backed by a host-network server"
  pm_expect_reach c1 "$GW_IP" "$SERVER_PORT" "gateway"
  pm_node_reaches c1 "node reaches the container"

  echo "== podman rm -f"
  expect_ok "podman rm -f c1" quiet pm rm -f -t 0 c1
  expect_node_as_before "rm -f"

  echo "== podman kill -s KILL, then rm"
  expect_ok "podman run c2" quiet pm_run c2
  pm_expect_reach c2 "$NODE1_IP" "$SERVER_PORT" "own node"
  # The network of a killed container is torn down by the cleanup process conmon starts, not by this shell's
  # podman: it must find the same state dir (through CONTAINERS_CONF's [engine] env).
  expect_ok "c2's journal is in the lab's state dir" grep -q "^$PM_NETWORK/$(pm inspect --format '{{.Id}}' c2)-eth0@veth-to-host.json\$" \
    <(pm_state_leftovers)
  expect_ok "podman kill -s KILL c2" quiet pm kill -s KILL c2
  expect_ok "c2 exited" quiet pm wait c2
  expect_ok "conmon's cleanup process tore c2's network down before any rm (journal gone within 20 s)" \
    journal_gone_within 20
  expect_ok "podman rm c2" quiet pm rm c2
  expect_node_as_before "kill -s KILL + rm"

  echo "== podman restart"
  expect_ok "podman run c3" quiet pm_run c3
  expect_ok "podman restart c3" quiet pm restart -t 0 c3
  pm_expect_reach c3 "$NODE1_IP" "$SERVER_PORT" "own node after restart"
  pm_expect_reach c3 "$SVC_A" "$SVC_PORT" "Service after restart"
  pm_node_reaches c3 "node reaches the container after restart"
  expect_ok "podman rm -f c3" quiet pm rm -f -t 0 c3
  expect_node_as_before "restart + rm -f"

  echo "== 10 containers started and removed in parallel"
  local i pids=() failed=0 ips
  for i in $(seq 1 10); do
    pm_run "par$i" >"$LAB_TMP/par$i.out" 2>&1 &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[i]}" || { failed=$((failed + 1)); sed 's/^/    | /' "$LAB_TMP/par$((i + 1)).out" >&2; }
  done
  if ((failed == 0)); then record 1 "10 parallel podman run"; else record 0 "10 parallel podman run: $failed failed"; fi
  ips=$(for i in $(seq 1 10); do pm_ip "par$i" 2>/dev/null || true; done | sort -u | grep -c . || true)
  if [[ "$ips" == 10 ]]; then record 1 "10 distinct addresses"; else record 0 "$ips distinct addresses for 10 containers"; fi
  pm_expect_reach par1 "$NODE1_IP" "$SERVER_PORT" "own node, 1 of 10"
  pm_expect_reach par10 "$SVC_A" "$SVC_PORT" "Service, 10 of 10"
  pids=()
  failed=0
  for i in $(seq 1 10); do
    pm rm -f -t 0 "par$i" >"$LAB_TMP/par$i.out" 2>&1 &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[i]}" || { failed=$((failed + 1)); sed 's/^/    | /' "$LAB_TMP/par$((i + 1)).out" >&2; }
  done
  if ((failed == 0)); then record 1 "10 parallel podman rm -f"; else record 0 "10 parallel podman rm -f: $failed failed"; fi
  expect_node_as_before "10 in parallel"

  log "took $((SECONDS - START)) s"
  summary
}

main "$@"
