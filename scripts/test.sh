#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit, kernel (throwaway network namespaces) and
# end-to-end (real CNI plugins chained with topocni); then the unit and kernel tests again under ASan+UBSan
# (build-asan), and each libFuzzer target for a bounded time (build-fuzz, clang). Needs root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: the kernel and end-to-end tests create network namespaces" >&2; exit 1; }
scripts/lib/install-deps.sh
scripts/lib/build.sh
failed=()
# In parallel: every test has namespaces, temp and state dirs of its own (the few that share a machine-wide
# resource take turns: tests/CMakeLists.txt RESOURCE_LOCK). Most wait on the kernel and on sleeps, not the CPU.
ctest --test-dir build -j"$(nproc)" --output-on-failure --timeout 600 || failed+=("tests")

echo "== unit and kernel tests under AddressSanitizer + UndefinedBehaviorSanitizer"
# -g1: line tables are all a sanitizer's stack trace needs, and the build is the slow part of this pass.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DTOPO_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)" --target topo_unit_tests topo_kernel_tests
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan -j"$(nproc)" --output-on-failure -R '^(unit|kernel)$' || failed+=("sanitizers")

echo "== fuzzing (each target for a bounded time)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DTOPO_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_cni_config fuzz_template fuzz_journal
ctest --test-dir build-fuzz -j"$(nproc)" --output-on-failure -R '^fuzz_' || failed+=("fuzz")

if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all tests passed"
