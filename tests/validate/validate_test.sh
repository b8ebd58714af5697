#!/usr/bin/env bash
# Validates the manifests compiled from rules/eventstreams.netpol, for every
# manifest target and several configurations, with the official schemas and
# the API server's checks: shared/tools/validate_manifests.py, found beside
# the repository (../shared) or at $NETPOLC_SHARED.
set -euo pipefail

netpolc=$1
rules=$2

# Runfiles are links into the source tree: follow one to find the workspace.
root=$(dirname "$(dirname "$(readlink -f "$rules")")")
shared=${NETPOLC_SHARED:-$root/../shared}
validator=$shared/tools/validate_manifests.py
if [[ ! -f $validator ]]; then
  echo "FAIL: the validator is not at $validator (set NETPOLC_SHARED to the shared folder)"
  exit 1
fi

out=${TEST_TMPDIR:-$(mktemp -d)}
configs=(
  ""
  "--set plain_listener=true --set metrics=true --set jmx=true --set internal_tls=true"
  "--set tls_listener=false --set external_listener=false --set geo_replication=false --set kafka_connect=false --set cruise_control=false"
  "--set instance=prod --set namespace=streams --set operator_namespace=operators"
)
files=()
for target in $("$netpolc" targets | awk '{print $1}'); do
  case $target in k8s|cilium|calico) ;; *) continue ;; esac
  i=0
  for config in "${configs[@]}"; do
    file=$out/$target-$i.yaml
    # shellcheck disable=SC2086
    "$netpolc" build "$rules" --target "$target" $config -o "$file"
    files+=("$file")
    i=$((i + 1))
  done
done
/usr/bin/python3 "$validator" -q "${files[@]}"
