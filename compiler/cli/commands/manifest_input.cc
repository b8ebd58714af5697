#include "compiler/cli/commands/manifest_input.h"

#include <fmt/format.h>

#include "compiler/cli/commands/command.h"
#include "compiler/cli/file_io.h"

namespace netpolc {

std::optional<ManifestCommandLine> ParseManifestCommandLine(
    const std::vector<std::string>& arguments, std::string_view command, std::string_view usage,
    const std::vector<std::string>& values, std::string& out, std::string& err, int& status) {
  ManifestCommandLine line;
  for (const std::string& name : values) line.args.Value(name);
  line.args.Value("--output", "-o");
  std::string error;
  if (!line.args.Parse(arguments, error)) {
    status = UsageError(err, command, error);
    return std::nullopt;
  }
  if (line.args.help()) {
    out += usage;
    status = kExitOk;
    return std::nullopt;
  }
  if (line.args.positional().empty()) {
    status = UsageError(err, command,
                        fmt::format("{} needs at least one file or directory", command));
    return std::nullopt;
  }
  line.paths = line.args.positional();
  line.output = line.args.Get("--output");
  if (line.output && *line.output != "-") {
    if (std::optional<std::string> input = FindOutputAmongInputs(*line.output, line.paths)) {
      status = OutputIsInputError(err, *line.output, *input);
      return std::nullopt;
    }
  }
  return line;
}

std::optional<manifests::Manifests> LoadManifests(const std::vector<std::string>& paths,
                                                  std::string_view foreign, std::string& err) {
  manifests::Manifests input;
  try {
    input = manifests::ReadManifests(paths);
  } catch (const manifests::Error& e) {
    err += fmt::format("netpolc: error: {}\n", e.what());
    return std::nullopt;
  }
  for (const std::string& w : input.warnings) err += fmt::format("netpolc: warning: {}\n", w);
  if (!foreign.empty() && (!input.cilium.empty() || !input.calico.empty())) {
    err += fmt::format("netpolc: warning: {} Cilium and {} Calico policies {}\n", input.cilium.size(),
                       input.calico.size(), foreign);
  }
  return input;
}

int WriteCommandOutput(const std::optional<std::string>& output, const std::string& text,
                       std::string& out, std::string& err) {
  if (!output || *output == "-") {
    out += text;
    return kExitOk;
  }
  std::string error;
  if (!WriteFileAtomically(*output, text, error)) {
    err += fmt::format("netpolc: error: cannot write '{}': {}\n", *output, error);
    return kExitUsage;
  }
  return kExitOk;
}

}  // namespace netpolc
