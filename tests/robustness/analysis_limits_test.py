#!/usr/bin/env python3
"""Robustness: the analysis commands on conditions built to blow up a BDD.

- a conjunction of 50,000 flags (deep recursion per variable: a stack
  overflow) and of 10,000 flags (quadratic when conjoined one by one);
- `(a0 and b0) or ... or (a19 and b19)` with the flags declared a0..a19,
  b0..b19 (exponential in declaration order, linear in order of appearance);
- a condition exponential in the order the first condition fixes, which no
  order helps: it must stop at the node budget with a located error
  `condition too complex to analyse`, not run for minutes.

Every command (check, explain, graph, diff) must end by itself with exit
status 0, 1 or 2 and never die of a signal. The timeout only detects a hang:
the commands take a second or two here.

usage: analysis_limits_test.py NETPOLC
"""
import os
import re
import subprocess
import sys
import tempfile

HANG_TIMEOUT = 120  # seconds; a hang, not a benchmark


def rules(flags, conditions):
    out = "".join(f"flag {f} = false;\n" for f in flags)
    for i, cond in enumerate(conditions):
        out += (f"component c{i} when {cond} {{\n"
                f"  labels {{ \"app\": \"c{i}\" }}\n"
                f"  ingress 80 from anywhere;\n"
                f"}}\n")
    return out


def commands(path):
    return [
        ["check", path],
        ["explain", path, "--from", "10.0.0.1", "--to", "c0", "--port", "80"],
        ["graph", path, "--format", "dot"],
        ["diff", path, path, "--new-set", "f0=true"] if "f0" in open(path).read()
        else ["diff", path, path],
    ]


def run(netpolc, args):
    try:
        proc = subprocess.run([netpolc] + args, capture_output=True, timeout=HANG_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None
    return proc


def main():
    netpolc = os.path.abspath(sys.argv[1])
    failures = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
        cases = {}
        for n in (10000, 50000):
            flags = [f"f{i}" for i in range(n)]
            cases[f"and{n}"] = (rules(flags, [" and ".join(flags)]), False)
        pairs = 20
        flags = [f"a{i}" for i in range(pairs)] + [f"b{i}" for i in range(pairs)]
        cases["pairs"] = (rules(flags, [" or ".join(f"(a{i} and b{i})" for i in range(pairs))]),
                          False)
        # Two rules that switch on f0, placed last in the diagram order: the
        # port-alternative lint restricts both conditions per candidate flag.
        n = 10000
        flags = [f"f{i}" for i in range(n)]
        rest = " and ".join(flags[1:])
        cases["alternatives"] = (
            "".join(f"flag {f} = false;\n" for f in flags) +
            "component c0 {\n  labels { \"app\": \"c0\" }\n"
            f"  ingress 80 from anywhere when {rest} and f0;\n"
            f"  ingress 81 from anywhere when {rest} and not f0;\n}}\n", False)
        # The first condition fixes the order a0 b0 a1 b1 ...; the second pairs
        # a_i with b_(n-1-i): 2^(n/2) nodes in that order.
        n = 60
        flags = [f"a{i}" for i in range(n)] + [f"b{i}" for i in range(n)]
        first = " or ".join(f"(a{i} and b{i})" for i in range(n))
        second = " or ".join(f"(a{i} and b{n - 1 - i})" for i in range(n))
        cases["budget"] = (rules(flags, [first, second]), True)

        for name, (text, too_complex) in cases.items():
            path = os.path.join(tmp, name + ".netpol")
            with open(path, "w") as f:
                f.write(text)
            for args in commands(path):
                label = f"{name}: netpolc {args[0]}"
                proc = run(netpolc, args)
                if proc is None:
                    failures.append(f"{label}: still running after {HANG_TIMEOUT} s")
                    continue
                stderr = proc.stderr.decode("utf-8", "replace")
                if proc.returncode < 0 or proc.returncode > 2:
                    failures.append(f"{label}: exit status {proc.returncode}\n{stderr[-2000:]}")
                    continue
                located = re.search(r"^\S+\.netpol:(\d+):\d+: error: condition too complex to "
                                    r"analyse.*\[condition-too-complex\]$", stderr, re.M)
                if too_complex:
                    # The second component's condition, on its line.
                    line = text.splitlines().index(
                        next(l for l in text.splitlines() if l.startswith("component c1 "))) + 1
                    if not located or int(located.group(1)) != line:
                        failures.append(f"{label}: expected a located 'condition too complex "
                                        f"to analyse' at line {line}, got exit status "
                                        f"{proc.returncode}:\n{stderr[:2000]}")
                elif located or "too complex" in stderr:
                    failures.append(f"{label}: refused a condition that is small in a good "
                                    f"order:\n{stderr[:2000]}")
                elif len(proc.stdout) + len(proc.stderr) > 4 * 1024 * 1024:
                    failures.append(f"{label}: {len(proc.stdout) + len(proc.stderr)} bytes of "
                                    f"output")
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
