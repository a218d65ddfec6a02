#!/usr/bin/env bash
# topocni and topoctl are fully static: no dynamic section, and they run in an empty root (a temp dir holding
# only the binary) as VERSION and as a real ADD then DEL of veth-to-host chained after Debian's macvlan, the
# way a DaemonSet-installed plugin runs on a node that has none of our build's libraries.
#
# Each chroot run happens in a private mount namespace (unshare --mount), so its mounts vanish with it even if
# this script is killed; the EXIT trap removes the lab's namespaces and temp dirs.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=conformance_helpers.sh
source "$HERE/conformance_helpers.sh"
: "${TOPOCTL:?set TOPOCTL to topoctl (ctest does)}"
command -v readelf >/dev/null || die "readelf (binutils) is needed"
command -v unshare >/dev/null || die "unshare (util-linux) is needed"

for bin in "$TOPOCNI" "$TOPOCTL"; do
  name=$(basename "$bin")
  if readelf -d "$bin" 2>&1 | grep -q 'There is no dynamic section'; then
    record 1 "$name has no dynamic section"
  else
    record 0 "$name has a dynamic section: $(readelf -d "$bin" | grep NEEDED | tr -s ' ' | tr '\n' ';')"
  fi
  if readelf -l "$bin" | grep -q INTERP; then record 0 "$name asks for a program interpreter (ld.so)"; else
    record 1 "$name needs no program interpreter"; fi
done

conformance_up
first_plugin_add p1
POD=$(pod_ns p1)
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
snapshot "$POD" >"$LAB_TMP/pod.before"

# The empty roots: nothing but the binary, and the mount points below.
ROOT_CNI="$LAB_TMP/root-topocni"
ROOT_CTL="$LAB_TMP/root-topoctl"
for root in "$ROOT_CNI" "$ROOT_CTL"; do
  # proc: the plugin enters and leaves the pod's namespace through /proc/thread-self/ns/net, writes sysctls
  #   under /proc/sys/net, and names its nftables lock after the namespace's inode (as any runtime provides).
  # netns/pod: the pod's namespace file, bind-mounted as a runtime's CNI_NETNS path is.
  mkdir -p "$root/proc" "$root/netns"
  touch "$root/netns/pod"
done
cp "$TOPOCNI" "$ROOT_CNI/topocni"
cp "$TOPOCTL" "$ROOT_CTL/topoctl"
# topoctl plan reads the conflist and the prevResult from files: inputs, not dependencies.
cp "$(conflist_path "$NS_NODE1")" "$ROOT_CTL/conflist"
cp "$LAB_TMP/p1.prev.json" "$ROOT_CTL/prev.json"

# The journals live in each root's own /run/topocni (created by the plugin); topoctl must read the plugin's,
# so its root's /run is the plugin root's /run, bind-mounted.
mkdir -p "$ROOT_CNI/run" "$ROOT_CTL/run"

# Runs CHROOT_CMD with only CHROOT_ENV, chrooted into <root>, in node1's network namespace, in a private mount
# namespace holding the mounts above (bash cannot export arrays: both go over as positional words). stdin
# passes through. Args: root
in_root() {
  local root=$1
  nsenter --net="/var/run/netns/$NS_NODE1" unshare --mount --propagation private -- bash -c '
    set -e
    root=$1 pod=$2 plugin_root=$3 nenv=$4
    shift 4
    mount -t proc proc "$root/proc"
    mount --bind "/var/run/netns/$pod" "$root/netns/pod"
    [[ "$root" == "$plugin_root" ]] || mount --bind "$plugin_root/run" "$root/run"
    envs=("${@:1:nenv}")
    exec env -i "${envs[@]}" "$(command -v chroot)" "$root" "${@:nenv+1}"
  ' _ "$root" "$POD" "$ROOT_CNI" "${#CHROOT_ENV[@]}" "${CHROOT_ENV[@]}" "${CHROOT_CMD[@]}"
}

cni_in_root() {
  local command=$1 config=$2
  CHROOT_ENV=(CNI_COMMAND="$command" CNI_CONTAINERID="${POD_ID[p1]}" CNI_NETNS=/netns/pod CNI_IFNAME=eth0 CNI_PATH=/)
  CHROOT_CMD=(/topocni)
  printf '%s' "$config" | in_root "$ROOT_CNI" 2>"$LAB_TMP/stderr"
}

ctl_in_root() {
  CHROOT_ENV=(PATH=/)
  CHROOT_CMD=(/topoctl "$@")
  in_root "$ROOT_CTL" </dev/null 2>"$LAB_TMP/stderr"
}

# VERSION
out=$(cni_in_root VERSION '{"cniVersion":"1.0.0"}') || true
if [[ $(json_get "$out" '"1.0.0" in j["supportedVersions"] and j["cniVersion"]') == 1.0.0 ]]; then
  record 1 "topocni VERSION in an empty root: $out"
else
  record 0 "topocni VERSION in an empty root failed: $out $(cat "$LAB_TMP/stderr")"
fi
[[ $(ls -A "$ROOT_CNI" | sort | tr '\n' ' ') == "netns proc run topocni " ]] &&
  record 1 "the root holds only the binary and the mount points" ||
  record 0 "unexpected files in the root: $(ls -A "$ROOT_CNI")"

out=$(ctl_in_root templates) || true
if grep -q '^veth-to-host' <<<"$out"; then record 1 "topoctl templates in an empty root lists veth-to-host"; else
  record 0 "topoctl templates in an empty root: $out $(cat "$LAB_TMP/stderr")"; fi

# ADD: the real chained ADD, with macvlan's result as prevResult.
CONFIG=$(topo_config p1)
if out=$(cni_in_root ADD "$CONFIG") && [[ $(json_get "$out" 'j["ips"][0]["address"]') == 10.10.20.* ]]; then
  record 1 "topocni ADD in an empty root"
else
  record 0 "topocni ADD in an empty root failed: $out $(cat "$LAB_TMP/stderr")"
fi
ours=$(ours_on_node)
if ((ours >= 3)) && ip -n "$POD" -o link show veth0 >/dev/null 2>&1; then
  record 1 "ADD made its objects: veth0 in the pod, $ours marked objects on node1"
else
  record 0 "ADD left $ours marked objects on node1, veth0 in the pod: $(ip -n "$POD" -o link show veth0 2>&1)"
fi
[[ -n "$(ls "$ROOT_CNI/run/topocni/cni0" 2>/dev/null)" ]] && record 1 "the journal is in the root's own /run/topocni" ||
  record 0 "no journal under the root's /run/topocni"

# topoctl, in its own empty root, reads that journal and the kernel: DEL would destroy what ADD made.
out=$(ctl_in_root plan --config /conflist --netns /netns/pod --container-id "${POD_ID[p1]}" --prev-result /prev.json \
  --command DEL --no-color) || true
if grep -qE 'Plan: [0-9]+ to add, [0-9]+ to change, [1-9][0-9]* to destroy' <<<"$out"; then
  record 1 "topoctl plan --command DEL in an empty root: $(grep 'Plan:' <<<"$out")"
else
  record 0 "topoctl plan in an empty root: $out $(cat "$LAB_TMP/stderr")"
fi

# DEL, then node and pod are exactly as before ADD.
expect_ok "topocni DEL in an empty root" cni_in_root DEL "$CONFIG"
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
snapshot "$POD" >"$LAB_TMP/pod.after"
expect_same "node1 as before after DEL" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
expect_same "pod as before after DEL" "$LAB_TMP/pod.before" "$LAB_TMP/pod.after"

# The private mount namespaces are gone with their processes: nothing of ours is left mounted.
if grep -q "$LAB_TMP" /proc/self/mountinfo; then record 0 "a mount under $LAB_TMP outlived its run"; else
  record 1 "no mount left behind"; fi
summary
