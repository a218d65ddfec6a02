# shellcheck shell=bash
# Helpers for the conformance, concurrency and crash scripts, on top of lib.sh's lab: run macvlan (+host-local)
# for a pod once, then call topocni directly with any environment, and compare node snapshots.

: "${TOPOCNI:?set TOPOCNI to the plugin binary (ctest does)}"
STATE_DIR=""  # topocni's journal directory for this run (under the lab's temp dir)

# lab_up plus what every script needs: topocni as the chain's second plugin and a private state dir.
conformance_up() {
  lab_up
  use_second_plugin "$TOPOCNI"
  STATE_DIR="$LAB_TMP/state"
  LAB_PLUGIN_ENV+=("TOPOCNI_STATE_DIR=$STATE_DIR")
}

# Creates pod <name> on node1 and runs only the first plugin (macvlan + host-local) for it; its result, the
# prevResult topocni gets, is in $LAB_TMP/<name>.prev.json. Sets POD_ID[name].
first_plugin_add() {
  local name=$1 node=${2:-$NS_NODE1} pod conflist out
  pod=$(pod_ns "$name")
  conflist=$(conflist_path "$node")
  [[ -f "$conflist" ]] || conflist_write "$node" >/dev/null
  ns_create "$pod"
  POD_NODE[$name]=$node
  POD_ID[$name]="id-$name"
  out=$(cni_invoke "$node" ADD "${POD_ID[$name]}" "$pod" "$(plugin_config "$conflist" 0)") ||
    die "macvlan ADD for $name failed: $out"
  printf '%s\n' "$out" >"$LAB_TMP/$name.prev.json"
  wait_dad "$pod"
}

# topocni's config for pod <name> (conflist entry 1), with its prevResult unless the third arg is "noprev".
topo_config() {
  local name=$1 node=${POD_NODE[$1]} prev="$LAB_TMP/$1.prev.json"
  [[ "${2:-}" == noprev ]] && prev=""
  plugin_config "$(conflist_path "$node")" 1 "$prev"
}

# Calls topocni for pod <name>: topo_call name COMMAND config [VAR=value...]. Stdout: the plugin's stdout;
# its stderr goes to $LAB_TMP/stderr; returns the plugin's exit status.
topo_call() {
  local name=$1 command=$2 config=$3
  shift 3
  printf '%s' "$config" | in_ns "${POD_NODE[$name]}" env -i PATH="$PATH" TOPOCNI_STATE_DIR="$STATE_DIR" "$@" \
    CNI_COMMAND="$command" CNI_CONTAINERID="${POD_ID[$name]}" CNI_NETNS="/var/run/netns/$(pod_ns "$name")" \
    CNI_IFNAME=eth0 CNI_PATH="$LAB_CNI_PATH" "$TOPOCNI" 2>"$LAB_TMP/stderr"
}

# A field of a JSON document: json_get '<json>' 'python expression over j'.
json_get() { python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }

# Records whether two snapshot files are equal (a diff on stderr when not).
expect_same() {
  local label=$1 before=$2 after=$3
  if diff -u "$before" "$after" >&2; then record 1 "$label"; else record 0 "$label"; fi
}

# Number of objects of ours on node1: links with our alias, rules/routes with protocol 157, our NAT rules.
ours_on_node() {
  local n=0
  n=$((n + $(ip -n "$NS_NODE1" -d link show | grep -c 'alias topocni:' || true)))
  n=$((n + $(ip -n "$NS_NODE1" rule show | grep -c 'proto 157' || true)))
  n=$((n + $(ip -n "$NS_NODE1" route show table all | grep -c 'proto 157' || true)))
  n=$((n + $(in_ns "$NS_NODE1" nft list ruleset | grep -c 'comment "cni0/' || true)))
  printf '%d\n' "$n"
}
