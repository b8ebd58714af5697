#!/usr/bin/env bash
# Runs connlist_oracle_test.py (the first argument) with the system Python 3
# on np-guard's netpol-analyzer cases in ../shared/reference/netpol-analyzer
# from the workspace root (or $NETPOLC_SHARED/reference/netpol-analyzer).
#
# Usage: run_oracle.sh SCRIPT NETPOLC [ARGS...]
set -euo pipefail
script="$1"
netpolc="$2"
shift 2
# The workspace root: the script in the runfiles links to the source tree.
root="$(cd "$(dirname "$(readlink -f "$script")")/../.." && pwd)"
reference="${NETPOLC_SHARED:-$root/../shared}/reference/netpol-analyzer"
if [[ ! -d "$reference" ]]; then
  # Not a silent skip: without the oracle nothing would be checked.
  echo "FAIL: $reference is absent (set NETPOLC_SHARED to the shared folder)."
  exit 1
fi
exec /usr/bin/python3 "$script" "$netpolc" "$reference" "$@"
