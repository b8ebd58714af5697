// netpolc import: existing NetworkPolicies as a rules file (docs/manifests.md).
#include <fmt/format.h>

#include "compiler/args.h"
#include "compiler/commands/commands.h"
#include "compiler/file_io.h"
#include "compiler/format.h"
#include "compiler/frontend.h"
#include "compiler/manifests/import.h"
#include "compiler/manifests/reader.h"

namespace netpolc {

std::string ImportUsage() {
  return "Usage: netpolc import PATH... [-o RULES.netpol]\n"
         "\n"
         "Turns the networking.k8s.io/v1 NetworkPolicies found at PATH (files or\n"
         "directories, as for connlist) into a formatted rules file: one component per\n"
         "distinct pod selector, named after the workload it selects when there is one;\n"
         "each policy rule as an ingress or egress rule of its component, with peers as\n"
         "components where a peer's selector is exactly a component's, else as `pods`\n"
         "selectors; `anywhere`, address blocks and port ranges kept. Building the result\n"
         "for --target k8s admits the same connections as the policies did.\n"
         "\n"
         "What the rules language cannot say yet is refused with the policy's location\n"
         "(empty or matchExpressions pod selectors, matchExpressions in peers, named\n"
         "ports). Cilium and Calico policies are not imported yet.\n"
         "\n"
         "Options:\n"
         "  -o, --output FILE   write there (atomically, only on success) instead of stdout\n"
         "\n"
         "Exit status: 0 imported; 1 policies that cannot be imported, or malformed\n"
         "manifests; 2 usage errors or unreadable paths.\n";
}

int RunImport(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  Args args;
  args.Value("--output", "-o");
  std::string error;
  if (!args.Parse(arguments, error)) return UsageError(err, "import", error);
  if (args.help()) {
    out += ImportUsage();
    return kExitOk;
  }
  if (args.positional().empty()) {
    return UsageError(err, "import", "import needs at least one file or directory");
  }
  if (auto output = args.Get("--output")) {
    if (std::optional<std::string> input = FindOutputAmongInputs(*output, args.positional())) {
      return OutputIsInputError(err, *output, *input);
    }
  }
  manifests::Manifests input;
  try {
    input = manifests::ReadManifests(args.positional());
  } catch (const manifests::Error& e) {
    err += fmt::format("netpolc: error: {}\n", e.what());
    return kExitInputErrors;
  }
  for (const std::string& w : input.warnings) err += fmt::format("netpolc: warning: {}\n", w);
  if (!input.cilium.empty() || !input.calico.empty()) {
    err += fmt::format("netpolc: warning: {} Cilium and {} Calico policies not imported (not supported yet)\n",
                       input.cilium.size(), input.calico.size());
  }
  manifests::Imported imported = manifests::ImportRules(input);
  if (!imported.errors.empty()) {
    for (const std::string& e : imported.errors) err += fmt::format("netpolc: error: {}\n", e);
    err += fmt::format("netpolc: {} polic{} cannot be imported; nothing written\n",
                       imported.errors.size(), imported.errors.size() == 1 ? "y" : "ies");
    return kExitInputErrors;
  }
  // The result must be a valid rules file: compile it, then lay it out.
  std::string name = args.Get("--output").value_or("<imported>");
  Compilation compilation;
  if (!CompileModule(compilation, name, imported.text)) {
    err += RenderAll(compilation.diagnostics, compilation.sources);
    err += "netpolc: error: the imported rules do not compile (see above); nothing written\n";
    return kExitInputErrors;
  }
  std::optional<std::string> formatted = FormatFile(compilation.sources, 0, compilation.diagnostics);
  if (!formatted) {
    err += RenderAll(compilation.diagnostics, compilation.sources);
    return kExitInputErrors;
  }
  if (auto output = args.Get("--output"); output && *output != "-") {
    if (!WriteFileAtomically(*output, *formatted, error)) {
      err += fmt::format("netpolc: error: cannot write '{}': {}\n", *output, error);
      return kExitUsage;
    }
  } else {
    out += *formatted;
  }
  return kExitOk;
}

}  // namespace netpolc
