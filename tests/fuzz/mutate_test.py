#!/usr/bin/env python3
"""Robustness test: feeds netpolc thousands of mutated rules files.

Starts from every .netpol under tests/testdata and rules/, applies seeded
random mutations (byte flips, deletions, duplications, splices, deep nesting,
huge numbers, stray bytes) and runs `netpolc build --target ir` on each.
Every run must end with exit status 0 or 1 (never a crash, a signal, a hang
or status 2), and a failing run must print at least one diagnostic in the
`file:line:col: error: ... [kind]` form or a `netpolc: error:` line.

usage: mutate_test.py NETPOLC [MUTANTS]
"""
import os
import random
import re
import subprocess
import sys
import tempfile

DIAG = re.compile(rb"^(\S+:\d+:\d+: error: .+ \[[a-z0-9-]+\]|netpolc: error: .+)$", re.M)

SNIPPETS = [b"{", b"}", b"(", b")", b";", b",", b"\"", b"\\", b"/*", b"*/", b"//", b"$",
            b"when", b"not", b"and", b"or", b"from", b"to", b"ingress", b"egress",
            b"component", b"instance", b"anywhere", b"cidr \"::/0\"", b"99999999999",
            b"0", b"-", b"\xff", b"\xc3", b"\x00", b"\n", b"pods {}", b"in any namespace",
            b"$instance", b"dns off;", b"labels {}", b"\"\\u0000\"",
            b"\"k\": in [", b"]", b"exists", b"not in", b"not exists", b"$p-$q",
            b"https", b"\"http-x\"", b"port_doc \"x\";", b"param p: int;"]


def mutate(rnd, data):
    data = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        op = rnd.randrange(7)
        pos = rnd.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rnd.randrange(256)
        elif op == 1 and data:
            end = min(len(data), pos + rnd.randint(1, 40))
            del data[pos:end]
        elif op == 2:
            data[pos:pos] = rnd.choice(SNIPPETS)
        elif op == 3 and data:
            start = rnd.randrange(len(data))
            chunk = data[start:start + rnd.randint(1, 200)]
            data[pos:pos] = chunk
        elif op == 4:
            depth = rnd.choice([10, 63, 64, 65, 1000])
            data[pos:pos] = b"(" * depth + b"x" + b")" * depth
        elif op == 5 and data:
            # Swap two lines.
            lines = bytes(data).split(b"\n")
            if len(lines) > 2:
                i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                data = bytearray(b"\n".join(lines))
        else:
            data[pos:pos] = rnd.choice(SNIPPETS) * rnd.randint(1, 50)
    return bytes(data)


def main():
    netpolc = os.path.abspath(sys.argv[1])
    mutants = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
    seeds = []
    for top in ("tests/testdata", "rules"):
        for dirpath, _, files in os.walk(top):
            for name in sorted(files):
                if name.endswith(".netpol"):
                    with open(os.path.join(dirpath, name), "rb") as f:
                        seeds.append(f.read())
    if not seeds:
        print("no seed files found")
        return 1
    rnd = random.Random(20261126)
    failures = 0
    statuses = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
        path = os.path.join(tmp, "m.netpol")
        for i in range(mutants):
            data = mutate(rnd, rnd.choice(seeds))
            with open(path, "wb") as f:
                f.write(data)
            try:
                proc = subprocess.run([netpolc, "build", path, "--target", "ir"],
                                      capture_output=True, timeout=20)
            except subprocess.TimeoutExpired:
                print(f"mutant {i}: timed out")
                failures += 1
                continue
            statuses[proc.returncode] = statuses.get(proc.returncode, 0) + 1
            ok = proc.returncode in (0, 1)
            if proc.returncode == 1 and not DIAG.search(proc.stderr):
                ok = False
            if not ok:
                failures += 1
                keep = os.path.join(tmp, f"failure-{i}.netpol")
                print(f"mutant {i}: exit status {proc.returncode}")
                print(proc.stderr.decode("utf-8", "replace")[-2000:])
                print("input:", data[:2000])
    print(f"exit statuses: {dict(sorted(statuses.items()))}")
    print(f"mutate: {mutants - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
