#!/usr/bin/env bash
# Runtimes start pods in parallel: 20 concurrent chains (macvlan + host-local, then topocni) on one node must
# all succeed, get distinct policy tables and working pods; 20 concurrent DELs must all succeed and leave the
# node exactly as before.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=conformance_helpers.sh
source "$HERE/conformance_helpers.sh"

PODS=20
# 20 pods need more than the reference range (.50-.60) host-local hands out on node1.
NODE_RANGE_START[$NS_NODE1]=10.10.20.100
NODE_RANGE_END[$NS_NODE1]=10.10.20.140

conformance_up
conflist_write "$NS_NODE1" >/dev/null
snapshot "$NS_NODE1" >"$LAB_TMP/node.before"
for ((i = 1; i <= PODS; i++)); do
  ns_create "$(pod_ns "c$i")"
  POD_NODE[c$i]=$NS_NODE1
  POD_ID[c$i]="conc-$i"
done

# One pod's whole chain, as a runtime runs it; exit status 0 when every plugin succeeded.
chain() {
  local command=$1 name=$2 conflist out prev="" i order
  conflist=$(conflist_path "$NS_NODE1")
  if [[ $command == ADD ]]; then order="0 1"; else order="1 0"; fi
  for i in $order; do
    out=$(cni_invoke "$NS_NODE1" "$command" "${POD_ID[$name]}" "$(pod_ns "$name")" \
      "$(plugin_config "$conflist" "$i" "$prev")") || { printf '%s\n' "$out" >&2; return 1; }
    if [[ $command == ADD ]]; then
      prev="$LAB_TMP/$name.result.$i.json"
      printf '%s\n' "$out" >"$prev"
    fi
  done
}

run_parallel() {
  local command=$1 i ok=0 start end
  local -a pids=()
  start=$(date +%s.%N)
  for ((i = 1; i <= PODS; i++)); do
    chain "$command" "c$i" 2>"$LAB_TMP/c$i.$command.err" &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then ok=$((ok + 1)); else cat "$LAB_TMP/c$((i + 1)).$command.err" >&2; fi
  done
  end=$(date +%s.%N)
  if ((ok == PODS)); then
    record 1 "$PODS concurrent ${command}s all succeeded ($(printf '%.1f' "$(echo "$end - $start" | bc)") s)"
  else
    record 0 "$PODS concurrent ${command}s: only $ok succeeded"
  fi
}

run_parallel ADD

tables=$(python3 - "$STATE_DIR/cni0" <<'PY'
import json, os, sys
d = sys.argv[1]
print(" ".join(str(json.load(open(os.path.join(d, f)))["allocations"]["table"]) for f in sorted(os.listdir(d)) if f.endswith(".json")))
PY
)
distinct=$(tr ' ' '\n' <<<"$tables" | sort -u | grep -c . || true)
rules=$(ip -n "$NS_NODE1" rule show | grep -c 'iif veth.* lookup' || true)
rule_tables=$(ip -n "$NS_NODE1" rule show | grep 'iif veth' | grep -o 'lookup [0-9]*' | sort -u | grep -c . || true)
if [[ $distinct == "$PODS" && $rules == "$PODS" && $rule_tables == "$PODS" ]]; then
  record 1 "$PODS journals, $PODS rules, $PODS distinct policy tables"
else
  record 0 "distinct tables: journals $distinct, rules $rules, rule tables $rule_tables (want $PODS each)"
fi

server_start "$NS_NODE1"
for ((i = 1; i <= PODS; i++)); do
  ip_addr=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ips"][0]["address"].split("/")[0])' \
    "$LAB_TMP/c$i.result.1.json")
  expect_reach "$(pod_ns "c$i")" "$NODE1_IP" "$SERVER_PORT" "$ip_addr" "pod c$i reaches its node"
done
# The server stays up; it holds no state of ours.

run_parallel DEL
snapshot "$NS_NODE1" >"$LAB_TMP/node.after"
expect_same "node exactly as before after $PODS concurrent DELs" "$LAB_TMP/node.before" "$LAB_TMP/node.after"
# The network's directory goes with its last attachment (journal and lock file alike).
left=$(find "$STATE_DIR" -mindepth 1 2>/dev/null | grep -v '/\.' | wc -l || true)
if [[ $left == 0 && ! -e "$STATE_DIR/cni0" ]]; then record 1 "no journal, lock or network directory left"; else
  record 0 "$left file(s) left in $STATE_DIR: $(find "$STATE_DIR" -mindepth 1 | head -5 | tr '\n' ' ')"; fi
summary
