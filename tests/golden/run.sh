#!/usr/bin/env bash
# Golden tests of topoctl's author-facing output: render (YAML and JSON, from a template and from a CNI config),
# validate (good and deliberately broken templates) and plan (text and JSON; plan reads the kernel, so it runs
# in a throwaway pair of network namespaces created here and removed on exit, also on failure).
#
# Each case's stdout, then its stderr (after "[stderr]") and its exit status ("[exit N]") must equal
# expected/CASE. UPDATE_GOLDEN=1 rewrites the expected files instead of comparing.
#
# Usage: run.sh [path/to/topoctl]   (default: $TOPOCTL)
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOPOCTL=$(readlink -f "${1:-${TOPOCTL:?give the topoctl binary as the first argument or in TOPOCTL}}")
cd "$HERE"

TMP=$(mktemp -d /tmp/topoctl-golden.XXXXXX)
NS_HOST="tgold$$-host"
NS_POD="tgold$$-pod"
NAMESPACES=()
cleanup() {
  local ns
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf -- "$TMP"
}
trap cleanup EXIT

# Nothing may leak in from the machine: no journals, no user templates but ours, no color.
export TOPOCNI_STATE_DIR="$TMP/state"
export TOPOCNI_TEMPLATE_PATH=templates  # relative (we run in this directory), so outputs name it the same everywhere
export NO_COLOR=1

PASS=0
FAIL=0
run_case() {
  local name=$1; shift
  local actual="$TMP/$name" rc
  "$@" >"$actual.out" 2>"$actual.err"
  rc=$?
  {
    cat "$actual.out"
    if [[ -s "$actual.err" ]]; then
      echo "[stderr]"
      cat "$actual.err"
    fi
    echo "[exit $rc]"
  } >"$actual"
  if [[ "${UPDATE_GOLDEN:-0}" == 1 ]]; then
    cp "$actual" "expected/$name"
    echo "UPDATED $name"
  elif diff -u "expected/$name" "$actual"; then
    PASS=$((PASS + 1))
    echo "PASS  $name"
  else
    FAIL=$((FAIL + 1))
    echo "FAIL  $name"
  fi
}

FACTS=(--fact up0.addresses=10.10.20.1/24,fd00:10:20::1/64 --offline)
LAB=(-t templates/lab-pair.yaml --name golden --set uplink=up0 --set v6=true --prev-result inputs/prev-result.json)

echo "== render"
run_case render_template.yaml "$TOPOCTL" render "${LAB[@]}" "${FACTS[@]}" --set-alloc table=20042
run_case render_template.json "$TOPOCTL" render "${LAB[@]}" "${FACTS[@]}" --set-alloc table=20042 --json
run_case render_defaults.yaml "$TOPOCTL" render -t lab-pair --set uplink=up0 "${FACTS[@]}"
run_case render_config.yaml "$TOPOCTL" render --config inputs/lab-ok.conflist --container-id golden \
  --prev-result inputs/prev-result.json "${FACTS[@]}"
run_case render_host_policy.yaml "$TOPOCTL" render -t templates/host-policy.yaml --set uplink=up0 \
  --set gateway=10.10.20.254 --set-alloc table=30001 --offline
run_case render_config_error "$TOPOCTL" render --config inputs/lab.conflist --container-id golden \
  --prev-result inputs/prev-result.json "${FACTS[@]}"
run_case render_set_error "$TOPOCTL" render "${LAB[@]}" "${FACTS[@]}" --set rulePriority=0
run_case render_missing_fact "$TOPOCTL" render "${LAB[@]}" --offline
# The route-lookup facts given by hand; off by default, the template renders nothing and says so.
GATE=(-t templates/egress-gate.yaml --offline --fact default.ipv4=up0 --fact toward.10.200.0.0/16=10.10.20.1)
run_case render_nothing.yaml "$TOPOCTL" render "${GATE[@]}"
run_case render_route_facts.yaml "$TOPOCTL" render "${GATE[@]}" --set enabled=true
run_case render_missing_route_fact "$TOPOCTL" render -t templates/egress-gate.yaml --offline
run_case render_bad_fact "$TOPOCTL" render "${GATE[@]}" --fact toward.10.200.0.1=fd00::1

# The rendered YAML is itself a (static) template: it must load and validate.
"$TOPOCTL" render "${LAB[@]}" "${FACTS[@]}" --set-alloc table=20042 >"$TMP/lab-rendered.yaml"
run_case render_roundtrip bash -c 'cd "$1" && "$2" validate lab-rendered.yaml' _ "$TMP" "$TOPOCTL"

echo "== validate"
run_case validate_all "$TOPOCTL" validate templates/*.yaml
run_case validate_good "$TOPOCTL" validate templates/lab-pair.yaml templates/host-policy.yaml
run_case validate.json "$TOPOCTL" validate --json templates/bad-key.yaml templates/lab-pair.yaml

echo "== plan"
if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null; then
  echo "SKIP  plan cases: they need root and ip(8) for throwaway namespaces"
else
  # The node: an uplink with an address (a veth pair born inside the namespace; no dummy on this kernel).
  ip netns add "$NS_HOST" && NAMESPACES+=("$NS_HOST")
  ip netns add "$NS_POD" && NAMESPACES+=("$NS_POD")
  ip -n "$NS_HOST" link set lo up
  ip -n "$NS_HOST" link add up0 type veth peer name up0-peer
  ip -n "$NS_HOST" addr add 10.10.20.1/24 dev up0
  ip -n "$NS_HOST" link set up0 up
  in_host() { ip netns exec "$NS_HOST" "$@"; }
  POD=(--netns "/var/run/netns/$NS_POD")
  run_case plan_topology.txt in_host "$TOPOCTL" plan -f templates/lab-pair.yaml --name golden "${POD[@]}" \
    --set uplink=up0 --set v6=true --prev-result inputs/prev-result.json
  run_case plan_topology.json in_host "$TOPOCTL" plan -f templates/lab-pair.yaml --name golden "${POD[@]}" \
    --set uplink=up0 --set v6=true --prev-result inputs/prev-result.json --json
  run_case plan_config.txt in_host "$TOPOCTL" plan --config inputs/lab-ok.conflist --container-id golden \
    "${POD[@]}" --prev-result inputs/prev-result.json
  run_case plan_config.json in_host "$TOPOCTL" plan --config inputs/lab-ok.conflist --container-id golden \
    "${POD[@]}" --prev-result inputs/prev-result.json --json
  run_case plan_host_policy.txt in_host "$TOPOCTL" plan -f templates/host-policy.yaml --name golden \
    --set uplink=up0 --set gateway=10.10.20.254
  run_case plan_container_without_netns in_host "$TOPOCTL" plan -f templates/lab-pair.yaml --name golden \
    --set uplink=up0
  run_case plan_nothing.txt in_host "$TOPOCTL" plan -f templates/egress-gate.yaml --name golden
fi

if [[ "${UPDATE_GOLDEN:-0}" == 1 ]]; then exit 0; fi
echo "$PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
