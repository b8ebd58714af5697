#!/usr/bin/env python3
"""Round trip of `netpolc import` over np-guard's NetworkPolicy-only cases:
for each case, `connlist` of the original manifests must equal `connlist` of
the case's workloads and namespaces plus the policies built from the imported
rules (`build --target k8s`).

Usage: import_roundtrip_test.py NETPOLC REFERENCE_DIR [--expect N]
Prints `import round trip: N of M cases identical`, then every other case
with the reason (import refused the policies, or the lists differ). Fails
unless N is at least --expect (default: every case).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import yaml


def lines(text):
    return sorted(line for line in text.splitlines() if line.strip())


def without_policies(case_dir, out_dir):
    """Copies every document of the case but NetworkPolicies (scalars kept as
    strings: BaseLoader)."""
    n = 0
    for root, _, files in os.walk(case_dir):
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml", ".json")):
                continue
            with open(os.path.join(root, name)) as f:
                try:
                    docs = list(yaml.load_all(f, Loader=yaml.BaseLoader))
                except yaml.YAMLError:
                    continue
            kept = []
            for d in docs:
                if not isinstance(d, dict):
                    continue
                if d.get("kind") == "NetworkPolicy":
                    continue
                if d.get("kind", "").endswith("List") and isinstance(d.get("items"), list):
                    d = dict(d)
                    d["items"] = [i for i in d["items"]
                                  if not (isinstance(i, dict) and i.get("kind") == "NetworkPolicy")]
                kept.append(d)
            n += 1
            with open(os.path.join(out_dir, "%03d-%s.yaml" % (n, os.path.splitext(name)[0])), "w") as f:
                yaml.safe_dump_all(kept, f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("netpolc")
    parser.add_argument("reference")
    parser.add_argument("--expect", type=int, default=None)
    args = parser.parse_args()
    with open(os.path.join(args.reference, "cases-networkpolicy-only.txt")) as f:
        cases = [c.strip() for c in f if c.strip()]
    tmp = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()
    identical = 0
    failures = []
    for case in cases:
        src = os.path.join(args.reference, "tests", case)
        work = os.path.join(tmp, case)
        workloads = os.path.join(work, "workloads")
        os.makedirs(workloads, exist_ok=True)
        rules = os.path.join(work, "imported.netpol")
        r = subprocess.run([args.netpolc, "import", src, "-o", rules], capture_output=True, text=True)
        if r.returncode != 0:
            reasons = [l for l in r.stderr.splitlines() if "error:" in l]
            failures.append("%s: import refused: %s" % (case, reasons[0] if reasons else r.stderr.strip()))
            continue
        policies = os.path.join(work, "policies.yaml")
        r = subprocess.run([args.netpolc, "build", rules, "--target", "k8s", "-o", policies],
                           capture_output=True, text=True)
        if r.returncode != 0:
            failures.append("%s: build of the imported rules failed: %s" % (case, r.stderr.strip()))
            continue
        without_policies(src, workloads)
        before = subprocess.run([args.netpolc, "connlist", src], capture_output=True, text=True)
        after = subprocess.run([args.netpolc, "connlist", workloads, policies],
                               capture_output=True, text=True)
        if before.returncode != 0 or after.returncode != 0:
            failures.append("%s: connlist failed: %s%s" % (case, before.stderr.strip(), after.stderr.strip()))
            continue
        a, b = lines(before.stdout), lines(after.stdout)
        if a == b:
            identical += 1
            continue
        missing = sorted(set(a) - set(b))
        extra = sorted(set(b) - set(a))
        failures.append("%s: connlist differs: %d lines missing (e.g. %s), %d extra (e.g. %s)" %
                        (case, len(missing), missing[:1], len(extra), extra[:1]))
    print("import round trip: %d of %d cases identical" % (identical, len(cases)))
    for f in failures:
        print("  not identical: " + f)
    need = len(cases) if args.expect is None else args.expect
    return 0 if identical >= need else 1


if __name__ == "__main__":
    sys.exit(main())
