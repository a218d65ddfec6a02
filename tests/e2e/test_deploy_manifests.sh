#!/usr/bin/env bash
# deploy/ is consistent: every manifest parses, and the Containerfile, the DaemonSets, the Multus examples and
# docs/deploy.md agree on the image's entry point, the installer's arguments and the paths it uses
# (check_deploy_manifests.py says what exactly). Then the checker is shown to catch each of a few mistakes,
# made in a copy of the tree, so a check that can never fail cannot hide here.
#
# Environment: TOPO_SOURCE_DIR, the source tree (ctest sets it; default: this script's tree).
# Needs python3 and PyYAML (Debian: python3-yaml). The last line is "N passed, M failed".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${TOPO_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
CHECK="$HERE/check_deploy_manifests.py"
python3 -c 'import yaml' 2>/dev/null || { echo "FAIL  PyYAML is missing (apt-get install python3-yaml)"; echo "0 passed, 1 failed"; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf -- "$TMP"' EXIT
PASS=0
FAIL=0
record() {
  if [[ $1 == 1 ]]; then PASS=$((PASS + 1)); echo "PASS  $2"; else FAIL=$((FAIL + 1)); echo "FAIL  $2"; fi
}

echo "== the tree's deploy/"
if timeout 60 python3 "$CHECK" "$SRC" >"$TMP/real.out" 2>&1; then
  record 1 "deploy/ is consistent ($(tail -1 "$TMP/real.out"))"
else
  sed 's/^/    | /' "$TMP/real.out"
  record 0 "deploy/ is inconsistent ($(tail -1 "$TMP/real.out"))"
fi

# A copy holding what the checker reads, with one mistake made by a sed on one file.
# Args: label file sed-expression expected-FAIL-substring
mutant() {
  local label=$1 file=$2 expr=$3 want=$4 copy="$TMP/mutant"
  rm -rf "$copy"
  mkdir -p "$copy/engine/include/topo" "$copy/docs"
  cp -r "$SRC/deploy" "$SRC/specs" "$copy/"
  cp "$SRC/engine/include/topo/journal.h" "$copy/engine/include/topo/"
  cp "$SRC/docs/deploy.md" "$copy/docs/"
  sed -i -E "$expr" "$copy/$file"
  if cmp -s "$SRC/$file" "$copy/$file"; then
    record 0 "mistake '$label': the sed changed nothing in $file (fix the test)"
    return
  fi
  if timeout 60 python3 "$CHECK" "$copy" >"$TMP/mutant.out" 2>&1; then
    record 0 "mistake '$label' went unnoticed"
  elif grep -q "^FAIL .*$want" "$TMP/mutant.out"; then
    record 1 "mistake '$label' is caught: $(grep -m1 "^FAIL .*$want" "$TMP/mutant.out" | cut -c7-)"
  else
    sed 's/^/    | /' "$TMP/mutant.out" | grep FAIL
    record 0 "mistake '$label' failed the check, but not with '$want'"
  fi
}

echo "== the checker catches mistakes"
mutant "DaemonSet mounts Debian's /usr/lib/cni as the CNI bin dir" deploy/kustomize/base/daemonset.yaml \
  's#path: /opt/cni/bin#path: /usr/lib/cni#' "hostPath /opt/cni/bin is mounted"
mutant "installer writes to a path nothing is mounted at" deploy/kustomize/base/daemonset.yaml \
  's#"--cni-bin-dir", "/host/opt/cni/bin"#"--cni-bin-dir", "/opt/cni/bin"#' "--cni-bin-dir"
mutant "entry point moved in the image only" deploy/Containerfile \
  's#ENTRYPOINT \["/usr/bin/topocni"#ENTRYPOINT ["/bin/topocni"#' "entry point"
mutant "state dir mounted elsewhere" deploy/kustomize/base/daemonset.yaml \
  's#mountPath: /run/topocni#mountPath: /var/run/topocni#' "state dir"
mutant "NAD uses a name the installer does not install" deploy/multus/seed-chain.yaml \
  's#"type": "veth-to-host"#"type": "veth2host"#' "is installed on the nodes"
mutant "NAD forgets the template's required parameter" deploy/multus/underlay-service.yaml \
  's#"hostInterface": "enp5s0f0",##' "required parameters"
mutant "uninstall forgets a name" deploy/kustomize/uninstall/daemonset.yaml \
  's#"veth-to-host,underlay-service"#"veth-to-host"#' "uninstall removes the names"
mutant "docs show other installer arguments" docs/deploy.md \
  's#--names veth-to-host,underlay-service --sleep#--names veth-to-host --sleep#' "command line"
mutant "a manifest does not parse" deploy/multus/seed-chain.yaml 's#^spec:#spec: [#' "does not parse"

printf '%d passed, %d failed\n' "$PASS" "$FAIL"
[[ $FAIL -eq 0 ]]
