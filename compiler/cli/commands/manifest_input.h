// Shared by the commands on existing manifests (connlist, import, verify):
// their command line (PATH... and -o) and reading the manifests
// (docs/manifests.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/cli/args.h"
#include "compiler/manifests/reader.h"

namespace netpolc {

// The command line of connlist and import: `netpolc COMMAND PATH... [-o
// FILE]` plus the value options in `values` (e.g. "--format").
struct ManifestCommandLine {
  Args args;
  std::vector<std::string> paths;      // the manifests, at least one
  std::optional<std::string> output;   // -o / --output; "-" is stdout
};

// Parses `arguments` for `command`. Returns nullopt when the command is
// done, with `status` set: --help (its `usage` appended to `out`), a usage
// error, no path, or an output that is also an input.
std::optional<ManifestCommandLine> ParseManifestCommandLine(
    const std::vector<std::string>& arguments, std::string_view command, std::string_view usage,
    const std::vector<std::string>& values, std::string& out, std::string& err, int& status);

// Reads the manifests at `paths`: nullopt after a malformed manifest or an
// unreadable path (the reader's located error appended to `err`); else the
// reader's warnings appended to `err`, and, when the manifests hold Cilium or
// Calico policies and `foreign` is not empty, the warning
// "N Cilium and M Calico policies FOREIGN".
std::optional<manifests::Manifests> LoadManifests(const std::vector<std::string>& paths,
                                                  std::string_view foreign, std::string& err);

// Writes `text` to `output` (atomically) or, without one or for "-", appends
// it to `out`. Returns the exit status: kExitOk, or kExitUsage when the file
// cannot be written (then left as it was).
int WriteCommandOutput(const std::optional<std::string>& output, const std::string& text,
                       std::string& out, std::string& err);

}  // namespace netpolc
