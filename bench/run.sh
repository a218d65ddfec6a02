#!/usr/bin/env bash
# One command for the whole benchmark: builds topocni and the benchmarks (Release, in build-bench/), runs
# cni_bench (pod start/stop next to Debian's ptp and the kernel's veth floor, big-node sweeps, 300 pods,
# start-up, RSS), engine_scale (10,000-route topology), template_cost (the template's share of an ADD) and
# main_plugins (the bridge and macvlan templates next to Debian's Go binaries), and writes the tables to
# stdout and to docs/performance.md (between its "begin/end results" markers).
#
#   sudo bench/run.sh [--before COMMIT] [cni_bench options, e.g. --pods 30 --scale 300 --repeat 20]
#
# --before COMMIT also builds the plugin of COMMIT (git archive into build-bench/before-SHA/, Release, the
# topocni target only; kept for the next run) and measures it beside this tree's, in the same run, on a node
# of its own: "before and after" with the same machine load.
#
# Needs root (network namespaces), Debian's containernetworking-plugins (/usr/lib/cni) and nft. Everything
# runs in throwaway namespaces named tcb<pid>-*, removed at the end, also on failure or Ctrl-C.
set -euo pipefail
ORIG_ARGS="$*"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
DOC=$ROOT/docs/performance.md

[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root" >&2; exit 2; }

BEFORE=""
ARGS=()
while [[ $# -gt 0 ]]; do
  if [[ $1 == --before ]]; then
    [[ $# -ge 2 ]] || { echo "run.sh: --before needs a commit" >&2; exit 2; }
    BEFORE=$2
    shift 2
  else
    ARGS+=("$1")
    shift
  fi
done

# ccache when there is one: the before tree is laid out like this one (its build dir inside it), so with the
# base dir set the files the two commits share compile once.
LAUNCHER=()
if command -v ccache >/dev/null; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
fi

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOPO_BUILD_TESTS=ON -DTOPO_BUILD_BENCH=ON \
  "${LAUNCHER[@]}" >/dev/null
cmake --build "$BUILD" -j2 --target topocni cni_bench engine_scale template_cost main_plugins >/dev/null

BEFORE_ARGS=()
if [[ -n $BEFORE ]]; then
  SHA=$(git -C "$ROOT" rev-parse --verify --short=12 "$BEFORE^{commit}")
  SRC=$BUILD/before-$SHA
  if [[ ! -x $SRC/build-bench/plugin/topocni ]]; then
    rm -rf "$SRC" && mkdir -p "$SRC"
    git -C "$ROOT" archive "$SHA" | tar -x -C "$SRC"
    cmake -S "$SRC" -B "$SRC/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOPO_BUILD_TESTS=OFF \
      "${LAUNCHER[@]}" >/dev/null
    cmake --build "$SRC/build-bench" -j2 --target topocni >/dev/null
  fi
  BEFORE_ARGS=(--before "$SRC/build-bench/plugin/topocni" --before-label "commit $SHA")
fi

# Second line of defence behind the programs' own cleanup: namespaces of a run that was killed hard.
cleanup() {
  local ns m
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^tcb($BENCH_PIDS)-" || true); do
    ip netns del "$ns" 2>/dev/null || true
  done
  # cni_bench's tmpfs work dir (/run/topocni-bench-<pid>-XXXXXX), when it had no time to unmount it.
  for m in $(awk '{print $2}' /proc/mounts | grep -E "^/run/topocni-bench-($BENCH_PIDS)-" || true); do
    umount -l "$m" 2>/dev/null && rmdir "$m" 2>/dev/null || true
  done
}
BENCH_PIDS="none"
trap cleanup EXIT

OUT=$(mktemp)
{
  echo "Measured $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) vCPU, kernel $(uname -r), load average at start:" \
       "$(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Command: \`sudo bench/run.sh $ORIG_ARGS\`${BEFORE:+ (this tree: $(git -C "$ROOT" rev-parse --short=12 HEAD)$(git -C "$ROOT" diff --quiet HEAD || echo ", with uncommitted changes"))}"
  echo
} >"$OUT"

"$BUILD/bench/cni_bench" --topocni "$BUILD/plugin/topocni" "${BEFORE_ARGS[@]}" "${ARGS[@]}" >>"$OUT" &
BENCH_PIDS=$!
wait $BENCH_PIDS
"$BUILD/bench/engine_scale" >>"$OUT" &
BENCH_PIDS="$BENCH_PIDS|$!"
wait $!
"$BUILD/bench/template_cost" >>"$OUT"
# 60 pods per side: a DEL back to back is the kernel's teardown more than the plugin, spread wide (p90 about
# 1.5× the p50), and with 30 samples the p50s of two sides doing the same kernel work differed by 10%.
"$BUILD/bench/main_plugins" --topocni "$BUILD/plugin/topocni" --pods 60 >>"$OUT" &
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
