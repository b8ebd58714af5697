"""Bazel rules for building with netpolc: rules files to manifests and docs.

    load(
        "@netpolc//bazel:defs.bzl",
        "netpol_check_test",
        "netpol_checked_in",
        "netpol_docs",
        "netpol_fmt_test",
        "netpol_manifests",
    )

See docs/bazel.md for how a product team adopts them. Every action runs the
netpolc built from this repository (for the execution platform), reads only
its declared inputs and names them by their exec-root-relative paths, so the
outputs hold no absolute paths, timestamps or host state: they are cacheable
and can run remotely.
"""

# The targets of `netpolc build` that produce policies, with the extension of
# the file each gives. Keep in step with backends/registry.cc (checked by
# //bazel/tests:targets_test); a product can build "all targets" with
#     [netpol_manifests(name = "policies_" + t, src = ..., target = t)
#      for t in NETPOL_MANIFEST_TARGETS]
NETPOL_MANIFEST_TARGETS = {
    "k8s": ".yaml",
    "cilium": ".yaml",
    "calico": ".yaml",
    "ir": ".ir",
}

# The target of `netpolc build` that produces the documentation page.
NETPOL_DOCS_TARGET = "markdown"

_NETPOLC = Label("//compiler/cli:netpolc")

def _quote(s):
    """Quotes `s` for a POSIX shell."""
    return "'" + s.replace("'", "'\\''") + "'"

def _settings(name, settings):
    """The `set` dict of a macro as strings: True -> "true", 9092 -> "9092"."""
    out = {}
    for key, value in settings.items():
        if type(value) == "bool":
            out[key] = "true" if value else "false"
        elif type(value) in ("int", "string"):
            out[key] = str(value)
        else:
            fail("%s: set[%r] must be a string, an int or a bool, not %s" % (name, key, type(value)))
    return out

def _set_args(settings):
    """--set NAME=VALUE for each setting, by name (netpolc takes them in any order)."""
    args = []
    for key in sorted(settings.keys()):
        args += ["--set", "%s=%s" % (key, settings[key])]
    return args

# --- netpol_manifests, netpol_docs ------------------------------------------

def _netpol_build_impl(ctx):
    src = ctx.file.src
    out = ctx.outputs.out
    inputs = [src]
    args = ctx.actions.args()
    args.add("build")
    args.add(src)
    args.add("--target", ctx.attr.target)
    if ctx.file.values:
        args.add("--values", ctx.file.values)
        inputs.append(ctx.file.values)
    args.add_all(_set_args(ctx.attr.settings))
    if ctx.file.template:
        args.add("--template", ctx.file.template)
        inputs.append(ctx.file.template)
    args.add("--output", out)
    ctx.actions.run(
        executable = ctx.executable._netpolc,
        arguments = [args],
        inputs = inputs,
        outputs = [out],
        mnemonic = "Netpolc",
        progress_message = "netpolc: compiling %s for %s" % (src.short_path, ctx.attr.target),
    )
    return [DefaultInfo(
        files = depset([out]),
        runfiles = ctx.runfiles(files = [out]),
    )]

_netpol_build = rule(
    implementation = _netpol_build_impl,
    doc = "Runs `netpolc build SRC --target TARGET` into one declared output.",
    attrs = {
        "src": attr.label(mandatory = True, allow_single_file = [".netpol"]),
        "target": attr.string(mandatory = True),
        "values": attr.label(allow_single_file = [".yaml", ".yml"]),
        "settings": attr.string_dict(),
        "template": attr.label(allow_single_file = True),
        "out": attr.output(mandatory = True),
        "_netpolc": attr.label(default = _NETPOLC, executable = True, cfg = "exec"),
    },
)

def netpol_manifests(name, src, target, values = None, set = {}, out = None, **kwargs):
    """The policies of a rules file for one netpolc target, as one file.

    The output, `out` (by default NAME + ".yaml", or ".ir" for the ir target;
    see NETPOL_MANIFEST_TARGETS), is a declared output: refer to it by `:NAME`
    in the data or srcs of other rules (a deployment, a test, a
    pkg_tar).

    Args:
      name: the target name.
      src: the rules file (.netpol).
      target: the netpolc target: "k8s", "cilium", "calico", "ir" (see
        `netpolc targets`).
      values: a YAML file of flag and parameter values (`--values`).
      set: flag and parameter values set on top (`--set NAME=VALUE`), as a
        dict of strings, ints and bools: {"metrics": True, "namespace": "shop"}.
      out: the output file name.
      **kwargs: the common attributes (visibility, tags, testonly, ...).
    """
    _netpol_build(
        name = name,
        src = src,
        target = target,
        values = values,
        settings = _settings(name, set),
        out = out or name + NETPOL_MANIFEST_TARGETS.get(target, ".yaml"),
        **kwargs
    )

def netpol_docs(name, src, template = None, out = None, **kwargs):
    """The documentation page (Markdown) of a rules file.

    The page covers every configuration of the flags, so it takes no values.

    Args:
      name: the target name.
      src: the rules file (.netpol).
      template: the page around the generated tables (`--template`; see
        docs/markdown.md); by default netpolc's own.
      out: the output file name; by default NAME + ".md".
      **kwargs: the common attributes (visibility, tags, testonly, ...).
    """
    _netpol_build(
        name = name,
        src = src,
        target = NETPOL_DOCS_TARGET,
        template = template,
        out = out or name + ".md",
        **kwargs
    )

# --- netpol_check_test, netpol_fmt_test -------------------------------------

def _netpolc_test_script(ctx, arguments, files, on_failure = None):
    """A test executable running netpolc with `arguments` (runfiles paths)."""
    netpolc = ctx.executable._netpolc
    command = " ".join([_quote(a) for a in [netpolc.short_path] + arguments])
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    lines = [
        "#!/bin/sh",
        "# Generated by %s (@netpolc//bazel:defs.bzl)." % ctx.label,
    ]
    if on_failure:
        lines += [
            "%s && exit 0" % command,
            "status=$?",
            "echo >&2",
            "echo %s >&2" % _quote(on_failure),
            "exit $status",
        ]
    else:
        lines.append("exec %s" % command)
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    runfiles = ctx.runfiles(files = files + [netpolc])
    runfiles = runfiles.merge(ctx.attr._netpolc[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

def _netpol_check_test_impl(ctx):
    files = [ctx.file.src]
    arguments = ["check", ctx.file.src.short_path]
    if ctx.file.values:
        arguments += ["--values", ctx.file.values.short_path]
        files.append(ctx.file.values)
    arguments += _set_args(ctx.attr.settings)
    return _netpolc_test_script(ctx, arguments, files)

_netpol_check_test = rule(
    implementation = _netpol_check_test_impl,
    test = True,
    attrs = {
        "src": attr.label(mandatory = True, allow_single_file = [".netpol"]),
        "values": attr.label(allow_single_file = [".yaml", ".yml"]),
        "settings": attr.string_dict(),
        "_netpolc": attr.label(default = _NETPOLC, executable = True, cfg = "target"),
    },
)

def netpol_check_test(name, src, values = None, set = {}, **kwargs):
    """A test that fails when `netpolc check` reports errors in a rules file.

    Args:
      name: the test name.
      src: the rules file (.netpol).
      values: a YAML file of flag and parameter values (`--values`).
      set: flag and parameter values (`--set NAME=VALUE`), as in
        netpol_manifests.
      **kwargs: the common test attributes (size, tags, timeout, ...).
    """
    kwargs.setdefault("size", "small")
    _netpol_check_test(
        name = name,
        src = src,
        values = values,
        settings = _settings(name, set),
        **kwargs
    )

def _netpol_fmt_test_impl(ctx):
    paths = [f.short_path for f in ctx.files.srcs]
    fix = "To format them, from the workspace root: bazel run %s -- fmt --write %s" % (
        ctx.attr._netpolc.label,
        " ".join(paths),
    )
    return _netpolc_test_script(ctx, ["fmt", "--check"] + paths, ctx.files.srcs, on_failure = fix)

_netpol_fmt_test = rule(
    implementation = _netpol_fmt_test_impl,
    test = True,
    attrs = {
        "srcs": attr.label_list(mandatory = True, allow_files = [".netpol"]),
        "_netpolc": attr.label(default = _NETPOLC, executable = True, cfg = "target"),
    },
)

def netpol_fmt_test(name, srcs, **kwargs):
    """A test that fails when a rules file is not in `netpolc fmt`'s layout.

    Args:
      name: the test name.
      srcs: the rules files (.netpol).
      **kwargs: the common test attributes (size, tags, timeout, ...).
    """
    kwargs.setdefault("size", "small")
    _netpol_fmt_test(name = name, srcs = srcs, **kwargs)

# --- netpol_checked_in -------------------------------------------------------

def _workspace_path(ctx, path):
    return ctx.label.package + "/" + path if ctx.label.package else path

def _single_files(ctx):
    files = []
    for target in ctx.attr.generated:
        outputs = target.files.to_list()
        if len(outputs) != 1:
            fail("%s: %s must be a single file, not %d" % (ctx.label, target.label, len(outputs)))
        files.append(outputs[0])
    return files

def _update_label(ctx):
    return "//%s:%s" % (ctx.label.package, ctx.attr.update_name)

def _netpol_checked_in_test_impl(ctx):
    generated = _single_files(ctx)
    checked_in = {f.short_path: f for f in ctx.files.checked_in}
    lines = [
        "#!/usr/bin/env bash",
        "# Generated by %s (@netpolc//bazel:defs.bzl): checks that the checked-in" % ctx.label,
        "# files are those the build generates.",
        "status=0",
        "check() {  # GENERATED CHECKED_IN WORKSPACE_PATH",
        "  if [[ -z $2 || ! -f $2 ]]; then",
        "    echo \"MISSING     $3\"",
        "    status=1",
        "  elif cmp -s \"$1\" \"$2\"; then",
        "    echo \"up to date  $3\"",
        "  else",
        "    echo \"OUT OF DATE $3\"",
        "    diff -u --label \"$3 (checked in)\" --label \"$3 (generated)\" \"$2\" \"$1\" | head -n 200",
        "    status=1",
        "  fi",
        "}",
    ]
    for path, file in zip(ctx.attr.paths, generated):
        workspace_path = _workspace_path(ctx, path)
        current = checked_in.get(workspace_path)
        lines.append("check %s %s %s" % (
            _quote(file.short_path),
            _quote(current.short_path if current else ""),
            _quote(workspace_path),
        ))
    lines += [
        "if (( status )); then",
        "  echo",
        "  echo %s" % _quote("To bring them up to date: bazel run " + _update_label(ctx)),
        "fi",
        "exit $status",
    ]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    runfiles = ctx.runfiles(files = generated + ctx.files.checked_in)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

_CHECKED_IN_ATTRS = {
    "paths": attr.string_list(mandatory = True),
    "generated": attr.label_list(mandatory = True, allow_files = True),
    "update_name": attr.string(mandatory = True),
}

_netpol_checked_in_test = rule(
    implementation = _netpol_checked_in_test_impl,
    test = True,
    attrs = dict(_CHECKED_IN_ATTRS, checked_in = attr.label_list(allow_files = True)),
)

def _netpol_checked_in_update_impl(ctx):
    generated = _single_files(ctx)
    lines = [
        "#!/usr/bin/env bash",
        "# Generated by %s (@netpolc//bazel:defs.bzl): copies the generated files" % ctx.label,
        "# over their checked-in copies in the workspace.",
        "set -euo pipefail",
        "if [[ -z ${BUILD_WORKSPACE_DIRECTORY:-} ]]; then",
        "  echo \"run me with: bazel run %s\" >&2" % _update_label(ctx),
        "  exit 2",
        "fi",
        "update() {  # GENERATED WORKSPACE_PATH",
        "  local dest=$BUILD_WORKSPACE_DIRECTORY/$2",
        "  if cmp -s \"$1\" \"$dest\"; then",
        "    echo \"up to date  $2\"",
        "    return",
        "  fi",
        "  mkdir -p \"$(dirname \"$dest\")\"",
        "  cat \"$1\" > \"$dest.tmp.$$\"",
        "  chmod 644 \"$dest.tmp.$$\"",
        "  mv -f \"$dest.tmp.$$\" \"$dest\"",
        "  echo \"updated     $2\"",
        "}",
    ]
    for path, file in zip(ctx.attr.paths, generated):
        lines.append("update %s %s" % (_quote(file.short_path), _quote(_workspace_path(ctx, path))))
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    return [DefaultInfo(executable = script, runfiles = ctx.runfiles(files = generated))]

_netpol_checked_in_update = rule(
    implementation = _netpol_checked_in_update_impl,
    executable = True,
    attrs = _CHECKED_IN_ATTRS,
)

def netpol_checked_in(name, files, **kwargs):
    """Keeps checked-in copies of generated files (docs, manifests) up to date.

    Defines two targets:
      NAME_test: a test that fails, with a diff, when a checked-in file is
        missing or differs from the file the build generates;
      NAME_update: `bazel run :NAME_update` copies the generated files over
        the checked-in ones (in the workspace, not in bazel-out).

    Args:
      name: the base name of the two targets.
      files: {checked-in path, relative to this package: generated file}, e.g.
        {"generated/policies.yaml": ":policies_k8s", "docs/policies.md": ":docs"}.
        Each generated label must give one file, and appear once.
      **kwargs: common attributes for both targets (visibility, tags, ...).
    """
    paths = sorted(files.keys())
    generated = [files[p] for p in paths]
    update_name = name + "_update"
    _netpol_checked_in_test(
        name = name + "_test",
        paths = paths,
        generated = generated,
        # Missing files are reported by the test, not by the loading phase.
        checked_in = native.glob(paths, allow_empty = True),
        update_name = update_name,
        size = "small",
        **kwargs
    )
    _netpol_checked_in_update(
        name = update_name,
        paths = paths,
        generated = generated,
        update_name = update_name,
        **kwargs
    )
