#!/usr/bin/env python3
"""The command lines of connlist, import and verify: help, usage errors,
located errors, exit statuses, and outputs never half-written.

Usage: cli_test.py NETPOLC RULES
"""
import os
import subprocess
import sys
import tempfile

failures = []


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def check(what, cond, r=None):
    if not cond:
        failures.append(what + ("" if r is None else ": exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr)))


def main():
    netpolc, rules = sys.argv[1], sys.argv[2]
    tmp = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()

    def write(name, text):
        path = os.path.join(tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    for cmd in ["connlist", "import", "verify"]:
        r = run([netpolc, cmd, "--help"])
        check(cmd + " --help", r.returncode == 0 and r.stdout.startswith("Usage: netpolc " + cmd), r)
        r = run([netpolc, cmd])
        check(cmd + " without paths", r.returncode == 2 and "--help" in r.stderr, r)
    r = run([netpolc, "--help"])
    for cmd in ["connlist", "import", "verify"]:
        check("--help lists " + cmd, ("  " + cmd + " ") in r.stdout, r)

    good = write("good.yaml", "kind: Pod\nmetadata: {name: a, labels: {app: a}}\n---\n"
                 "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n"
                 "spec:\n  podSelector: {matchLabels: {app: a}}\n  ingress: [{ports: [{port: 80}]}]\n"
                 "---\nkind: Service\nmetadata: {name: s}\n")
    bad = write("bad.yaml", "kind: Pod\nmetadata: {name: [oops\n")
    r = run([netpolc, "connlist", good, "--format", "xml"])
    check("unknown format", r.returncode == 2 and "unknown format 'xml'" in r.stderr, r)
    r = run([netpolc, "connlist", good])
    check("connlist", r.returncode == 0 and
          "0.0.0.0-255.255.255.255[External] => default/a[Pod] : TCP 80\n" in r.stdout and
          "skipped 1 object(s) of kind Service" in r.stderr, r)
    import json
    r = run([netpolc, "connlist", good, "--format", "json"])
    try:
        parsed = json.loads(r.stdout)
    except ValueError:
        parsed = None
    check("json output", r.returncode == 0 and isinstance(parsed, list) and
          {"src": "0.0.0.0-255.255.255.255[External]", "dst": "default/a[Pod]", "conn": "TCP 80"} in parsed, r)
    r = run([netpolc, "connlist", good, "--format", "dot"])
    check("dot output", r.returncode == 0 and r.stdout.startswith("digraph {") and
          '"0.0.0.0-255.255.255.255[External]" -> "default/a[Pod]" [label="TCP 80"]' in r.stdout, r)
    r = run([netpolc, "connlist", bad])
    check("bad YAML located", r.returncode == 1 and (bad + ":3:") in r.stderr and r.stdout == "", r)
    r = run([netpolc, "connlist", os.path.join(tmp, "missing.yaml")])
    check("missing path", r.returncode == 1 and "no such file or directory" in r.stderr, r)

    # -o: written on success, untouched on failure.
    out = write("out.txt", "previous\n")
    r = run([netpolc, "connlist", bad, "-o", out])
    check("-o untouched on failure", r.returncode == 1 and open(out).read() == "previous\n", r)
    r = run([netpolc, "connlist", good, "-o", out, "--format", "csv"])
    check("-o written", r.returncode == 0 and open(out).read().startswith("src,dst,conn\n"), r)

    refused = write("refused.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: deny, namespace: x}\n"
                    "spec: {podSelector: {matchExpressions: [{key: app, operator: Exists}]}}\n")
    rules_out = write("imported.netpol", "previous\n")
    r = run([netpolc, "import", refused, "-o", rules_out])
    check("import refusal located, nothing written",
          r.returncode == 1 and (refused + ":1:1: NetworkPolicy x/deny: a pod selector with matchExpressions") in r.stderr
          and open(rules_out).read() == "previous\n", r)
    r = run([netpolc, "import", good, "-o", rules_out])
    check("import", r.returncode == 0 and "component a {" in open(rules_out).read(), r)
    r = run([netpolc, "build", rules_out, "--target", "k8s"])
    check("imported rules build", r.returncode == 0, r)
    # -o - is standard output, for both commands (one loader).
    r = run([netpolc, "import", good, "-o", "-"])
    check("import -o -", r.returncode == 0 and "component a {" in r.stdout and
          not os.path.exists("-"), r)
    r = run([netpolc, "connlist", good, "-o", "-"])
    check("connlist -o -", r.returncode == 0 and "default/a[Pod]" in r.stdout and
          not os.path.exists("-"), r)
    r = run([netpolc, "import", good, "-o", good])
    check("import output is an input", r.returncode == 2 and "also an input" in r.stderr, r)

    r = run([netpolc, "verify", rules, bad])
    check("verify with bad manifests", r.returncode == 2 and (bad + ":3:") in r.stderr, r)
    r = run([netpolc, "verify", rules, good])
    check("verify differs", r.returncode == 1 and "rules only: " in r.stdout and "manifests only: " in r.stdout, r)
    r = run([netpolc, "verify", rules, good, "--set", "nosuchflag=true"])
    check("verify bad --set", r.returncode == 2, r)

    print("cli: %d failed" % len(failures))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
