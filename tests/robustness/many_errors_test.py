#!/usr/bin/env python3
"""Robustness: a large file full of unknown names ends quickly.

Every error past the 50th is dropped ("too many errors"), so the work spent
on it must be dropped too: a "did you mean" suggestion compares the unknown
name with every declared name, and computing it for each of 30,000 unknown
references against 30,000 components took minutes. The first errors still
carry their suggestion.

The timeout only detects a hang: the build takes about a second here.

usage: many_errors_test.py NETPOLC
"""
import os
import subprocess
import sys
import tempfile

HANG_TIMEOUT = 120  # seconds; a hang, not a benchmark
COMPONENTS = 30000


def rules():
    out = ["flag public = false;\n"]
    for i in range(COMPONENTS):
        # Each component refers to a component no one declares ("cx{i}"),
        # one edit away from a declared name ("c{i}" for i of 0..9 and more).
        out.append(f"component c{i} {{\n"
                   f"  labels {{ \"app\": \"c{i}\" }}\n"
                   f"  ingress 80 from cx{i};\n"
                   f"}}\n")
    return "".join(out)


def main():
    netpolc = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
        path = os.path.join(tmp, "many.netpol")
        with open(path, "w") as f:
            f.write(rules())
        for command in (["build", path, "--target", "k8s"], ["check", path], ["fmt", path]):
            try:
                proc = subprocess.run([netpolc] + command, capture_output=True, text=True,
                                      timeout=HANG_TIMEOUT)
            except subprocess.TimeoutExpired:
                print(f"FAIL {command[0]}: still running after {HANG_TIMEOUT} s")
                return 1
            if command[0] == "fmt":
                # fmt does not resolve names: the file is well formed.
                if proc.returncode != 0:
                    print(f"FAIL fmt: exit status {proc.returncode}\n{proc.stderr[:2000]}")
                    return 1
                continue
            if proc.returncode != 1:
                print(f"FAIL {command[0]}: exit status {proc.returncode}\n{proc.stderr[:2000]}")
                return 1
            errors = proc.stderr.count(": error: ")
            if "too many errors" not in proc.stderr or errors != 51:
                print(f"FAIL {command[0]}: expected 50 errors and 'too many errors', got "
                      f"{errors} errors\n{proc.stderr[:2000]}")
                return 1
            if "did you mean 'c0'?" not in proc.stderr:
                print(f"FAIL {command[0]}: the first error lost its suggestion\n"
                      f"{proc.stderr[:2000]}")
                return 1
            print(f"ok {command[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
