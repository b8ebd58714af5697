#!/usr/bin/env python3
"""Robustness: values files (--values) that a careless user writes.

- a values file of several YAML documents applied only the first and
  ignored the rest (exit 0): it is a located error;
- deep nesting said "malformed YAML: bad file" at an unrelated place: it is
  a located "nests more than N levels" error at the first level too deep;
- `tls: "true"` said "takes true or false, not 'true'": the message says
  it is a quoted string;
- `peers: []` said "non-empty list ..., not a list": it says an empty list;
- a peer value in the rules syntax naming a parameter was reported as a
  --set value;
- a cidrs parameter given as a quoted string (`pod_networks: "10.0.0.0/8"`,
  the form the language documents for it) was refused as "takes ... a string
  of comma-separated CIDRs, not the quoted string"; a YAML list past the
  1,024-CIDR bound said "takes a non-empty list of CIDRs ..., not a list".

usage: values_messages_test.py NETPOLC
"""
import os
import re
import subprocess
import sys
import tempfile

RULES = """param pod_networks: cidrs = "10.128.0.0/14";
param client_peers: peers = anywhere;
param generation: int = 1;
param instance: string = "shop";
flag tls = false;
component api {
  labels { "app": "api", "generation": $generation }
  ingress 8443 from $client_peers when tls;
}
"""

# (name, values file, regex stderr must match, exit status)
CASES = [
    ("two documents", "tls: true\n---\ngeneration: 2\n",
     r"values\.yaml:2:1: error: .*second YAML document.*\[values-multiple-documents\]", 2),
    ("a document after an end marker", "tls: true\n...\n---\ngeneration: 2\n",
     r"values\.yaml:3:1: error: .*\[values-multiple-documents\]", 2),
    ("an empty second document", "generation: 2\n---\n",
     r"values\.yaml:2:1: error: .*\[values-multiple-documents\]", 2),
    ("deep flow nesting", "tls: true\nclient_peers: " + "[" * 5000 + "]" * 5000 + "\n",
     r"values\.yaml:2:78: error: the values file nests more than 64 levels deep "
     r"\[values-nesting-too-deep\]", 2),
    ("deep block nesting", "tls: true\nclient_peers:\n" +
     "".join("  " * i + "- \n" for i in range(1, 500)),  # (under the 1 MiB limit)
     r"values\.yaml:66:129: error: the values file nests more than 64 levels deep "
     r"\[values-nesting-too-deep\]", 2),
    ("a quoted true", 'tls: "true"\n',
     r"flag 'tls' takes true or false, not the quoted string 'true' \(write it without "
     r"quotes\)", 2),
    ("a quoted integer", 'generation: "3"\n',
     r"parameter 'generation' takes an integer, not the quoted string '3' \(write it "
     r"without quotes\)", 2),
    ("an empty list", "client_peers: []\n",
     r"parameter 'client_peers' takes a non-empty list of peers .*, not an empty list "
     r"\[values-wrong-type\]", 2),
    ("a parameter in a peer value", "client_peers: $instance\n",
     r"error: a value given with --set or --values cannot refer to parameter 'instance'", 2),
    ("too many CIDRs in a YAML list",
     "pod_networks:\n" + "".join(f"  - 10.{i // 256}.{i % 256}.0/24\n" for i in range(1025)),
     r"values\.yaml:2:3: error: parameter 'pod_networks' takes a comma-separated list of "
     r"CIDRs: more than 1024 CIDRs \[invalid-cidr-list\]", 2),
    ("too many CIDRs in a quoted string",
     'pod_networks: "' + ",".join(f"10.{i // 256}.{i % 256}.0/24" for i in range(1025)) + '"\n',
     r"values\.yaml:1:15: error: parameter 'pod_networks' takes a comma-separated list of "
     r"CIDRs: more than 1024 CIDRs \[invalid-cidr-list\]", 2),
    ("a quoted string that is no CIDR", 'pod_networks: "10.0.0.0/33"\n',
     r"values\.yaml:1:15: error: parameter 'pod_networks' takes a comma-separated list of "
     r"CIDRs: .*\[invalid-cidr-list\]", 2),
]

# Still accepted.
GOOD = [
    ("one document with a start marker", "---\ntls: true\n"),
    ("one document with an end marker", "tls: true\n...\n"),
    ("brackets inside strings and comments", "# [[[[ {{{{\ninstance: 'a[b{c'\n"),
    ("moderate nesting", "client_peers:\n  - podSelector:\n      matchLabels: {app: x}\n"),
    ("a block scalar indented ever deeper",
     "instance: |\n" + "".join(" " * (i + 1) + "x\n" for i in range(100))),
    ("a quoted CIDR list", 'pod_networks: "10.128.0.0/14, fd01::/48"\n'),
    ("a single-quoted CIDR", "pod_networks: '192.168.0.0/16'\n"),
    ("a plain CIDR list", "pod_networks: 10.128.0.0/14, fd01::/48\n"),
    ("a YAML list of CIDRs", "pod_networks: [10.128.0.0/14, fd01::/48]\n"),
    ("1,024 CIDRs in a YAML list",
     "pod_networks:\n" + "".join(f"  - 10.{i // 256}.{i % 256}.0/24\n" for i in range(1024))),
    ("brackets in a quoted scalar over several lines",
     "instance: \"" + "[" * 100 + "\n  " + "{" * 100 + "\"\n"),
]


def main():
    netpolc = os.path.abspath(sys.argv[1])
    failures = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
        rules = os.path.join(tmp, "rules.netpol")
        with open(rules, "w") as f:
            f.write(RULES)
        values = os.path.join(tmp, "values.yaml")

        def run(text):
            with open(values, "w") as f:
                f.write(text)
            return subprocess.run([netpolc, "build", rules, "--target", "ir", "--values", values],
                                  capture_output=True, timeout=60)

        for name, text, pattern, status in CASES:
            proc = run(text)
            err = proc.stderr.decode("utf-8", "replace")
            if proc.returncode != status or not re.search(pattern, err):
                failures.append(f"{name}: exit status {proc.returncode}, expected {status} and "
                                f"/{pattern}/; stderr:\n{err[:1200]}")
        for name, text in GOOD:
            proc = run(text)
            if proc.returncode != 0:
                failures.append(f"{name}: refused:\n{proc.stderr.decode('utf-8', 'replace')[:1200]}")
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
