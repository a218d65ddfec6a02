#!/usr/bin/env bash
# End-to-end test of topologies outside CNI: `topoctl apply -f`, `show [--verify]`, `plan -f` and `destroy`,
# in a throwaway "node" namespace (where topoctl runs, the host scope) and a "lab" namespace (the container
# scope), both removed on exit, also on failure. Checks: apply then destroy returns both namespaces to their
# exact initial state; a second apply plans nothing; --verify sees an object deleted by hand and a re-apply puts
# it back; a changed value is planned as a change; a host-only topology works without --netns; an apply the
# kernel refuses halfway leaves nothing behind and no journal.
#
# Environment (ctest sets it): TOPOCTL, the topoctl binary; TOPO_SOURCE_DIR, the source tree.
# Exit status is non-zero when any check fails; the last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${TOPO_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
TOPOCTL=$(readlink -f "${TOPOCTL:?set TOPOCTL to the topoctl binary}")
TEMPLATES="$SRC/tests/golden/templates"

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (creates network namespaces)"; exit 0; }

PREFIX="ttc$$-"
NODE="${PREFIX}node"
LAB="${PREFIX}lab"
TMP=$(mktemp -d "/tmp/${PREFIX}XXXXXX")
NAMESPACES=()
cleanup() {
  local rc=$? ns
  set +e
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf -- "$TMP"
  return "$rc"
}
trap cleanup EXIT

export TOPOCNI_STATE_DIR="$TMP/state"
export TOPOCNI_TEMPLATE_PATH="$TMP/no-templates"
export NO_COLOR=1

PASS=0
FAIL=0
record() {
  local ok=$1; shift
  if [[ $ok == 1 ]]; then PASS=$((PASS + 1)); echo "PASS  $*"; else FAIL=$((FAIL + 1)); echo "FAIL  $*"; fi
}
# check LABEL COMMAND...: PASS when the command succeeds; its output is shown on failure.
check() {
  local label=$1; shift
  local out
  if out=$("$@" 2>&1); then record 1 "$label"; else record 0 "$label"; printf '%s\n' "$out" | sed 's/^/    | /'; fi
}

# expect_line LABEL REGEX COMMAND...: PASS when the command succeeds and a whole line of its output matches.
expect_line() {
  local label=$1 regex=$2; shift 2
  local out
  if out=$("$@" 2>&1) && grep -qxE -- "$regex" <<<"$out"; then
    record 1 "$label"
  else
    record 0 "$label"
    printf '%s\n' "$out" | sed 's/^/    | /'
  fi
}
# expect_status LABEL STATUS COMMAND...: PASS when the command exits with STATUS.
expect_status() {
  local label=$1 want=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -eq $want ]]; then record 1 "$label"; else record 0 "$label (exit $rc)"; printf '%s\n' "$out" | sed 's/^/    | /'; fi
}
no_journals() { [[ -z $(find "$TOPOCNI_STATE_DIR" -name '*.json' 2>/dev/null) ]]; }

ctl() { ip netns exec "$NODE" "$TOPOCTL" "$@"; }

snapshot() {
  local ns=$1
  ip -n "$ns" -d link show | sed -E 's/ (qlen|gso_max_[a-z]+|gro_max_[a-z]+|tso_max_[a-z]+) [0-9]+//g'
  ip -n "$ns" addr show | sed -E 's/ valid_lft [^ ]+ preferred_lft [^ ]+//; /^ +valid_lft/d'
  ip -n "$ns" route show table all
  ip -n "$ns" -6 route show table all
  ip -n "$ns" rule show
  ip -n "$ns" -6 rule show
  ip netns exec "$ns" nft list ruleset
  ip netns exec "$ns" sysctl -a 2>/dev/null | grep -E '^net\.ipv4\.conf\.(all|default|up0|lo)\.' || true
}

ip netns add "$NODE" && NAMESPACES+=("$NODE")
ip netns add "$LAB" && NAMESPACES+=("$LAB")
ip -n "$NODE" link set lo up
ip -n "$LAB" link set lo up
ip -n "$NODE" link add up0 type veth peer name up0-peer
ip -n "$NODE" addr add 10.10.20.1/24 dev up0
ip -n "$NODE" link set up0 up
ip -n "$NODE" link set up0-peer up
# DAD keeps link-local addresses tentative for a moment; wait so snapshots do not differ by timing.
for _ in $(seq 50); do [[ -z "$(ip -n "$NODE" -6 addr show tentative)" ]] && break; sleep 0.1; done

snapshot "$NODE" >"$TMP/node.before"
snapshot "$LAB" >"$TMP/lab.before"

LABARGS=(-f "$TEMPLATES/lab-pair.yaml" --name lab1 --netns "/var/run/netns/$LAB" --set uplink=up0 --set v6=true)

echo "== apply, re-apply, plan"
expect_line "apply creates the topology" 'Applied: 12 added, 0 changed, 0 destroyed\.' ctl apply "${LABARGS[@]}"
expect_line "the lab end has its address" '.*inet 10\.77\.0\.2/24 .*lab0' ip -n "$LAB" addr show lab0
expect_line "a second apply changes nothing" 'No changes\.' ctl apply "${LABARGS[@]}"
expect_line "plan -f agrees" 'No changes\.' ctl plan "${LABARGS[@]}"
# The topology's table is reserved node-wide like a pod's, so no later pod or topology takes it.
reservations() { { grep -rl "$1" "$TOPOCNI_STATE_DIR/.tables" 2>/dev/null || true; } | wc -l; }
expect_line "its table is reserved for it" '1' reservations "topoctl/lab1/-"

echo "== show"
expect_line "show lists the topology" "topoctl +lab1 +- +lab-pair +/var/run/netns/$LAB +2 links, .*" ctl show
expect_status "show --verify: everything ok" 0 ctl show --verify
expect_line "show --json names it" ' *"containerId": "lab1",' ctl show --json
ip -n "$LAB" route del default || true
expect_status "show --verify sees a route deleted by hand" 2 ctl show --verify
verify_output() { ctl show --verify || true; }
expect_line "show --verify names it missing" ' +missing +container: route default via 10\.77\.0\.1 dev lab0' verify_output
expect_line "re-apply puts it back" 'Applied: 1 added, 0 changed, 0 destroyed\.' ctl apply "${LABARGS[@]}"
expect_status "show --verify: ok again" 0 ctl show --verify

echo "== change"
expect_line "a new rule priority replaces the rule" 'Applied: 1 added, 0 changed, 1 destroyed\.' \
  ctl apply "${LABARGS[@]}" --set rulePriority=2500
expect_line "the kernel has the new rule" '2500:.*from 10\.77\.0\.0/24 lookup [0-9]+ proto 157' ip -n "$NODE" rule show

echo "== host-only topology"
HOSTARGS=(-f "$TEMPLATES/host-policy.yaml" --name policy --set uplink=up0 --set gateway=10.10.20.254)
expect_line "apply without --netns" 'Applied: 4 added, 0 changed, 0 destroyed\.' ctl apply "${HOSTARGS[@]}"
expect_line "show lists it without a netns" 'topoctl +policy +- +host-policy +- +2 routes, 2 rules' ctl show
expect_line "destroy the host-only topology" 'Destroyed: 4 removed, 0 restored\.' ctl destroy --name policy

echo "== destroy"
expect_line "destroy removes the topology" 'Destroyed: 10 removed, 0 restored\.' ctl destroy --name lab1
expect_status "destroy again is an error" 1 ctl destroy --name lab1
expect_line "destroy released its table" '0' reservations "topoctl/lab1/-"
expect_status "no journal is left" 0 no_journals
snapshot "$NODE" >"$TMP/node.after"
snapshot "$LAB" >"$TMP/lab.after"
expect_status "node namespace as before" 0 diff -u "$TMP/node.before" "$TMP/node.after"
expect_status "lab namespace as before" 0 diff -u "$TMP/lab.before" "$TMP/lab.after"

echo "== a refused apply is rolled back"
# The gateway is not on-link: the kernel refuses that route after the blackhole route before it was made.
refused_apply() {
  ! ctl apply -f "$TEMPLATES/host-policy.yaml" --name broken --set uplink=up0 --set gateway=192.0.2.99
}
expect_line "apply fails: the kernel refuses the route" 'topoctl: .*192\.0\.2\.99.*' refused_apply
snapshot "$NODE" >"$TMP/node.refused"
expect_status "nothing is left behind" 0 diff -u "$TMP/node.before" "$TMP/node.refused"
expect_status "no journal for it" 0 no_journals

echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
