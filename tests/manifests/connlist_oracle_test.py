#!/usr/bin/env python3
"""Runs `netpolc connlist` on the NetworkPolicy-only cases of np-guard's
netpol-analyzer test suite and compares each output with the analyzer's
expected output (as a set of lines; the analyzer sorts them too).

Usage: connlist_oracle_test.py NETPOLC REFERENCE_DIR [--expect N]
Prints `connlist: N of M cases identical`, then one line per differing case.
Fails unless N is at least --expect (default: every case).
"""
import argparse
import os
import subprocess
import sys


def lines(text):
    return sorted(line for line in text.splitlines() if line.strip())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("netpolc")
    parser.add_argument("reference")
    parser.add_argument("--expect", type=int, default=None)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    with open(os.path.join(args.reference, "cases-networkpolicy-only.txt")) as f:
        cases = [c.strip() for c in f if c.strip()]
    identical = 0
    failures = []
    for case in cases:
        inputs = os.path.join(args.reference, "tests", case)
        expected_file = os.path.join(args.reference, "test_outputs", "connlist",
                                     case + "_connlist_output.txt")
        with open(expected_file) as f:
            expected = lines(f.read())
        run = subprocess.run([args.netpolc, "connlist", inputs], capture_output=True, text=True)
        if run.returncode != 0:
            failures.append("%s: netpolc exited %d: %s" % (case, run.returncode, run.stderr.strip()))
            continue
        actual = lines(run.stdout)
        if actual == expected:
            identical += 1
            continue
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        detail = "%s: %d lines missing, %d extra" % (case, len(missing), len(extra))
        if args.verbose:
            detail += "".join("\n  - " + l for l in missing[:10])
            detail += "".join("\n  + " + l for l in extra[:10])
        failures.append(detail)
    print("connlist: %d of %d cases identical" % (identical, len(cases)))
    for f in failures:
        print("  differs: " + f)
    need = len(cases) if args.expect is None else args.expect
    return 0 if identical >= need else 1


if __name__ == "__main__":
    sys.exit(main())
