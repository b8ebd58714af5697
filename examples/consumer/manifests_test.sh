#!/usr/bin/env bash
# Checks the files it is given: each names the rules file it comes from,
# the staging and production configurations are in their namespaces, and
# production admits the web front end's traffic from the ingress controller
# only.
# Usage: manifests_test.sh FILE... STAGING_K8S_FILE PROD_K8S_FILE
set -euo pipefail
status=0
for file in "$@"; do
  if ! grep -q ' policies\.netpol' "$file"; then
    echo "FAIL $file: does not name policies.netpol"
    status=1
  else
    echo "ok   $file ($(wc -l < "$file") lines)"
  fi
done
staging=${*: -2:1}
prod=${*: -1}
if ! grep -q '^  namespace: shop-staging$' "$staging"; then
  echo "FAIL $staging: not in namespace shop-staging"
  status=1
fi
if ! grep -q '^  namespace: shop-prod$' "$prod"; then
  echo "FAIL $prod: not in namespace shop-prod"
  status=1
fi
if ! grep -q 'app: ingress-nginx' "$prod" || grep -q 'name: shop-cache' "$prod"; then
  echo "FAIL $prod: not production's configuration (web peers, no cache)"
  status=1
fi
exit $status
