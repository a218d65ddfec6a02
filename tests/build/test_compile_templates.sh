#!/usr/bin/env bash
# The build step that compiles specs/*.yaml (engine/gen/compile_templates.cpp) must fail on a broken spec,
# with the plugin's positioned message naming the file, and must write no output then. A good spec set
# compiles. Runs on copies in a temp dir; needs no root.
#
#   bash tests/build/test_compile_templates.sh PATH/TO/topo_compile_templates
set -euo pipefail

GEN=${1:?usage: test_compile_templates.sh PATH/TO/topo_compile_templates}
SRC=${TOPO_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
check() {  # description, then a command that must succeed
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

# The real specs compile.
check "specs/*.yaml compile" timeout 60 "$GEN" "$TMP/good.cpp" "$SRC"/specs/*.yaml
check "the output names every template" grep -q '"veth-to-host"' "$TMP/good.cpp"

# An unknown key, 3 lines into a copy of veth-to-host: a structural error Template::load finds.
cp "$SRC/specs/veth-to-host.yaml" "$TMP/veth-to-host.yaml"
{ head -n 2 "$TMP/veth-to-host.yaml"; echo "colour: blue"; tail -n +3 "$TMP/veth-to-host.yaml"; } >"$TMP/x" &&
  mv "$TMP/x" "$TMP/veth-to-host.yaml"
set +e
out=$(timeout 60 "$GEN" "$TMP/bad.cpp" "$TMP/veth-to-host.yaml" 2>&1)
rc=$?
set -e
check "a spec with an unknown key fails (rc $rc)" test "$rc" -ne 0
check "the message is positioned: $out" grep -q "$TMP/veth-to-host.yaml:3:1: .*unknown key 'colour'" <<<"$out"
check "no output is written" test ! -e "$TMP/bad.cpp"

# Invalid YAML: the parser's position.
printf 'name: broken\nparameters: [a, b\n' >"$TMP/broken.yaml"
set +e
out=$(timeout 60 "$GEN" "$TMP/bad.cpp" "$TMP/broken.yaml" 2>&1)
rc=$?
set -e
check "invalid YAML fails (rc $rc)" test "$rc" -ne 0
check "the message is positioned: $out" grep -qE "$TMP/broken.yaml:[0-9]+:[0-9]+: .*not valid YAML" <<<"$out"

# An expression error inside a value: found at build time, not at the first ADD.
printf 'name: expr\nvars:\n  x: "${ 1 + }"\n' >"$TMP/expr.yaml"
set +e
out=$(timeout 60 "$GEN" "$TMP/bad.cpp" "$TMP/expr.yaml" 2>&1)
rc=$?
set -e
check "a bad expression fails (rc $rc)" test "$rc" -ne 0
check "the message is positioned: $out" grep -q "$TMP/expr.yaml:3:6: " <<<"$out"

[[ $fails -eq 0 ]] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
