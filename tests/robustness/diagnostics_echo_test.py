#!/usr/bin/env python3
"""Robustness: diagnostics never echo raw control characters, and echoed text
is capped.

Inputs holding ESC, BEL, NUL, CR or newlines (in the rules file, a values
file, a --set value, a file name) must come out escaped (`\\x1b`) in messages
and in the quoted source line, so that no terminal escape sequence reaches
the terminal; a 10 MB YAML key, a 10 MB identifier or a 1 MB source line must
not turn into megabytes of stderr.

usage: diagnostics_echo_test.py NETPOLC
"""
import os
import re
import subprocess
import sys
import tempfile

MAX_STDERR = 64 * 1024
# Bytes that may appear in diagnostics: printable text, tab and newline.
CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")

RULES = b"""flag tls = false;
component api {
  labels { "app": "api" }
  ingress 80 from anywhere;
}
"""


def main():
    netpolc = os.path.abspath(sys.argv[1])
    failures = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
        def write(name, data):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            return path

        rules = write("rules.netpol", RULES)
        big_key = b"k" * (10 * 1024 * 1024)
        cases = [
            # (name, arguments, substrings stderr must hold)
            ("control characters in the rules file",
             ["build", write("ctl.netpol", RULES.replace(b"ingress 80", b"ingress \x1b[31m\x07 80")),
              "--target", "ir"], [b"\\x1b"]),
            ("NUL in the rules file",
             ["build", write("nul.netpol", RULES.replace(b"ingress 80", b"ingress \x00 80")),
              "--target", "ir"], [b"\\x00"]),
            ("ESC inside a string",
             ["build", write("str.netpol", RULES.replace(b'"app": "api"', b'"app": "a\x1b]0;x\x07"')),
              "--target", "ir"], [b"\\x1b"]),
            ("ESC and a newline in a values file key",
             ["build", rules, "--target", "ir", "--values",
              write("keys.yaml", b'"t\\e[2J\\nx": true\n')], [b"\\x1b"]),
            ("ESC in a values file value",
             ["build", rules, "--target", "ir", "--values",
              write("value.yaml", b'tls: "\\e[2J"\n')], [b"\\x1b"]),
            ("ESC in a --set",
             ["build", rules, "--target", "ir", "--set", "tls=\x1b[2J"], [b"\\x1b"]),
            ("ESC and a newline in a file name",
             ["build", write("bad\x1b[2J\nname.netpol", b"component {"), "--target", "ir"],
              [b"\\x1b", b"\\x0a"]),
            # (A values file holds at most 1 MiB.)
            ("a 1 MB YAML key",
             ["build", rules, "--target", "ir", "--values",
              write("big.yaml", big_key[:(1 << 20) - 16] + b": 1\n")],
             [b"kkkk"]),
            ("a 10 MB identifier",
             ["build", write("id.netpol", RULES.replace(b"from anywhere", b"from " + big_key)),
              "--target", "ir"], [b"kkkk"]),
            ("an error at the end of a 1 MB line",
             ["build", write("line.netpol", RULES.replace(
                 b"ingress 80 from anywhere;",
                 # (A list holds at most 10,000 items: a comment makes up the rest.)
                 b"ingress 80 from " + b"anywhere, " * 9000 + b"/* " + b"c" * 910000 +
                 b" */ nowhere;")), "--target", "ir"],
             [b"nowhere"]),
        ]
        for name, args, expected in cases:
            proc = subprocess.run([netpolc] + args, capture_output=True, timeout=120)
            err = proc.stderr
            problems = []
            if proc.returncode not in (1, 2):
                problems.append(f"exit status {proc.returncode}")
            if len(err) > MAX_STDERR:
                problems.append(f"{len(err)} bytes of stderr")
            bad = CONTROL.search(err)
            if bad:
                problems.append(f"raw control character {bad.group()!r} at byte {bad.start()}")
            for e in expected:
                if e not in err:
                    problems.append(f"no {e!r} in stderr")
            if problems:
                failures.append(f"{name}: {'; '.join(problems)}\n{err[:1500]!r}")
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
