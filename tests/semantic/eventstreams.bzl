"""Compiles rules/eventstreams.netpol to Kubernetes YAML under several settings."""

def eventstreams_k8s_configs(name, configs):
    """One genrule per configuration, plus a manifest that lists them.

    Creates eventstreams_<config>.yaml for each entry of `configs`, and
    <name>.txt with one line per configuration: its name followed by its
    NAME=VALUE settings (read back by the test). The filegroup `name` holds
    all of them.

    Args:
      name: name of the filegroup (and, with .txt, of the manifest).
      configs: dict from configuration name to a list of "NAME=VALUE" strings
        passed to netpolc as `--set NAME=VALUE`.
    """
    outs = []
    for config, settings in configs.items():
        out = "eventstreams_%s.yaml" % config
        native.genrule(
            name = "eventstreams_%s" % config,
            srcs = ["//rules:eventstreams.netpol"],
            outs = [out],
            tools = ["//:netpolc"],
            cmd = " ".join(
                ["$(location //:netpolc) build $(location //rules:eventstreams.netpol) --target k8s"] +
                ["--set %s" % s for s in settings] +
                ["-o $@"],
            ),
            testonly = True,
        )
        outs.append(out)

    lines = [" ".join([config] + settings) for config, settings in configs.items()]
    native.genrule(
        name = name + "_manifest",
        outs = [name + ".txt"],
        cmd = " && ".join([": > $@"] + ["echo '%s' >> $@" % line for line in lines]),
        testonly = True,
    )
    native.filegroup(
        name = name,
        srcs = outs + [name + ".txt"],
        testonly = True,
    )
