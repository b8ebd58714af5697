#!/usr/bin/env bash
# Validates what every policy target writes for the Event Streams rules (all
# flags at their defaults, all on, all off) and for testdata/constructs.netpol
# against the official schemas, with the shared validator
# (../shared/tools/validate_manifests.py from the workspace root).
#
# Usage: validate_test.sh NETPOLC EVENTSTREAMS_RULES CONSTRUCTS_RULES
set -euo pipefail

netpolc="$1"
rules="$2"
constructs="$3"

# The workspace root: rules/eventstreams.netpol in the runfiles links to the
# source tree.
root="$(cd "$(dirname "$(readlink -f "$rules")")/.." && pwd)"
tools="${NETPOLC_SHARED:-$root/../shared}/tools"
if [[ ! -d "$tools" ]]; then
  # Not a silent skip: without the validator nothing would be checked.
  echo "FAIL: $tools is absent (set NETPOLC_SHARED to the shared folder)."
  exit 1
fi
validator="$tools/validate_manifests.py"
out="${TEST_TMPDIR:-$(mktemp -d)}"

flags=(plain_listener tls_listener external_listener metrics jmx internal_tls
       geo_replication kafka_connect cruise_control)
all_on=() all_off=()
for f in "${flags[@]}"; do
  all_on+=(--set "$f=true")
  all_off+=(--set "$f=false")
done

status=0
for target in k8s cilium calico; do
  files=()
  "$netpolc" build "$rules" --target "$target" -o "$out/es-default.$target.yaml"
  "$netpolc" build "$rules" --target "$target" "${all_on[@]}" -o "$out/es-on.$target.yaml"
  "$netpolc" build "$rules" --target "$target" "${all_off[@]}" -o "$out/es-off.$target.yaml"
  "$netpolc" build "$rules" --target "$target" --set instance=prod --set namespace=streams \
    --set operator_namespace=operators -o "$out/es-renamed.$target.yaml"
  "$netpolc" build "$constructs" --target "$target" -o "$out/constructs.$target.yaml"
  "$netpolc" build "$constructs" --target "$target" --set reporting=true -o "$out/constructs-on.$target.yaml"
  files=("$out"/*."$target".yaml)
  echo "== $target: ${#files[@]} files"
  if ! /usr/bin/python3 "$validator" "${files[@]}" > "$out/$target.log" 2>&1; then
    status=1
  fi
  cat "$out/$target.log"
  if ! grep -q "^validate_manifests: [1-9][0-9]* passed, 0 failed" "$out/$target.log"; then
    echo "FAIL: $target manifests do not all validate"
    status=1
  fi
done
exit $status
