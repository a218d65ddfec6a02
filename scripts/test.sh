#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit, kernel (throwaway network namespaces) and
# end-to-end (real CNI plugins chained with topocni). Needs root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: the kernel and end-to-end tests create network namespaces" >&2; exit 1; }
scripts/lib/install-deps.sh
scripts/lib/build.sh
cd build
ctest --output-on-failure --timeout 600
