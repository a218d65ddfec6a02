#!/usr/bin/env bash
# The installer image (deploy/Containerfile), built offline FROM scratch with buildah (deploy/build-image.sh),
# and its entry point run by podman with a temp host directory mounted as the CNI bin dir, as the DaemonSet
# mounts the node's /opt/cni/bin:
#   - the image holds exactly the static binaries and the built-in templates;
#   - `topocni install --cni-bin-dir DIR --names veth-to-host,underlay-service` puts the plugin there under
#     each name, byte for byte the binary built, and each answers VERSION on the host;
#   - with --sleep it keeps running until SIGTERM, then stops at once (no 10 s kill);
#   - `topocni uninstall` with the same names removes them.
#
# This test depends on two pieces of work outside it: fully static binaries (a scratch image has no libc
# or loader) and the installer built into the plugin (`topocni install`/`uninstall`, the contract
# docs/deploy.md describes). Until both exist it FAILS (it does not skip) and says which is missing.
#
# Podman and buildah use a private configuration and storage under a temp dir (nothing in the machine's
# /var/lib/containers); the container has no network (--network none) and runs from a throwaway network
# namespace. Skips (exit 0, "SKIP: reason") only without root, buildah or podman, or when this machine cannot
# run a container at all.
#
# Environment (ctest sets them): TOPOCNI, TOPOCTL, TOPO_SOURCE_DIR. The last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${TOPO_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
TOPOCNI=$(readlink -f "${TOPOCNI:?set TOPOCNI to the topocni binary}")
TOPOCTL=$(readlink -f "${TOPOCTL:?set TOPOCTL to the topoctl binary}")
IMAGE="localhost/topocni-e2e:test"
NAMES="veth-to-host,underlay-service"
START=$SECONDS

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (podman with runc and cgroupfs)"; exit 0; }
for tool in buildah podman runc conmon nsenter readelf; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/lib/install-deps.sh installs it)"; exit 0; }
done

TMP=$(mktemp -d /tmp/topo-image-XXXXXX)
NS="topoimg$$"
cleanup() {
  local rc=$? m
  set +e
  pm rm -a -f -t 0 >/dev/null 2>&1
  for m in $(findmnt -rn -o TARGET | grep -F "$TMP/" | sort -r); do umount -l "$m"; done
  ip netns del "$NS" 2>/dev/null
  rm -rf -- "$TMP"
  return "$rc"
}
trap cleanup EXIT
ip netns add "$NS"

# Private podman/buildah world (same settings as podman_lib.sh; no CNI network is ever used here).
mkdir -p "$TMP/tmp" "$TMP/hostbin"
cat >"$TMP/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
no_hosts = true
[network]
network_backend = "cni"
network_config_dir = "$TMP/net.d"
default_network = "none-here"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$TMP/events.log"
tmp_dir = "$TMP/tmp"
EOF
cat >"$TMP/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$TMP/runroot"
graphroot = "$TMP/root"
EOF
: >"$TMP/registries.conf"
export CONTAINERS_CONF="$TMP/containers.conf" CONTAINERS_STORAGE_CONF="$TMP/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$TMP/registries.conf"
pm() { timeout -k 5 120 nsenter --net="/run/netns/$NS" podman "$@"; }

PASS=0
FAIL=0
record() {
  if [[ $1 == 1 ]]; then PASS=$((PASS + 1)); echo "PASS  $2"; else FAIL=$((FAIL + 1)); echo "FAIL  $2"; fi
}
finish() {
  echo "[image] took $((SECONDS - START)) s" >&2
  printf '%d passed, %d failed\n' "$PASS" "$FAIL"
  [[ $FAIL -eq 0 ]]
  exit
}

echo "== prerequisites of a FROM scratch image"
# Can this machine run a container at all? An empty image with busybox-static alone, no network.
if command -v busybox >/dev/null && ! readelf -lW "$(readlink -f "$(command -v busybox)")" | grep -q INTERP; then
  mkdir -p "$TMP/probe/bin"
  cp "$(readlink -f "$(command -v busybox)")" "$TMP/probe/bin/busybox"
  tar -C "$TMP/probe" -cf "$TMP/probe.tar" .
  if ! out=$(pm import -q "$TMP/probe.tar" localhost/probe:1 2>&1 && pm run --rm --network none localhost/probe:1 /bin/busybox true 2>&1); then
    echo "SKIP: podman cannot run a container here: $(tail -3 <<<"$out" | tr '\n' ' ')"
    exit 0
  fi
fi

static=1
for bin in "$TOPOCNI" "$TOPOCTL"; do
  if readelf -lW "$bin" | grep -q INTERP; then
    static=0
    record 0 "$(basename "$bin") is not static: it needs the loader $(readelf -lW "$bin" | sed -nE 's/.*interpreter: ([^]]+)].*/\1/p') and $(readelf -dW "$bin" | sed -nE 's/.*Shared library: \[([^]]+)\].*/\1/p' | tr '\n' ' ')- an image FROM scratch cannot run it (the static build is another engineer's work)"
  else
    record 1 "$(basename "$bin") is static (no program interpreter)"
  fi
done

# The installer, on the host first (a dynamic binary runs here): does the binary have `install` at all?
mkdir -p "$TMP/probe-bin"
if out=$(timeout 20 env -i PATH=/usr/bin:/bin "$TOPOCNI" install --cni-bin-dir "$TMP/probe-bin" --names veth-to-host 2>&1) &&
  [[ -x "$TMP/probe-bin/veth-to-host" ]]; then
  record 1 "topocni install works on the host"
else
  record 0 "topocni rejects 'install' (the installer is another engineer's work; contract in docs/deploy.md): $(head -c 300 <<<"$out" | tr '\n' ' ')"
fi

echo "== build (offline, FROM scratch)"
if out=$(cd "$SRC" && ALLOW_DYNAMIC=1 TOPOCNI="$TOPOCNI" TOPOCTL="$TOPOCTL" timeout 240 deploy/build-image.sh --tag "$IMAGE" -- --pull=never 2>&1); then
  record 1 "deploy/build-image.sh built $IMAGE"
else
  sed 's/^/    | /' <<<"$out" | tail -20
  record 0 "deploy/build-image.sh failed"
  finish
fi
# What the image holds: exactly the two binaries and the templates (podman export of a created container).
pm create --name contents "$IMAGE" >/dev/null
got=$(pm export contents | tar -t | grep -v '/$' | sed 's#^\./##' | sort | tr '\n' ' ')
want=$(cd "$SRC/specs" && ls *.yaml | sed 's#^#usr/share/topocni/templates/#' | { cat; printf 'usr/bin/topocni\nusr/bin/topoctl\n'; } | sort | tr '\n' ' ')
pm rm contents >/dev/null
if [[ "$got" == "$want" ]]; then record 1 "the image holds exactly: $got"; else record 0 "the image holds '$got', expected '$want'"; fi
entry=$(pm image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE")
if [[ "$entry" == '["/usr/bin/topocni","install"]' ]]; then record 1 "entry point $entry"; else record 0 "entry point $entry"; fi

echo "== the entry point, with a host directory as the CNI bin dir"
if ((!static)); then
  record 0 "not run: the binaries are not static, so the scratch image cannot start them (see above)"
  finish
fi
if out=$(pm run --rm --network none -v "$TMP/hostbin:/host/opt/cni/bin" "$IMAGE" \
  --cni-bin-dir /host/opt/cni/bin --names "$NAMES" 2>&1); then
  record 1 "the entry point ran (install --cni-bin-dir /host/opt/cni/bin --names $NAMES)"
else
  record 0 "the entry point failed: $(tail -3 <<<"$out" | tr '\n' ' ')"
fi
for name in topocni ${NAMES//,/ }; do
  f="$TMP/hostbin/$name"
  if [[ -f "$f" && -x "$f" ]] && cmp -s "$f" "$TOPOCNI"; then
    record 1 "$name landed in the host dir, byte for byte the built plugin"
  else
    record 0 "$name is not in the host dir as the built plugin ($(ls -l "$f" 2>&1))"
    continue
  fi
  ver=$(printf '{"cniVersion":"1.0.0"}' | timeout 10 env -i CNI_COMMAND=VERSION "$f" 2>&1) || true
  if python3 -c 'import json,sys; assert "1.0.0" in json.loads(sys.argv[1])["supportedVersions"]' "$ver" 2>/dev/null; then
    record 1 "$name answers VERSION on the host"
  else
    record 0 "$name does not answer VERSION: $ver"
  fi
done
leftover=$(cd "$TMP/hostbin" && ls -A | grep -vxE "topocni|${NAMES//,/|}" | tr '\n' ' ' || true)
if [[ -z "$leftover" ]]; then record 1 "nothing else in the host dir (no temp files)"; else record 0 "also in the host dir: $leftover"; fi

echo "== --sleep: runs until SIGTERM"
rm -rf "${TMP:?}/hostbin"/*
if pm run -d --name sleeper --network none -v "$TMP/hostbin:/host/opt/cni/bin" "$IMAGE" \
  --cni-bin-dir /host/opt/cni/bin --names "$NAMES" --sleep >/dev/null 2>&1; then
  for _ in $(seq 1 50); do [[ -x "$TMP/hostbin/veth-to-host" ]] && break; sleep 0.2; done
  sleep 2
  state=$(pm inspect --format '{{.State.Status}}' sleeper)
  if [[ "$state" == running && -x "$TMP/hostbin/veth-to-host" ]]; then record 1 "installed, and still running 2 s later"; else record 0 "state '$state' after install with --sleep"; fi
  t0=$SECONDS
  pm stop -t 10 sleeper >/dev/null 2>&1
  code=$(pm inspect --format '{{.State.ExitCode}}' sleeper)
  if ((SECONDS - t0 < 8)) && [[ "$code" == 0 ]]; then
    record 1 "SIGTERM stops it at once with status 0 ($((SECONDS - t0)) s)"
  else
    record 0 "after SIGTERM: exit status $code after $((SECONDS - t0)) s (10 s means it ignored SIGTERM and was killed)"
  fi
  pm rm -f sleeper >/dev/null 2>&1
else
  record 0 "podman run with --sleep failed"
fi

echo "== uninstall"
if out=$(pm run --rm --network none -v "$TMP/hostbin:/host/opt/cni/bin" --entrypoint /usr/bin/topocni "$IMAGE" \
  uninstall --cni-bin-dir /host/opt/cni/bin --names "$NAMES" 2>&1) && [[ -z "$(ls -A "$TMP/hostbin")" ]]; then
  record 1 "topocni uninstall emptied the host dir"
else
  record 0 "uninstall: $(tail -2 <<<"$out" | tr '\n' ' '), left: $(ls -A "$TMP/hostbin" | tr '\n' ' ')"
fi
finish
