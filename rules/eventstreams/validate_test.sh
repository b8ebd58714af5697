#!/usr/bin/env bash
# The k8s manifests of every rules file given validate against the official
# schemas, with the shared validator (../shared/tools/validate_manifests.py
# from the workspace root, or $NETPOLC_SHARED/tools): each file with its flags
# at their defaults, all on and all off.
#
# Usage: validate_test.sh NETPOLC RULES...
set -euo pipefail

netpolc="$1"
shift

# The workspace root: rules/eventstreams/X.netpol in the runfiles links to the
# source tree.
root="$(cd "$(dirname "$(readlink -f "$1")")/../.." && pwd)"
tools="${NETPOLC_SHARED:-$root/../shared}/tools"
if [[ ! -d "$tools" ]]; then
  # Not a silent skip: without the validator nothing would be checked.
  echo "FAIL: $tools is absent (set NETPOLC_SHARED to the shared folder)."
  exit 1
fi
out="${TEST_TMPDIR:-$(mktemp -d)}"

files=()
for rules in "$@"; do
  name="$(basename "$rules" .netpol)"
  on=() off=()
  for flag in $(sed -n 's/^flag \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$rules"); do
    on+=(--set "$flag=true")
    off+=(--set "$flag=false")
  done
  "$netpolc" build "$rules" --target k8s -o "$out/$name-default.yaml"
  files+=("$out/$name-default.yaml")
  if [[ ${#on[@]} -gt 0 ]]; then
    "$netpolc" build "$rules" --target k8s "${on[@]}" -o "$out/$name-on.yaml"
    "$netpolc" build "$rules" --target k8s "${off[@]}" -o "$out/$name-off.yaml"
    files+=("$out/$name-on.yaml" "$out/$name-off.yaml")
  fi
done
echo "== ${#files[@]} manifest files"
status=0
/usr/bin/python3 "$tools/validate_manifests.py" --quiet "${files[@]}" > "$out/validate.log" 2>&1 || status=1
cat "$out/validate.log"
if ! grep -q "^validate_manifests: [1-9][0-9]* passed, 0 failed" "$out/validate.log"; then
  echo "FAIL: the manifests do not all validate"
  status=1
fi
exit $status
