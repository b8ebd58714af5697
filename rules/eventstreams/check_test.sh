#!/usr/bin/env bash
# The summary of `netpolc check` on each rules file is the one README.md
# lists ("no findings" when check prints none).
#
# Usage: check_test.sh NETPOLC README RULES...
set -euo pipefail

netpolc="$1"
readme="$2"
shift 2
status=0
for rules in "$@"; do
  name="$(basename "$rules")"
  # check exits 1 when it finds errors.
  summary="$({ "$netpolc" check "$rules" 2>&1 || true; } | sed -n 's/^.*\.netpol: \([0-9].*\)$/\1/p' | tail -1)"
  [[ -n "$summary" ]] || summary="no findings"
  if grep -qF "| \`$name\` | \`$summary\` |" "$readme" || grep -qF "| \`$name\` | $summary |" "$readme"; then
    echo "PASS: $name: $summary"
  else
    echo "FAIL: $name: check says '$summary', which README.md does not list"
    status=1
  fi
done
exit $status
