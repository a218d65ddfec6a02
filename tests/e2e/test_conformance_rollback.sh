#!/usr/bin/env bash
# A failed ADD leaves nothing behind, whichever step fails: TOPOCNI_TEST_FAIL_AT=N makes the N-th kernel change
# of the ADD fail; for every N until ADD succeeds, the node and the pod must be exactly as before and no journal
# may remain. Then a real refusal late in the ADD (a route whose gateway the kernel calls unreachable).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=conformance_helpers.sh
source "$HERE/conformance_helpers.sh"

conformance_up
first_plugin_add p1
POD=$(pod_ns p1)
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
snapshot "$POD" >"$LAB_TMP/pod.before"
CONFIG=$(topo_config p1)

steps=0
for ((n = 1; n <= 60; n++)); do
  if out=$(topo_call p1 ADD "$CONFIG" TOPOCNI_TEST_FAIL_AT=$n); then
    steps=$((n - 1))
    break
  fi
  code=$(json_get "$out" 'j["code"]')
  msg=$(json_get "$out" 'j["msg"]')
  [[ "$code" == 102 && "$msg" == *"injected failure"* ]]; ok=$?
  snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
  snapshot "$POD" >"$LAB_TMP/pod.after"
  if ((ok == 0)) && diff -u "$LAB_TMP/node.before" "$LAB_TMP/node.after" >&2 &&
    diff -u "$LAB_TMP/pod.before" "$LAB_TMP/pod.after" >&2 && [[ -z "$(ls -A "$STATE_DIR/cni0" 2>/dev/null)" ]]; then
    record 1 "ADD failing at step $n: error 102 ($msg), node and pod unchanged, no journal"
  else
    record 0 "ADD failing at step $n: code $code ($out), or something was left behind"
  fi
done
if ((steps >= 8)); then record 1 "ADD has $steps steps, each one's failure tested"; else
  record 0 "ADD succeeded after $steps step(s): expected the full veth-to-host plan (>= 8)"; fi

# CHECK needs cniVersion 0.4.0+; the lab's conflist says 0.3.1.
expect_ok "CHECK after the successful ADD" topo_call p1 CHECK "$(json_get "$CONFIG" 'json.dumps(dict(j, cniVersion="1.0.0"))')"
expect_ok "DEL" topo_call p1 DEL "$CONFIG"
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
snapshot "$POD" >"$LAB_TMP/pod.after"
expect_same "node as before after DEL" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
expect_same "pod as before after DEL" "$LAB_TMP/pod.before" "$LAB_TMP/pod.after"

# A real refusal after the veth, sysctls and most routes exist: the template adds a host route through a
# gateway no interface reaches; the kernel answers ENETUNREACH.
mkdir -p "$LAB_TMP/templates"
python3 - "$TOPO_SOURCE_DIR/specs/veth-to-host.yaml" "$LAB_TMP/templates/refused-route.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
text = text.replace("name: veth-to-host", "name: refused-route", 1)
marker = "\n  rules:\n"
extra = "    - dst: 198.51.100.0/24\n      via: 203.0.113.1\n"
i = text.index(marker)
open(sys.argv[2], "w").write(text[:i] + "\n" + extra + text[i:])
PY
REFUSED=$(json_get "$CONFIG" 'json.dumps(dict(j, template="refused-route"))')
out=$(topo_call p1 ADD "$REFUSED" TOPOCNI_TEMPLATE_PATH="$LAB_TMP/templates") && rc=0 || rc=$?
code=$(json_get "$out" 'j["code"]')
msg=$(json_get "$out" 'j["msg"]')
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
snapshot "$POD" >"$LAB_TMP/pod.after"
if ((rc != 0)) && [[ "$code" == 102 && "$msg" == *198.51.100.0/24* ]]; then
  record 1 "a route the kernel refuses: error 102 naming it ($msg)"
else
  record 0 "a route the kernel refuses: rc $rc, output $out"
fi
expect_same "refused ADD left the node as before" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
expect_same "refused ADD left the pod as before" "$LAB_TMP/pod.before" "$LAB_TMP/pod.after"
summary
