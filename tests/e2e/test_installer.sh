#!/usr/bin/env bash
# `topocni install` / `topocni uninstall` in temporary directories only (never the machine's /opt/cni/bin or
# /etc/cni): the installed binary and its names run; a reinstall while a process runs from the installed
# binary neither fails (ETXTBSY) nor disturbs that process; the conflist insertion is idempotent and in the
# right place; refused input changes nothing; uninstall leaves the directories exactly as before install.
set -euo pipefail
: "${TOPOCNI:?set TOPOCNI to the plugin binary (ctest does)}"
TOPOCNI=$(readlink -f "$TOPOCNI")
SRC=${TOPO_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

T=$(mktemp -d /tmp/topocni-installer.XXXXXX)
SLEEPER=""
cleanup() {
  local rc=$?
  # The one process this test leaves running on failure: ended by its pid.
  if [[ -n "$SLEEPER" ]] && kill -0 "$SLEEPER" 2>/dev/null; then kill "$SLEEPER"; wait "$SLEEPER" 2>/dev/null || true; fi
  rm -rf -- "$T"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASS=0
FAIL=0
record() {
  if [[ $1 == 1 ]]; then PASS=$((PASS + 1)); printf 'PASS  %s\n' "$2"; else FAIL=$((FAIL + 1)); printf 'FAIL  %s\n' "$2"; fi
}
check() { local label=$1; shift; if "$@"; then record 1 "$label"; else record 0 "$label"; fi; }

# Everything under the test's node-like dirs: path, kind, link target, mode, content hash.
snapshot() {
  (cd "$T/node" && find . -mindepth 1 | sort | while read -r p; do
    if [[ -f "$p" && ! -L "$p" ]]; then h=$(sha256sum <"$p" | cut -c1-16); else h=-; fi
    printf '%s %s %s %s %s\n' "$p" "$(stat -c %F "$p")" "$(readlink "$p" || true)" "$(stat -c %a "$p")" "$h"
  done)
}
# A conflist's plugin types in order.
types_of() { python3 -c 'import json,sys; print(" ".join(p["type"] for p in json.load(open(sys.argv[1]))["plugins"]))' "$1"; }

BIN="$T/node/opt/cni/bin"
NETD="$T/node/etc/cni/net.d"
TPLD="$T/node/etc/cni/topocni.d"
mkdir -p "$BIN" "$NETD" "$T/src"
printf '#!/bin/sh\nexit 0\n' >"$BIN/macvlan" # a plugin of someone else's, which must stay untouched
chmod 755 "$BIN/macvlan"
CONFLIST="$NETD/10-cni0.conflist"
cat >"$CONFLIST" <<'EOF'
{
  "cniVersion": "1.0.0",
  "name": "cni0",
  "plugins": [
    {
      "type": "macvlan",
      "master": "enp5s0f0",
      "ipam": {
        "type": "host-local",
        "subnet": "10.10.20.0/24"
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
EOF
chmod 640 "$CONFLIST"
cp "$CONFLIST" "$T/orig.conflist"
# A user template: a copy of a built-in under its own name.
sed 's/^name: route-override$/name: my-routes/' "$SRC/specs/route-override.yaml" >"$T/src/my-routes.yaml"
snapshot >"$T/before"

ENTRY='{"type":"veth-to-host","hostInterface":"enp5s0f0","containerInterface":"veth0","ipMasq":true}'
install_all() {
  "$TOPOCNI" install --cni-bin-dir "$BIN" --names veth-to-host,underlay-service --templates-dir "$TPLD" \
    --template "$T/src/my-routes.yaml" --conflist "$CONFLIST" --after macvlan --entry "$1"
}

# --- install
if out=$(install_all "$ENTRY" 2>&1); then record 1 "install"; else record 0 "install: $out"; fi
check "topocni is a copy of the binary, mode 755" \
  bash -c '[[ ! -L "$1/topocni" && $(stat -c %a "$1/topocni") == 755 ]] && cmp -s "$1/topocni" "$2"' _ "$BIN" "$TOPOCNI"
check "veth-to-host and underlay-service are links to topocni in the same directory" \
  bash -c '[[ $(readlink "$1/veth-to-host") == topocni && $(readlink "$1/underlay-service") == topocni ]]' _ "$BIN"
check "the user template is installed (mode 644)" \
  bash -c 'cmp -s "$1/my-routes.yaml" "$2" && [[ $(stat -c %a "$1/my-routes.yaml") == 644 ]]' _ "$TPLD" "$T/src/my-routes.yaml"
for name in topocni veth-to-host; do
  out=$(echo '{"cniVersion":"1.0.0"}' | env -i CNI_COMMAND=VERSION "$BIN/$name" 2>&1) || true
  check "the installed $name answers VERSION" grep -q '"supportedVersions":\[.*"1.0.0"' <<<"$out"
done
check "the conflist: macvlan, then our entry, then portmap" [ "$(types_of "$CONFLIST")" == "macvlan veth-to-host portmap" ]
check "the conflist keeps its mode (640)" [ "$(stat -c %a "$CONFLIST")" == 640 ]
check "no temporary file is left" bash -c '! ls -A "$1" "$2" "$3" | grep -q topocni-tmp' _ "$BIN" "$NETD" "$TPLD"

# --- idempotent: again, with a changed entry: still one entry, replaced in place
ENTRY2='{"type":"veth-to-host","hostInterface":"enp5s0f0","containerInterface":"veth9","ipMasq":true}'
install_all "$ENTRY2" >/dev/null
check "installed twice: one entry, in the same place" [ "$(types_of "$CONFLIST")" == "macvlan veth-to-host portmap" ]
check "installed twice: the entry is the new one" \
  python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["plugins"][1]["containerInterface"] == "veth9"' "$CONFLIST"
check "the conflist's keys keep their order" \
  python3 -c 'import json,sys; assert list(json.load(open(sys.argv[1])).keys()) == ["cniVersion","name","plugins"]' "$CONFLIST"
# An entry for another template of the same type is a different entry; one before macvlan is moved after it.
python3 - "$CONFLIST" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["plugins"].insert(0, c["plugins"].pop(1))  # veth-to-host now before macvlan
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
install_all "$ENTRY" >/dev/null
check "an entry found before the plugin it follows is moved after it" \
  [ "$(types_of "$CONFLIST")" == "macvlan veth-to-host portmap" ]
"$TOPOCNI" install --cni-bin-dir "$BIN" --names veth-to-host --conflist "$CONFLIST" --after veth-to-host \
  --entry '{"type":"topocni","template":"my-routes"}' >/dev/null
"$TOPOCNI" install --cni-bin-dir "$BIN" --names veth-to-host --conflist "$CONFLIST" --after veth-to-host \
  --entry '{"type":"topocni","template":"my-routes"}' >/dev/null
check "a second topocni entry (another template) chains after the first, once" \
  [ "$(types_of "$CONFLIST")" == "macvlan veth-to-host topocni portmap" ]

# --- reinstall while a process runs from the installed binary
OTHER="$T/other"
mkdir -p "$OTHER"
"$BIN/topocni" install --cni-bin-dir "$OTHER" --names '' --sleep >"$T/sleeper.out" 2>&1 &
SLEEPER=$!
for _ in $(seq 50); do grep -q waiting "$T/sleeper.out" 2>/dev/null && break; sleep 0.1; done
check "a process runs from the installed binary (topocni install --sleep)" \
  bash -c '[[ $(readlink /proc/$1/exe) == "$2" ]]' _ "$SLEEPER" "$BIN/topocni"
# The hazard the installer avoids: writing the running binary in place fails.
if cp "$TOPOCNI" "$BIN/topocni" 2>"$T/cp.err"; then record 0 "writing the running binary in place should fail"; else
  check "writing the running binary in place fails with ETXTBSY (the hazard)" grep -q 'Text file busy' "$T/cp.err"; fi
inode_before=$(stat -c %i "$BIN/topocni")
if out=$(install_all "$ENTRY" 2>&1); then record 1 "reinstall while the installed binary runs"; else
  record 0 "reinstall while the installed binary runs: $out"; fi
check "the reinstall replaced the file (a new inode) with the new binary" \
  bash -c '[[ $(stat -c %i "$1/topocni") != "$2" ]] && cmp -s "$1/topocni" "$3"' _ "$BIN" "$inode_before" "$TOPOCNI"
check "the running process is unaffected (alive, still on the old, now unlinked file)" \
  bash -c 'kill -0 "$1" && [[ $(readlink /proc/$1/exe) == *"(deleted)" ]]' _ "$SLEEPER"
kill -TERM "$SLEEPER"
rc=0
wait "$SLEEPER" || rc=$?
SLEEPER=""
check "install --sleep exits 0 on SIGTERM" [ "$rc" == 0 ]
check "install --sleep had installed first" test -x "$OTHER/topocni"

# --- refused input changes nothing
refused() {
  local label=$1 expect=$2
  shift 2
  snapshot >"$T/pre"
  local out rc=0
  out=$("$TOPOCNI" "$@" 2>&1) || rc=$?
  snapshot >"$T/post"
  if ((rc != 0)) && grep -q -- "$expect" <<<"$out" && diff -q "$T/pre" "$T/post" >/dev/null; then
    record 1 "refused, nothing changed: $label ($out)"
  else
    record 0 "$label: exit $rc, output: $out"
    diff "$T/pre" "$T/post" || true
  fi
}
EMPTY_BIN="$T/node/empty-bin"
mkdir -p "$EMPTY_BIN"
printf 'not json' >"$T/node/bad.conflist"
printf '{"cniVersion":"1.0.0","name":"x"}' >"$T/node/noplugins.conflist"
printf 'name: broken\nparameters: {\n' >"$T/src/broken.yaml"
printf 'name: wrongname\nunknownkey: 1\n' >"$T/src/badkey.yaml"
refused "missing --cni-bin-dir" "no such directory" install --cni-bin-dir "$T/node/nope"
refused "a conflist that is not JSON" "not JSON" install --cni-bin-dir "$EMPTY_BIN" \
  --conflist "$T/node/bad.conflist" --after macvlan --entry "$ENTRY"
refused "a conflist without a plugins list" 'no "plugins" list' install --cni-bin-dir "$EMPTY_BIN" \
  --conflist "$T/node/noplugins.conflist" --after macvlan --entry "$ENTRY"
refused "--after a type the conflist lacks" 'no plugin of type "bridge"' install --cni-bin-dir "$EMPTY_BIN" \
  --conflist "$CONFLIST" --after bridge --entry "$ENTRY"
refused "an --entry that is not JSON" "not JSON" install --cni-bin-dir "$EMPTY_BIN" \
  --conflist "$CONFLIST" --after macvlan --entry '{"type":'
refused "an --entry without a type" 'non-empty string "type"' install --cni-bin-dir "$EMPTY_BIN" \
  --conflist "$CONFLIST" --after macvlan --entry '{"hostInterface":"x"}'
refused "a template that does not parse" "broken.yaml" install --cni-bin-dir "$EMPTY_BIN" \
  --templates-dir "$TPLD" --template "$T/src/broken.yaml"
refused "a template with an unknown key" "badkey.yaml" install --cni-bin-dir "$EMPTY_BIN" \
  --templates-dir "$TPLD" --template "$T/src/badkey.yaml"
refused "a missing template file" "cannot read" install --cni-bin-dir "$EMPTY_BIN" \
  --templates-dir "$TPLD" --template "$T/src/nope.yaml"
refused "a name with a slash" "not a plugin file name" install --cni-bin-dir "$EMPTY_BIN" --names ../evil
refused "--write-conflist with a conflist that has no plugins" 'no "plugins" list' install \
  --cni-bin-dir "$EMPTY_BIN" --write-conflist "$NETD/20-new.conflist" --conflist-json '{"name":"n"}'
refused "--conflist without --after" "requires" install --cni-bin-dir "$EMPTY_BIN" --conflist "$CONFLIST"
refused "an unknown subcommand" "" frobnicate
refused "uninstall: a conflist that is not JSON" "not JSON" uninstall --cni-bin-dir "$BIN" \
  --conflist "$T/node/bad.conflist" --type veth-to-host

# --- --write-conflist writes a whole conflist, atomically, and uninstall --type empties it away
NEW_JSON='{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"macvlan","master":"eth0"},{"type":"veth-to-host"}]}'
"$TOPOCNI" install --cni-bin-dir "$BIN" --names veth-to-host --write-conflist "$NETD/20-new.conflist" \
  --conflist-json "$NEW_JSON" >/dev/null
check "--write-conflist wrote the conflist given" python3 -c '
import json, sys
assert json.load(open(sys.argv[1])) == json.loads(sys.argv[2])' "$NETD/20-new.conflist" "$NEW_JSON"
rm -f "$NETD/20-new.conflist" "$T/node/bad.conflist" "$T/node/noplugins.conflist"
rm -rf "$EMPTY_BIN" "$OTHER"

# --- uninstall leaves the node as before install
# The second topocni entry (type topocni) goes in a second call, as the manifests would remove each entry.
"$TOPOCNI" uninstall --cni-bin-dir "$BIN" --names veth-to-host,underlay-service --templates-dir "$TPLD" \
  --template my-routes --conflist "$CONFLIST" --type veth-to-host >"$T/uninstall.out" 2>&1 ||
  record 0 "uninstall: $(cat "$T/uninstall.out")"
grep -q "kept $BIN/topocni" "$T/uninstall.out" &&
  record 0 "topocni was kept although no other name links to it" || true
"$TOPOCNI" uninstall --cni-bin-dir "$BIN" --names '' --conflist "$CONFLIST" --type topocni >/dev/null
# The conflist went through our JSON writer: compare it as JSON (with key order), the rest byte for byte.
check "uninstall: the conflist is as before (same plugins, keys in the same order)" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]), object_pairs_hook=list)
b = json.load(open(sys.argv[2]), object_pairs_hook=list)
assert a == b, (a, b)' "$CONFLIST" "$T/orig.conflist"
snapshot | grep -v '^./etc/cni/net.d/10-cni0.conflist ' >"$T/after"
grep -v '^./etc/cni/net.d/10-cni0.conflist ' "$T/before" >"$T/before.rest"
if diff -u "$T/before.rest" "$T/after"; then record 1 "uninstall: every other file and directory as before install (the templates dir is gone again)"; else
  record 0 "uninstall left the node different (diff above)"; fi
check "uninstall: the conflist keeps its mode (640)" [ "$(stat -c %a "$CONFLIST")" == 640 ]
out=$("$TOPOCNI" uninstall --cni-bin-dir "$BIN" --names veth-to-host --conflist "$CONFLIST" --type veth-to-host 2>&1) &&
  record 1 "uninstall again: nothing left to do, not an error" || record 0 "uninstall again failed: $out"

# A name that is not a link to topocni is not ours: uninstall keeps it, and the binary it would have served.
"$TOPOCNI" install --cni-bin-dir "$BIN" --names veth-to-host,sbr >/dev/null
rm "$BIN/sbr"
printf '#!/bin/sh\n' >"$BIN/sbr"
ln -sf topocni "$BIN/route-override"  # served by a name this uninstall is not told about
"$TOPOCNI" uninstall --cni-bin-dir "$BIN" --names veth-to-host,sbr >"$T/uninstall.out"
check "uninstall keeps a same-named file that is not a link to topocni" test -f "$BIN/sbr"
check "uninstall keeps topocni while another name links to it" grep -q "kept $BIN/topocni: still served as route-override" "$T/uninstall.out"

printf '%d passed, %d failed\n' "$PASS" "$FAIL"
((FAIL == 0))
