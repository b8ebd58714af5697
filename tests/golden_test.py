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

A first line `// netpolc-args: ARGS...` adds arguments (shell-quoted) to every
run of that case, e.g. `// netpolc-args: --set metrics=true`.

Run as a test: `./bazelw test //tests:golden_test`.
Update the expected files (then review the diff with git):
`./bazelw run //tests:update_goldens`.
"""

import difflib
import os
import shlex
import subprocess
import sys

EXTENSIONS = [
    (".ir", "ir"),
    (".k8s.yaml", "k8s"),
    (".cilium.yaml", "cilium"),
    (".calico.yaml", "calico"),
    (".md", "markdown"),
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
        cwd=root, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    return proc


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
    for dirpath, _, files in os.walk(os.path.join(root, TESTDATA)):
        for name in files:
            if name.endswith(".netpol"):
                cases.append(os.path.relpath(os.path.join(dirpath, name), root))
    cases.sort()
    if not cases:
        print("no golden cases found under", TESTDATA)
        return 1

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
        if not expectations:
            print(f"FAIL {case}: no expected files beside it")
            failed += 1
            continue
        for ext, target in expectations:
            if target is None:
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
            with open(expected_path, encoding="utf-8") as f:
                expected = f.read()
            label = f"{case} -> {ext}"
            if actual == expected and ok_status:
                passed += 1
                continue
            if update:
                with open(expected_path, "w", encoding="utf-8") as f:
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
            sys.stdout.writelines("  " + line for line in diff)
            if not actual.endswith("\n"):
                print()
    if update:
        print(f"{updated} updated, {passed} unchanged")
        return 0
    print(f"golden: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
