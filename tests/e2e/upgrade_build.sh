#!/usr/bin/env bash
# Builds the topocni plugin of an older commit, for test_upgrade.sh: upgrade_build.sh SOURCE_DIR COMMIT OUT_DIR.
# Exports the commit's tree with `git archive` (the working tree is not touched), configures the smallest,
# fastest build that gives the plugin (the `topocni` target only, -O0 -g0, shared libraries, no tests, ccache
# when present) and prints the binary's path. Exit status 3: the commit is not in the clone (a shallow clone).
# Bounded: configure and build are each killed after TOPO_UPGRADE_BUILD_SECONDS (default 1500: a cold build
# took over 900 s on a shared 2-core machine at load 8-10).
set -euo pipefail
src=$1 commit=$2 out=$3
limit=${TOPO_UPGRADE_BUILD_SECONDS:-1500}
if ! git -C "$src" cat-file -e "$commit^{commit}" 2>/dev/null; then
  echo "commit $commit is not in the clone at $src (shallow clone?)" >&2
  exit 3
fi
mkdir -p "$out/src" "$out/build"
git -C "$src" archive --format=tar "$commit" | tar -x -C "$out/src"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Paths under the export are hashed relative to it, so a second run (another temp dir) hits the cache.
  export CCACHE_BASEDIR="$out"
fi
timeout "$limit" cmake -S "$out/src" -B "$out/build" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O0 -g0" \
  -DTOPO_BUILD_TESTS=OFF -DTOPO_STATIC_DEPS=OFF "${launcher[@]}" >"$out/configure.log" 2>&1 ||
  { tail -20 "$out/configure.log" >&2; exit 1; }
timeout "$limit" nice -n 10 cmake --build "$out/build" -j"$(nproc)" --target topocni >"$out/build.log" 2>&1 ||
  { tail -30 "$out/build.log" >&2; exit 1; }
printf '%s\n' "$out/build/plugin/topocni"
