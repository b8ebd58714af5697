#!/usr/bin/env bash
# Checks that the targets //bazel:defs.bzl knows (NETPOL_DOCS_TARGET and
# NETPOL_MANIFEST_TARGETS) are those of `netpolc targets`.
# Usage: targets_test.sh NETPOLC TARGET...
set -euo pipefail
netpolc=$1
shift
actual=$("$netpolc" targets | awk '{print $1}' | sort)
expected=$(printf '%s\n' "$@" | sort)
if [[ $actual != "$expected" ]]; then
  echo "netpolc targets and //bazel:defs.bzl differ (< netpolc, > defs.bzl):"
  diff <(echo "$actual") <(echo "$expected") || true
  echo "Update NETPOL_MANIFEST_TARGETS in bazel/defs.bzl."
  exit 1
fi
echo "targets: $(echo $actual)"
