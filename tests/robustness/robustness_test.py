#!/usr/bin/env python3
"""Hostile input and careless use, end to end: output files (symlinks, devices,
FIFOs, hard links, modes, owners, read-only files, umask, long names), outputs
that are inputs, write errors on stdout, unbounded inputs (/dev/zero), huge
lists, allocation failure, line endings, and reading the rules from stdin.

usage: robustness_test.py NETPOLC
"""
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import unittest

NETPOLC = None

RULES = """\
flag tls = true;
component kafka {
  labels { "app.kubernetes.io/name": "kafka" }
  ingress 9093 from admin when tls;
}
component admin {
  labels { "app.kubernetes.io/name": "admin" }
}
"""

# Not in the canonical layout: `fmt --write` rewrites it.
UNFORMATTED = "component   a {\nlabels { \"app\": \"a\" }\n}\n"

TEMPLATE = "# Page\n\n<!-- netpolc:components -->\n"

# The address-space cap for runs that could eat the machine before a fix;
# None when the binary cannot run under it (a sanitizer build reserves
# terabytes of address space).
MEMORY_CAP = None


def limit_memory(cap):
    def apply():
        if cap is not None:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return apply


def run(args, stdin=None, cap=None, timeout=120, **kwargs):
    return subprocess.run([NETPOLC] + args, stdin=stdin, capture_output=True,
                          timeout=timeout, preexec_fn=limit_memory(cap), **kwargs)


def probe_memory_cap():
    global MEMORY_CAP
    cap = 4 << 30
    try:
        proc = run(["--version"], cap=cap, timeout=60)
    except subprocess.TimeoutExpired:
        return
    if proc.returncode == 0:
        MEMORY_CAP = cap


def run_into_closed_pipe(args, timeout):
    """Runs netpolc ARGS with stdout a pipe whose read end is closed and
    SIGPIPE ignored, so that writes fail with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)

    def ignore_sigpipe():
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        return subprocess.run([NETPOLC] + args, stdout=write_end, stderr=subprocess.PIPE,
                              timeout=timeout, preexec_fn=ignore_sigpipe)
    finally:
        os.close(write_end)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR"))
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text, mode=None):
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def read(self, path):
        with open(path, "rb") as f:
            return f.read().decode()

    def no_temp_files(self):
        left = [n for n in os.listdir(self.dir) if n.startswith(".np") or "netpolc-tmp" in n]
        self.assertEqual(left, [])


class OutputFiles(Base):
    """Item 1 and 4: -o and fmt --write on what exists already."""

    def build_to(self, out, *extra):
        rules = self.write("r.netpol", RULES)
        return run(["build", rules, "--target", "ir", "-o", out] + list(extra))

    def expected_ir(self):
        return run(["build", self.write("r.netpol", RULES), "--target", "ir"]).stdout.decode()

    def test_output_through_symlink(self):
        real = self.write("real.yaml", "old\n")
        link = self.path("link.yaml")
        os.symlink("real.yaml", link)
        proc = self.build_to(link)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(os.path.islink(link), "the symlink was replaced")
        self.assertEqual(self.read(real), self.expected_ir())
        self.no_temp_files()

    def test_output_through_dangling_symlink_creates_target(self):
        link = self.path("link.yaml")
        os.symlink("new.yaml", link)
        proc = self.build_to(link)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(os.path.islink(link))
        self.assertEqual(self.read(self.path("new.yaml")), self.expected_ir())

    def test_output_to_fifo_is_written_directly(self):
        fifo = self.path("fifo")
        os.mkfifo(fifo)
        got = []

        def reader():
            with open(fifo, "rb") as f:
                got.append(f.read())
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        try:
            proc = self.build_to(fifo)
        finally:
            if thread.is_alive():
                # Unblock the reader if netpolc never opened the FIFO.
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                    os.close(fd)
                except OSError:
                    pass
            thread.join(10)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced")
        self.assertEqual(got, [self.expected_ir().encode()])

    def test_output_to_stdout_device(self):
        # /proc/self/fd/1 is what /dev/stdout links to.
        proc = self.build_to("/proc/self/fd/1")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.decode(), self.expected_ir())

    def test_output_to_dev_stdout_appending(self):
        # `-o /dev/stdout >> log` appends to the log: the descriptor is
        # written, not the file it names replaced.
        log = self.write("log.txt", "earlier\n")
        rules = self.write("r.netpol", RULES)
        # Where /dev is writable, a broken netpolc could replace /dev/stdout
        # itself: /dev/fd/1 names the same descriptor.
        name = "/dev/fd/1" if os.access("/dev", os.W_OK) else "/dev/stdout"
        with open(log, "ab") as out:
            proc = subprocess.run([NETPOLC, "build", rules, "--target", "ir", "-o", name],
                                  stdout=out, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.read(log), "earlier\n" + self.expected_ir())
        self.no_temp_files()

    def test_output_to_closed_descriptor(self):
        rules = self.write("r.netpol", RULES)
        proc = subprocess.run([NETPOLC, "build", rules, "--target", "ir", "-o", "/dev/fd/9"],
                              capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"cannot write '/dev/fd/9': Bad file descriptor", proc.stderr)

    def test_output_to_dev_null(self):
        before = os.stat("/dev/null")
        if os.access("/dev", os.W_OK):
            # A broken netpolc could replace the machine's /dev/null.
            self.skipTest("/dev is writable here")
        proc = self.build_to("/dev/null")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        after = os.stat("/dev/null")
        self.assertTrue(stat.S_ISCHR(after.st_mode))
        self.assertEqual((before.st_dev, before.st_ino), (after.st_dev, after.st_ino))

    def test_output_keeps_mode(self):
        out = self.write("out.yaml", "old\n", mode=0o640)
        proc = self.build_to(out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o640)
        self.assertEqual(self.read(out), self.expected_ir())

    def test_output_keeps_hard_links(self):
        out = self.write("out.yaml", "old\n")
        other = self.path("other.yaml")
        os.link(out, other)
        proc = self.build_to(out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(os.stat(out).st_ino, os.stat(other).st_ino, "the hard link was broken")
        self.assertEqual(self.read(other), self.expected_ir())
        self.no_temp_files()

    def test_output_keeps_owner(self):
        if os.geteuid() != 0:
            self.skipTest("changing a file's owner needs root")
        out = self.write("out.yaml", "old\n", mode=0o640)
        try:
            os.chown(out, 4321, 4321)
        except OSError as e:
            self.skipTest(f"cannot give the file another owner here: {e}")
        proc = self.build_to(out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        info = os.stat(out)
        self.assertEqual((info.st_uid, info.st_gid), (4321, 4321))
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o640)
        self.assertEqual(self.read(out), self.expected_ir())
        self.no_temp_files()

    def test_failed_build_leaves_output_alone(self):
        # The policies are rendered (and a regular output written) batch by
        # batch; an error found in the last batch (two components with one
        # policy name) leaves the old file and nothing else.
        lines = []
        for i in range(3000):
            lines.append(f'component c{i} {{ labels {{ "app": "c{i}" }} '
                         f'ingress 80 from c{(i + 1) % 3000}; }}')
        lines.append('component y { labels { "app": "y" } policy "dup"; ingress 80 from anywhere; }')
        lines.append('component z { labels { "app": "z" } policy "dup"; ingress 80 from anywhere; }')
        rules = self.write("dup.netpol", "\n".join(lines) + "\n")
        for target in ("k8s", "ir"):
            out = self.write("out.yaml", "old\n", mode=0o640)
            proc = run(["build", rules, "--target", target, "-o", out])
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertEqual(self.read(out), "old\n")
            self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o640)
            self.no_temp_files()
            new = self.path("new.yaml")
            proc = run(["build", rules, "--target", target, "-o", new])
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertFalse(os.path.exists(new))
            self.no_temp_files()

    def test_new_output_honours_umask(self):
        out = self.path("new.yaml")
        rules = self.write("r.netpol", RULES)

        def umask077():
            os.umask(0o077)
        proc = subprocess.run([NETPOLC, "build", rules, "--target", "ir", "-o", out],
                              capture_output=True, timeout=60, preexec_fn=umask077)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)

    def test_new_output_default_mode_from_umask_022(self):
        out = self.path("new.yaml")
        rules = self.write("r.netpol", RULES)

        def umask022():
            os.umask(0o022)
        proc = subprocess.run([NETPOLC, "build", rules, "--target", "ir", "-o", out],
                              capture_output=True, timeout=60, preexec_fn=umask022)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o644)

    def test_output_directory_message(self):
        os.mkdir(self.path("d"))
        for target in ("d/", "d"):
            proc = self.build_to(self.path(target))
            self.assertEqual(proc.returncode, 2)
            err = proc.stderr.decode()
            self.assertIn("is a directory", err)
            self.assertNotIn("Not a directory", err)
        proc = self.build_to(self.path("missing/"))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("names a directory", proc.stderr.decode())

    def test_output_read_only_is_refused(self):
        out = self.write("out.yaml", "old\n", mode=0o444)
        proc = self.build_to(out)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("read-only", proc.stderr.decode())
        self.assertEqual(self.read(out), "old\n")

    def test_output_long_name(self):
        name = "o" * 250 + ".yaml"  # 255 bytes: NAME_MAX
        proc = self.build_to(self.path(name))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.read(self.path(name)), self.expected_ir())
        self.write(name, "old\n")
        proc = self.build_to(self.path(name))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.no_temp_files()

    def test_fmt_write_through_symlink(self):
        real = self.write("real.netpol", UNFORMATTED)
        link = self.path("link.netpol")
        os.symlink("real.netpol", link)
        proc = run(["fmt", "--write", link])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(os.path.islink(link), "the symlink was replaced")
        self.assertNotEqual(self.read(real), UNFORMATTED)
        self.assertEqual(run(["fmt", "--check", real]).returncode, 0)

    def test_fmt_write_keeps_hard_links(self):
        a = self.write("a.netpol", UNFORMATTED)
        b = self.path("b.netpol")
        os.link(a, b)
        proc = run(["fmt", "--write", a])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(os.stat(a).st_ino, os.stat(b).st_ino, "the hard link was broken")
        self.assertEqual(os.stat(a).st_nlink, 2)
        self.assertNotEqual(self.read(b), UNFORMATTED)
        self.no_temp_files()

    def test_fmt_write_keeps_mode(self):
        for mode in (0o600, 0o755, 0o640):
            path = self.write("m.netpol", UNFORMATTED, mode=mode)
            proc = run(["fmt", "--write", path])
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), mode)
            self.assertNotEqual(self.read(path), UNFORMATTED)

    def test_fmt_write_keeps_owner(self):
        if os.geteuid() != 0:
            self.skipTest("changing a file's owner needs root")
        path = self.write("o.netpol", UNFORMATTED)
        try:
            os.chown(path, 4321, 4321)
        except OSError as e:
            self.skipTest(f"cannot give the file another owner here: {e}")
        proc = run(["fmt", "--write", path])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        info = os.stat(path)
        self.assertEqual((info.st_uid, info.st_gid), (4321, 4321))
        self.assertNotEqual(self.read(path), UNFORMATTED)

    def test_fmt_write_refuses_read_only(self):
        path = self.write("ro.netpol", UNFORMATTED, mode=0o444)
        proc = run(["fmt", "--write", path])
        self.assertEqual(proc.returncode, 2)
        self.assertIn("read-only", proc.stderr.decode())
        self.assertEqual(self.read(path), UNFORMATTED)

    def test_fmt_write_long_name(self):
        name = "f" * 248 + ".netpol"  # 255 bytes
        path = self.write(name, UNFORMATTED)
        proc = run(["fmt", "--write", path])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotEqual(self.read(path), UNFORMATTED)
        self.no_temp_files()

    def test_interrupted_write_leaves_no_temp_file(self):
        # A large output takes a while to write. The run is stopped as soon
        # as its temporary file appears, sent SIGTERM and resumed: the
        # temporary file must go, the old output stay.
        lines = ["flag tls = true;"]
        for i in range(20000):
            lines.append(f'component c{i} {{ labels {{ "app": "c{i}" }} '
                         f'ingress 80, 443, 8080 from c{(i + 1) % 20000} when tls; }}')
        rules = self.write("big.netpol", "\n".join(lines) + "\n")
        out = self.write("out.yaml", "old\n")

        def temp_files():
            return [n for n in os.listdir(self.dir)
                    if n.startswith(".np") or "netpolc-tmp" in n]
        caught = 0
        for attempt in range(5):
            proc = subprocess.Popen([NETPOLC, "build", rules, "--target", "k8s", "-o", out],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                while proc.poll() is None:
                    if temp_files():
                        proc.send_signal(signal.SIGSTOP)
                        if temp_files():
                            proc.send_signal(signal.SIGTERM)
                            caught += 1
                        proc.send_signal(signal.SIGCONT)
                        break
                proc.wait(120)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if caught:
                self.assertEqual(proc.returncode, -signal.SIGTERM)
                self.assertEqual(temp_files(), [])
                self.assertEqual(self.read(out), "old\n")
                return
            self.write("out.yaml", "old\n")
        self.skipTest("the temporary file was never seen while it existed")


class OutputIsInput(Base):
    """Item 2: -o naming an input is refused, by device and inode."""

    def test_output_is_rules_file(self):
        rules = self.write("r.netpol", RULES)
        for out in (rules, os.path.join(self.dir, ".", "r.netpol")):
            proc = run(["build", rules, "--target", "ir", "-o", out])
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("is also an input", proc.stderr.decode())
            self.assertEqual(self.read(rules), RULES)

    def test_output_is_rules_file_by_hard_link_and_symlink(self):
        rules = self.write("r.netpol", RULES)
        os.link(rules, self.path("hard.yaml"))
        os.symlink("r.netpol", self.path("soft.yaml"))
        for out in ("hard.yaml", "soft.yaml"):
            proc = run(["build", rules, "--target", "ir", "-o", self.path(out)])
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertEqual(self.read(rules), RULES)

    def test_output_is_template(self):
        rules = self.write("r.netpol", RULES)
        template = self.write("page.md", TEMPLATE)
        proc = run(["build", rules, "--target", "markdown", "--template", template,
                    "-o", template])
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(self.read(template), TEMPLATE)

    def test_output_is_values_file(self):
        rules = self.write("r.netpol", RULES)
        values = self.write("v.yaml", "tls: false\n")
        for command in (["build", rules, "--target", "ir"], ["graph", rules]):
            proc = run(command + ["--values", values, "-o", values])
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertEqual(self.read(values), "tls: false\n")

    def test_manifest_commands_output_is_input(self):
        manifest = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                    "metadata: {name: deny, namespace: a}\n"
                    "spec: {podSelector: {}, policyTypes: [Ingress]}\n")
        path = self.write("m.yaml", manifest)
        for command in ("connlist", "import"):
            proc = run([command, path, "-o", path])
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("is also an input", proc.stderr.decode())
            self.assertEqual(self.read(path), manifest)

    def test_graph_output_is_rules_file(self):
        rules = self.write("r.netpol", RULES)
        proc = run(["graph", rules, "-o", rules])
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(self.read(rules), RULES)


class Stdout(Base):
    """Item 3: every write to stdout is checked."""

    def test_dev_full(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        rules = self.write("r.netpol", RULES)
        for args in (["build", rules, "--target", "ir"], ["fmt", rules], ["--help"],
                     ["graph", rules], ["check", rules, "--format", "json"]):
            with open("/dev/full", "wb") as full:
                proc = subprocess.run([NETPOLC] + args, stdout=full, stderr=subprocess.PIPE,
                                      timeout=60)
            self.assertEqual(proc.returncode, 2, args)
            self.assertIn(b"netpolc: error: cannot write <stdout>: No space left on device",
                          proc.stderr)

    def test_closed_pipe_with_sigpipe_ignored(self):
        rules = self.write("r.netpol", RULES)
        proc = run_into_closed_pipe(["build", rules, "--target", "ir"], timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"netpolc: error: cannot write <stdout>: Broken pipe", proc.stderr)


class LargeCheckReport(Base):
    """Item 3 for a report written while it is rendered (check streams its
    findings): write errors, and the same text as with stdout and stderr
    files."""

    def rules_with_findings(self, n=6000):
        # Each component's ingress names the next one, whose egress allows
        # nothing of it, and its egress names the one after, whose ingress
        # admits nothing of it: two errors per component.
        lines = []
        for i in range(n):
            lines.append(f'component c{i} {{ labels {{ "app": "c{i}" }} '
                         f'ingress 80 from c{(i + 1) % n}; egress 9 to c{(i + 2) % n}; }}')
        return self.write("many.netpol", "\n".join(lines) + "\n")

    def test_counts_and_order(self):
        rules = self.rules_with_findings()
        text = run(["check", rules])
        self.assertEqual(text.returncode, 1)
        self.assertEqual(text.stdout, b"")
        self.assertTrue(text.stderr.endswith(b"many.netpol: 12000 errors, 0 warnings\n"),
                        text.stderr[-300:])
        self.assertEqual(text.stderr.count(b": error: "), 12000)
        lines = [int(line.split(b":")[1]) for line in text.stderr.split(b"\n")
                 if b": error: " in line]
        self.assertEqual(lines, sorted(lines))
        json = run(["check", rules, "--format", "json"])
        self.assertEqual(json.returncode, 1)
        self.assertEqual(json.stderr, b"")
        self.assertTrue(json.stdout.startswith(b'{\n  "file": "'), json.stdout[:100])
        self.assertTrue(json.stdout.endswith(b"\n  ]\n}\n"), json.stdout[-100:])
        self.assertEqual(json.stdout.count(b'"severity": "error"'), 12000)

    def test_dev_full(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        rules = self.rules_with_findings()
        with open("/dev/full", "wb") as full:
            proc = subprocess.run([NETPOLC, "check", rules, "--format", "json"], stdout=full,
                                  stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr,
                         b"netpolc: error: cannot write <stdout>: No space left on device\n")

    def test_closed_pipe_with_sigpipe_ignored(self):
        rules = self.rules_with_findings()
        proc = run_into_closed_pipe(["check", rules, "--format", "json"], timeout=120)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr, b"netpolc: error: cannot write <stdout>: Broken pipe\n")

    def test_closed_stderr_keeps_the_status(self):
        # The report cannot be written; the status still says there are errors.
        rules = self.rules_with_findings()
        read_end, write_end = os.pipe()
        os.close(read_end)

        def ignore_sigpipe():
            signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        try:
            proc = subprocess.run([NETPOLC, "check", rules], stdout=subprocess.PIPE,
                                  stderr=write_end, timeout=120, preexec_fn=ignore_sigpipe)
        finally:
            os.close(write_end)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, b"")


class UnboundedInput(Base):
    """Item 10: reads stop at their limit, never reading everything first."""

    def check_refused(self, args, stdin=None):
        proc = run(args, stdin=stdin, cap=MEMORY_CAP, timeout=120)
        self.assertEqual(proc.returncode, 2, proc.stderr[-2000:])
        self.assertIn(b"larger than the limit", proc.stderr)

    def test_rules_dev_zero(self):
        self.check_refused(["build", "/dev/zero", "--target", "ir"])

    def test_rules_stdin_dev_zero(self):
        with open("/dev/zero", "rb") as zero:
            self.check_refused(["fmt", "-"], stdin=zero)
        with open("/dev/zero", "rb") as zero:
            self.check_refused(["build", "-", "--target", "ir"], stdin=zero)

    def test_values_dev_zero(self):
        rules = self.write("r.netpol", RULES)
        self.check_refused(["build", rules, "--target", "ir", "--values", "/dev/zero"])

    def test_template_dev_zero(self):
        rules = self.write("r.netpol", RULES)
        self.check_refused(["build", rules, "--target", "markdown", "--template", "/dev/zero"])

    def test_values_file_limit(self):
        rules = self.write("r.netpol", RULES)
        values = self.write("v.yaml", "# " + "x" * (1 << 20) + "\ntls: true\n")
        proc = run(["build", rules, "--target", "ir", "--values", values])
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"larger than the limit of 1 MiB", proc.stderr)


class Memory(Base):
    """Item 11: memory per input byte is bounded; allocation failure is clean."""

    def test_huge_peer_list(self):
        # 64 MiB of `a, a, a, ...` in one peer list, within the file limit.
        head = 'component a {\n  labels { "app": "a" }\n  ingress 80 from '
        tail = ";\n}\n"
        count = ((64 << 20) - len(head) - len(tail)) // 3
        path = self.path("huge.netpol")
        with open(path, "w") as f:
            f.write(head)
            f.write("a, " * (count - 1))
            f.write("a" + tail)
        self.assertLessEqual(os.path.getsize(path), 64 << 20)
        proc = run(["build", path, "--target", "ir"], cap=MEMORY_CAP, timeout=300)
        err = proc.stderr.decode()
        self.assertEqual(proc.returncode, 1, err[-2000:])
        self.assertIn("huge.netpol:3:", err)
        self.assertIn("[list-too-long]", err)

    def test_too_many_tokens(self):
        # One token per byte, far below the file-size limit: lexing stops at
        # the token limit instead of holding every token.
        path = self.write("semis.netpol", ";" * (9 << 20))
        proc = run(["build", path, "--target", "ir"], cap=MEMORY_CAP, timeout=300)
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        self.assertTrue(proc.stderr.startswith(b"%s:1:8388609: error: the file has more than "
                                               b"8388608 tokens [too-many-tokens]" %
                                               path.encode()), proc.stderr[:300])

    def test_too_many_tokens_in_a_declaration(self):
        # A file compiled declaration by declaration (streamed) holds the
        # limit for each declaration, and says so.
        path = self.write("decl.netpol", "component a {" + ";" * (9 << 20) + "}\n")
        proc = run(["build", path, "--target", "ir"], cap=MEMORY_CAP, timeout=300,
                   env=dict(os.environ, NETPOLC_STREAM_BYTES="1"))
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        # Token 8388609 (hidden ones counted) is the 8388604th ';'.
        self.assertTrue(proc.stderr.startswith(
            b"%s:1:8388617: error: this declaration has more than 8388608 tokens, the limit for "
            b"one declaration of a file compiled declaration by declaration "
            b"[too-many-tokens-in-declaration]" % path.encode()), proc.stderr[:300])
        # Compiled whole, the limit is the file's.
        proc = run(["build", path, "--target", "ir"], cap=MEMORY_CAP, timeout=300)
        self.assertEqual(proc.returncode, 1, proc.stderr[-2000:])
        self.assertTrue(proc.stderr.startswith(b"%s:1:8388617: error: the file has more than "
                                               b"8388608 tokens [too-many-tokens]" %
                                               path.encode()), proc.stderr[:300])

    def test_allocation_failure_is_a_clean_error(self):
        if MEMORY_CAP is None:
            self.skipTest("the binary cannot run with an address-space cap")
        lines = []
        for i in range(20000):
            lines.append(f'component c{i} {{ labels {{ "app": "c{i}" }} '
                         f'ingress 80 from c{(i + 1) % 20000}; }}')
        rules = self.write("big.netpol", "\n".join(lines) + "\n")
        proc = run(["build", rules, "--target", "k8s"], cap=96 << 20, timeout=300)
        self.assertEqual(proc.returncode, 3, proc.stderr[-2000:])
        self.assertIn(b"netpolc: error: out of memory", proc.stderr)


class LargeFile(Base):
    """A rules file past the 64 MiB that commands hold whole: a build for a
    policy target streams it (up to 256 MiB), in memory bounded by the text
    and a few hundred bytes per component, and reports its errors with their
    places; other commands refuse it."""

    COMPONENTS = 36000
    LINES_PER_COMPONENT = 33

    @staticmethod
    def generate(path, components):
        """COMPONENTS components of 30 rules each."""
        n = components
        with open(path, "w") as f:
            f.write("flag tls = true;\n")
            for i in range(n):
                f.write(f'component c{i} {{\n  labels {{ "app": "c{i}" }}\n')
                for r in range(30):
                    f.write(f'  ingress {1000 + r}, {2000 + r}-{2010 + r} from '
                            f'c{(i + r + 1) % n}, c{(i + r + 2) % n}, c{(i + r + 3) % n} '
                            f'when tls;\n')
                f.write("}\n")

    @classmethod
    def setUpClass(cls):
        cls.shared = tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR"))
        cls.large = os.path.join(cls.shared.name, "large.netpol")
        cls.generate(cls.large, cls.COMPONENTS)

    @classmethod
    def tearDownClass(cls):
        cls.shared.cleanup()

    def large_file(self, tail):
        """The large file with TAIL appended, and its number of lines before TAIL."""
        path = self.path("large.netpol")
        with open(self.large, "rb") as src, open(path, "wb") as dst:
            while True:
                block = src.read(1 << 20)
                if not block:
                    break
                dst.write(block)
            dst.write(tail.encode())
        return path, 1 + self.LINES_PER_COMPONENT * self.COMPONENTS

    def run_measured(self, args, env=None):
        """netpolc ARGS: (status, stdout, stderr, peak resident KiB). Started
        from a small Python of its own: a child's peak counts what it had
        before it became netpolc, a copy of its parent."""
        runner = ("import os, subprocess, sys\n"
                  "p = subprocess.Popen(sys.argv[2:], stdout=open(sys.argv[1], 'wb'))\n"
                  "_, status, usage = os.wait4(p.pid, 0)\n"
                  "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n")
        out = self.path("stdout")
        proc = subprocess.run([sys.executable, "-c", runner, out, NETPOLC] + args,
                              capture_output=True, env=dict(os.environ, **(env or {})),
                              timeout=600)
        status, peak = proc.stdout.split()
        with open(out, "rb") as f:
            stdout = f.read()
        return int(status), stdout, proc.stderr, int(peak)

    def test_streaming_bounds_memory(self):
        # The same rules held whole and streamed (NETPOLC_STREAM_BYTES=1).
        path = self.path("small.netpol")
        self.generate(path, 3000)
        out = self.path("out.yaml")
        args = ["build", path, "--target", "k8s", "-o", out]
        status, _, err, whole_kib = self.run_measured(args)
        self.assertEqual(status, 0, err[-2000:])
        with open(out, "rb") as f:
            whole = f.read()
        status, _, err, streamed_kib = self.run_measured(args, {"NETPOLC_STREAM_BYTES": "1"})
        self.assertEqual(status, 0, err[-2000:])
        with open(out, "rb") as f:
            self.assertEqual(f.read(), whole)
        self.assertLess(2 * streamed_kib, whole_kib, (streamed_kib, whole_kib))

    def test_build_streams_a_large_file(self):
        size = os.path.getsize(self.large)
        self.assertGreater(size, 64 << 20)
        out = self.path("out.yaml")
        status, _, err, peak_kib = self.run_measured(
            ["build", self.large, "--target", "k8s", "-o", out])
        self.assertEqual(status, 0, err[-2000:])
        policies = 0
        last = b"\n  name: c%d\n" % (self.COMPONENTS - 1)
        found = False
        with open(out, "rb") as f:
            for line in f:
                policies += line == b"kind: NetworkPolicy\n"
                found = found or line == last[1:]
        self.assertEqual(policies, self.COMPONENTS)
        self.assertTrue(found)
        # Held whole, the module takes several times the text (see above);
        # streamed, the components' headers and a batch (test_text_not_held).
        self.assertLess(peak_kib * 1024, 3 * size, f"peak {peak_kib} KiB for {size} bytes")

    def test_text_not_held(self):
        # The same components with 49 MB more text (a comment of 16 KB in
        # each): streamed from the file, the peak does not grow with it (at
        # this size the allocator's own keeping varies it by some MB); the
        # text held would add all of it.
        plain, padded = self.path("plain.netpol"), self.path("padded.netpol")
        self.generate(plain, 3000)
        with open(plain) as src, open(padded, "w") as dst:
            for line in src:
                dst.write(line)
                if line.startswith("component "):
                    dst.write("  // " + "x" * 16384 + "\n")
        added = os.path.getsize(padded) - os.path.getsize(plain)
        self.assertGreater(added, 45 << 20)
        env = {"NETPOLC_STREAM_BYTES": "1"}
        peaks = []
        for path in (plain, padded):
            status, _, err, peak_kib = self.run_measured(
                ["build", path, "--target", "k8s", "-o", self.path("out.yaml")], env)
            self.assertEqual(status, 0, err[-2000:])
            peaks.append(peak_kib * 1024)
        self.assertLess(peaks[1] - peaks[0], added // 4, (peaks, added))

    @staticmethod
    def windowed(keyword_tail):
        """Rules (bytes, CRLF line ends) that a streamed build reads across
        windows of 4 MiB: multibyte text, a `component` keyword that ends the
        first window exactly (followed by KEYWORD_TAIL), a declaration longer
        than a window, and rules late in the file that warn, quoting lines
        read again."""
        window = 4 << 20
        nl = "\r\n"
        head = ('instance {' + nl + '  namespace "shop";' + nl +
                '  labels { "app.kubernetes.io/instance": "shop" }' + nl + '}' + nl).encode()
        parts = [head]
        size = len(head)
        i = 0
        while size < window - 4096:
            c = (f'component f{i} {{{nl}  labels {{ "app": "f{i}" }} // é ü 中{nl}'
                 f'  ingress 80 from f{max(i - 1, 0)};{nl}}}{nl}').encode()
            parts.append(c)
            size += len(c)
            i += 1
        pad = window - len(b"component") - size - len(b"//" + nl.encode())
        parts.append(b"//" + b"x" * pad + nl.encode())
        parts.append(b"component" + keyword_tail.encode())
        parts.append((f' {{{nl}  labels {{ "app": "edge" }}{nl}  ingress 81 from f0;{nl}}}{nl}'
                      f'component big {{{nl}  labels {{ "app": "big" }}{nl}  /* ').encode())
        parts.append("é".encode() * (5 << 19))
        parts.append((f' */{nl}  ingress 82 from f1;{nl}}}{nl}').encode())
        for k in range(i, i + 2000):
            parts.append((f'component f{k} {{{nl}  labels {{ "app": "f{k}" }} // 中{nl}'
                          f'  egress 80 to f{k - 1};{nl}}}{nl}').encode())
        parts.append((f'component web {{{nl}  labels {{ "app": "web" }}{nl}'
                      f'  ingress 443 from external;{nl}'
                      f'  egress 5432 to cidr "10.0.0.0/8";{nl}}}{nl}').encode())
        text = b"".join(parts)
        assert text.index(b"component" + keyword_tail.encode()) + len(b"component") == window
        return text

    def test_streamed_windows(self):
        # Read whole (under 16 MiB) and streamed from the file: the same
        # output and the same diagnostics, with the same lines quoted.
        for tail, status in ((" edge", 0), ("s_edge", 1)):
            path = self.path("windowed.netpol")
            with open(path, "wb") as f:
                f.write(self.windowed(tail))
            self.assertGreater(os.path.getsize(path), 8 << 20)
            out = self.path("out.yaml")
            args = ["build", path, "--target", "k8s", "-o", out]
            whole = self.run_measured(args)
            self.assertEqual(whole[0], status, whole[2][-2000:])
            with open(out, "rb") as f:
                whole_out = f.read() if status == 0 else None
            streamed = self.run_measured(args, {"NETPOLC_STREAM_BYTES": "1"})
            self.assertEqual(streamed[0], status, streamed[2][-2000:])
            self.assertEqual(streamed[2], whole[2])
            if status == 0:
                with open(out, "rb") as f:
                    self.assertEqual(f.read(), whole_out)
                self.assertIn(b"  egress 5432 to cidr \"10.0.0.0/8\";\n", streamed[2])
            else:
                self.assertIn(b"error:", streamed[2])

    def test_write_fails_mid_build(self):
        # A file size limit makes the writes of -o fail part way (EFBIG):
        # batches written as they are made, streamed or not. The build fails
        # with the error, the old output stays as it was, no temporary file
        # is left.
        def limited():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        rules = self.path("fsize.netpol")
        self.generate(rules, 3000)
        out = self.write("fsize.yaml", "old\n")
        for env in ({}, {"NETPOLC_STREAM_BYTES": "1"}):
            proc = subprocess.run([NETPOLC, "build", rules, "--target", "k8s", "-o", out],
                                  capture_output=True, preexec_fn=limited, timeout=300,
                                  env=dict(os.environ, **env))
            self.assertEqual(proc.returncode, 2, proc.stderr[-2000:])
            self.assertEqual(proc.stderr.decode(),
                             f"netpolc: error: cannot write '{out}': File too large\n")
            self.assertEqual(self.read(out), "old\n")
            self.no_temp_files()

    def test_errors_of_a_large_file(self):
        path, lines = self.large_file('component broken {\n  labels { "app": "b" }\n'
                                      '  ingress 80 from nowhere;\n}\n'
                                      'component c7 { labels { "app": "again" } }\n')
        status, _, err, _ = self.run_measured(["build", path, "--target", "k8s"])
        self.assertEqual(status, 1, err[-2000:])
        self.assertEqual(err.decode().replace(path, "large.netpol").splitlines()[::3], [
            f"large.netpol:{lines + 5}:11: error: component 'c7' is already declared "
            "[duplicate-component]",
            f"large.netpol:{2 + 33 * 7}:11: note: previously declared here "
            "[previous-declaration]",
            f"large.netpol:{lines + 3}:19: error: unknown component 'nowhere' "
            "[unknown-component]"])

    def test_large_file_cannot_import(self):
        # Imports are resolved on the whole file's AST, which a file this
        # large never has.
        self.write("lib.netpol", 'component lib { labels { "app": "lib" } }\n')
        path, _ = self.large_file('import "lib.netpol";\n')
        status, _, err, _ = self.run_measured(["build", path, "--target", "k8s"])
        self.assertEqual(status, 1, err[-2000:])
        self.assertIn(b"large.netpol:1:1: error: the file is larger than 67108864 bytes, which only "
                      b"a build for a policy target compiles, declaration by declaration: it "
                      b"imports other files, which needs the whole file [large-file-not-compiled]",
                      err)

    def test_too_many_components(self):
        # Each component kept without its rules still costs about a kilobyte:
        # a streamed file holds at most 2^20 of them.
        path = self.path("many.netpol")
        n = (1 << 20) + 1
        with open(path, "w") as f:
            for i in range(n):
                f.write('component c%d { labels { "app": "c%d" } ingress 80 from c0; }\n' % (i, i))
        self.assertGreater(os.path.getsize(path), 64 << 20)
        status, _, err, _ = self.run_measured(["build", path, "--target", "k8s"])
        self.assertEqual(status, 1, err[-2000:])
        self.assertIn(b"many.netpol:1:1: error: the file is larger than 67108864 bytes, which only "
                      b"a build for a policy target compiles, declaration by declaration: it "
                      b"declares more than 1048576 components [large-file-not-compiled]", err)

    def test_other_commands_refuse_a_large_file(self):
        for args in (["check", self.large], ["build", self.large, "--target", "markdown"],
                     ["fmt", self.large]):
            status, _, err, _ = self.run_measured(args)
            self.assertEqual(status, 2, err[-2000:])
            self.assertIn(b"larger than the limit of 64 MiB", err)


class Text(Base):
    """Item 14: line endings, backslashes, control characters, stdin."""

    def test_cr_only_line_endings(self):
        path = self.write("cr.netpol", "component a {\r  labels { \"app\": \"a\" }\r"
                          "  ingress 1 from b;\r}\r")
        proc = run(["build", path, "--target", "ir"])
        self.assertEqual(proc.returncode, 1)
        self.assertIn("cr.netpol:3:18: error: unknown component 'b'", proc.stderr.decode())

    def test_mixed_line_endings(self):
        path = self.write("mixed.netpol", "component a {\r\n  labels { \"app\": \"a\" }\n\r"
                          "  ingress 1 from b;\r}\r")
        proc = run(["build", path, "--target", "ir"])
        self.assertEqual(proc.returncode, 1)
        self.assertIn("mixed.netpol:4:18: error: unknown component 'b'", proc.stderr.decode())

    def test_cr_only_fmt_keeps_comments(self):
        path = self.write("crc.netpol", "/* a\rb */\rcomponent a {\r  labels { \"app\": \"a\" }\r}\r")
        proc = run(["fmt", path])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("/* a\rb */", proc.stdout.decode())

    def test_cr_only_syntax_error_location(self):
        path = self.write("crs.netpol", "component a {\r  labels { \"app\": \"a\" }\r  oops\r}\r")
        proc = run(["build", path, "--target", "ir"])
        self.assertEqual(proc.returncode, 1)
        self.assertIn("crs.netpol:4:1: error:", proc.stderr.decode())

    def test_values_file_cr_only_line_endings(self):
        rules = self.write("v.netpol", 'flag tls = true;\nparam n: int = 1;\n'
                           'component a { labels { "app": "a" } }\n')
        values = self.write("v.yaml", "tls: true\r\r\rn: [1]\r")
        proc = run(["build", rules, "--target", "ir", "--values", values])
        self.assertEqual(proc.returncode, 2)
        self.assertIn("v.yaml:4:4: error:", proc.stderr.decode())

    def test_backslash_at_end_of_file(self):
        path = self.write("bs.netpol", 'component a { note ingress "abc\\')
        proc = run(["build", path, "--target", "ir"])
        err = proc.stderr.decode()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("[unterminated-string]", err)
        self.assertNotIn("[unexpected-character]", err)

    def test_raw_nul_in_string(self):
        path = self.write("nul.netpol", 'component a {\n  labels { "app": "a" }\n'
                          '  note ingress "x\x00y";\n}\n')
        proc = run(["build", path, "--target", "ir"])
        err = proc.stderr.decode()
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("nul.netpol:3:18: error:", err)
        self.assertIn("[control-character]", err)

    def test_build_reads_stdin(self):
        rules = self.write("r.netpol", RULES)
        expected = run(["build", rules, "--target", "ir"]).stdout
        with open(rules, "rb") as f:
            proc = run(["build", "-", "--target", "ir"], stdin=f)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # Same output but for the source name in the header (its first line).
        self.assertIn(b"stdin", proc.stdout.split(b"\n", 1)[0])
        self.assertEqual(proc.stdout.split(b"\n", 1)[1], expected.split(b"\n", 1)[1])

    def test_build_stdin_diagnostics_name(self):
        with open(self.write("bad.netpol", "component {"), "rb") as f:
            proc = run(["build", "-", "--target", "ir"], stdin=f)
        self.assertEqual(proc.returncode, 1)
        self.assertTrue(proc.stderr.startswith(b"<stdin>:1:"), proc.stderr)


def shard_suite(index, total):
    """The test classes of shard INDEX of TOTAL (Bazel's test sharding): a
    class whole in one shard (setUpClass is shared), LargeFile, the longest,
    alone in shard 0, the others in turn over the remaining shards."""
    classes = sorted((c for c in globals().values()
                      if isinstance(c, type) and issubclass(c, Base) and c is not Base),
                     key=lambda c: c.__name__)
    others = [c for c in classes if c is not LargeFile]
    if index == 0:
        chosen = [LargeFile]
    else:
        chosen = [c for i, c in enumerate(others) if i % (total - 1) == index - 1]
    loader = unittest.defaultTestLoader
    return unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in chosen)


if __name__ == "__main__":
    NETPOLC = os.path.abspath(sys.argv.pop(1))
    probe_memory_cap()
    total = int(os.environ.get("TEST_TOTAL_SHARDS", "1"))
    if total > 1 and len(sys.argv) == 1:
        if os.environ.get("TEST_SHARD_STATUS_FILE"):
            open(os.environ["TEST_SHARD_STATUS_FILE"], "w").close()
        result = unittest.TextTestRunner(verbosity=2).run(
            shard_suite(int(os.environ["TEST_SHARD_INDEX"]), total))
        sys.exit(0 if result.wasSuccessful() else 1)
    unittest.main(verbosity=2)
