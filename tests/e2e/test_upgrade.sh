#!/usr/bin/env bash
# Upgrade in place (issues 12 and 13): what a DaemonSet upgrade does to every running pod. The plugin of the
# last landed commit (tests/e2e/upgrade_from.commit) is built alongside (upgrade_build.sh); it is installed
# with its own `topocni install` and ADDs the veth-to-host flagship for two pods; then this build's
# `topocni install` replaces it (a rename over the running name) and must CHECK and DEL the first pod, and GC
# with an empty keep set must remove the second, from the journals the old binary wrote (format 3, named by
# the pod interface alone: "<cid>-eth0.json", marks "topocni:cni0/<cid>/eth0"). A third pod the old binary
# added is ADDed again by the new one, which keeps its old identity (journal and marks), then DELs it. Node and
# pods must return to their exact baseline, and the state dir hold nothing.
#
# Skips, saying why, when the pinned commit is not in the clone (a shallow clone). The old build is bounded
# by TOPO_UPGRADE_BUILD_SECONDS (upgrade_build.sh; ctest's TIMEOUT for this test leaves room for it).
# TOPO_UPGRADE_OLD_TOPOCNI: a plugin upgrade_build.sh already built from the pinned commit, to rerun without it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${TOPOCNI:?set TOPOCNI to the plugin of this build}"
SOURCE_DIR=${TOPO_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
NEW_TOPOCNI=$(readlink -f "$TOPOCNI")
COMMIT=$(grep -v '^#' "$HERE/upgrade_from.commit" | head -1 | tr -d '[:space:]')
[[ "$COMMIT" =~ ^[0-9a-f]{40}$ ]] || { echo "upgrade_from.commit holds no full commit hash" >&2; exit 1; }
if ! git -C "$SOURCE_DIR" cat-file -e "$COMMIT^{commit}" 2>/dev/null; then
  echo "SKIP: commit $COMMIT (upgrade_from.commit) is not in the clone at $SOURCE_DIR (shallow clone?); fetch it to run this test"
  exit 0
fi

# shellcheck source=lib.sh
source "$HERE/lib.sh"
OLD_BUILD=$(mktemp -d /tmp/topo-upgrade-build.XXXXXX)
trap 'lab_down; rm -rf "$OLD_BUILD"' EXIT

if [[ -n "${TOPO_UPGRADE_OLD_TOPOCNI:-}" ]]; then
  # A plugin already built from $COMMIT by upgrade_build.sh (to rerun the test without the build).
  OLD_TOPOCNI=$TOPO_UPGRADE_OLD_TOPOCNI
  echo "== using $OLD_TOPOCNI as the plugin of $COMMIT (TOPO_UPGRADE_OLD_TOPOCNI)"
else
  echo "== building the plugin of $COMMIT"
  start=$(date +%s)
  rc=0
  OLD_TOPOCNI=$(bash "$HERE/upgrade_build.sh" "$SOURCE_DIR" "$COMMIT" "$OLD_BUILD") || rc=$?
  if ((rc == 3)); then echo "SKIP: $COMMIT is not in the clone"; exit 0; fi
  ((rc == 0)) || die "building $COMMIT failed (rc $rc)"
  echo "built in $(($(date +%s) - start)) s: $OLD_TOPOCNI"
fi
[[ -x "$OLD_TOPOCNI" ]] || die "no old plugin at $OLD_TOPOCNI"
expect_ok "the old plugin is not this build" bash -c '! cmp -s "$1" "$2"' _ "$OLD_TOPOCNI" "$NEW_TOPOCNI"

# The node's CNI bin dir, filled by the old binary's own installer; the chain runs what is installed there.
NODE_BIN=$(mktemp -d /tmp/topo-upgrade-bin.XXXXXX)
trap 'lab_down; rm -rf "$OLD_BUILD" "$NODE_BIN"' EXIT
"$OLD_TOPOCNI" install --cni-bin-dir "$NODE_BIN" --names veth-to-host >/dev/null ||
  die "the old binary's install failed"
TOPOCNI="$NODE_BIN/topocni"
# shellcheck source=conformance_helpers.sh
source "$HERE/conformance_helpers.sh"

conformance_up
first_plugin_add p1
first_plugin_add p2
first_plugin_add p3
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
snapshot "$(pod_ns p1)" >"$LAB_TMP/p1.before"
snapshot "$(pod_ns p2)" >"$LAB_TMP/p2.before"
snapshot "$(pod_ns p3)" >"$LAB_TMP/p3.before"
# The old binary's journal (the pod interface's), and this build's (one per conflist entry, format 4).
journal_of() { printf '%s/cni0/%s-eth0.json\n' "$STATE_DIR" "${POD_ID[$1]}"; }
new_journal_of() { printf '%s/cni0/%s-eth0@veth-to-host.json\n' "$STATE_DIR" "${POD_ID[$1]}"; }
# A config with another cniVersion (CHECK needs 0.4.0+, GC 1.1.0) and optional extra keys (JSON).
with_version() {
  python3 -c 'import json,sys; c=json.loads(sys.argv[1]); c["cniVersion"]=sys.argv[2]; c.update(json.loads(sys.argv[3] or "{}")); print(json.dumps(c))' \
    "$1" "$2" "${3:-}"
}

echo "== the old binary ADDs"
expect_ok "the installed plugin is the old build" cmp -s "$OLD_TOPOCNI" "$NODE_BIN/topocni"
for p in p1 p2 p3; do
  out=$(topo_call $p ADD "$(topo_config $p)") || true
  expect_ok "old ADD $p (${out:0:100})" python3 -c 'import json,sys; sys.exit("code" in json.loads(sys.argv[1]))' "$out"
  expect_ok "its journal is format 3, named by the pod interface (no plugin)" \
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(j.get("format") != 3 or "plugin" in j)' "$(journal_of $p)"
done
expect_ok "the old marks name the pod interface alone" \
  bash -c 'ip -n "$1" -d link show | grep -qx " *alias topocni:cni0/$2/eth0"' _ "$NS_NODE1" "${POD_ID[p1]}"
snapshot "$(pod_ns p1)" >"$LAB_TMP/p1.added"

echo "== upgrade: this build's installer replaces the binary"
expect_ok "topocni install" "$NEW_TOPOCNI" install --cni-bin-dir "$NODE_BIN" --names veth-to-host
expect_ok "the installed plugin is this build" cmp -s "$NEW_TOPOCNI" "$NODE_BIN/topocni"
expect_ok "veth-to-host still leads to it" cmp -s "$NEW_TOPOCNI" "$LAB_TMP/cni-bin/veth-to-host"

echo "== the new binary: CHECK and DEL of p1, GC of p2 (empty keep set)"
rc=0
out=$(topo_call p1 CHECK "$(with_version "$(topo_config p1)" 1.0.0)") || rc=$?
expect_ok "new CHECK of the old ADD passes (rc $rc ${out:0:200} $(head -c 200 "$LAB_TMP/stderr"))" [ "$rc" = 0 ]
rc=0
out=$(topo_call p1 DEL "$(topo_config p1 noprev)") || rc=$?
expect_ok "new DEL of the old ADD (rc $rc ${out:0:200})" [ "$rc" = 0 ]
snapshot "$(pod_ns p1)" >"$LAB_TMP/p1.after"
expect_same "pod p1 as before its ADD (default route and sysctls put back)" "$LAB_TMP/p1.before" "$LAB_TMP/p1.after"
expect_ok "p1's journal is gone" test ! -e "$(journal_of p1)"

echo "== the new binary ADDs p3 again: the attachment keeps its old identity until its DEL"
out=$(topo_call p3 ADD "$(topo_config p3)") || true
expect_ok "new re-ADD of p3 (${out:0:100})" python3 -c 'import json,sys; sys.exit("code" in json.loads(sys.argv[1]))' "$out"
expect_ok "p3's journal stays the pod interface's (format 4 without plugin), no second one" \
  bash -c 'python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(j.get(\"format\") != 4 or \"plugin\" in j)" "$1" && [[ ! -e $2 ]]' \
  _ "$(journal_of p3)" "$(new_journal_of p3)"
expect_ok "p3's host veth keeps the old mark" \
  bash -c 'ip -n "$1" -d link show | grep -qx " *alias topocni:cni0/$2/eth0"' _ "$NS_NODE1" "${POD_ID[p3]}"
rc=0
out=$(topo_call p3 CHECK "$(with_version "$(topo_config p3)" 1.0.0)") || rc=$?
expect_ok "new CHECK of p3 (rc $rc ${out:0:200})" [ "$rc" = 0 ]
expect_ok "new DEL of p3" topo_call p3 DEL "$(topo_config p3 noprev)"
snapshot "$(pod_ns p3)" >"$LAB_TMP/p3.after"
expect_same "pod p3 as before its ADD" "$LAB_TMP/p3.before" "$LAB_TMP/p3.after"
expect_ok "p3's journal is gone" test ! -e "$(journal_of p3)"
gc=$(with_version "$(topo_config p2 noprev)" 1.1.0 '{"cni.dev/valid-attachments": []}')
rc=0
out=$(topo_call p2 GC "$gc") || rc=$?
expect_ok "new GC with an empty keep set (rc $rc ${out:0:200})" [ "$rc" = 0 ]
expect_ok "GC says it removed p2" grep -qx "topocni: GC removed cni0/${POD_ID[p2]}/eth0" "$LAB_TMP/stderr"
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
snapshot "$(pod_ns p2)" >"$LAB_TMP/p2.after"
expect_same "node as before both ADDs" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
expect_same "pod p2 as before its ADD" "$LAB_TMP/p2.before" "$LAB_TMP/p2.after"
# The node-wide lock file and the empty .tables and .locks directories are meant to stay (podman_lib.sh).
left=$(find "$STATE_DIR" -mindepth 1 ! -name .lock ! -path "$STATE_DIR/.tables" ! -path "$STATE_DIR/.locks" -printf '%P ')
expect_ok "the state dir holds nothing (${left:-nothing})" [ -z "$left" ]

echo "== and the new binary's own ADD and DEL after the upgrade"
out=$(topo_call p1 ADD "$(topo_config p1)") || true
expect_ok "new ADD p1 (${out:0:100})" python3 -c 'import json,sys; sys.exit("code" in json.loads(sys.argv[1]))' "$out"
expect_ok "its journal is format 4, named by the pod interface and the entry" \
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(j.get("format") != 4 or j.get("plugin") != "veth-to-host")' "$(new_journal_of p1)"
expect_ok "its host veth's mark names the entry" \
  bash -c 'ip -n "$1" -d link show | grep -qx " *alias topocni:cni0/$2/eth0/veth-to-host"' _ "$NS_NODE1" "${POD_ID[p1]}"
expect_ok "new DEL p1" topo_call p1 DEL "$(topo_config p1 noprev)"
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
expect_same "node as before" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
summary
