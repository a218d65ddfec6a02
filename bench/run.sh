#!/usr/bin/env bash
# One command for the whole benchmark: builds topocni and the benchmarks (Release, in build-bench/), runs
# cni_bench (pod start/stop next to Debian's ptp and the kernel's veth floor, big-node sweeps, 300 pods,
# start-up, RSS) and engine_scale (10,000-route topology), and writes the tables to stdout and to
# docs/performance.md (between its "begin/end results" markers).
#
#   sudo bench/run.sh [cni_bench options, e.g. --pods 30 --scale 300 --repeat 20]
#
# Needs root (network namespaces), Debian's containernetworking-plugins (/usr/lib/cni) and nft. Everything
# runs in throwaway namespaces named tcb<pid>-*, removed at the end, also on failure or Ctrl-C.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
DOC=$ROOT/docs/performance.md

[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root" >&2; exit 2; }

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOPO_BUILD_TESTS=ON -DTOPO_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j2 --target topocni cni_bench engine_scale >/dev/null

# Second line of defence behind the programs' own cleanup: namespaces of a run that was killed hard.
cleanup() {
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^tcb($BENCH_PIDS)-" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
}
BENCH_PIDS="none"
trap cleanup EXIT

OUT=$(mktemp)
{
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) vCPU, kernel $(uname -r), load average at start:" \
       "$(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Command: \`sudo bench/run.sh $*\`"
  echo
} >"$OUT"

"$BUILD/bench/cni_bench" --topocni "$BUILD/plugin/topocni" "$@" >>"$OUT" &
BENCH_PIDS=$!
wait $BENCH_PIDS
"$BUILD/bench/engine_scale" >>"$OUT" &
BENCH_PIDS="$BENCH_PIDS|$!"
wait $!

cat "$OUT"
if [[ -f "$DOC" ]] && grep -q '<!-- begin results -->' "$DOC"; then
  # Replace what is between the markers, keep the prose around them.
  awk -v results="$OUT" '
    /<!-- begin results -->/ { print; while ((getline line < results) > 0) print line; skip = 1; next }
    /<!-- end results -->/ { skip = 0 }
    !skip' "$DOC" >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
else
  { echo "# Performance"; echo; echo "<!-- begin results -->"; cat "$OUT"; echo "<!-- end results -->"; } >"$DOC"
fi
rm -f "$OUT"
