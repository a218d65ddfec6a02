# shellcheck shell=bash
# Podman on top of the lab of lib.sh: real containers, run by Debian's podman 4.3 with its CNI network
# backend, on node1's conflist (macvlan + host-local, then topocni as veth-to-host).
#
# Podman gets a private world under the lab's temp dir, so nothing it does lands in the machine's own
# configuration or network namespace:
#   - its own containers.conf (CONTAINERS_CONF: then no other containers.conf is read) with the settings that
#     work on these machines (no systemd, hybrid cgroups): network_backend "cni", runtime "runc" (crun 1.8.1
#     refuses hybrid cgroups), cgroup_manager "cgroupfs", events_logger "file", default_ulimits podman's own
#     defaults fail to set, and a default_network of ours, so nothing ever lands on podman's default bridge;
#   - its own CNI config dir holding only the test's conflist, and plugin dirs: one where topocni is installed as
#     veth-to-host, then Debian's /usr/lib/cni;
#   - its own storage (graph root, run root, vfs driver: no overlay mounts to leave behind) and tmp dir;
#   - an image imported from a tar of a busybox-static root (no registry).
# Podman runs in node1's namespace through `nsenter --net=`: `ip netns exec` remounts /sys, which hides the
# cgroup hierarchy from runc. The CNI plugins run where podman runs (the node), and so does the cleanup process
# conmon starts when a container exits (`podman container cleanup`): it gets CONTAINERS_CONF from conmon's
# environment and topocni's variables from the [engine] env of that file.
#
# Usage: source lib.sh, then this file; lab_up; podman_probe (exits 0 with a SKIP line when this machine cannot
# run a container); podman_setup; then pm ...; podman_down runs before lab_down on exit.

PM_TIMEOUT="${PM_TIMEOUT:-90}"  # seconds for any one podman command
PM_DIR=""
PM_IMAGE="localhost/topocni-e2e-busybox:1"
PM_NETWORK="cni0"               # the conflist's name
PM_NODE=""                      # the namespace podman runs in

# podman in the node namespace with the private configuration. Bounded in time.
pm() {
  timeout -k 5 "$PM_TIMEOUT" nsenter --net="/run/netns/$PM_NODE" env \
    CONTAINERS_CONF="$PM_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$PM_DIR/storage.conf" \
    CONTAINERS_REGISTRIES_CONF="$PM_DIR/registries.conf" \
    podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" --storage-driver vfs "$@"
}

# A root file system with busybox-static and the few names the tests run, as a tar for `podman import`.
pm_rootfs_tar() {
  local root=$1 tar=$2 busybox name
  busybox=$(command -v busybox) || return 1
  mkdir -p "$root/bin" "$root/www" "$root/etc" "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  for name in sh sleep ip nc cat echo httpd wget true ls; do ln -s busybox "$root/bin/$name"; done
  echo pong >"$root/www/index.html"
  echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  tar -C "$root" -cf "$tar" .
}

pm_write_config() {
  local cni_bin_dir=$1 state_dir=$2 template_path=$3
  mkdir -p "$PM_DIR/net.d" "$PM_DIR/tmp" "$PM_DIR/volumes"
  cat >"$PM_DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
# No /etc/hosts or resolv.conf from the machine: the image has neither, and nothing here resolves names.
no_hosts = true

[network]
network_backend = "cni"
network_config_dir = "$PM_DIR/net.d"
cni_plugin_dirs = ["$cni_bin_dir", "$CNI_SYSTEM_BIN"]
default_network = "$PM_NETWORK"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM_DIR/events.log"
tmp_dir = "$PM_DIR/tmp"
volume_path = "$PM_DIR/volumes"
# Set by every podman process reading this file, including the cleanup one conmon starts, and passed on to the
# CNI plugins: topocni's journals stay in the lab.
env = ["TOPOCNI_STATE_DIR=$state_dir"${template_path:+, \"TOPOCNI_TEMPLATE_PATH=$template_path\"}]
EOF
  cat >"$PM_DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$PM_DIR/runroot"
graphroot = "$PM_DIR/root"
EOF
  : >"$PM_DIR/registries.conf"
}

# Can this machine run a container at all? Checked with --network none in a namespace of its own, so a
# failure here says nothing about topocni. On failure: a SKIP line with the reason, and exit 0.
podman_probe() {
  local tool reason="" out ns="${LAB_PREFIX}probe"
  for tool in podman runc conmon busybox nsenter timeout; do
    command -v "$tool" >/dev/null || { reason="$tool is not installed (scripts/lib/install-deps.sh installs it)"; break; }
  done
  # A dynamic busybox (Debian's "busybox" package) cannot run in an image holding nothing else.
  if [[ -z "$reason" ]] && readelf -lW "$(readlink -f "$(command -v busybox)")" 2>/dev/null | grep -q INTERP; then
    reason="busybox is not static (install busybox-static)"
  fi
  if [[ -z "$reason" && ! -d /sys/fs/cgroup/memory && ! -f /sys/fs/cgroup/cgroup.controllers ]]; then
    reason="no cgroup hierarchy under /sys/fs/cgroup"
  fi
  if [[ -z "$reason" ]]; then
    PM_DIR="$LAB_TMP/podman"
    mkdir -p "$PM_DIR"
    trap 'podman_down; lab_down' EXIT
    pm_write_config "$LAB_TMP/cni-bin" "$LAB_TMP/state" ""
    pm_rootfs_tar "$PM_DIR/rootfs" "$PM_DIR/rootfs.tar"
    ns_create "$ns"
    PM_NODE=$ns
    if ! out=$(pm import -q "$PM_DIR/rootfs.tar" "$PM_IMAGE" 2>&1 && pm run --rm --network none "$PM_IMAGE" true 2>&1); then
      reason="podman cannot run a container here: $(tail -3 <<<"$out" | tr '\n' ' ')"
    fi
  fi
  if [[ -n "$reason" ]]; then
    echo "SKIP: $reason"
    exit 0
  fi
  log "podman runs containers here ($(podman --version))"
}

# The conflist of node1 (lib.sh's, with its cniVersion) in podman's config dir; topocni as veth-to-host in the
# first plugin dir. With "ranges", host-local's subnet/rangeStart/rangeEnd/gateway are written in its `ranges`
# form, the same allocation: podman's CNI backend reads a network's subnets only from `ranges`, and
# `podman network reload` asks for the container's address again as a static IP, which podman refuses
# ("requested static ip ... not in any subnet") for a network it found no subnet in.
# Args: [cniVersion [ranges]]
podman_setup() {
  local version=${1:-0.3.1} form=${2:-flat} conflist
  PM_NODE=$NS_NODE1
  install_topocni_as veth-to-host
  local template_path=""
  [[ -z "${TOPO_SOURCE_DIR:-}" ]] || template_path="$TOPO_SOURCE_DIR/specs"
  pm_write_config "$LAB_TMP/cni-bin" "$LAB_TMP/state" "$template_path"
  conflist=$(conflist_write "$NS_NODE1")
  python3 - "$conflist" "$version" "$PM_DIR/net.d/$PM_NETWORK.conflist" "$form" <<'EOF'
import json, sys
conflist = json.load(open(sys.argv[1]))
conflist["cniVersion"] = sys.argv[2]
ipam = conflist["plugins"][0]["ipam"]
if sys.argv[4] == "ranges" and "subnet" in ipam:
    ipam["ranges"] = [[{k: ipam.pop(k) for k in ("subnet", "rangeStart", "rangeEnd", "gateway")}]]
json.dump(conflist, open(sys.argv[3], "w"), indent=2)
EOF
  pm network ls --format '{{.Name}}' | grep -qx "$PM_NETWORK" || die "podman does not see network $PM_NETWORK"
  trap 'podman_down; lab_down' EXIT
}

# Remove every container of this run (our storage holds nothing else), then any mount left under our dir.
podman_down() {
  local rc=$? m
  set +e
  if [[ -n "$PM_DIR" && -d "$PM_DIR" ]]; then
    pm rm -a -f -t 0 >/dev/null 2>&1
    for m in $(findmnt -rn -o TARGET | grep -F "$PM_DIR/" | sort -r); do umount -l "$m"; done
  fi
  return "$rc"
}

# The container's IPv4 address on the test's network.
pm_ip() { pm inspect --format "{{(index .NetworkSettings.Networks \"$PM_NETWORK\").IPAddress}}" "$1"; }

# From inside the container, connect to ip:port of a lab server; prints the peer address the server saw.
pm_connect() {
  local ctr=$1 ip=$2 port=$3
  pm exec "$ctr" sh -c "echo hi | nc -w $CLIENT_TIMEOUT $ip $port" 2>&1 | head -1 | sed -E 's/:[0-9]+$//'
}

# Check: a container reaches ip:port and the server saw the container's own address.
pm_expect_reach() {
  local ctr=$1 ip=$2 port=$3 label=$4 own seen
  own=$(pm_ip "$ctr")
  seen=$(pm_connect "$ctr" "$ip" "$port")
  if [[ -n "$own" && "$seen" == "$own" ]]; then
    record 1 "$label: $ctr -> $ip:$port (server saw $seen)"
  else
    record 0 "$label: $ctr -> $ip:$port (container $own, server saw '${seen:-nothing}')"
  fi
}

# Check: the node reaches the container's HTTP server (busybox httpd serving "pong").
pm_node_reaches() {
  local ctr=$1 label=$2 ip got
  ip=$(pm_ip "$ctr")
  got=$(in_ns "$PM_NODE" python3 -c '
import sys, urllib.request
try:
    print(urllib.request.urlopen("http://%s:8080/" % sys.argv[1], timeout=float(sys.argv[2])).read().decode().strip())
except Exception as e:
    print("error: %s" % e)' "$ip" "$CLIENT_TIMEOUT")
  if [[ "$got" == pong ]]; then record 1 "$label: node -> $ctr ($ip:8080)"; else record 0 "$label: node -> $ctr ($ip:8080): $got"; fi
}

# Start a detached container serving HTTP on 8080 (busybox httpd in the foreground as PID 1).
pm_run() { pm run -d --name "$1" "$PM_IMAGE" httpd -f -p 8080 -h /www; }

# Run a command, its output dropped (podman prints ids and names).
quiet() { "$@" >/dev/null; }

# Journals, per-network directories and table reservations topocni holds in the lab's state dir (the lock file
# and the empty .tables directory are meant to stay). Prints them; empty when there are none.
pm_state_leftovers() {
  local dir="$LAB_TMP/state"
  [[ -d "$dir" ]] || return 0
  # The node-wide directories (.tables for reservations, .locks for the nftables table locks) stay; anything
  # in them would still be listed.
  find "$dir" -mindepth 1 ! -name .lock ! -path "$dir/.tables" ! -path "$dir/.locks" -printf '%P\n' | sort
}
