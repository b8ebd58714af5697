#!/usr/bin/env python3
"""Tests of the markdown target (run by the targets of tests/markdown/BUILD).

  spec     --netpolc BIN --rules FILE --template FILE --expected FILE
           The page netpolc writes must be the expected page except for the
           whitespace padding inside table cells and the length of the
           separator dashes. Prints a unified diff of the normalised pages.
  fresh    --netpolc BIN --rules FILE --template FILE --page FILE [--update]
           The shipped page must be exactly what netpolc writes now; with
           --update, rewrite it instead.
  cases    --netpolc BIN [--root ROOT] --dir DIR... [--update]
           Golden cases: for every DIR/CASE.netpol (DIR relative to ROOT, the
           workspace or its runfiles mirror), `netpolc build DIR/CASE.netpol
           --target markdown`, run in ROOT, must print DIR/CASE.md exactly; or,
           when DIR/CASE.err exists, fail and print exactly that on stderr.
           The conventions are those of tests/golden_test.py:
               // netpolc-args: ARGS   first line: extra build arguments
                                       (shell words, paths relative to ROOT)
               // netpolc-exit: N      any line: exit status of an .err case
                                       (default 1)
           With --update, rewrite the expected files instead of comparing.
  --in-workspace (with fresh or cases) --page, or ROOT, is the workspace
           ($BUILD_WORKSPACE_DIRECTORY, set by `bazel run`): how update_docs and
           update_cases write into the source tree.
  selftest The normalisation's own tests.

Only the Python standard library is used.
"""

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
import unittest

_SEPARATOR_CELL = re.compile(r"^:?-+:?$")


def split_cells(line):
    """Splits a table line "| a | b \\| c |" into its cells, unstripped."""
    cells, cell, escaped = [], [], False
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    for ch in body:
        if ch == "|" and not escaped:
            cells.append("".join(cell))
            cell = []
        else:
            cell.append(ch)
        escaped = ch == "\\" and not escaped
    cells.append("".join(cell))
    return cells


def normalise_line(line):
    """A table line without cell padding and with separator cells of three
    dashes; any other line unchanged."""
    if not line.lstrip().startswith("|"):
        return line
    out = []
    for cell in split_cells(line):
        cell = cell.strip()
        if _SEPARATOR_CELL.match(cell):
            cell = (":" if cell.startswith(":") else "") + "---" + (":" if cell.endswith(":") else "")
        out.append(cell)
    return "| " + " | ".join(out) + " |"


def normalise(text):
    return [normalise_line(line) for line in text.split("\n")]


def unified(expected, actual, expected_name, actual_name):
    return "".join(
        line if line.endswith("\n") else line + "\n"
        for line in difflib.unified_diff(expected, actual, expected_name, actual_name, lineterm=""))


def run_netpolc(netpolc, args, cwd=None):
    # Under `bazel run` netpolc resolves relative paths against the user's
    # directory (BUILD_WORKING_DIRECTORY); here they are relative to `cwd`.
    env = {k: v for k, v in os.environ.items() if k != "BUILD_WORKING_DIRECTORY"}
    proc = subprocess.run([os.path.abspath(netpolc)] + args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def build_page(netpolc, rules, template):
    status, out, err = run_netpolc(netpolc, ["build", os.path.abspath(rules), "--target", "markdown",
                                             "--template", os.path.abspath(template)])
    if status != 0:
        sys.stderr.write(f"netpolc failed with status {status}:\n{err}")
        return None
    return out


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def cmd_spec(args):
    page = build_page(args.netpolc, args.rules, args.template)
    if page is None:
        return 1
    expected = normalise(read(args.expected))
    actual = normalise(page)
    if expected == actual:
        print(f"PASS: netpolc's page matches {args.expected} (table padding ignored)")
        return 0
    print(f"FAIL: netpolc's page differs from {args.expected}; diff of the pages with table cells\n"
          "unpadded and separators shortened to ---:\n")
    sys.stdout.write(unified(expected, actual, f"{args.expected} (normalised)", "netpolc output (normalised)"))
    return 1


def cmd_fresh(args):
    page = build_page(args.netpolc, args.rules, args.template)
    if page is None:
        return 1
    if args.update:
        write(args.page, page)
        print(f"wrote {args.page}")
        return 0
    current = read(args.page)
    if current == page:
        print(f"PASS: {args.page} is up to date with {args.rules}")
        return 0
    print(f"FAIL: {args.page} is out of date with {args.rules} and {args.template}.\n"
          "Regenerate it with:  ./bazelw run //tests/markdown:update_docs\n")
    sys.stdout.write(unified(current.split("\n"), page.split("\n"), f"{args.page} (shipped)", "netpolc output"))
    return 1


def case_directives(rules_text):
    """The extra arguments (first line, as tests/golden_test.py reads them)
    and the expected exit status of an error case."""
    lines = rules_text.split("\n")
    extra, exit_status = [], 1
    m = re.match(r"//\s*netpolc-args:(.*)$", lines[0])
    if m:
        extra = shlex.split(m.group(1))
    for line in lines:
        m = re.match(r"\s*//\s*netpolc-exit:\s*(\d+)\s*$", line)
        if m:
            exit_status = int(m.group(1))
    return extra, exit_status


def check_case(netpolc, root, case, update):
    """Runs one case (a path relative to `root`); returns a list of problems."""
    base = case[:-len(".netpol")]
    extra, want_status = case_directives(read(os.path.join(root, case)))
    status, out, err = run_netpolc(netpolc, ["build", case, "--target", "markdown"] + extra, cwd=root)
    err_path = os.path.join(root, base + ".err")
    md_path = os.path.join(root, base + ".md")
    if os.path.exists(err_path):
        if update:
            write(err_path, err)
            return []
        problems = []
        if status != want_status:
            problems.append(f"exit status {status}, expected {want_status}; stdout:\n{out}")
        expected = read(err_path)
        if err != expected:
            problems.append("stderr differs:\n" + unified(expected.split("\n"), err.split("\n"),
                                                          base + ".err", "stderr"))
        return problems
    if status != 0:
        return [f"exit status {status}, expected 0; stderr:\n{err}"]
    if err:
        return [f"unexpected stderr:\n{err}"]
    if update:
        write(md_path, out)
        return []
    if not os.path.exists(md_path):
        return [f"missing expected output {base}.md (or {base}.err for a failing case)"]
    expected = read(md_path)
    if out != expected:
        return ["output differs:\n" + unified(expected.split("\n"), out.split("\n"), base + ".md", "netpolc output")]
    return []


def cmd_cases(args):
    netpolc = args.netpolc
    root = args.root
    cases = []
    for d in args.dir:
        for f in sorted(os.listdir(os.path.join(root, d))):
            if f.endswith(".netpol"):
                cases.append(os.path.join(d, f))
    if not cases:
        print(f"FAIL: no cases in {', '.join(args.dir)}")
        return 1
    failures = 0
    for case in cases:
        problems = check_case(netpolc, root, case, args.update)
        if args.update:
            print(f"updated {case}")
        elif problems:
            failures += 1
            print(f"FAIL: {case}")
            for p in problems:
                print("  " + p.replace("\n", "\n  ").rstrip())
        else:
            print(f"PASS: {case}")
    # Expected files without a case are mistakes (a renamed case).
    orphans = []
    for d in args.dir:
        for f in sorted(os.listdir(os.path.join(root, d))):
            if (f.endswith(".md") and not f.endswith(".tmpl.md")) or f.endswith(".err"):
                if not os.path.exists(os.path.join(root, d, os.path.splitext(f)[0] + ".netpol")):
                    orphans.append(os.path.join(d, f))
    for orphan in orphans:
        print(f"FAIL: {orphan} belongs to no case")
    if args.update:
        print(f"updated {len(cases)} cases; review the diff")
        return 0
    print(f"markdown cases: {len(cases) - failures} passed, {failures} failed")
    return 1 if failures or orphans else 0


class NormaliseTest(unittest.TestCase):
    def test_padding_and_dashes_are_ignored(self):
        a = "| **Type** | **Port** |\n|----------|----------|\n| TCP      | 80       |\n"
        b = "| **Type** | **Port** |\n|---|---|\n|TCP|80|\n"
        self.assertEqual(normalise(a), normalise(b))

    def test_cell_text_is_compared(self):
        self.assertNotEqual(normalise("| TCP | 80 |"), normalise("| TCP | 81 |"))
        self.assertNotEqual(normalise("| Kafka pods |"), normalise("| Kafka  pods |"))

    def test_columns_are_compared(self):
        self.assertNotEqual(normalise("| a | b |"), normalise("| a | b | |"))

    def test_escaped_pipe_stays_in_its_cell(self):
        self.assertEqual(split_cells("| a \\| b | c |"), [" a \\| b ", " c "])

    def test_other_lines_are_exact(self):
        self.assertNotEqual(normalise("Some  text"), normalise("Some text"))
        self.assertNotEqual(normalise("text \n"), normalise("text\n"))
        self.assertNotEqual(normalise("a\n\nb"), normalise("a\nb"))

    def test_alignment_colons_are_kept(self):
        self.assertNotEqual(normalise("|:---|"), normalise("|----|"))
        self.assertEqual(normalise("|:---:|"), normalise("| :-: |"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("spec")
    p.add_argument("--netpolc", required=True)
    p.add_argument("--rules", required=True)
    p.add_argument("--template", required=True)
    p.add_argument("--expected", required=True)
    parsers = []
    p = sub.add_parser("fresh")
    parsers.append(p)
    p.add_argument("--netpolc", required=True)
    p.add_argument("--rules", required=True)
    p.add_argument("--template", required=True)
    p.add_argument("--page", required=True)
    p.add_argument("--update", action="store_true")
    p = sub.add_parser("cases")
    parsers.append(p)
    p.add_argument("--netpolc", required=True)
    p.add_argument("--root", default=".")
    p.add_argument("--dir", required=True, action="append")
    p.add_argument("--update", action="store_true")
    sub.add_parser("selftest")
    for p in parsers:
        p.add_argument("--in-workspace", action="store_true")
    args = parser.parse_args()
    if getattr(args, "in_workspace", False):
        workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
        if not workspace:
            parser.error("--in-workspace needs BUILD_WORKSPACE_DIRECTORY (use bazel run)")
        if args.command == "fresh":
            args.page = os.path.join(workspace, args.page)
        else:
            args.root = workspace
    if args.command == "selftest":
        result = unittest.main(argv=[sys.argv[0]], exit=False, verbosity=2).result
        return 0 if result.wasSuccessful() else 1
    return {"spec": cmd_spec, "fresh": cmd_fresh, "cases": cmd_cases}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
