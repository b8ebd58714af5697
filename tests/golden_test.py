#!/usr/bin/env python3
"""File-based golden tests for netpolc.

Every `tests/testdata/<suite>/<case>.netpol` is compiled and compared with the
expected files beside it:

  <case>.ir            --target ir (stdout)
  <case>.k8s.yaml      --target k8s
  <case>.cilium.yaml   --target cilium
  <case>.calico.yaml   --target calico
  <case>.md            --target markdown
  <case>.stderr        --target ir, expecting failure: the exact stderr,
                       followed by a line "[exit status N]"
  <case>.fmt           `netpolc fmt` (stdout): the formatter's layout
  <case>.fmt.stderr    `netpolc fmt`, expecting failure (an input that does not
                       parse): the exact stderr and "[exit status N]"
  <case>.check         `netpolc check`: stdout and stderr, then "[exit status N]"
  <case>.check.json    `netpolc check --format json`: stdout, then "[exit status N]"
  <case>.mmd           `netpolc graph --format mermaid` (stdout)
  <case>.dot           `netpolc graph --format dot` (stdout)

Every `tests/testdata/<suite>/<name>.cmds` is a transcript: blocks of a line
`$ netpolc ARGS...` (run in the workspace root, paths relative to it) followed
by its stdout and stderr and "[exit status N]", blocks separated by a blank
line (for explain, diff, values files...). A .netpol that a transcript names
needs no expected files of its own.

Every case is also formatted, and must keep the formatter's promises: an
input that parses is formatted (inputs with a .stderr or .fmt.stderr may be
refused), formatting the result changes nothing, and the result compiles to
the same k8s and ir output (line numbers aside).

A first line `// netpolc-args: ARGS...` adds arguments (shell-quoted) to every
run of that case, e.g. `// netpolc-args: --set metrics=true` (check and graph
take only its --set and --values arguments).

Run as a test: `./bazelw test //tests:golden_test`.
Update the expected files (then review the diff with git):
`./bazelw run //tests:update_goldens`.
"""

import difflib
import os
import shlex
import shutil
import re
import subprocess
import sys
import tempfile

EXTENSIONS = [
    (".ir", "ir"),
    (".k8s.yaml", "k8s"),
    (".cilium.yaml", "cilium"),
    (".calico.yaml", "calico"),
    (".md", "markdown"),
]
FMT_EXTENSIONS = [
    (".fmt", "fmt"),
    (".fmt.stderr", "fmt-failure"),
]
# Analysis commands: extension -> (arguments before the case, whether the exit
# status and stderr are part of the expected output).
ANALYSIS_EXTENSIONS = [
    (".check", (["check"], True)),
    (".check.json", (["check", "--format", "json"], True)),
    (".mmd", (["graph", "--format", "mermaid"], False)),
    (".dot", (["graph", "--format", "dot"], False)),
]
TESTDATA = os.path.join("tests", "testdata")


def find_netpolc():
    if len(sys.argv) > 1 and not sys.argv[1].startswith("--"):
        return os.path.abspath(sys.argv[1])
    raise SystemExit("usage: golden_test.py NETPOLC [--update]")


def case_args(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        first = f.readline()
    prefix = "// netpolc-args:"
    if first.startswith(prefix):
        return shlex.split(first[len(prefix):])
    return []


def run(netpolc, rel_path, target, extra, root):
    proc = subprocess.run(
        [netpolc, "build", rel_path, "--target", target] + extra,
        cwd=root, capture_output=True, env={"PATH": "/usr/bin:/bin"})
    # Outputs may echo invalid UTF-8 from an input: keep the bytes as they are.
    proc.stdout = proc.stdout.decode("utf-8", "surrogateescape")
    proc.stderr = proc.stderr.decode("utf-8", "surrogateescape")
    return proc


def run_command(netpolc, args, root):
    proc = subprocess.run([netpolc] + args, cwd=root, capture_output=True,
                          env={"PATH": "/usr/bin:/bin"})
    proc.stdout = proc.stdout.decode("utf-8", "surrogateescape")
    proc.stderr = proc.stderr.decode("utf-8", "surrogateescape")
    return proc


def config_args(extra):
    """The --set and --values arguments of a case's netpolc-args."""
    out = []
    i = 0
    while i < len(extra):
        arg = extra[i]
        if arg in ("--set", "--values") and i + 1 < len(extra):
            out += [arg, extra[i + 1]]
            i += 2
            continue
        if arg.startswith("--set=") or arg.startswith("--values="):
            out.append(arg)
        i += 1
    return out


def transcript_commands(text):
    """The `$ netpolc ...` lines of a transcript."""
    return [line[2:] for line in text.splitlines() if line.startswith("$ ")]


def run_transcript(netpolc, text, root):
    """Runs every command of a transcript; returns the transcript they produce."""
    blocks = []
    for command in transcript_commands(text):
        words = shlex.split(command)
        if not words or words[0] != "netpolc":
            blocks.append(f"$ {command}\n[not a netpolc command]\n")
            continue
        proc = run_command(netpolc, words[1:], root)
        output = proc.stdout + proc.stderr
        if output and not output.endswith("\n"):
            output += "\n"
        blocks.append(f"$ {command}\n{output}[exit status {proc.returncode}]\n")
    return "\n".join(blocks)


def run_fmt(netpolc, args, root, stdin=None):
    proc = subprocess.run(
        [netpolc, "fmt"] + args, cwd=root, capture_output=True, env={"PATH": "/usr/bin:/bin"},
        input=None if stdin is None else stdin.encode("utf-8", "surrogateescape"))
    proc.stdout = proc.stdout.decode("utf-8", "surrogateescape")
    proc.stderr = proc.stderr.decode("utf-8", "surrogateescape")
    return proc


def without_positions(output):
    """Compiler output without what formatting may change: the header line
    naming the input, and line numbers."""
    output = output.split("\n", 1)[1] if "\n" in output else ""
    return re.sub(r"\b(lines?) \d+(, \d+)*", r"\1 N", output)


def fmt_problems(netpolc, case, root, extra, may_be_refused):
    """The formatter's promises on the input `case`; returns what is broken."""
    first = run_fmt(netpolc, [case], root)
    if first.returncode != 0:
        if may_be_refused and first.returncode == 1:
            return []
        return [f"fmt failed with exit status {first.returncode}:\n{first.stderr}"]
    problems = []
    second = run_fmt(netpolc, ["-"], root, stdin=first.stdout)
    if second.returncode != 0 or second.stdout != first.stdout:
        diff = "".join(difflib.unified_diff(first.stdout.splitlines(True),
                                            second.stdout.splitlines(True),
                                            "formatted once", "formatted twice"))
        problems.append(f"fmt is not idempotent (exit status {second.returncode}):\n"
                        f"{diff}{second.stderr}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
        # The case's folder is copied, so that the files it imports are
        # found beside the formatted copy.
        shutil.copytree(os.path.join(root, os.path.dirname(case)), os.path.join(tmp, "case"))
        formatted = os.path.join(tmp, "case", os.path.basename(case))
        with open(formatted, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(first.stdout)
        for target in ("k8s", "ir"):
            before = run(netpolc, case, target, extra, root)
            after = run(netpolc, formatted, target, extra, root)
            if before.returncode != after.returncode:
                problems.append(f"--target {target} exits {before.returncode} on the input "
                                f"but {after.returncode} on the formatted input")
            elif before.returncode == 0 and (without_positions(before.stdout) !=
                                             without_positions(after.stdout)):
                problems.append(f"--target {target}: the formatted input compiles differently")
    return problems


def main():
    netpolc = find_netpolc()
    update = "--update" in sys.argv
    if update:
        root = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
        if not root:
            raise SystemExit("--update must run under `bazel run` (BUILD_WORKSPACE_DIRECTORY)")
    else:
        root = os.getcwd()  # the runfiles tree mirrors the workspace
    cases = []
    transcripts = []
    for dirpath, _, files in os.walk(os.path.join(root, TESTDATA)):
        for name in files:
            if name.endswith(".netpol"):
                cases.append(os.path.relpath(os.path.join(dirpath, name), root))
            elif name.endswith(".cmds"):
                transcripts.append(os.path.relpath(os.path.join(dirpath, name), root))
    cases.sort()
    transcripts.sort()
    if not cases:
        print("no golden cases found under", TESTDATA)
        return 1
    # Rules files that transcripts name (e.g. the NEW side of a diff) are
    # inputs: they need no expected files of their own.
    named_by_transcripts = set()
    for transcript in transcripts:
        with open(os.path.join(root, transcript), encoding="utf-8", errors="surrogateescape") as f:
            for command in transcript_commands(f.read()):
                named_by_transcripts.update(shlex.split(command))

    passed = failed = updated = 0
    for case in cases:
        base = case[: -len(".netpol")]
        extra = case_args(os.path.join(root, case))
        expectations = []
        for ext, target in EXTENSIONS:
            if os.path.exists(os.path.join(root, base + ext)):
                expectations.append((ext, target))
        if os.path.exists(os.path.join(root, base + ".stderr")):
            expectations.append((".stderr", None))
        for ext, target in FMT_EXTENSIONS:
            if os.path.exists(os.path.join(root, base + ext)):
                expectations.append((ext, target))
        for ext, target in ANALYSIS_EXTENSIONS:
            if os.path.exists(os.path.join(root, base + ext)):
                expectations.append((ext, target))
        if not expectations and case not in named_by_transcripts:
            print(f"FAIL {case}: no expected files beside it")
            failed += 1
            continue
        for ext, target in expectations:
            if isinstance(target, tuple):
                command, with_status = target
                proc = run_command(netpolc, command + [case] + config_args(extra), root)
                actual = proc.stdout
                if with_status:
                    if ext == ".check":
                        actual += proc.stderr
                    actual += f"[exit status {proc.returncode}]\n"
                    ok_status = proc.returncode in (0, 1)
                else:
                    ok_status = proc.returncode == 0
                    if not ok_status:
                        actual += proc.stderr
            elif target == "fmt":
                proc = run_fmt(netpolc, [case], root)
                actual = proc.stdout
                ok_status = proc.returncode == 0
                if not ok_status:
                    actual += proc.stderr
            elif target == "fmt-failure":
                proc = run_fmt(netpolc, [case], root)
                actual = proc.stderr + f"[exit status {proc.returncode}]\n"
                ok_status = proc.returncode != 0
            elif target is None:
                proc = run(netpolc, case, "ir", extra, root)
                actual = proc.stderr + f"[exit status {proc.returncode}]\n"
                ok_status = proc.returncode != 0
            else:
                proc = run(netpolc, case, target, extra, root)
                actual = proc.stdout
                ok_status = proc.returncode == 0
                if not ok_status:
                    actual += proc.stderr
            expected_path = os.path.join(root, base + ext)
            # newline="": outputs are compared byte for byte, line ends too.
            with open(expected_path, encoding="utf-8", errors="surrogateescape",
                      newline="") as f:
                expected = f.read()
            label = f"{case} -> {ext}"
            if actual == expected and ok_status:
                passed += 1
                continue
            if update:
                with open(expected_path, "w", encoding="utf-8", errors="surrogateescape",
                          newline="") as f:
                    f.write(actual)
                print(f"UPDATED {base + ext}")
                updated += 1
                continue
            failed += 1
            print(f"FAIL {label}")
            if not ok_status:
                print(f"  unexpected exit status {proc.returncode}")
            diff = difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                        base + ext + " (expected)", "actual")
            for line in diff:
                sys.stdout.write("  " + line.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            if not actual.endswith("\n"):
                print()
        if not update:
            may_be_refused = any(ext in (".stderr", ".fmt.stderr") for ext, _ in expectations)
            problems = fmt_problems(netpolc, case, root, extra, may_be_refused)
            if problems:
                failed += 1
                print(f"FAIL {case} -> fmt")
                for problem in problems:
                    print("  " + problem.replace("\n", "\n  ").rstrip())
            else:
                passed += 1
    for transcript in transcripts:
        path = os.path.join(root, transcript)
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            expected = f.read()
        actual = run_transcript(netpolc, expected, root)
        if actual == expected and "[not a netpolc command]" not in actual:
            passed += 1
            continue
        if update:
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(actual)
            print(f"UPDATED {transcript}")
            updated += 1
            continue
        failed += 1
        print(f"FAIL {transcript}")
        diff = difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                    transcript + " (expected)", "actual")
        for line in diff:
            sys.stdout.write("  " + line.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
        if not actual.endswith("\n"):
            print()
    if update:
        print(f"{updated} updated, {passed} unchanged")
        return 0
    print(f"golden: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
