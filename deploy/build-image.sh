#!/usr/bin/env bash
# Builds the installer image (deploy/Containerfile) from a build tree, offline.
#
#   deploy/build-image.sh [--tag NAME] [--build-dir DIR] [-- extra buildah/podman build options]
#
# Assembles the build context (topocni, topoctl, templates/) in a temp dir, then runs `buildah build`
# (or `podman build` when buildah is missing). The binaries must be fully static: the image is FROM scratch.
# Environment: TOPOCNI and TOPOCTL override the binaries' paths (as the tests set them); ALLOW_DYNAMIC=1 builds
# with dynamic binaries anyway (only to test the Containerfile: such an image cannot run them).
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TAG="localhost/topocni:latest"
BUILD_DIR="$SRC/build"
while (($#)); do
  case $1 in
    --tag) TAG=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--tag NAME] [--build-dir DIR] [-- build options]" >&2; exit 2 ;;
  esac
done
TOPOCNI=${TOPOCNI:-$BUILD_DIR/plugin/topocni}
TOPOCTL=${TOPOCTL:-$BUILD_DIR/cli/topoctl}

for bin in "$TOPOCNI" "$TOPOCTL"; do
  [[ -x "$bin" ]] || { echo "build-image: $bin is not an executable (build topocni and topoctl first)" >&2; exit 1; }
  if readelf -lW "$bin" | grep -q INTERP; then
    echo "build-image: $bin is dynamically linked ($(readelf -lW "$bin" | sed -nE 's/.*interpreter: ([^]]+)].*/\1/p')):" \
         "an image FROM scratch cannot run it; build the static binaries" >&2
    # The image test still builds it (the Containerfile is under test too), and reports the binary apart.
    [[ "${ALLOW_DYNAMIC:-0}" == 1 ]] || exit 1
  fi
done

CONTEXT=$(mktemp -d)
trap 'rm -rf -- "$CONTEXT"' EXIT
mkdir "$CONTEXT/templates"
cp "$TOPOCNI" "$CONTEXT/topocni"
cp "$TOPOCTL" "$CONTEXT/topoctl"
cp "$SRC"/specs/*.yaml "$CONTEXT/templates/"

if command -v buildah >/dev/null; then
  buildah build --pull=never -f "$SRC/deploy/Containerfile" -t "$TAG" "$@" "$CONTEXT"
else
  podman build --pull=never -f "$SRC/deploy/Containerfile" -t "$TAG" "$@" "$CONTEXT"
fi
