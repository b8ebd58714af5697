// netpolc import: existing NetworkPolicies as a rules file (docs/manifests.md).
#include <fmt/format.h>

#include "compiler/cli/commands/commands.h"
#include "compiler/cli/commands/manifest_input.h"
#include "compiler/frontend/format.h"
#include "compiler/frontend/frontend.h"
#include "compiler/manifests/import.h"

namespace netpolc {

std::string ImportUsage() {
  return "Usage: netpolc import PATH... [-o RULES.netpol]\n"
         "\n"
         "Turns the networking.k8s.io/v1 NetworkPolicies found at PATH (files or\n"
         "directories, as for connlist) into a formatted rules file: one component per\n"
         "distinct pod selector, named after the workload it selects when there is one\n"
         "(an empty pod selector: a component with `labels any;` and `scope namespace;`,\n"
         "every pod of its namespace); each policy rule as an ingress or egress rule of\n"
         "its component, with peers as components where a peer's selector is exactly a\n"
         "component's, else as `pods` selectors (matchExpressions as requirements:\n"
         "`\"k\": in [...]`, `not in`, `exists`, `not exists`); `anywhere`, address\n"
         "blocks, port ranges and named ports kept. Building the result for --target\n"
         "k8s admits the same connections as the policies did.\n"
         "\n"
         "What the rules language cannot say yet is refused with the policy's location\n"
         "(a pod selector with matchExpressions, a selector naming one label key twice,\n"
         "a quoted number as a port).\n"
         "Cilium and Calico policies are not imported yet.\n"
         "\n"
         "Options:\n"
         "  -o, --output FILE   write there (atomically, only on success) instead of\n"
         "                      standard output (- is standard output)\n"
         "\n"
         "Exit status: 0 imported; 1 policies that cannot be imported, or malformed\n"
         "manifests; 2 usage errors or unreadable paths.\n";
}

int RunImport(const std::vector<std::string>& arguments, std::string& out, std::string& err) {
  int status = kExitOk;
  std::optional<ManifestCommandLine> line =
      ParseManifestCommandLine(arguments, "import", ImportUsage(), {}, out, err, status);
  if (!line) return status;
  std::optional<manifests::Manifests> input =
      LoadManifests(line->paths, "not imported (not supported yet)", err);
  if (!input) return kExitInputErrors;
  manifests::Imported imported = manifests::ImportRules(*input);
  if (!imported.errors.empty()) {
    for (const std::string& e : imported.errors) err += fmt::format("netpolc: error: {}\n", e);
    err += fmt::format("netpolc: {} polic{} cannot be imported; nothing written\n",
                       imported.errors.size(), imported.errors.size() == 1 ? "y" : "ies");
    return kExitInputErrors;
  }
  // The result must be a valid rules file: compile it, then lay it out.
  std::string name = line->output.value_or("<imported>");
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
  return WriteCommandOutput(line->output, *formatted, out, err);
}

}  // namespace netpolc
