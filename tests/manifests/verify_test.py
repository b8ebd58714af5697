#!/usr/bin/env python3
"""`netpolc verify` on the Event Streams rules (docs/manifests.md).

* Against their own outputs, for every policy target (k8s, cilium, calico),
  with the flags at their defaults, all on and all off: equal (exit 0).
* Against outputs built from the rules with one rule removed: caught (exit 1)
  and located at that rule's file:line on the rules side.
* Against outputs built from the rules with one rule widened (more ports):
  caught (exit 1) and located at the policy of the manifests that admits the
  extra ports.
* Named ports: a small rules file beside pods that declare the ports, against
  its own outputs (equal) and with a named-port rule removed or widened
  (caught, located).

Usage: verify_test.py NETPOLC RULES
"""
import os
import re
import subprocess
import sys
import tempfile

TARGETS = ["k8s", "cilium", "calico"]
FLAGS = ["plain_listener", "tls_listener", "external_listener", "metrics", "jmx",
         "internal_tls", "geo_replication", "kafka_connect", "cruise_control"]

failures = []


def run(args):
    return subprocess.run(args, capture_output=True, text=True)


def build(netpolc, rules, target, out, settings):
    r = run([netpolc, "build", rules, "--target", target, "-o", out] + settings)
    if r.returncode != 0:
        failures.append("build %s %s failed: %s" % (rules, target, r.stderr))
        return False
    return True


NAMED_RULES = """dns off;
param pod_networks: cidrs = "10.244.0.0/16";
instance { namespace "shop"; labels { "app.kubernetes.io/instance": "shop" } }
component web {
  labels { "app": "web" }
  ingress https, tcp 8080 from anywhere;
  egress udp "dns-udp" to resolver;
  egress "metrics" to monitor;
}
component resolver {
  labels { "app": "resolver" }
  ingress udp "dns-udp" from web;
}
component monitor {
  labels { "app": "monitor" }
  ingress tcp "metrics" from web;
}
"""

NAMED_PODS = """apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web, app.kubernetes.io/instance: shop}}
spec: {containers: [{name: c, ports: [{name: https, containerPort: 8443}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: resolver, namespace: shop, labels: {app: resolver, app.kubernetes.io/instance: shop}}
spec: {containers: [{name: c, ports: [{name: dns-udp, containerPort: 5353, protocol: UDP}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: monitor, namespace: shop, labels: {app: monitor, app.kubernetes.io/instance: shop}}
spec: {containers: [{name: c, ports: [{name: metrics, containerPort: 9100}]}]}
"""


def named_ports(netpolc, tmp):
    """Named ports: rules and their own outputs (k8s, calico; cilium for the
    rules without named ports in egress rules, which that target refuses)
    beside pods that declare the ports:
    equal. A named-port rule removed: caught on the pods' real port and on the
    port given to the rules' pods, located at the rule. A rule widened with
    another port name: caught on the rules' pods (the real pod has no such
    port), located at the manifests' policy."""
    checked = 0
    rules = os.path.join(tmp, "named.netpol")
    pods = os.path.join(tmp, "named-pods.yaml")
    with open(rules, "w") as f:
        f.write(NAMED_RULES)
    with open(pods, "w") as f:
        f.write(NAMED_PODS)
    for target in ["k8s", "calico"]:
        out = os.path.join(tmp, "named.%s.yaml" % target)
        if not build(netpolc, rules, target, out, []):
            continue
        r = run([netpolc, "verify", rules, out, pods])
        checked += 1
        if r.returncode != 0 or "admit what the rules admit" not in r.stdout:
            failures.append("named ports, own %s output: exit %d\n%s%s" %
                            (target, r.returncode, r.stdout, r.stderr))
    line = NAMED_RULES.split("\n").index('  egress "metrics" to monitor;') + 1
    variants = {
        "removed": (NAMED_RULES.replace('  egress "metrics" to monitor;\n', ""), "rules only",
                    [r"shop/web\[Pod\] => shop/monitor\[Pod\] : TCP 9100 \(%s:%d:3\)" % (re.escape(rules), line),
                     r"TCP \d+ is the container port \"metrics\""]),
        "widened": (NAMED_RULES.replace("ingress https, tcp 8080 from", 'ingress https, "http-alt", tcp 8080 from'),
                    "manifests only",
                    [r"\[External\] => shop/web : TCP (\d+) \((NetworkPolicy|projectcalico.org/v3 NetworkPolicy) shop/web\)",
                     r"TCP \d+ is the container port \"http-alt\""]),
    }
    for variant, (text, side, patterns) in variants.items():
        path = os.path.join(tmp, "named-%s.netpol" % variant)
        with open(path, "w") as f:
            f.write(text)
        for target in ["k8s", "calico"]:
            out = os.path.join(tmp, "named-%s.%s.yaml" % (variant, target))
            if not build(netpolc, path, target, out, []):
                continue
            r = run([netpolc, "verify", rules, out, pods])
            checked += 1
            missing = [p for p in patterns if not re.search(p, r.stdout)]
            if r.returncode != 1 or missing or (side + ":") not in r.stdout:
                failures.append("named ports, %s rule, %s output: exit %d, missing %s:\n%s%s" %
                                (variant, target, r.returncode, missing, r.stdout, r.stderr))
            else:
                print("named ports, %s rule, %s: caught" % (variant, target))
    # Cilium resolves names in ingress rules only: the rules without their
    # egress named ports, against their own cilium output and against the
    # output of the widened rules.
    base = "".join(l for l in NAMED_RULES.splitlines(True)
                   if 'egress udp "dns-udp"' not in l and 'egress "metrics"' not in l)
    ingress_rules = os.path.join(tmp, "named-ingress.netpol")
    with open(ingress_rules, "w") as f:
        f.write(base)
    widened = os.path.join(tmp, "named-ingress-widened.netpol")
    with open(widened, "w") as f:
        f.write(base.replace("ingress https, tcp 8080 from", 'ingress https, "http-alt", tcp 8080 from'))
    for path, expect in [(ingress_rules, 0), (widened, 1)]:
        out = path[:-len(".netpol")] + ".cilium.yaml"
        if not build(netpolc, path, "cilium", out, []):
            continue
        r = run([netpolc, "verify", ingress_rules, out, pods])
        checked += 1
        located = re.search(r"=> shop/web : TCP \d+ \(cilium.io/v2 CiliumNetworkPolicy shop/web\)", r.stdout)
        if r.returncode != expect or (expect == 1 and not located):
            failures.append("named ports, cilium output of %s: exit %d\n%s%s" %
                            (os.path.basename(path), r.returncode, r.stdout, r.stderr))
    return checked


def main():
    netpolc, rules = sys.argv[1], sys.argv[2]
    with open(rules) as f:
        lines = f.read().split("\n")
    tmp = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()
    configurations = {
        "defaults": [],
        "all-on": sum([["--set", f + "=true"] for f in FLAGS], []),
        "all-off": sum([["--set", f + "=false"] for f in FLAGS], []),
    }
    checked = 0
    for target in TARGETS:
        for name, settings in configurations.items():
            out = os.path.join(tmp, "%s.%s.yaml" % (name, target))
            if not build(netpolc, rules, target, out, settings):
                continue
            r = run([netpolc, "verify", rules, out] + settings)
            checked += 1
            if r.returncode != 0 or "admit what the rules admit" not in r.stdout:
                failures.append("own %s output (%s): exit %d\n%s%s" %
                                (target, name, r.returncode, r.stdout, r.stderr))

    # As `kubectl get netpol -A -o yaml` gives them back: a List, with the
    # server's metadata and status.
    import yaml
    out = os.path.join(tmp, "defaults.k8s.yaml")
    if os.path.exists(out):
        with open(out) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for d in docs:
            d["metadata"].update({"uid": "0d5e", "generation": 1, "resourceVersion": "42",
                                  "creationTimestamp": "2024-01-01T00:00:00Z",
                                  "managedFields": [{"manager": "kubectl", "operation": "Apply"}]})
            d["status"] = {}
        listed = os.path.join(tmp, "kubectl-list.yaml")
        with open(listed, "w") as f:
            yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": docs,
                            "metadata": {"resourceVersion": ""}}, f)
        r = run([netpolc, "verify", rules, listed])
        checked += 1
        if r.returncode != 0:
            failures.append("kubectl-style List: exit %d\n%s%s" % (r.returncode, r.stdout, r.stderr))

    # One rule removed: kafka's egress to ZooKeeper.
    removed_line = next(i for i, l in enumerate(lines) if "egress 2181 to zookeeper" in l) + 1
    # One rule widened: schema_registry's ingress 9443 from anywhere -> 9440-9443.
    start = next(i for i, l in enumerate(lines) if l.startswith("component schema_registry"))
    widened_line = next(i for i in range(start, len(lines)) if "ingress 9443 from anywhere" in lines[i]) + 1
    variants = {
        "removed": (lines[:removed_line - 1] + [""] + lines[removed_line:],
                    "rules only", re.escape("%s:%d:" % (rules, removed_line))),
        "widened": (lines[:widened_line - 1] +
                    [lines[widened_line - 1].replace("ingress 9443", "ingress 9440-9443")] +
                    lines[widened_line:],
                    "manifests only", r"TCP 9440-9442 \(.*(NetworkPolicy|CiliumNetworkPolicy) event-streams/es-schema-registry\)"),
    }
    for variant, (text, side, where) in variants.items():
        path = os.path.join(tmp, variant + ".netpol")
        with open(path, "w") as f:
            f.write("\n".join(text))
        for target in TARGETS:
            out = os.path.join(tmp, "%s.%s.yaml" % (variant, target))
            if not build(netpolc, path, target, out, []):
                continue
            r = run([netpolc, "verify", rules, out])
            checked += 1
            found = [l for l in r.stdout.splitlines() if l.startswith(side + ":")]
            if r.returncode != 1 or not found or not all(re.search(where, l) for l in found):
                failures.append("%s rule, %s output: exit %d, expected '%s' lines located by /%s/:\n%s%s" %
                                (variant, target, r.returncode, side, where, r.stdout, r.stderr))
            else:
                print("%s rule, %s: caught: %s" % (variant, target, found[0]))
    checked += named_ports(netpolc, tmp)
    print("verify: %d checks, %d failed" % (checked, len(failures)))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
