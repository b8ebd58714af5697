#!/usr/bin/env python3
"""Robustness test: feeds netpolc thousands of mutated rules files.

Starts from every .netpol under tests/testdata and rules/, applies seeded
random mutations (byte flips, deletions, duplications, splices, deep nesting,
huge numbers, stray bytes, CR line ends) and runs one netpolc command on each,
the commands taken in turn so that every one of them sees its share: build
for every target, check, explain, diff (against the unmutated seed), graph
and fmt. Every run must end with its command's ordinary exit status (0 or 1;
2 too for explain and diff, which report unknown components and rules files
with errors that way), never a crash, a signal or a hang; a failing run must
print at least one diagnostic in the `file:line:col: error: ... [kind]` form
or a `netpolc: error:` line.

usage: mutate_test.py NETPOLC [MUTANTS]   ($NETPOLC_MUTANTS overrides MUTANTS)
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
            b"$instance", b"dns off;", b"labels {}", b"\"\\u0000\"", b"\r", b"\r\n",
            b"\"\x1b[2J\"", b"\"a\x00b\"", b"\"abc\\",
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


COMPONENT = re.compile(rb"component\s+([A-Za-z_][A-Za-z0-9_]*)")


def command_for(i, path, seed_path, data):
    """The i-th command in turn: (name, arguments, allowed exit statuses)."""
    names = [m.decode() for m in COMPONENT.findall(data)] or ["a"]
    commands = [
        ("build-ir", ["build", path, "--target", "ir"], (0, 1)),
        ("build-k8s", ["build", path, "--target", "k8s"], (0, 1)),
        ("build-cilium", ["build", path, "--target", "cilium"], (0, 1)),
        ("build-calico", ["build", path, "--target", "calico"], (0, 1)),
        ("build-markdown", ["build", path, "--target", "markdown"], (0, 1)),
        ("check", ["check", path], (0, 1)),
        ("check-json", ["check", path, "--format", "json"], (0, 1)),
        ("explain", ["explain", path, "--from", names[0], "--to", names[-1], "--port", "443"],
         (0, 1, 2)),
        ("diff", ["diff", seed_path, path], (0, 1, 2)),
        ("graph", ["graph", path], (0, 1)),
        ("graph-dot", ["graph", path, "--format", "dot"], (0, 1)),
        ("fmt", ["fmt", path], (0, 1)),
    ]
    return commands[i % len(commands)]


def main():
    netpolc = os.path.abspath(sys.argv[1])
    mutants = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
    # A sanitizer build runs several times slower: .bazelrc's asan config
    # sets a CI-sized count.
    mutants = int(os.environ.get("NETPOLC_MUTANTS", mutants))
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
        seed_path = os.path.join(tmp, "seed.netpol")
        for i in range(mutants):
            seed = rnd.choice(seeds)
            data = mutate(rnd, seed)
            with open(path, "wb") as f:
                f.write(data)
            with open(seed_path, "wb") as f:
                f.write(seed)
            name, args, allowed = command_for(i, path, seed_path, data)
            try:
                proc = subprocess.run([netpolc] + args, capture_output=True, timeout=20)
            except subprocess.TimeoutExpired:
                print(f"mutant {i} ({name}): timed out")
                failures += 1
                continue
            key = (name, proc.returncode)
            statuses[key] = statuses.get(key, 0) + 1
            ok = proc.returncode in allowed
            # Findings and differences are reported with status 1 too: diff
            # lists them on stdout, check --format json as JSON on stdout.
            reported = DIAG.search(proc.stderr) or (
                proc.returncode == 1 and (name == "diff" or
                                          (name == "check-json" and proc.stdout.strip())))
            if proc.returncode != 0 and not reported:
                ok = False
            if not ok:
                failures += 1
                print(f"mutant {i} ({name}): exit status {proc.returncode}")
                print(proc.stderr.decode("utf-8", "replace")[-2000:])
                print("input:", data[:2000])
    print("exit statuses (command, status): count")
    for (name, status), count in sorted(statuses.items()):
        print(f"  {name} {status}: {count}")
    print(f"mutate: {mutants - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
